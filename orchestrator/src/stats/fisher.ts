import { lnChoose } from './special.ts';

export interface FisherResult {
  /** Two-sided p-value: total probability of tables no more likely than the observed one. */
  pValue: number;
  /** Sample odds ratio a·d / (b·c) (Infinity or NaN when a zero cell makes it undefined). */
  oddsRatio: number;
}

/**
 * Fisher's exact test on the 2×2 table [[a, b], [c, d]] — e.g. variant A: a panics,
 * b clean runs; variant B: c panics, d clean runs. Two-sided as in R and scipy: sum the
 * hypergeometric probabilities of all tables with the same margins whose probability
 * does not exceed the observed one (with a relative tolerance for rounding).
 */
export function fisherExact(a: number, b: number, c: number, d: number): FisherResult {
  for (const [name, v] of Object.entries({ a, b, c, d })) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`fisherExact: cell ${name} must be a non-negative integer, got ${v}`);
  }
  const row1 = a + b;
  const row2 = c + d;
  const col1 = a + c;
  const n = row1 + row2;
  const oddsRatio = (a * d) / (b * c);
  if (n === 0) return { pValue: 1, oddsRatio };
  const lnDenom = lnChoose(n, col1);
  const lnP = (x: number) => lnChoose(row1, x) + lnChoose(row2, col1 - x) - lnDenom;
  const lo = Math.max(0, col1 - row2);
  const hi = Math.min(row1, col1);
  const observed = lnP(a);
  const tolerance = 1e-7;
  let p = 0;
  for (let x = lo; x <= hi; x++) {
    const lx = lnP(x);
    if (lx <= observed + tolerance) p += Math.exp(lx);
  }
  return { pValue: Math.min(1, p), oddsRatio };
}
