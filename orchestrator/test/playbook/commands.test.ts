import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { planText } from '../../src/commands/plan.ts';
import { schemaText } from '../../src/commands/schema.ts';
import { validateFiles } from '../../src/commands/validate.ts';
import { planFromFile } from '../../src/playbook/load.ts';
import { PROJECT_ROOT } from '../../src/util/paths.ts';

const PLAYBOOKS = join(PROJECT_ROOT, 'playbooks');

describe('schema / validate / plan commands', () => {
  it('schema prints parseable JSON Schema', () => {
    const schema = JSON.parse(schemaText()) as Record<string, unknown>;
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.deepEqual(schema.required, ['name', 'kernels', 'vms']);
  });

  it('validate says ok with the run count for each good playbook', () => {
    const files = ['selftest', 'mbuf-extref', 'mbuf-extref-lab', 'mbuf-extref-lab-ci'].map((n) => join(PLAYBOOKS, `${n}.yaml`));
    const result = validateFiles(files);
    assert.equal(result.ok, true);
    assert.deepEqual(result.lines, [
      `${files[0]}: ok (2 runs)`,
      `${files[1]}: ok (36 runs)`,
      `${files[2]}: ok (18 runs)`,
      `${files[3]}: ok (4 runs)`,
    ]);
  });

  it('validate prints every problem of every bad file and fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'obsdlab-validate-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, ['name: t', 'kernels: {}', 'vms: {}', 'repetitions: 0', 'order: shuffled'].join('\n'));
    const result = validateFiles([bad, join(PLAYBOOKS, 'selftest.yaml')]);
    assert.equal(result.ok, false);
    assert.deepEqual(result.lines, [
      `${bad}:3:6: vms: no VMs defined`,
      `${bad}:4:14: repetitions: must be >= 1, not 0`,
      `${bad}:5:8: order: must be "interleave", "blocked" or {random: SEED}, not "shuffled"`,
      `${join(PLAYBOOKS, 'selftest.yaml')}: ok (2 runs)`,
    ]);
  });

  it('plan --json prints the whole Plan with top-level runs', () => {
    const file = join(PLAYBOOKS, 'mbuf-extref-lab-ci.yaml');
    const json = JSON.parse(planText(planFromFile(file), true)) as { runs: { id: string }[]; playbook: { file: string }; kernels: unknown[] };
    assert.equal(json.runs.length, 4);
    assert.equal(json.playbook.file, file);
    assert.equal(json.kernels.length, 4);
  });

  it('plan prints a table with totals, cells and runs', () => {
    const text = planText(planFromFile(join(PLAYBOOKS, 'selftest.yaml')), false);
    assert.match(text, /^2 runs, order interleave, per run up to 4 cpus and 768 MiB$/m);
    assert.match(text, /^cell variant=panic: 1 run, expect panic$/m);
    assert.match(text, /^ {2}vm router +testguest +2 cpus +256 MiB +kernel linux +src-rtr\(192\.0\.2\.1\/24 2001:db8:1::1\/64\) rtr-snk/m);
    assert.match(text, /^ {2}link src-rtr +source\.0 <-> router\.0 +mtu 1500$/m);
    assert.match(text, /^ {2}setup router:panic@3s$/m);
    assert.match(text, /^SEQ +RUN +VARIANT +CPUS +MIB +KERNELS$/m);
    assert.match(text, /^2 +variant=panic#1 +panic +4 +768 +linux$/m);
  });
});
