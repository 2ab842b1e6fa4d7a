import { betainc, lnBeta, lnGamma } from '../stats/special.ts';

/**
 * Posterior over the commit that introduced a flaky bug.
 *
 * Positions 0..n: 0 is the known-good end, n the known-bad end; the culprit c is in 1..n
 * and commit x is bad iff x >= c. A bad commit shows the target failure in a run with an
 * unknown probability p ~ Beta(a, b); a good commit shows it with a small look-alike
 * probability ε ~ Beta(a0, b0) (or never, in the strict model). Both are integrated out
 * analytically (Beta–binomial), so nothing is plugged in as a point estimate.
 *
 * Culprits between two consecutive tested positions share one likelihood, so the posterior
 * is kept per block (B[j-1], B[j]] of the tested boundaries: O(tested commits) per update,
 * independent of the history length.
 */

export type RatePrior =
  | { kind: 'beta'; a: number; b: number }
  | { kind: 'fixed'; p: number }
  /** `points` rates evenly spaced in log p from lo to hi, equal prior weight each (marginalised exactly). */
  | { kind: 'log-grid'; lo: number; hi: number; points: number }
  /**
   * Good side only: the look-alike rate is a multiple of the bad commits' rate, ε = ratio·p, with
   * these prior weights (a ratio 0 = no look-alikes). Needs a fixed or grid prior on the bad side.
   */
  | { kind: 'relative'; ratios: number[]; weights: number[] };

export interface BisectModel {
  /** Failure probability of a bad commit. */
  bad: RatePrior;
  /** Look-alike failure probability of a good commit ({kind:'fixed', p:0} = never). */
  good: RatePrior;
}

/**
 * The default flaky model. p is uniform in log p between 1/64 and 1 (24 grid points): no
 * failure rate is favoured over another ten times rarer or more frequent, and rates below
 * 1/64 (which a reproduce budget of 100 runs would rarely see) get no mass, so clean runs
 * keep their weight. A Beta prior with mass near 0 instead makes every clean run weak
 * evidence and costs runs. Look-alikes scale with p: a good commit shows the target at
 * ε = r·p with r = 0 (half the prior), 1/100, 1/30 or 1/10, so a failure is equally strong
 * evidence whatever p is, and a few look-alikes are absorbed instead of trusted.
 */
export const FLAKY_MODEL: BisectModel = {
  bad: { kind: 'log-grid', lo: 1 / 64, hi: 1, points: 24 },
  good: { kind: 'relative', ratios: [0, 0.01, 1 / 30, 0.1], weights: [0.5, 1 / 6, 1 / 6, 1 / 6] },
};
/** A bug that always reproduces, and never on a good commit: classic bisection. */
export const DETERMINISTIC_MODEL: BisectModel = { bad: { kind: 'fixed', p: 1 }, good: { kind: 'fixed', p: 0 } };

function fmt(x: number): string {
  return Number(x.toPrecision(3)).toString();
}

/** One line naming the model, for logs. */
export function describeModel(m: BisectModel): string {
  const rate = (r: RatePrior, name: string): string => {
    switch (r.kind) {
      case 'fixed':
        return `${name} = ${fmt(r.p)}`;
      case 'beta':
        return `${name} ~ Beta(${r.a}, ${r.b})`;
      case 'log-grid':
        return `${name} log-uniform on [${fmt(r.lo)}, ${fmt(r.hi)}] (${r.points} points)`;
      case 'relative':
        return `${name} = r*p, r in {${r.ratios.map(fmt).join(', ')}} (weights ${r.weights.map(fmt).join(', ')})`;
    }
  };
  if (m.bad.kind === 'fixed' && m.bad.p === 1 && m.good.kind === 'fixed' && m.good.p === 0) return 'deterministic (p = 1)';
  return `flaky, ${rate(m.bad, 'p')}, look-alikes ${rate(m.good, 'eps')}`;
}

export interface Block {
  /** Culprits lo+1..hi (hi is a tested position or n). */
  lo: number;
  hi: number;
  /** Culprit candidates in the block (positions not ruled out by identical kernels). */
  allowed: number;
  /** Posterior probability that the culprit lies in the block. */
  mass: number;
  /** Counts on the bad side (tested positions >= hi) and the good side (tested positions <= lo). */
  badF: number;
  badS: number;
  goodF: number;
  goodS: number;
}

