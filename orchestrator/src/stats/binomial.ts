import { betaincinv, normalQuantile } from './special.ts';

export type RateMethod = 'clopper-pearson' | 'wilson';

export interface RateEstimate {
  k: number;
  n: number;
  /** k / n (NaN when n = 0). */
  rate: number;
  lo: number;
  hi: number;
  method: RateMethod;
  level: number;
}

function checkCounts(k: number, n: number): void {
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 0 || n < 0 || k > n) {
    throw new RangeError(`rate: need integers 0 <= k <= n, got k=${k}, n=${n}`);
  }
}

/**
 * A rate (panics per run, hangs per run) with a two-sided confidence interval.
 * Clopper–Pearson is exact (conservative); Wilson is the score interval.
 * With n = 0 the interval is [0, 1].
 */
export function rateWithCI(
  k: number,
  n: number,
  opts: { method?: RateMethod; level?: number } = {},
): RateEstimate {
  checkCounts(k, n);
  const method = opts.method ?? 'clopper-pearson';
  const level = opts.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new RangeError(`rate: level must be in (0, 1), got ${level}`);
  const alpha = 1 - level;
  if (n === 0) return { k, n, rate: NaN, lo: 0, hi: 1, method, level };
  let lo: number;
  let hi: number;
  if (method === 'clopper-pearson') {
    lo = k === 0 ? 0 : betaincinv(k, n - k + 1, alpha / 2);
    hi = k === n ? 1 : betaincinv(k + 1, n - k, 1 - alpha / 2);
  } else {
    const z = normalQuantile(1 - alpha / 2);
    const phat = k / n;
    const denom = 1 + (z * z) / n;
    const centre = (phat + (z * z) / (2 * n)) / denom;
    const half = (z / denom) * Math.sqrt((phat * (1 - phat)) / n + (z * z) / (4 * n * n));
    lo = Math.max(0, centre - half);
    hi = Math.min(1, centre + half);
  }
  return { k, n, rate: k / n, lo, hi, method, level };
}

/** One-sided upper bound on a rate when k events were seen in n runs (Clopper–Pearson). */
export function rateUpperBound(k: number, n: number, level = 0.95): number {
  checkCounts(k, n);
  if (n === 0 || k === n) return 1;
  return betaincinv(k + 1, n - k, level);
}

/** "3/20 runs (15.0%, 95% CI 3.2–37.9%)". */
export function formatRate(r: RateEstimate): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}`;
  const lvl = `${Math.round(r.level * 100)}%`;
  if (r.n === 0) return `0 runs (no estimate)`;
  return `${r.k}/${r.n} runs (${pct(r.rate)}%, ${lvl} CI ${pct(r.lo)}–${pct(r.hi)}%)`;
}
