/** Execution order of runs: interleaved, blocked, or a seeded random permutation. */

import { seededRandom } from '../util/random.ts';

export { seededRandom };

/** Fisher–Yates shuffle driven by the seeded PRNG; returns a new array. */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const next = seededRandom(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export type OrderMode = { mode: 'interleave' } | { mode: 'blocked' } | { mode: 'random'; seed: number };

/**
 * Orders (cell, repetition) pairs. interleave: A1 B1 C1 A2 B2 C2 …, so slow drift
 * of the host affects every cell alike; blocked: A1 A2 … B1 B2 …; random: a seeded
 * permutation of the interleaved list.
 */
export function orderRuns<C>(cells: readonly C[], repetitions: number, order: OrderMode): { cell: C; repetition: number }[] {
  const interleaved: { cell: C; repetition: number }[] = [];
  for (let rep = 1; rep <= repetitions; rep++) for (const cell of cells) interleaved.push({ cell, repetition: rep });
  if (order.mode === 'interleave') return interleaved;
  if (order.mode === 'random') return seededShuffle(interleaved, order.seed);
  const blocked: { cell: C; repetition: number }[] = [];
  for (const cell of cells) for (let rep = 1; rep <= repetitions; rep++) blocked.push({ cell, repetition: rep });
  return blocked;
}
