/**
 * A crash signature that stays the same across runs of the same bug: different
 * addresses, offsets, pids, CPUs, build paths and tree revisions do not change it.
 */
import { createHash } from 'node:crypto';
import type { CrashReport } from '../ddb/report-types.ts';
import { meaningfulFrames } from './frames.ts';
import { parseAssertion, parsePoolCorruption } from './title.ts';

/** How many meaningful frames enter the signature. */
export const SIGNATURE_FRAMES = 3;

/** The message with everything run-specific replaced by placeholders. */
export function normaliseMessage(report: CrashReport): string {
  const msg = report.message;
  switch (report.kind) {
    case 'assertion': {
      const a = parseAssertion(msg);
      return a ? `kernel diagnostic assertion "${a.expr}" failed` : scrub(msg);
    }
    case 'pool-corruption': {
      const p = parsePoolCorruption(msg);
      return p ? `pool ${p.pool}: ${p.what}` : scrub(msg);
    }
    case 'witness-lor': {
      const w = report.witness;
      return `lock order reversal: ${w?.first?.name ?? '?'} (${w?.first?.description ?? '?'}) -> ${w?.second?.name ?? '?'} (${w?.second?.description ?? '?'})`;
    }
    case 'ddb-entered':
      return '';
    default:
      return scrub(msg);
  }
}

/** Replaces paths, addresses and numbers; keeps identifiers such as pool names (`mcl2k`). */
export function scrub(text: string): string {
  return text
    .replace(/"[^"]*\/[^"]*"/g, '"PATH"')
    .replace(/(?:\/[\w.+-]+)+\/?/g, (m) => (/^\/0x/i.test(m) ? m : 'PATH'))
    .replace(/\bline \d+/g, 'line N')
    .replace(/\b0x[0-9a-fA-F]+\b/g, 'ADDR')
    .replace(/\b[0-9a-fA-F]{8,}\b/g, (m) => (/\d/.test(m) ? 'ADDR' : m))
    .replace(/\bcpu\d+\b/g, 'cpuN')
    .replace(/\b\d+\b/g, 'N')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Function names that enter the signature (no offsets, no addresses). */
export function signatureFrames(report: CrashReport): string[] {
  // For a lock order reversal the lock pair is the bug; the stack is where the *other* order was first seen.
  if (report.kind === 'witness-lor' || !report.faultingTrace) return [];
  return meaningfulFrames(report.faultingTrace.frames, report.kind)
    .slice(0, SIGNATURE_FRAMES)
    .map((f) => f.function);
}

export function crashSignature(report: CrashReport): string {
  const material = [report.kind, normaliseMessage(report), ...signatureFrames(report)].join('\n');
  return createHash('sha256').update(material).digest('hex').slice(0, 16);
}
