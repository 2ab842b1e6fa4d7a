import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { playbookLoadOptions } from '../../src/load/registry.ts';
import { loadPlaybook } from '../../src/playbook/load.ts';
import { playbookJsonSchema } from '../../src/playbook/schema.ts';
import { PROJECT_ROOT } from '../../src/util/paths.ts';

const PLAYBOOKS = join(PROJECT_ROOT, 'playbooks');

/** Every subschema reachable through properties / patternProperties / items / anyOf, with its path. */
function* properties(schema: Record<string, unknown>, path: string): Generator<[string, Record<string, unknown>]> {
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, sub] of Object.entries(props)) {
    yield [`${path}.${name}`, sub];
    yield* properties(sub, `${path}.${name}`);
  }
  for (const sub of Object.values((schema.patternProperties ?? {}) as Record<string, Record<string, unknown>>)) {
    yield* properties(sub, `${path}.*`);
  }
  const items = schema.items;
  if (items && !Array.isArray(items)) yield* properties(items as Record<string, unknown>, `${path}[]`);
  for (const [i, sub] of ((schema.anyOf ?? []) as Record<string, unknown>[]).entries()) yield* properties(sub, `${path}|${i}`);
}

describe('playbook schema', () => {
  it('is a draft-07 schema that a plain ajv accepts and compiles', () => {
    const schema = playbookJsonSchema();
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    const ajv = new Ajv({ strict: false });
    assert.equal(ajv.validateSchema(schema), true, JSON.stringify(ajv.errors));
    const validate = ajv.compile(schema);
    assert.equal(validate({ name: 'x', kernels: {}, vms: {} }), true);
    assert.equal(validate({ name: 'x', kernels: {} }), false);
  });

  it('has a title and a description on every property', () => {
    const missing: string[] = [];
    let count = 0;
    for (const [path, sub] of properties(playbookJsonSchema(), '')) {
      count++;
      if (typeof sub.title !== 'string' || typeof sub.description !== 'string') missing.push(path);
    }
    assert.ok(count > 80, `walked ${count} properties`);
    assert.deepEqual(missing, []);
  });

  it('accepts the shipped playbooks as plain YAML data', () => {
    const validate = new Ajv({ strict: false }).compile(playbookJsonSchema());
    const files = readdirSync(PLAYBOOKS).filter((f) => f.endsWith('.yaml'));
    assert.deepEqual(files.sort(), ['mbuf-extref-lab-ci.yaml', 'mbuf-extref-lab.yaml', 'mbuf-extref.yaml', 'selftest.yaml']);
    for (const f of files) {
      const data: unknown = parse(readFileSync(join(PLAYBOOKS, f), 'utf8'));
      assert.equal(validate(data), true, `${f}: ${JSON.stringify(validate.errors)}`);
    }
  });

  it('the four playbooks pass every check, including their input files', () => {
    for (const f of ['selftest.yaml', 'mbuf-extref.yaml', 'mbuf-extref-lab.yaml', 'mbuf-extref-lab-ci.yaml']) {
      // With the registry's generators, relayable generators and guest kinds, as `obsdlab validate` checks.
      const loaded = loadPlaybook(join(PLAYBOOKS, f), { checkFiles: true, ...playbookLoadOptions() });
      assert.equal(loaded.file, join(PLAYBOOKS, f));
    }
  });
});
