/**
 * btrace(8): the kernel profile (script, command line, `@[kstack]` parser) and any
 * bt(5) script run for a while, with a parser for the maps btrace prints.
 */
import type { KernelProfile } from '../guest/adapter.ts';
import { shQuote } from '../guest/openbsd-render.ts';

/** bt(5): the profile:hz:N probe fires N times a second per CPU; kstack is the kernel stack; count() counts per key. */
export const KSTACK_PROFILE_SCRIPT = 'profile:hz:100 { @[kstack] = count(); }';

function checkSeconds(what: string, seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) throw new Error(`${what}: seconds must be 1..3600, got ${seconds}`);
}

/**
 * Runs the profile for `seconds` and prints the map: btrace runs until interrupted and
 * prints its maps when it exits on SIGINT, so the shell starts it, sleeps, and sends INT.
 */
export function btraceProfileCommand(seconds: number, hz = 100): string {
  checkSeconds('btrace profile', seconds);
  if (!Number.isInteger(hz) || hz < 1 || hz > 10000) throw new Error(`btrace profile: hz must be 1..10000, got ${hz}`);
  const script = `profile:hz:${hz} { @[kstack] = count(); }`;
  return `btrace -e '${script}' & pid=$!; sleep ${seconds}; kill -INT $pid; wait $pid`;
}

/**
 * Runs a bt(5) program for `seconds`: writes it to a mktemp(1) file (btrace(8) reads a
 * program file), runs btrace on it in the background, sleeps, sends INT (btrace then
 * runs END and prints its non-empty maps), waits, and removes the file. The command
 * exits with btrace's status.
 */
export function btraceScriptCommand(script: string, seconds: number): string {
  checkSeconds('btrace', seconds);
  const run = ['btrace "$f" & pid=$!', `sleep ${seconds}`, 'kill -INT $pid 2>/dev/null', 'wait $pid; rc=$?', 'rm -f "$f"', '(exit $rc)'];
  return `f=$(mktemp /tmp/obsdlab-bt.XXXXXXXXXX) && printf '%s' ${shQuote(script)} > "$f" && { ${run.join('; ')}; }`;
}

export class ProfileParseError extends Error {
  constructor(readonly line: number, detail: string) {
    super(`btrace output line ${line}: ${detail}`);
    this.name = 'ProfileParseError';
  }
}

/**
 * One entry of a map as btrace prints it: map_print() writes `@name[key]: value` (the
 * anonymous map is `@[key]: value`); a stack key (kstack, ustack) starts with a newline,
 * so it prints as a line `@name[`, one frame per line, and `]: value`. hist_print()
 * writes `@name:` and one line per bucket: `[lo, hi)   count |@@@@ |`.
 */
export interface BtraceMapEntry {
  /** "@" for the anonymous map, else "@name". */
  map: string;
  kind: 'map' | 'hist';
  /**
   * The key as printed; absent for an empty key (`@[]: N`). A multi-line key has its
   * lines joined with ";" in printed order (for a stack: innermost frame first). For a
   * histogram, the bucket, e.g. "[0, 1)".
   */
  key?: string;
  /** The lines of a multi-line key, in printed order. */
  frames?: string[];
  value: number;
}

/**
 * Reads every map entry and histogram bucket with an integer value out of btrace's
 * output. Other lines (printf() output, entries with string values, a cut-off last
 * line) are skipped; a multi-line key that never closes is an error naming its line.
 */
export function parseBtraceMaps(text: string): BtraceMapEntry[] {
  const lines = text.replace(/\r/g, '').split('\n');
  const entries: BtraceMapEntry[] = [];
  let open: { map: string; frames: string[]; line: number } | undefined;
  let hist: string | undefined;
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (open) {
      const end = /^\]: (.*)$/.exec(line);
      if (!end) {
        if (line !== '') open.frames.push(line);
        continue;
      }
      if (/^-?\d+$/.test(end[1]!)) entries.push({ map: open.map, kind: 'map', key: open.frames.join(';'), frames: open.frames, value: Number(end[1]) });
      open = undefined;
      continue;
    }
    if (hist !== undefined) {
      const bucket = /^([[(].*?[\])])\s+(\d+) \|@*\s*\|$/.exec(line);
      if (bucket) {
        entries.push({ map: hist, kind: 'hist', key: bucket[1]!, value: Number(bucket[2]) });
        continue;
      }
      hist = undefined;
    }
    const opener = /^(@\w*)\[$/.exec(line);
    const one = /^(@\w*)\[(.*)\]: (-?\d+)$/.exec(line);
    const histHead = /^(@\w*):$/.exec(line);
    if (opener) open = { map: opener[1]!, frames: [], line: i + 1 };
    else if (one) entries.push({ map: one[1]!, kind: 'map', ...(one[2] ? { key: one[2] } : {}), value: Number(one[3]) });
    else if (histHead) hist = histHead[1]!;
  }
  if (open) throw new ProfileParseError(open.line, `stack opened by "${open.map}[" is never closed (truncated output?)`);
  return entries;
}

/** The kernel profile is the anonymous map `@[kstack] = count()`. */
export function parseKstackMap(text: string): KernelProfile {
  const stacks = parseBtraceMaps(text)
    .filter((e) => e.map === '@' && e.kind === 'map')
    .map((e) => ({ frames: e.frames ?? (e.key === undefined ? [] : [e.key]), count: e.value }));
  return { total: stacks.reduce((s, x) => s + x.count, 0), stacks };
}