export interface Candidate {
  pos: number;
  runs: number;
  /** Expected reduction of the culprit entropy, in bits. */
  gain: number;
}

/** ln of the marginal likelihood of f failures and s passes, with lnΓ at integer offsets cached. */
class LogMarginal {
  private readonly gA: number[] = [];
  private readonly gB: number[] = [];
  private readonly gAB: number[] = [];
  private readonly base: number;
  constructor(private readonly prior: RatePrior) {
    this.base = prior.kind === 'beta' ? lnBeta(prior.a, prior.b) : 0;
  }
  private static at(cache: number[], x0: number, i: number): number {
    let v = cache[i];
    if (v === undefined) {
      v = lnGamma(x0 + i);
      cache[i] = v;
    }
    return v;
  }
  value(f: number, s: number): number {
    const prior = this.prior;
    if (prior.kind === 'fixed') return fixedLogLikelihood(prior.p, f, s);
    return (
      LogMarginal.at(this.gA, prior.a, f) + LogMarginal.at(this.gB, prior.b, s) - LogMarginal.at(this.gAB, prior.a + prior.b, f + s) - this.base
    );
  }
}

function fixedLogLikelihood(p: number, f: number, s: number): number {
  const lf = f === 0 ? 0 : f * Math.log(p);
  const ls = s === 0 ? 0 : s * Math.log1p(-p);
  return lf + ls;
}

/** P(k failures in r runs) for k = 0..r given f failures and s passes so far at this rate. */
function predictive(prior: RatePrior, f: number, s: number, r: number, out: Float64Array): void {
  if (prior.kind === 'fixed') {
    const p = prior.p;
    for (let k = 0; k <= r; k++) out[k] = binomialPmf(k, r, p);
    return;
  }
  const alpha = prior.a + f;
  const beta = prior.b + s;
  // Beta–binomial: C(r,k) Π_{i<k}(α+i) Π_{i<r-k}(β+i) / Π_{i<r}(α+β+i), by recurrence in k.
  let denom = 1;
  for (let i = 0; i < r; i++) denom *= alpha + beta + i;
  let pk = 1;
  for (let i = 0; i < r; i++) pk *= beta + i;
  pk /= denom; // k = 0
  out[0] = pk;
  for (let k = 1; k <= r; k++) {
    pk *= ((r - k + 1) / k) * ((alpha + k - 1) / (beta + r - k));
    out[k] = pk;
  }
}

function binomialPmf(k: number, r: number, p: number): number {
  if (p <= 0) return k === 0 ? 1 : 0;
  if (p >= 1) return k === r ? 1 : 0;
  let c = 1;
  for (let i = 0; i < k; i++) c = (c * (r - i)) / (i + 1);
  return c * p ** k * (1 - p) ** (r - k);
}

function xlogx(u: number, n: number): number {
  return u > 0 ? u * Math.log(u / n) : 0;
}

interface GainTables {
  K1: number;
  Lb: Float64Array;
  Lg: Float64Array;
  Eb: Float64Array;
  Eg: Float64Array;
  preLb: Float64Array;
  preEb: Float64Array;
  sufLg: Float64Array;
  sufEg: Float64Array;
}

/**
 * Expected culprit entropy (nats, up to the constant h0) after testing a point that splits
 * block j at allowed fraction f: Σ_k P_k ln P_k − T_k, where the blocks below the point see
 * it as bad, those above as good, and block j is split in proportion f.
 */
function expectedEntropy(t: GainTables, j: number, f: number): number {
  const K1 = t.K1;
  let e = 0;
  const o = j * K1;
  const above = (j + 1) * K1;
  for (let k = 0; k < K1; k++) {
    const P = t.preLb[o + k]! + f * t.Lb[o + k]! + (1 - f) * t.Lg[o + k]! + t.sufLg[above + k]!;
    const T = t.preEb[o + k]! + f * t.Eb[o + k]! + (1 - f) * t.Eg[o + k]! + t.sufEg[above + k]!;
    if (P > 0) e += P * Math.log(P);
    e -= T;
  }
  return e;
}

