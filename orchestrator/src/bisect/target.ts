import type { Outcome } from '../run/outcome.ts';
import type { Evidence } from './session.ts';

/** One run of a kernel at a commit, as the tester reports it. */
export interface TrialResult {
  outcome: Outcome;
  signature?: string;
  title?: string;
  kernelHash?: string;
  detail?: string;
}

/** The bug being bisected: a crash signature, a substring of the crash title, or a hang. */
export type BisectTarget = { kind: 'signature'; signature: string } | { kind: 'title'; text: string } | { kind: 'hang' };

export function describeTarget(t: BisectTarget): string {
  return t.kind === 'signature' ? `signature ${t.signature}` : t.kind === 'title' ? `title containing "${t.text}"` : 'hang';
}

/**
 * What a run says about the target. Only a crash matching the target is a failure; another
 * panic, a hang (unless the target is a hang) or an infra error says nothing about this bug
 * (ignored, but kept in the record); a build or boot failure makes the commit untestable (skip).
 */
export function classifyTrial(t: TrialResult, target: BisectTarget): Evidence {
  switch (t.outcome) {
    case 'pass':
      return 'pass';
    case 'build-failure':
    case 'boot-failure':
      return 'skip';
    case 'infra-error':
      return 'ignored';
    case 'hang':
      return target.kind === 'hang' ? 'fail' : 'ignored';
    case 'panic':
      if (target.kind === 'signature') return t.signature === target.signature ? 'fail' : 'ignored';
      if (target.kind === 'title') return t.title !== undefined && t.title.includes(target.text) ? 'fail' : 'ignored';
      return 'ignored';
  }
}
