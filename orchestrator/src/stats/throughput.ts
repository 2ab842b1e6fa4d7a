import { normalQuantile } from './special.ts';

/** Median of a non-empty sample. */
export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** Sample quantile with linear interpolation between order statistics (type 7, as numpy's default). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) throw new RangeError('quantile: empty sample');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be in [0, 1], got ${q}`);
  const s = [...xs].sort((x, y) => x - y);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}

/**
 * Null distribution of the Mann–Whitney U statistic for sample sizes m and n (no ties):
 * cdf[u] = P(U <= u). Counts via the recursion N(m,n,u) = N(m-1,n,u-n) + N(m,n-1,u).
 */
export function mannWhitneyNullCdf(m: number, n: number): Float64Array {
  // counts[i][j] is a vector over u for sizes (i, j); keep only the current row of i.
  let prev: Float64Array[] = [];
  for (let j = 0; j <= n; j++) prev.push(Float64Array.of(1));
  for (let i = 1; i <= m; i++) {
    const cur: Float64Array[] = [Float64Array.of(1)];
    for (let j = 1; j <= n; j++) {
      const v = new Float64Array(i * j + 1);
      const left = prev[j]!; // sizes (i-1, j): shifted by j
      for (let u = 0; u < left.length; u++) v[u + j]! += left[u]!;
      const down = cur[j - 1]!; // sizes (i, j-1)
      for (let u = 0; u < down.length; u++) v[u]! += down[u]!;
      cur.push(v);
    }
    prev = cur;
  }
  const counts = prev[n]!;
  let total = 0;
  for (const c of counts) total += c;
  const cdf = new Float64Array(counts.length);
  let acc = 0;
  for (let u = 0; u < counts.length; u++) {
    acc += counts[u]!;
    cdf[u] = acc / total;
  }
  return cdf;
}

/**
 * The rank k (1-based) of the pairwise difference that bounds a two-sided Hodges–Lehmann
 * interval at this level: [D_(k), D_(mn+1-k)] covers the shift with probability >= level.
 * Exact for m·n <= 2500, normal approximation above. 0 means the samples are too small.
 */
export function hodgesLehmannRank(m: number, n: number, level: number): number {
  const alpha = 1 - level;
  if (m * n <= 2500) {
    const cdf = mannWhitneyNullCdf(m, n);
    let k = 0;
    while (k < cdf.length && cdf[k]! <= alpha / 2) k++;
    return k; // P(U <= k-1) <= alpha/2 < P(U <= k)
  }
  const z = normalQuantile(1 - alpha / 2);
  return Math.max(0, Math.floor((m * n) / 2 - z * Math.sqrt((m * n * (m + n + 1)) / 12)));
}

export interface ThroughputComparison {
  medianA: number;
  medianB: number;
  /** Estimated relative difference of A over B (0.041 = A is 4.1% higher). */
  relDiff: number;
  /** Confidence interval of relDiff; [-Infinity, Infinity] when there are too few runs. */
  ci: [number, number];
  level: number;
  method: 'hodges-lehmann-log';
  runsA: number;
  runsB: number;
  statement: string;
}

/**
 * Compare two throughput samples (e.g. Mbit/s per run) by the Hodges–Lehmann shift of their
 * logarithms, with the exact Mann–Whitney interval, so the shift reads as a ratio:
 * A ≈ B · (1 + relDiff). Distribution-free; assumes the runs of each variant are exchangeable
 * (interleaved plan order makes drift hit both alike).
 */
export function compareThroughput(
  a: readonly number[],
  b: readonly number[],
  opts: { level?: number; labelA?: string; labelB?: string; higherIsBetter?: boolean } = {},
): ThroughputComparison {
  const level = opts.level ?? 0.95;
  const labelA = opts.labelA ?? 'A';
  const labelB = opts.labelB ?? 'B';
  if (a.length === 0 || b.length === 0) throw new RangeError(`compareThroughput: ${labelA} has ${a.length} runs, ${labelB} has ${b.length}; both need at least one`);
  for (const [label, xs] of [[labelA, a], [labelB, b]] as const) {
    const bad = xs.find((x) => !(x > 0) || !Number.isFinite(x));
    if (bad !== undefined) throw new RangeError(`compareThroughput: ${label} has a non-positive or non-finite value ${bad}`);
  }
  const diffs: number[] = [];
  for (const x of a) for (const y of b) diffs.push(Math.log(x) - Math.log(y));
  diffs.sort((x, y) => x - y);
  const shift = median(diffs);
  const k = hodgesLehmannRank(a.length, b.length, level);
  const ci: [number, number] =
    k >= 1 ? [Math.expm1(diffs[k - 1]!), Math.expm1(diffs[diffs.length - k]!)] : [-Infinity, Infinity];
  const relDiff = Math.expm1(shift);
  const result: ThroughputComparison = {
    medianA: median(a),
    medianB: median(b),
    relDiff,
    ci,
    level,
    method: 'hodges-lehmann-log',
    runsA: a.length,
    runsB: b.length,
    statement: '',
  };
  result.statement = throughputStatement(result, labelA, labelB, opts.higherIsBetter ?? true);
  return result;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

function num(x: number): string {
  return (100 * x).toFixed(1);
}

function signedPct(x: number): string {
  const s = (100 * x).toFixed(1);
  return x > 0 ? `+${s}%` : x < 0 ? `\u2212${s.slice(1)}%` : `${s}%`;
}

function throughputStatement(r: ThroughputComparison, labelA: string, labelB: string, higherIsBetter: boolean): string {
  const lvl = `${Math.round(r.level * 100)}%`;
  const runs = r.runsA === r.runsB ? `${r.runsA} runs each` : `${r.runsA} and ${r.runsB} runs`;
  const [lo, hi] = r.ci;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    return `too few runs (${runs}) for a ${lvl} interval; ${labelA} median ${r.medianA}, ${labelB} median ${r.medianB}`;
  }
  const up = higherIsBetter ? 'faster' : 'slower';
  const down = higherIsBetter ? 'slower' : 'faster';
  if (lo > 0) return `${labelA} is ${pct(r.relDiff)} ${up} than ${labelB} (${lvl} CI ${num(lo)}\u2013${pct(hi)})`;
  if (hi < 0) return `${labelA} is ${pct(-r.relDiff)} ${down} than ${labelB} (${lvl} CI ${num(-hi)}\u2013${pct(-lo)})`;
  return `no difference detectable with ${runs} (${lvl} CI ${signedPct(lo)}\u2013${signedPct(hi)})`;
}
