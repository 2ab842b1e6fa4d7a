import { CulpritPosterior, FLAKY_MODEL, type Block, type BisectModel } from './posterior.ts';
import { fisherExact } from '../stats/fisher.ts';
import { rateUpperBound } from '../stats/binomial.ts';

/** What one run says about the target bug at its commit. */
export type Evidence = 'fail' | 'pass' | 'skip' | 'ignored';

export interface BisectOptions {
  model: BisectModel;
  /** Stop when one commit (or an unsplittable range) holds this posterior probability. */
  confidence: number;
  /** Runs batched at one commit per step (e.g. the number of parallel test hosts). */
  batch: number;
  /** Total run budget, every run counted (including ones that are not evidence). */
  maxRuns: number;
  /** Give up when the known-bad end shows no target failure in this many kernel-verdict runs. */
  reproduceBudget: number;
  /** Runs of the known-good end before bisecting (0: trust it; any target failure there still stops). */
  verifyGoodRuns: number;
}

export const DEFAULT_OPTIONS: BisectOptions = {
  model: FLAKY_MODEL,
  confidence: 0.95,
  batch: 1,
  maxRuns: 2000,
  reproduceBudget: 100,
  verifyGoodRuns: 0,
};

export type StopReason =
  | 'found'
  | 'not-reproduced'
  | 'good-end-fails'
  | 'budget'
  | 'undecidable'
  | 'bad-end-untestable'
  | 'good-end-untestable';

export type Action =
  | { kind: 'test'; pos: number; runs: number; why: 'reproduce' | 'verify-good' | 'information' }
  | { kind: 'stop'; reason: StopReason };

export interface PositionTally {
  fail: number;
  pass: number;
  skip: number;
  ignored: number;
}

export interface Conclusion {
  reason: StopReason;
  /** The culprit (when one commit is settled), else the first and last commit of the settled range. */
  culprit?: number;
  range?: [number, number];
  probability: number;
  runnersUp: { pos: number; prob: number }[];
  failureRate: { mean: number; lo: number; hi: number };
  totalRuns: number;
  /** Human-readable warnings: evidence that contradicts the model. */
  inconsistencies: string[];
  message: string;
}

export class BisectSession {
  readonly n: number;
  readonly opts: BisectOptions;
  readonly posterior: CulpritPosterior;
  private readonly tally = new Map<number, PositionTally>();
  private runs = 0;

  constructor(n: number, opts: Partial<BisectOptions> = {}) {
    this.n = n;
    this.opts = { ...DEFAULT_OPTIONS, ...opts };
    if (!(this.opts.confidence > 0 && this.opts.confidence < 1)) throw new RangeError(`bisect: confidence must be in (0, 1), got ${this.opts.confidence}`);
    if (!(this.opts.batch >= 1)) throw new RangeError(`bisect: batch must be >= 1, got ${this.opts.batch}`);
    this.posterior = new CulpritPosterior(n, this.opts.model);
  }

  get totalRuns(): number {
    return this.runs;
  }

  tallyAt(pos: number): PositionTally {
    return this.tally.get(pos) ?? { fail: 0, pass: 0, skip: 0, ignored: 0 };
  }

  /** Record one run at pos. A skip makes the commit untestable (build or boot failure). */
  apply(pos: number, evidence: Evidence): void {
    const t = { ...this.tallyAt(pos) };
    t[evidence]++;
    this.tally.set(pos, t);
    this.runs++;
    if (evidence === 'fail') this.posterior.observe(pos, 1, 0);
    else if (evidence === 'pass') this.posterior.observe(pos, 0, 1);
    else if (evidence === 'skip') this.posterior.markUntestable(pos);
  }

  /** Kernel of `pos` is byte-identical to that of `other`: share the verdict, run nothing more there. */
  applyIdentical(pos: number, other: number): void {
    this.posterior.markIdentical(pos, other);
  }

  next(): Action {
    const good = this.tallyAt(0);
    const bad = this.tallyAt(this.n);
    const verdictRunsBad = bad.fail + bad.pass;
    if (good.fail > 0) return { kind: 'stop', reason: 'good-end-fails' };
    if (!this.posterior.isTestable(this.n)) return { kind: 'stop', reason: 'bad-end-untestable' };
    if (bad.fail === 0) {
      if (verdictRunsBad >= this.opts.reproduceBudget) return { kind: 'stop', reason: 'not-reproduced' };
      if (this.runs >= this.opts.maxRuns) return { kind: 'stop', reason: 'budget' };
      return { kind: 'test', pos: this.n, runs: this.opts.batch, why: 'reproduce' };
    }
    if (good.pass < this.opts.verifyGoodRuns) {
      if (!this.posterior.isTestable(0)) return { kind: 'stop', reason: 'good-end-untestable' };
      if (this.runs >= this.opts.maxRuns) return { kind: 'stop', reason: 'budget' };
      return { kind: 'test', pos: 0, runs: Math.min(this.opts.batch, this.opts.verifyGoodRuns - good.pass), why: 'verify-good' };
    }
    if (this.posterior.settled(this.opts.confidence)) return { kind: 'stop', reason: 'found' };
    if (this.runs >= this.opts.maxRuns) return { kind: 'stop', reason: 'budget' };
    const c = this.posterior.chooseNext(this.opts.batch);
    if (!c) return { kind: 'stop', reason: 'undecidable' };
    return { kind: 'test', pos: c.pos, runs: c.runs, why: 'information' };
  }

