/**
 * What a run ended as. Only the first four say something about the kernel under test;
 * a bisect must never read infra-error or build-failure as evidence about a commit.
 */
export const OUTCOMES = ['pass', 'panic', 'hang', 'boot-failure', 'build-failure', 'infra-error'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export function isKernelVerdict(o: Outcome): boolean {
  return o === 'pass' || o === 'panic' || o === 'hang' || o === 'boot-failure';
}