export class CulpritPosterior {
  readonly n: number;
  readonly model: BisectModel;
  private readonly fails: Map<number, number> = new Map();
  private readonly passes: Map<number, number> = new Map();
  /** Tested positions, ascending. */
  private readonly order: number[] = [];
  private readonly badMarginal: LogMarginal;
  private readonly goodMarginal: LogMarginal;
  private readonly untestable = new Set<number>();
  /** excluded[c] = 1: c cannot be the culprit (its kernel equals its predecessor's). */
  private readonly excluded: Uint8Array;
  private excludedPrefix: Int32Array;
  private cache: Block[] | undefined;
  private scratch = new Float64Array(0);

  constructor(n: number, model: BisectModel) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`bisect: need at least one commit between good and bad, got n=${n}`);
    this.n = n;
    this.model = model;
    this.excluded = new Uint8Array(n + 1);
    this.excludedPrefix = new Int32Array(n + 2);
    this.badMarginal = new LogMarginal(model.bad);
    this.goodMarginal = new LogMarginal(model.good);
  }

  /** Add f target failures and s clean runs observed at position pos. */
  observe(pos: number, f: number, s: number): void {
    this.checkPos(pos);
    if (!this.fails.has(pos) && !this.passes.has(pos) && (f || s)) {
      let i = this.order.length;
      while (i > 0 && this.order[i - 1]! > pos) i--;
      this.order.splice(i, 0, pos);
    }
    if (f) this.fails.set(pos, (this.fails.get(pos) ?? 0) + f);
    if (s) this.passes.set(pos, (this.passes.get(pos) ?? 0) + s);
    this.cache = undefined;
  }

  counts(pos: number): { f: number; s: number } {
    return { f: this.fails.get(pos) ?? 0, s: this.passes.get(pos) ?? 0 };
  }

  /** The commit cannot be tested (build or boot failure): never choose it. */
  markUntestable(pos: number): void {
    this.checkPos(pos);
    this.untestable.add(pos);
  }

  isTestable(pos: number): boolean {
    return !this.untestable.has(pos);
  }

  /** Positions lo < hi built to identical kernels: the culprit is not in lo+1..hi. */
  markIdentical(lo: number, hi: number): void {
    this.checkPos(lo);
    this.checkPos(hi);
    const [a, b] = lo < hi ? [lo, hi] : [hi, lo];
    for (let c = a + 1; c <= b; c++) this.excluded[c] = 1;
    for (let c = 1; c <= this.n; c++) this.excludedPrefix[c + 1] = this.excludedPrefix[c]! + this.excluded[c]!;
    this.cache = undefined;
  }

  /** Number of allowed culprits in lo+1..hi. */
  allowedBetween(lo: number, hi: number): number {
    return hi - lo - (this.excludedPrefix[hi + 1]! - this.excludedPrefix[lo + 1]!);
  }

  isAllowedCulprit(c: number): boolean {
    return c >= 1 && c <= this.n && this.excluded[c] === 0;
  }

  private checkPos(pos: number): void {
    if (!Number.isInteger(pos) || pos < 0 || pos > this.n) throw new RangeError(`bisect: position ${pos} outside 0..${this.n}`);
  }

  /** Tested positions with their counts, ascending. */
  tested(): { pos: number; f: number; s: number }[] {
    return this.order.map((pos) => ({ pos, f: this.fails.get(pos) ?? 0, s: this.passes.get(pos) ?? 0 }));
  }

  blocks(): Block[] {
    if (this.cache) return this.cache;
    const tested = this.tested();
    const bounds: number[] = [0];
    for (const t of tested) if (t.pos > 0 && t.pos < this.n) bounds.push(t.pos);
    bounds.push(this.n);
    // Counts at or below each boundary (good side) and at or above (bad side).
    let totalF = 0;
    let totalS = 0;
    for (const t of tested) {
      totalF += t.f;
      totalS += t.s;
    }
    const blocks: Block[] = [];
    let ti = 0;
    let goodF = 0;
    let goodS = 0;
    const logw: number[] = [];
    for (let j = 1; j < bounds.length; j++) {
      const lo = bounds[j - 1]!;
      const hi = bounds[j]!;
      while (ti < tested.length && tested[ti]!.pos <= lo) {
        goodF += tested[ti]!.f;
        goodS += tested[ti]!.s;
        ti++;
      }
      const allowed = this.allowedBetween(lo, hi);
      const badF = totalF - goodF;
      const badS = totalS - goodS;
      const lw =
        allowed === 0
          ? -Infinity
          : Math.log(allowed) + this.goodMarginal.value(goodF, goodS) + this.badMarginal.value(badF, badS);
      logw.push(lw);
      blocks.push({ lo, hi, allowed, mass: 0, badF, badS, goodF, goodS });
    }
    const max = Math.max(...logw);
    if (max === -Infinity) {
      throw new Error('bisect: the evidence contradicts the model (every culprit has zero likelihood): a clean run of a bad commit under a deterministic model, or a target failure on a good commit under a strict model');
    }
    let sum = 0;
    for (let j = 0; j < blocks.length; j++) {
      const w = Math.exp(logw[j]! - max);
      blocks[j]!.mass = w;
      sum += w;
    }
    for (const b of blocks) b.mass /= sum;
    this.cache = blocks;
    return blocks;
  }

  /** Posterior probability that commit c is the culprit. */
  culpritProbability(c: number): number {
    if (!this.isAllowedCulprit(c)) return 0;
    const b = this.blocks().find((x) => c > x.lo && c <= x.hi)!;
    return b.mass / b.allowed;
  }

  /** Culprit entropy in bits. */
  entropy(): number {
    let h = 0;
    for (const b of this.blocks()) h -= xlogx(b.mass, b.allowed);
    return h / Math.LN2;
  }

  /** The most probable commits, best first. */
  top(count: number): { pos: number; prob: number }[] {
    const out: { pos: number; prob: number }[] = [];
    const blocks = [...this.blocks()].filter((b) => b.allowed > 0).sort((x, y) => y.mass / y.allowed - x.mass / x.allowed);
    for (const b of blocks) {
      for (let c = b.hi; c > b.lo && out.length < count; c--) {
        if (this.isAllowedCulprit(c)) out.push({ pos: c, prob: b.mass / b.allowed });
      }
      if (out.length >= count) break;
    }
    return out;
  }

  /**
   * The best answer so far: the block of highest mass that testing cannot split any further
   * (one allowed culprit, or only untestable commits inside), or undefined if none holds
   * at least minMass.
   */
  settled(minMass: number): Block | undefined {
    let best: Block | undefined;
    for (const b of this.blocks()) {
      if (b.mass < minMass || b.allowed === 0) continue;
      let splittable = false;
      if (b.allowed > 1) {
        for (let x = b.lo + 1; x < b.hi; x++) {
          if (this.isTestable(x) && this.allowedBetween(b.lo, x) > 0 && this.allowedBetween(x, b.hi) > 0) {
            splittable = true;
            break;
          }
        }
      }
      if (!splittable && (!best || b.mass > best.mass)) best = b;
    }
    return best;
  }

  /**
   * The next test: the position that maximises the expected reduction of the culprit
   * entropy (the marginal over c, with p and ε integrated out) for a batch of `runs` runs.
   * Undefined when no test can change the culprit distribution.
   */
  chooseNext(runs: number, minBlockMass = 1e-7): Candidate | undefined {
    const r = Math.max(1, Math.floor(runs));
    const blocks = this.blocks();
    const K = blocks.length;
    const K1 = r + 1;
    // Per block and outcome k: unnormalised masses under "x bad" (Lb) and "x good" (Lg), and their entropy terms.
    const need = (K + 1) * K1;
    if (this.scratch.length < 8 * need) this.scratch = new Float64Array(16 * need);
    const buf = this.scratch;
    buf.fill(0, 0, 8 * need);
    const Lb = buf.subarray(0, need);
    const Lg = buf.subarray(need, 2 * need);
    const Eb = buf.subarray(2 * need, 3 * need);
    const Eg = buf.subarray(3 * need, 4 * need);
    const preLb = buf.subarray(4 * need, 5 * need);
    const preEb = buf.subarray(5 * need, 6 * need);
    const sufLg = buf.subarray(6 * need, 7 * need);
    const sufEg = buf.subarray(7 * need, 8 * need);
    const tmp = new Float64Array(K1);
    let h0 = 0;
    for (let j = 0; j < K; j++) {
      const b = blocks[j]!;
      h0 -= xlogx(b.mass, b.allowed);
      if (b.mass < 1e-15) continue; // contributes nothing measurable
      predictive(this.model.bad, b.badF, b.badS, r, tmp);
      for (let k = 0; k < K1; k++) {
        const u = b.mass * tmp[k]!;
        Lb[j * K1 + k] = u;
        Eb[j * K1 + k] = xlogx(u, b.allowed);
      }
      predictive(this.model.good, b.goodF, b.goodS, r, tmp);
      for (let k = 0; k < K1; k++) {
        const u = b.mass * tmp[k]!;
        Lg[j * K1 + k] = u;
        Eg[j * K1 + k] = xlogx(u, b.allowed);
      }
    }
    // preB[j] = sum over blocks < j of Lb, Eb; sufG[j] = sum over blocks > j of Lg, Eg.
    for (let j = 0; j < K; j++) {
      for (let k = 0; k < K1; k++) {
        preLb[(j + 1) * K1 + k] = preLb[j * K1 + k]! + Lb[j * K1 + k]!;
        preEb[(j + 1) * K1 + k] = preEb[j * K1 + k]! + Eb[j * K1 + k]!;
      }
    }
    for (let j = K - 1; j >= 0; j--) {
      for (let k = 0; k < K1; k++) {
        sufLg[j * K1 + k] = sufLg[(j + 1) * K1 + k]! + Lg[j * K1 + k]!;
        sufEg[j * K1 + k] = sufEg[(j + 1) * K1 + k]! + Eg[j * K1 + k]!;
      }
    }
    const t: GainTables = { K1, Lb, Lg, Eb, Eg, preLb, preEb, sufLg, sufEg };
    let best: Candidate | undefined;
    for (let j = 0; j < K; j++) {
      const b = blocks[j]!;
      if (b.mass < minBlockMass || b.allowed === 0) continue;
      // The gain is concave in the split fraction: ternary search over x in lo+1..hi.
      let lo = b.lo + 1;
      let hi = b.hi;
      while (hi - lo > 2) {
        const m1 = lo + Math.floor((hi - lo) / 3);
        const m2 = hi - Math.floor((hi - lo) / 3);
        const e1 = expectedEntropy(t, j, this.allowedBetween(b.lo, m1) / b.allowed);
        const e2 = expectedEntropy(t, j, this.allowedBetween(b.lo, m2) / b.allowed);
        if (e1 > e2) lo = m1 + 1;
        else hi = m2;
      }
      for (let x = lo; x <= hi; x++) {
        let cands: number[] = [x];
        if (!this.isTestable(x)) {
          // Nearest testable neighbours inside the block.
          cands = [];
          let d = x - 1;
          while (d > b.lo && !this.isTestable(d)) d--;
          if (d > b.lo) cands.push(d);
          let u = x + 1;
          while (u <= b.hi && !this.isTestable(u)) u++;
          if (u <= b.hi) cands.push(u);
        }
        for (const c of cands) {
          if (c <= 0 || c >= this.n) continue;
          const gain = (h0 - expectedEntropy(t, j, this.allowedBetween(b.lo, c) / b.allowed)) / Math.LN2;
          if (!best || gain > best.gain + 1e-12 || (Math.abs(gain - best.gain) <= 1e-12 && c < best.pos)) best = { pos: c, runs: r, gain };
        }
      }
    }
    return best && best.gain > 1e-9 ? best : undefined;
  }

  /**
   * Posterior of the failure probability of bad commits (a mixture over culprit blocks of
   * Beta posteriors): mean and an equal-tailed credible interval.
   */
  failureRate(level = 0.95): { mean: number; lo: number; hi: number } {
    const prior = this.model.bad;
    if (prior.kind === 'fixed') return { mean: prior.p, lo: prior.p, hi: prior.p };
    const blocks = this.blocks().filter((b) => b.mass > 1e-6);
    const total = blocks.reduce((acc, b) => acc + b.mass, 0);
    let mean = 0;
    for (const b of blocks) mean += (b.mass * (prior.a + b.badF)) / (prior.a + prior.b + b.badF + b.badS);
    const cdf = (x: number) => {
      let c = 0;
      for (const b of blocks) c += b.mass * betainc(prior.a + b.badF, prior.b + b.badS, x);
      return c / total;
    };
    const inv = (q: number) => {
      let lo = 0;
      let hi = 1;
      for (let i = 0; i < 40; i++) {
        const mid = 0.5 * (lo + hi);
        if (cdf(mid) < q) lo = mid;
        else hi = mid;
      }
      return 0.5 * (lo + hi);
    };
    mean /= total;
    return { mean, lo: inv((1 - level) / 2), hi: inv(1 - (1 - level) / 2) };
  }
}
