/**
 * Matrix cells and the effective configuration of one cell: the base playbook with
 * the cell's variant merged on, `when` conditions applied and matrix values
 * interpolated. Shared by the semantic checks and the expansion, and it keeps the
 * source path of every step and phase so problems point at the right YAML line.
 */
import { interpolate, type CellValues } from './interpolate.ts';
import type { JsonPath } from './problems.ts';
import type { LoadEntry, Playbook, ScalarValue, StepEntry, VmEntry } from './schema.ts';

export interface Axis {
  name: string;
  values: ScalarValue[];
  /** Path of the axis in the document (absent for the implied variant axis). */
  path?: JsonPath;
}

export interface Cell {
  values: CellValues;
  /** Values as strings, for ids and plan output. */
  strings: Record<string, string>;
  id: string;
  variant: string;
}

export const DEFAULT_CELL_ID = 'default';

/** The matrix axes; with variants but no "variant" axis, one is implied listing every variant. */
export function matrixAxes(pb: Playbook): Axis[] {
  const axes: Axis[] = Object.entries(pb.matrix ?? {}).map(([name, values]) => ({ name, values, path: ['matrix', name] }));
  const variants = Object.keys(pb.variants ?? {});
  if (variants.length > 0 && !axes.some((a) => a.name === 'variant')) axes.unshift({ name: 'variant', values: variants });
  return axes;
}

export function cellId(strings: Record<string, string>): string {
  const parts = Object.entries(strings).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(',') : DEFAULT_CELL_ID;
}

/** The cross product of the axes, first axis varying slowest. */
export function matrixCells(pb: Playbook): Cell[] {
  let combos: CellValues[] = [{}];
  for (const axis of matrixAxes(pb)) {
    combos = combos.flatMap((c) => axis.values.map((v) => ({ ...c, [axis.name]: v })));
  }
  return combos.map((values) => {
    const strings = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
    return { values, strings, id: cellId(strings), variant: strings.variant ?? DEFAULT_CELL_ID };
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Objects merge key by key; arrays and scalars in `over` replace those in `base`. */
export function deepMerge<T>(base: T, over: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(over)) return (over === undefined ? base : over) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? deepMerge(out[k], v) : v;
  return out as T;
}

/** Does `cell` satisfy a `when` condition? */
export function matchesWhen(when: Record<string, ScalarValue | ScalarValue[]> | undefined, cell: Cell): boolean {
  if (!when) return true;
  return Object.entries(when).every(([axis, want]) => {
    const have = cell.strings[axis];
    const wanted = Array.isArray(want) ? want : [want];
    return have !== undefined && wanted.some((w) => String(w) === have);
  });
}

export interface Sourced<T> {
  item: T;
  /** Where it is written in the playbook. */
  path: JsonPath;
}

export interface EffectiveConfig {
  cell: Cell;
  vms: Record<string, VmEntry>;
  setup: Sourced<StepEntry>[];
  load: Sourced<LoadEntry>[];
  timeouts: NonNullable<Playbook['timeouts']>;
  /** Where a value of a merged VM comes from: the variant's override or the base. */
  vmPath(vm: string, rest: JsonPath): JsonPath;
}

/** The configuration one cell runs with. */
export function effectiveConfig(pb: Playbook, cell: Cell): EffectiveConfig {
  const variant = cell.strings.variant !== undefined ? pb.variants?.[cell.strings.variant] : undefined;
  const variantName = cell.strings.variant ?? '';
  const vms: Record<string, VmEntry> = {};
  for (const [name, vm] of Object.entries(pb.vms)) {
    const over = variant?.vms?.[name];
    // `forwarding: true` in the base and `{inet6: false}` in a variant means "IPv4 only".
    const base =
      typeof vm.forwarding === 'boolean' && over?.forwarding !== undefined && typeof over.forwarding === 'object'
        ? { ...vm, forwarding: { inet: vm.forwarding, inet6: vm.forwarding } }
        : vm;
    vms[name] = interpolate(deepMerge(base, over), cell.values);
  }
  const steps: Sourced<StepEntry>[] = [
    ...(pb.setup ?? []).map((item, i) => ({ item, path: ['setup', i] as JsonPath })),
    ...(variant?.setup ?? []).map((item, i) => ({ item, path: ['variants', variantName, 'setup', i] as JsonPath })),
  ];
  const phases: Sourced<LoadEntry>[] = [
    ...(pb.load ?? []).map((item, i) => ({ item, path: ['load', i] as JsonPath })),
    ...(variant?.load ?? []).map((item, i) => ({ item, path: ['variants', variantName, 'load', i] as JsonPath })),
  ];
  const vmPath = (vm: string, rest: JsonPath): JsonPath => {
    let over: unknown = variant?.vms?.[vm];
    for (let i = 0; i < rest.length; i++) {
      if (!isPlainObject(over) || !(String(rest[i]) in over)) return ['vms', vm, ...rest];
      over = over[String(rest[i])];
      if (!isPlainObject(over)) return ['variants', variantName, 'vms', vm, ...rest];
    }
    return ['variants', variantName, 'vms', vm, ...rest];
  };
  return {
    cell,
    vms,
    setup: steps.filter((s) => matchesWhen(s.item.when, cell)).map((s) => ({ ...s, item: interpolate(s.item, cell.values) })),
    load: phases.filter((p) => matchesWhen(p.item.when, cell)).map((p) => ({ ...p, item: interpolate(p.item, cell.values) })),
    timeouts: { ...pb.timeouts, ...variant?.timeouts },
    vmPath,
  };
}

/** A selector is a variant name or "axis=value,axis=value"; it matches cells having all those values. */
export function selectorMatches(selector: string, cell: Record<string, string>): boolean {
  const parts = selector.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) return false;
  return parts.every((part) => {
    const eq = part.indexOf('=');
    if (eq < 0) return cell.variant === part || (part === 'default' && cell.variant === undefined);
    return cell[part.slice(0, eq).trim()] === part.slice(eq + 1).trim();
  });
}
