/**
 * `btrace` load generator: runs the playbook's bt(5) program (params.script) on an
 * OpenBSD guest for the phase's duration and turns the maps btrace prints into
 * measurements named `<phase>.<map>` as btrace names the map (`<phase>.@` for the
 * anonymous map, `<phase>.@bytes` for `@bytes`), so no two maps share a name.
 */
import { btraceScriptCommand, parseBtraceMaps, type BtraceMapEntry } from './btrace.ts';
import type { LoadContext, LoadGenerator, Measurement } from './types.ts';

export const BTRACE_SCRIPT_MAX_BYTES = 64 * 1024;

/** A kstack map can hold thousands of keys: only the largest entries of each map are kept, so the store stays small. */
export const BTRACE_MAX_ENTRIES_PER_MAP = 50;

export function checkBtraceScript(script: unknown, load: string): string {
  if (typeof script !== 'string' || script.trim() === '') throw new Error(`load ${load}: btrace needs params.script, a bt(5) program`);
  if (script.includes('\0')) throw new Error(`load ${load}: btrace script contains a NUL byte`);
  const bytes = Buffer.byteLength(script, 'utf8');
  if (bytes > BTRACE_SCRIPT_MAX_BYTES) throw new Error(`load ${load}: btrace script is ${bytes} bytes; at most ${BTRACE_SCRIPT_MAX_BYTES}`);
  return script;
}

export function btraceMeasurements(entries: BtraceMapEntry[], load: string): Measurement[] {
  // print() may show a map several times before exit; the last value printed for a key is its final one.
  const last = new Map<string, BtraceMapEntry>();
  for (const e of entries) {
    const id = `${e.kind}\0${e.map}\0${e.key ?? ''}`;
    last.delete(id);
    last.set(id, e);
  }
  const byMap = new Map<string, BtraceMapEntry[]>();
  for (const e of last.values()) byMap.set(e.map, [...(byMap.get(e.map) ?? []), e]);
  const out: Measurement[] = [];
  for (const [map, list] of byMap) {
    const name = `${load}.${map}`;
    const largest = [...list].sort((a, b) => b.value - a.value).slice(0, BTRACE_MAX_ENTRIES_PER_MAP);
    for (const e of largest) out.push({ name, value: e.value, unit: 'count', ...(e.key !== undefined ? { labels: { key: e.key } } : {}) });
  }
  return out;
}

export const btraceGenerator: LoadGenerator = {
  name: 'btrace',
  guests: ['openbsd'],
  async run(ctx: LoadContext): Promise<Measurement[]> {
    const { load } = ctx;
    const script = checkBtraceScript(load.params.script, load.name);
    const command = btraceScriptCommand(script, load.durationSec);
    const res = await ctx.from.shell.exec(command, (load.durationSec + 60) * 1000);
    await ctx.saveArtifact(`${load.name}-btrace.txt`, `$ ${command}\n${res.stdout}${res.stderr}`);
    if (res.exitCode !== 0) throw new Error(`${res.vm}: btrace exited ${res.exitCode}: ${res.stderr.trim().slice(-300)}`);
    return btraceMeasurements(parseBtraceMaps(res.stdout), load.name);
  },
};
