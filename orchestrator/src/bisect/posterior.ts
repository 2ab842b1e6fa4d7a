import { betainc, lnBeta, lnGamma } from '../stats/special.ts';

/**
 * Posterior over the commit that introduced a flaky bug.
 *
 * Positions 0..n: 0 is the known-good end, n the known-bad end; the culprit c is in 1..n
 * and commit x is bad iff x >= c. A bad commit shows the target failure in a run with an
 * unknown probability p; a good commit shows it with a small look-alike probability ε (or
 * never, in the strict model). The rates are integrated out, never plugged in: exactly over
 * a grid of values (the default: p on a log grid, ε a multiple of p), or analytically for a
 * Beta prior (Beta–binomial).
 *
 * Culprits between two consecutive tested positions share one likelihood, so the posterior
 * is kept per block (B[j-1], B[j]] of the tested boundaries and per rate hypothesis:
 * O(tested commits × hypotheses) per update, independent of the history length.
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
 * The default flaky model. p is uniform in log p between 1/64 and 1 (16 grid points, each
 * 1.32× the last), marginalised exactly: no rate is favoured over one ten times rarer, and
 * rates below 1/64 (which a reproduce budget of 100 runs would rarely see) get no mass, so
 * clean runs keep their weight. Look-alikes scale with p: a good commit shows the target at
 * ε = r·p with r = 0 (prior 0.7), 1/30 or 1/10 (0.15 each), so a failure is equally strong evidence
 * whatever p is, and a few look-alikes are absorbed instead of trusted.
 */
