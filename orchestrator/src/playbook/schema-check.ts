/**
 * Structural validation with ajv, turned into problems a person can act on:
 * one message per mistake (not one per union branch), with the JSON path.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { PATTERN_HINTS, UNION_HINTS, playbookJsonSchema } from './schema.ts';
import type { PathProblem, PathSegment } from './problems.ts';

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictTuples: false });
    compiled = ajv.compile(playbookJsonSchema());
  }
  return compiled;
}

function pointerToPath(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((seg) => (/^(0|[1-9][0-9]*)$/.test(seg) ? Number(seg) : seg));
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return JSON.stringify(v);
}

function typeWord(t: unknown): string {
  const words: Record<string, string> = {
    integer: 'an integer',
    number: 'a number',
    string: 'a string',
    boolean: 'true or false',
    object: 'a mapping',
    array: 'a list',
    null: 'null',
  };
  return Array.isArray(t) ? t.map(typeWord).join(' or ') : (words[String(t)] ?? String(t));
}

function unionAlternatives(schema: Record<string, unknown>): string {
  const hint = typeof schema.title === 'string' ? UNION_HINTS[schema.title] : undefined;
  if (hint) return hint;
  const branches = (schema.anyOf ?? []) as Record<string, unknown>[];
  const types = branches.map((b) => b.type).filter((t): t is string => typeof t === 'string');
  if (types.length === branches.length && types.length > 0) return typeWord([...new Set(types)]);
  return 'one of the allowed forms';
}

function messageFor(e: ErrorObject): PathProblem {
  const path = pointerToPath(e.instancePath);
  const p = e.params as Record<string, unknown>;
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { path, message: `missing required key "${String(p.missingProperty)}"` };
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const props = parent.properties as Record<string, unknown> | undefined;
      const patterns = parent.patternProperties as Record<string, unknown> | undefined;
      let hint = '';
      if (props) hint = `; allowed keys: ${Object.keys(props).join(', ')}`;
      else if (patterns) {
        const pattern = Object.keys(patterns)[0] ?? '';
        hint = `; keys must be ${PATTERN_HINTS[pattern] ?? `matching ${pattern}`}`;
      }
      return { path: [...path, key], message: `unknown key "${key}"${hint}`, atKey: true };
    }
    case 'type':
      return { path, message: `must be ${typeWord(p.type)}, not ${describeValue(e.data)}` };
    case 'enum':
      return {
        path,
        message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, not ${describeValue(e.data)}`,
      };
    case 'const':
      return { path, message: `must be ${JSON.stringify(p.allowedValue)}` };
    case 'pattern': {
      const pattern = String(p.pattern);
      return { path, message: `${describeValue(e.data)} is not ${PATTERN_HINTS[pattern] ?? `matching ${pattern}`}` };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, message: `must be ${String(p.comparison)} ${String(p.limit)}, not ${describeValue(e.data)}` };
    case 'minLength':
      return { path, message: 'must not be empty' };
    case 'minItems':
      return { path, message: `must have at least ${String(p.limit)} item(s)` };
    case 'maxItems':
      return { path, message: `must have at most ${String(p.limit)} item(s)` };
    case 'uniqueItems':
      return { path, message: `items ${String(p.j)} and ${String(p.i)} are the same` };
    case 'anyOf':
      return { path, message: `must be ${unionAlternatives(parent)}, not ${describeValue(e.data)}` };
    default:
      return { path, message: e.message ?? e.keyword };
  }
}

function depth(e: ErrorObject): number {
  return e.instancePath === '' ? 0 : e.instancePath.split('/').length - 1;
}

/**
 * Collapses union failures: ajv reports every branch. When one branch got
 * deeper into the value than the others, the author meant that branch and its
 * errors are kept; otherwise a single "must be <alternatives>" remains.
 */
function collapseUnions(errors: ErrorObject[]): ErrorObject[] {
  const dropped = new Set<ErrorObject>();
  const unions = errors.filter((e) => e.keyword === 'anyOf').sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const union of unions) {
    if (dropped.has(union)) continue;
    const prefix = `${union.schemaPath}/`;
    const branches = new Map<string, ErrorObject[]>();
    for (const e of errors) {
      if (dropped.has(e) || !e.schemaPath.startsWith(prefix)) continue;
      const branch = e.schemaPath.slice(prefix.length).split('/')[0] ?? '';
      branches.set(branch, [...(branches.get(branch) ?? []), e]);
    }
    const scored = [...branches.values()].map((list) => ({ list, depth: Math.max(...list.map(depth)) }));
    const best = Math.max(...scored.map((s) => s.depth));
    const winners = scored.filter((s) => s.depth === best);
    const chosen = winners.length === 1 && best > depth(union) ? winners[0]!.list : [];
    for (const s of scored) for (const e of s.list) if (!chosen.includes(e)) dropped.add(e);
    if (chosen.length > 0) dropped.add(union);
  }
  return errors.filter((e) => !dropped.has(e));
}

/** Structural problems of a parsed playbook (empty when it matches the schema). */
export function schemaProblems(data: unknown): PathProblem[] {
  const validate = validator();
  if (validate(data)) return [];
  const errors = collapseUnions(validate.errors ?? []);
  const seen = new Set<string>();
  const out: PathProblem[] = [];
  for (const e of errors) {
    const problem = messageFor(e);
    const key = `${problem.path.join('\u0000')}\u0001${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(problem);
  }
  return out;
}
