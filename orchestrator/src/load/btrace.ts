/**
 * btrace(8) kernel profiles: the script, the command line, and the parser for the
 * printed map `@[kstack] = count()` (one `@[` line, one frame per line, `]: N`).
 */
import type { KernelProfile } from '../guest/adapter.ts';

/** bt(5): the profile:hz:N probe fires N times a second per CPU; kstack is the kernel stack; count() counts per key. */
export const KSTACK_PROFILE_SCRIPT = 'profile:hz:100 { @[kstack] = count(); }';

/**
 * Runs the profile for `seconds` and prints the map: btrace runs until interrupted and
 * prints its maps when it exits on SIGINT, so the shell starts it, sleeps, and sends INT.
 */
export function btraceProfileCommand(seconds: number, hz = 100): string {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) throw new Error(`btrace profile: seconds must be 1..3600, got ${seconds}`);
  if (!Number.isInteger(hz) || hz < 1 || hz > 10000) throw new Error(`btrace profile: hz must be 1..10000, got ${hz}`);
  const script = `profile:hz:${hz} { @[kstack] = count(); }`;
  return `btrace -e '${script}' & pid=$!; sleep ${seconds}; kill -INT $pid; wait $pid`;
}

export class ProfileParseError extends Error {
  constructor(readonly line: number, detail: string) {
    super(`btrace output line ${line}: ${detail}`);
    this.name = 'ProfileParseError';
  }
}

/** Parses every `@[ frames ]: N` entry; other lines (banners, counters) are ignored. */
export function parseKstackMap(text: string): KernelProfile {
  const lines = text.replace(/\r/g, '').split('\n');
  const stacks: KernelProfile['stacks'] = [];
  let frames: string[] | undefined;
  let start = 0;
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (frames === undefined) {
      if (line === '@[') {
        frames = [];
        start = i + 1;
      } else if (/^@\[.*\]: \d+$/.test(line)) {
        // a one-line key (an empty kstack prints as `@[]: N`)
        const m = /^@\[(.*)\]: (\d+)$/.exec(line)!;
        stacks.push({ frames: m[1] ? [m[1]] : [], count: Number(m[2]) });
      }
      return;
    }
    const end = /^\]: (\d+)$/.exec(line);
    if (end) {
      stacks.push({ frames, count: Number(end[1]) });
      frames = undefined;
    } else if (line !== '') {
      frames.push(line);
    }
  });
  if (frames !== undefined) throw new ProfileParseError(start, 'stack opened by "@[" is never closed (truncated output?)');
  return { total: stacks.reduce((s, x) => s + x.count, 0), stacks };
}
