/**
 * `${axis}` interpolation of matrix values into playbook strings. `$${` stands for a
 * literal `${`. A string that is exactly one placeholder inside a parameter map
 * (params, args, sysctls) takes the matrix value with its type (number, boolean).
 */
import type { ScalarValue } from './schema.ts';
import type { JsonPath, PathProblem } from './problems.ts';

const PLACEHOLDER = /\$\$\{|\$\{([^}]*)\}/g;
const EXACT = /^\$\{([A-Za-z][A-Za-z0-9_.-]*)\}$/;
const SCALAR_MAPS = new Set(['params', 'args', 'sysctls']);

export type CellValues = Record<string, ScalarValue>;

/** Placeholder names used in a string (escapes excluded). */
export function placeholders(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(PLACEHOLDER)) if (m[0] !== '$${') names.push(m[1] ?? '');
  return names;
}

export function interpolateString(text: string, values: CellValues): string {
  return text.replace(PLACEHOLDER, (whole, name: string | undefined) => {
    if (whole === '$${') return '${';
    const v = name === undefined ? undefined : values[name];
    return v === undefined ? whole : String(v);
  });
}

function interpolateAny(value: unknown, values: CellValues, scalarContext: boolean): unknown {
  if (typeof value === 'string') {
    const exact = scalarContext ? EXACT.exec(value) : null;
    if (exact && values[exact[1]!] !== undefined) return values[exact[1]!];
    return interpolateString(value, values);
  }
  if (Array.isArray(value)) return value.map((v) => interpolateAny(v, values, scalarContext));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateAny(v, values, scalarContext || SCALAR_MAPS.has(k));
    return out;
  }
  return value;
}

/** Deep copy of `value` with placeholders replaced by the cell's values. */
export function interpolate<T>(value: T, values: CellValues): T {
  return interpolateAny(value, values, false) as T;
}

/** Problems for placeholders naming no matrix axis, anywhere under `value`. */
export function unknownPlaceholders(value: unknown, path: JsonPath, axes: readonly string[]): PathProblem[] {
  const out: PathProblem[] = [];
  const walk = (v: unknown, p: JsonPath): void => {
    if (typeof v === 'string') {
      for (const name of placeholders(v)) {
        if (!axes.includes(name)) {
          out.push({
            path: p,
            message: `"\${${name}}" names no matrix axis (axes: ${axes.length ? axes.join(', ') : 'none'})`,
          });
        }
      }
    } else if (Array.isArray(v)) v.forEach((item, i) => walk(item, [...p, i]));
    else if (v !== null && typeof v === 'object') for (const [k, item] of Object.entries(v)) walk(item, [...p, k]);
  };
  walk(value, path);
  return out;
}