export const FLAKY_MODEL: BisectModel = {
  bad: { kind: 'log-grid', lo: 1 / 64, hi: 1, points: 16 },
  good: { kind: 'relative', ratios: [0, 1 / 30, 1 / 10], weights: [0.7, 0.15, 0.15] },
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

/** ln of the marginal likelihood of f failures and s passes under a Beta prior, with lnΓ at integer offsets cached. */
class LogMarginal {
  private readonly gA: number[] = [];
  private readonly gB: number[] = [];
  private readonly gAB: number[] = [];
  private readonly base: number;
  constructor(
    readonly a: number,
    readonly b: number,
  ) {
    this.base = lnBeta(a, b);
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
    return LogMarginal.at(this.gA, this.a, f) + LogMarginal.at(this.gB, this.b, s) - LogMarginal.at(this.gAB, this.a + this.b, f + s) - this.base;
  }
}

/** One rate hypothesis: a known rate, or a Beta prior integrated out. */
class RateComponent {
  private readonly lnP: number;
  private readonly ln1P: number;
  private readonly marginal: LogMarginal | undefined;
  constructor(
    readonly p: number | undefined,
    beta?: { a: number; b: number },
  ) {
    this.lnP = p === undefined ? 0 : Math.log(p);
    this.ln1P = p === undefined ? 0 : Math.log1p(-p);
    this.marginal = beta ? new LogMarginal(beta.a, beta.b) : undefined;
  }
  /** ln P(f failures, s passes in a given order). */
  ll(f: number, s: number): number {
    if (this.marginal) return this.marginal.value(f, s);
    return (f === 0 ? 0 : f * this.lnP) + (s === 0 ? 0 : s * this.ln1P);
  }
  /** P(k failures in r more runs) for k = 0..r given f failures and s passes so far, added times w into out. */
  addPredictive(f: number, s: number, r: number, w: number, out: Float64Array, o: number): void {
    if (this.marginal) {
      const alpha = this.marginal.a + f;
      const beta = this.marginal.b + s;
      // Beta–binomial: C(r,k) Π_{i<k}(α+i) Π_{i<r-k}(β+i) / Π_{i<r}(α+β+i), by recurrence in k.
      let denom = 1;
      for (let i = 0; i < r; i++) denom *= alpha + beta + i;
      let pk = 1;
      for (let i = 0; i < r; i++) pk *= beta + i;
      pk /= denom;
      out[o] = out[o]! + w * pk;
      for (let k = 1; k <= r; k++) {
        pk *= ((r - k + 1) / k) * ((alpha + k - 1) / (beta + r - k));
        out[o + k] = out[o + k]! + w * pk;
      }
      return;
    }
    for (let k = 0; k <= r; k++) out[o + k] = out[o + k]! + w * binomialPmf(k, r, this.p!);
  }
  /** Posterior mean of the rate given f failures and s passes. */
  mean(f: number, s: number): number {
    return this.marginal ? (this.marginal.a + f) / (this.marginal.a + this.marginal.b + f + s) : this.p!;
  }
  /** Posterior CDF of the rate at x given f failures and s passes. */
  cdf(f: number, s: number, x: number): number {
    return this.marginal ? betainc(this.marginal.a + f, this.marginal.b + s, x) : this.p! <= x ? 1 : 0;
  }
}

/** The joint hypotheses (bad-side rate, good-side rate) with their prior log weights. */
interface Hypotheses {
  bad: RateComponent[];
  good: RateComponent[];
  logPrior: Float64Array;
  /**
   * When every rate is a known value (grid or fixed), ln P(data) is linear in the counts:
   * lnPrior + badF·lnP + badS·ln(1−p) + goodF·lnε + goodS·ln(1−ε), with ln 0 as LOG_ZERO.
   */
  linear?: { badLnP: Float64Array; badLn1P: Float64Array; goodLnP: Float64Array; goodLn1P: Float64Array };
}

/** ln 0, finite so that 0·ln 0 = 0; anything below LOG_IMPOSSIBLE has zero probability. */
const LOG_ZERO = -1e300;
const LOG_IMPOSSIBLE = -1e250;
const safeLog = (x: number) => (x > 0 ? Math.log(x) : LOG_ZERO);

function rateValues(r: RatePrior, side: string): { comps: RateComponent[]; logw: number[] } {
  switch (r.kind) {
    case 'fixed':
      if (!(r.p >= 0 && r.p <= 1)) throw new RangeError(`bisect model: ${side} rate ${r.p} is not in [0, 1]`);
      return { comps: [new RateComponent(r.p)], logw: [0] };
    case 'beta':
      if (!(r.a > 0 && r.b > 0)) throw new RangeError(`bisect model: ${side} Beta(${r.a}, ${r.b}) needs positive parameters`);
      return { comps: [new RateComponent(undefined, r)], logw: [0] };
    case 'log-grid': {
      if (!(r.lo > 0 && r.hi <= 1 && r.lo <= r.hi && Number.isInteger(r.points) && r.points >= 1)) {
        throw new RangeError(`bisect model: ${side} log-grid needs 0 < lo <= hi <= 1 and points >= 1`);
      }
      const comps: RateComponent[] = [];
      for (let i = 0; i < r.points; i++) {
        const t = r.points === 1 ? 1 : i / (r.points - 1);
        comps.push(new RateComponent(Math.exp(Math.log(r.lo) + t * (Math.log(r.hi) - Math.log(r.lo)))));
      }
      return { comps, logw: comps.map(() => -Math.log(r.points)) };
    }
    case 'relative':
      throw new RangeError(`bisect model: a relative rate is only allowed for good commits`);
  }
}

function buildHypotheses(m: BisectModel): Hypotheses {
  const bad = rateValues(m.bad, 'bad-commit');
  const out: Hypotheses = { bad: [], good: [], logPrior: new Float64Array(0) };
  const logPrior: number[] = [];
  if (m.good.kind === 'relative') {
    const g = m.good;
    if (g.ratios.length === 0 || g.ratios.length !== g.weights.length) throw new RangeError('bisect model: relative look-alike ratios and weights must be non-empty and of equal length');
    const wsum = g.weights.reduce((x, y) => x + y, 0);
    if (!(wsum > 0) || g.weights.some((w) => !(w >= 0))) throw new RangeError('bisect model: relative look-alike weights must be >= 0 with a positive sum');
    bad.comps.forEach((bc, i) => {
      if (bc.p === undefined) throw new RangeError('bisect model: a relative look-alike rate needs a fixed or grid rate for bad commits');
      g.ratios.forEach((ratio, k) => {
        if (g.weights[k] === 0) return;
        const eps = ratio * bc.p!;
        if (!(eps >= 0 && eps < 1)) throw new RangeError(`bisect model: look-alike rate ${eps} is not in [0, 1)`);
        out.bad.push(bc);
        out.good.push(new RateComponent(eps));
        logPrior.push(bad.logw[i]! + Math.log(g.weights[k]! / wsum));
      });
    });
  } else {
    const good = rateValues(m.good, 'good-commit');
    bad.comps.forEach((bc, i) =>
      good.comps.forEach((gc, k) => {
        out.bad.push(bc);
        out.good.push(gc);
        logPrior.push(bad.logw[i]! + good.logw[k]!);
      }),
    );
  }
  out.logPrior = Float64Array.from(logPrior);
  if (out.bad.every((c) => c.p !== undefined) && out.good.every((c) => c.p !== undefined)) {
    out.linear = {
      badLnP: Float64Array.from(out.bad, (c) => safeLog(c.p!)),
      badLn1P: Float64Array.from(out.bad, (c) => safeLog(1 - c.p!)),
      goodLnP: Float64Array.from(out.good, (c) => safeLog(c.p!)),
      goodLn1P: Float64Array.from(out.good, (c) => safeLog(1 - c.p!)),
    };
  }
  return out;
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
  private readonly hyp: Hypotheses;
  /** Per block (same order as blocks()), the posterior weights of the hypotheses given the culprit is in it. */
  private hypWeights: Float64Array = new Float64Array(0);
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
    this.hyp = buildHypotheses(model);
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
    const H = this.hyp.logPrior.length;
    const K = bounds.length - 1;
    const lh = new Float64Array(K * H);
    // Each block's log weight under its best hypothesis (a lower bound; at most ln H below the sum's log).
    const top = new Float64Array(K);
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
      let mx = -Infinity;
      const o = (j - 1) * H;
      if (allowed > 0) {
        const lin = this.hyp.linear;
        const lp = this.hyp.logPrior;
        if (lin) {
          const { badLnP, badLn1P, goodLnP, goodLn1P } = lin;
          for (let h = 0; h < H; h++) {
            const v = lp[h]! + badF * badLnP[h]! + badS * badLn1P[h]! + goodF * goodLnP[h]! + goodS * goodLn1P[h]!;
            lh[o + h] = v;
            if (v > mx) mx = v;
          }
        } else {
          for (let h = 0; h < H; h++) {
            const v = lp[h]! + this.hyp.bad[h]!.ll(badF, badS) + this.hyp.good[h]!.ll(goodF, goodS);
            lh[o + h] = v;
            if (v > mx) mx = v;
          }
        }
      }
      top[j - 1] = allowed > 0 && mx > LOG_IMPOSSIBLE ? mx + Math.log(allowed) : -Infinity;
      blocks.push({ lo, hi, allowed, mass: 0, badF, badS, goodF, goodS });
    }
    let max = -Infinity;
    for (let j = 0; j < K; j++) if (top[j]! > max) max = top[j]!;
    if (max === -Infinity) {
      throw new Error('bisect: the evidence contradicts the model (every culprit has zero likelihood): a clean run of a bad commit under a deterministic model, or a target failure on a good commit under a strict model');
    }
    // Blocks e^-40 below the best one carry no measurable mass: skip their exponentials.
    const cut = max - 40 - Math.log(H);
    const weights = new Float64Array(K * H);
    let sum = 0;
    for (let j = 0; j < K; j++) {
      if (!(top[j]! > cut)) continue;
      const b = blocks[j]!;
      const o = j * H;
      const mx = top[j]! - Math.log(b.allowed);
      let z = 0;
      for (let h = 0; h < H; h++) {
        const d = lh[o + h]! - mx;
        if (d < -35) continue; // below 1e-15 of the block's best hypothesis
        const w = Math.exp(d);
        weights[o + h] = w;
        z += w;
      }
      for (let h = 0; h < H; h++) weights[o + h] = weights[o + h]! / z;
      b.mass = Math.exp(top[j]! - max) * z;
      sum += b.mass;
    }
    for (const b of blocks) b.mass /= sum;
    this.hypWeights = weights;
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
   * entropy (the marginal over c, with the rates integrated out) for a batch of `runs` runs.
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
    const H = this.hyp.logPrior.length;
    const wts = this.hypWeights;
    // Known rates: the predictive does not depend on the counts, so tabulate it once.
    let fixedPred: { bad: Float64Array; good: Float64Array } | undefined;
    if (this.hyp.linear) {
      const bad = new Float64Array(H * K1);
      const good = new Float64Array(H * K1);
      for (let h = 0; h < H; h++) {
        this.hyp.bad[h]!.addPredictive(0, 0, r, 1, bad, h * K1);
        this.hyp.good[h]!.addPredictive(0, 0, r, 1, good, h * K1);
      }
      fixedPred = { bad, good };
    }
    let h0 = 0;
    for (let j = 0; j < K; j++) {
      const b = blocks[j]!;
      h0 -= xlogx(b.mass, b.allowed);
      if (b.mass < 1e-15) continue; // contributes nothing measurable
      const o = j * K1;
      if (fixedPred) {
        for (let h = 0; h < H; h++) {
          const w = wts[j * H + h]! * b.mass;
          if (w < 1e-18) continue;
          const ob = h * K1;
          for (let k = 0; k < K1; k++) {
            Lb[o + k] = Lb[o + k]! + w * fixedPred.bad[ob + k]!;
            Lg[o + k] = Lg[o + k]! + w * fixedPred.good[ob + k]!;
          }
        }
      } else {
        for (let h = 0; h < H; h++) {
          const w = wts[j * H + h]! * b.mass;
          if (w < 1e-18) continue;
          this.hyp.bad[h]!.addPredictive(b.badF, b.badS, r, w, Lb, o);
          this.hyp.good[h]!.addPredictive(b.goodF, b.goodS, r, w, Lg, o);
        }
      }
      for (let k = 0; k < K1; k++) {
        Eb[o + k] = xlogx(Lb[o + k]!, b.allowed);
        Eg[o + k] = xlogx(Lg[o + k]!, b.allowed);
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
    if (this.model.bad.kind === 'fixed') return { mean: this.model.bad.p, lo: this.model.bad.p, hi: this.model.bad.p };
    const blocks = this.blocks();
    const H = this.hyp.logPrior.length;
    const parts: { w: number; c: RateComponent; f: number; s: number }[] = [];
    let total = 0;
    blocks.forEach((b, j) => {
      if (b.mass <= 1e-6) return;
      for (let h = 0; h < H; h++) {
        const w = b.mass * this.hypWeights[j * H + h]!;
        if (w <= 1e-9) continue;
        parts.push({ w, c: this.hyp.bad[h]!, f: b.badF, s: b.badS });
        total += w;
      }
    });
    let mean = 0;
    for (const x of parts) mean += x.w * x.c.mean(x.f, x.s);
    const cdf = (x: number) => {
      let c = 0;
      for (const q of parts) c += q.w * q.c.cdf(q.f, q.s, x);
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
