/** Crash titles the way kernel developers write them in mail subjects. */
import type { CrashReport, Frame, Trace } from '../ddb/report-types.ts';
import { meaningfulFrames } from './frames.ts';

/** First clause of a message, without the numbers that differ between occurrences. */
export function headline(message: string): string {
  const first = message.split(/[,;]\s/)[0] ?? '';
  return first.replace(/:\s*$/, '').trim();
}

export function parseAssertion(message: string): { expr: string; file?: string; line?: number } | null {
  const m = /^kernel diagnostic assertion "(.*)" failed(?:: file "([^"]*)", line (\d+))?/.exec(message);
  if (!m) return null;
  const out: { expr: string; file?: string; line?: number } = { expr: m[1]! };
  if (m[2] !== undefined) out.file = m[2];
  if (m[3] !== undefined) out.line = Number(m[3]);
  return out;
}

/** `pool_do_get: mcl2k free list modified: …` / `pool_get(mclpl): free list modified: …` → pool and what broke. */
export function parsePoolCorruption(message: string): { pool: string; what: string } | null {
  const m = /^pool_\w+(?:\(([^)]*)\))?: (.*)$/.exec(message);
  if (!m) return null;
  let rest = m[2]!;
  let pool = m[1];
  if (pool === undefined) {
    const sp = /^(\S+?):?\s+(.*)$/.exec(rest);
    if (!sp) return { pool: '?', what: headline(rest) };
    pool = sp[1]!;
    rest = sp[2]!;
  }
  if (/^0x[0-9a-fA-F]+$/.test(pool)) pool = 'ADDR';
  const what = (rest.split(':')[0] ?? '').trim();
  return { pool, what: what.replace(/0x[0-9a-fA-F]+/g, 'ADDR') };
}

function trapName(message: string): string {
  const m = /^(.+?) trap, code=/.exec(message) ?? /^fatal (.+?) in (?:supervisor|user) mode/.exec(message);
  if (m) return m[1]!;
  const t = /^trap type (\d+)/.exec(message);
  return t ? `trap type ${t[1]}` : 'trap';
}

function withFunction(base: string, fn: string | undefined): string {
  return fn ? `${base} in ${fn}` : base;
}

/** Title for a report given the function the bug is attributed to. */
export function titleWith(report: CrashReport, fn: string | undefined): string {
  const msg = report.message;
  switch (report.kind) {
    case 'uvm_fault':
      return withFunction('uvm_fault', fn);
    case 'page-fault':
      return withFunction('page fault', fn);
    case 'protection-fault':
      return withFunction('protection fault', fn);
    case 'integer-divide':
      return withFunction('integer divide fault', fn);
    case 'trap':
      return withFunction(trapName(msg), fn);
    case 'attempt-to-execute-user-address':
      return fn ? `attempt to execute user address in ${fn}` : 'attempt to execute user address in supervisor mode';
    case 'assertion': {
      const a = parseAssertion(msg);
      return withFunction(`assertion "${a?.expr ?? '?'}" failed`, fn);
    }
    case 'splassert': {
      const m = /^spl assertion failure in (\S+)/.exec(msg) ?? /^splassert: (\S+?):/.exec(msg);
      return `splassert failure in ${m?.[1] ?? fn ?? '?'}`;
    }
    case 'pool-corruption': {
      const p = parsePoolCorruption(msg);
      return p ? `pool corruption: ${p.pool}: ${p.what}` : `pool corruption: ${headline(msg)}`;
    }
    case 'witness-lor': {
      const w = report.witness;
      return `witness: lock order reversal: ${w?.first?.name ?? '?'} -> ${w?.second?.name ?? '?'}`;
    }
    case 'lock-error':
      return withFunction(headline(msg), fn);
    case 'panic':
      return `panic: ${headline(msg)}`;
    case 'ddb-entered':
      return withFunction('ddb entered', fn);
    case 'unknown':
      return withFunction('unknown crash', fn);
  }
}

function topFunction(report: CrashReport, trace: Trace | null): Frame | undefined {
  if (!trace) return undefined;
  return meaningfulFrames(trace.frames, report.kind)[0];
}

export function crashTitle(report: CrashReport): string {
  return titleWith(report, topFunction(report, report.faultingTrace)?.function);
}

/**
 * Other names the same bug can go by (syzkaller's AltTitles): the innermost inlined
 * function when the trace was symbolized, and — when the transcript does not say which
 * CPU faulted — the titles built from the other CPUs' traces.
 */
export function altTitles(report: CrashReport): string[] {
  const main = crashTitle(report);
  const out = new Set<string>();
  const top = topFunction(report, report.faultingTrace);
  for (const inl of top?.inlined ?? []) out.add(titleWith(report, inl));
  if (report.cpu === null) {
    for (const tr of report.traces) {
      if (tr === report.faultingTrace || tr.source === 'witness') continue;
      const f = topFunction(report, tr);
      if (f) out.add(titleWith(report, f.function));
    }
  }
  out.delete(main);
  return [...out];
}