  conclude(reason: StopReason): Conclusion {
    const p = this.posterior;
    const failureRate = p.failureRate(0.95);
    const inconsistencies: string[] = [];
    const base = { reason, failureRate, totalRuns: this.runs, inconsistencies };
    const bad = this.tallyAt(this.n);
    const good = this.tallyAt(0);
    if (reason === 'not-reproduced') {
      const n = bad.fail + bad.pass;
      const ub = rateUpperBound(0, n, 0.95);
      return { ...base, probability: 0, runnersUp: [], message: `the known-bad end did not show the target in ${n} runs (its rate is below ${(100 * ub).toFixed(1)}% at 95% confidence); nothing to bisect` };
    }
    if (reason === 'good-end-fails') {
      return { ...base, probability: 0, runnersUp: [], message: `the known-good end showed the target in ${good.fail} of ${good.fail + good.pass} runs; it is not good` };
    }
    if (reason === 'bad-end-untestable' || reason === 'good-end-untestable') {
      const which = reason === 'bad-end-untestable' ? 'bad' : 'good';
      return { ...base, probability: 0, runnersUp: [], message: `the known-${which} end cannot be tested (build or boot failure)` };
    }
    const settled: Block | undefined = p.settled(0);
    const top = p.top(4);
    let culprit: number | undefined;
    let range: [number, number] | undefined;
    let probability = 0;
    if (settled && reason !== 'budget') {
      probability = settled.mass;
      if (settled.allowed === 1) culprit = this.firstAllowed(settled.lo, settled.hi);
      else range = [settled.lo + 1, settled.hi];
    } else if (top[0]) {
      culprit = top[0].pos;
      probability = top[0].prob;
    }
    const runnersUp = top.filter((t) => t.pos !== culprit).slice(0, 3);
    if (culprit !== undefined) inconsistencies.push(...this.checkConsistency(culprit));
    const where = culprit !== undefined ? `commit #${culprit}` : range ? `one of commits #${range[0]}..#${range[1]} (the others in between could not be tested)` : 'no commit';
    const head =
      reason === 'found'
        ? `culprit: ${where} with posterior probability ${probability.toFixed(3)}`
        : reason === 'budget'
          ? `run budget (${this.opts.maxRuns}) spent before reaching ${this.opts.confidence}; most likely ${where} with probability ${probability.toFixed(3)}`
          : `no further test can separate the candidates; most likely ${where} with probability ${probability.toFixed(3)}`;
    return { ...base, culprit, range, probability, runnersUp, message: head };
  }

  private firstAllowed(lo: number, hi: number): number {
    for (let c = lo + 1; c <= hi; c++) if (this.posterior.isAllowedCulprit(c)) return c;
    return hi;
  }

  /** Evidence that the single-culprit, constant-rate model does not fit. */
  checkConsistency(culprit: number): string[] {
    const out: string[] = [];
    const tested = this.posterior.tested();
    const before = tested.filter((t) => t.pos < culprit && t.f > 0);
    if (before.length) {
      const f = before.reduce((s, t) => s + t.f, 0);
      out.push(`${f} target failure(s) at ${before.length} commit(s) before the culprit (#${before.map((t) => t.pos).join(', #')}): a look-alike bug or a second cause`);
    }
    const after = tested.filter((t) => t.pos >= culprit);
    // Does the rate change along the bad side? Compare each prefix with its suffix (Bonferroni).
    let bestP = 1;
    let at = -1;
    const totF = after.reduce((s, t) => s + t.f, 0);
    const totS = after.reduce((s, t) => s + t.s, 0);
    let f = 0;
    let s = 0;
    for (let i = 0; i + 1 < after.length; i++) {
      f += after[i]!.f;
      s += after[i]!.s;
      const p = fisherExact(f, s, totF - f, totS - s).pValue;
      if (p < bestP) {
        bestP = p;
        at = after[i + 1]!.pos;
      }
    }
    const splits = Math.max(1, after.length - 1);
    if (bestP * splits < 0.05) {
      out.push(`the failure rate changes along the bad side near commit #${at} (Fisher p=${bestP.toPrecision(2)}, ${splits} splits): a later change may make the bug rarer or more frequent`);
    }
    return out;
  }
}
