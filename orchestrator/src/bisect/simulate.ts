import { BisectSession, type BisectOptions, type Conclusion } from './session.ts';

/** Small, fast, seedable PRNG (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A simulated history: the failure probability of a run at each position. */
export interface SimulatedHistory {
  n: number;
  culprit: number;
  rateAt(pos: number): number;
}

export function constantRateHistory(n: number, culprit: number, p: number, lookAlike = 0): SimulatedHistory {
  return { n, culprit, rateAt: (x) => (x >= culprit ? p : lookAlike) };
}

/** p from the culprit on, p·factor from a later commit (a second change makes the bug rarer). */
export function changingRateHistory(n: number, culprit: number, p: number, changeAt: number, factor: number): SimulatedHistory {
  return { n, culprit, rateAt: (x) => (x >= changeAt ? p * factor : x >= culprit ? p : 0) };
}

export interface SimulatedBisect {
  conclusion: Conclusion;
  runs: number;
  correct: boolean;
}

/** Run one bisect against a simulated history, runs decided by `rand`. */
export function simulateBisect(h: SimulatedHistory, rand: () => number, opts: Partial<BisectOptions>): SimulatedBisect {
  const s = new BisectSession(h.n, opts);
  for (;;) {
    const a = s.next();
    if (a.kind === 'stop') {
      const conclusion = s.conclude(a.reason);
      return { conclusion, runs: s.totalRuns, correct: a.reason === 'found' && conclusion.culprit === h.culprit };
    }
    const p = h.rateAt(a.pos);
    for (let i = 0; i < a.runs; i++) s.apply(a.pos, rand() < p ? 'fail' : 'pass');
  }
}

/** Classic bisection that runs each midpoint up to k times and calls it bad at the first failure. */
export function fixedRepeatBisect(h: SimulatedHistory, rand: () => number, k: number): { runs: number; correct: boolean } {
  let lo = 0; // known good
  let hi = h.n; // known bad
  let runs = 0;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const p = h.rateAt(mid);
    let failed = false;
    for (let i = 0; i < k && !failed; i++) {
      runs++;
      failed = rand() < p;
    }
    if (failed) hi = mid;
    else lo = mid;
  }
  return { runs, correct: hi === h.culprit };
}

/** Binary entropy in bits. */
export function binaryEntropy(q: number): number {
  if (q <= 0 || q >= 1) return 0;
  return -(q * Math.log2(q) + (1 - q) * Math.log2(1 - q));
}

/** Best information per run about the culprit when bad commits fail with probability p: max_q H(q·p) − q·H(p). */
export function maxInformationPerRun(p: number): number {
  let best = 0;
  for (let i = 1; i < 100000; i++) {
    const q = i / 100000;
    best = Math.max(best, binaryEntropy(q * p) - q * binaryEntropy(p));
  }
  return best;
}

/** The information floor log2(n) / I_max (expected runs of an ideal tester that knows p). */
export function informationFloor(n: number, p: number): number {
  return Math.log2(n) / maxInformationPerRun(p);
}
