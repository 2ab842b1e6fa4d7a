import { lnBeta } from './special.ts';
import { compareThroughput } from './throughput.ts';
import { fisherExact } from './fisher.ts';
import { formatRate, rateWithCI } from './binomial.ts';

/**
 * Adaptive repetition for A/B comparisons: "repeat until the difference is decided at 95%,
 * at most N runs". Valid under optional stopping: the runs are paired in plan order
 * (i-th run of A with i-th run of B; the plan interleaves them), and within a pair the two
 * variants are exchangeable when they do not differ. So among the pairs that disagree
 * (one failed, the other did not; or one was faster), which variant "won" is a fair coin
 * under H0. The test statistic is the mixture likelihood ratio
 *   E = ∫ θ^x (1-θ)^y dθ / (1/2)^(x+y) = 2^(x+y) · B(x+1, y+1)
 * (x, y = pairs won by A, by B), a non-negative martingale under H0; by Ville's inequality
 * P(E ever reaches 1/α) <= α, however often it is looked at. The difference is decided when
 * E >= 1/α (20 at 95%).
 */

export interface RunObservation {
  variant: 'A' | 'B';
  /** Rate comparisons: the run showed the event (panic, hang, the target signature). */
  failed?: boolean;
  /** Throughput comparisons: the measured value (higher is better unless the rule says otherwise). */
  value?: number;
}

export interface AdaptiveRule {
  kind: 'rate' | 'throughput';
  /** Stop after this many runs of each variant even if undecided. */
  maxRunsPerVariant: number;
  /** Confidence level; the sequential type-I error bound is 1 - level. Default 0.95. */
  level?: number;
  labelA?: string;
  labelB?: string;
  higherIsBetter?: boolean;
}

export type AdaptiveVerdict = 'A-higher' | 'B-higher' | 'inconclusive' | 'continue';

export interface AdaptiveDecision {
  /** The difference is established at the requested level (error bound valid for sequential looks). */
  decided: boolean;
  /** decided, or the run budget is spent: schedule no more runs. */
  stop: boolean;
  verdict: AdaptiveVerdict;
  /** E-value of the pairwise test (evidence against "no difference"). */
  eValue: number;
  pairs: number;
  winsA: number;
  winsB: number;
  statement: string;
}

/** ln of the mixture likelihood ratio 2^(x+y) B(x+1, y+1). */
export function pairedMixtureLogE(winsA: number, winsB: number): number {
  return (winsA + winsB) * Math.LN2 + lnBeta(winsA + 1, winsB + 1);
}

export function adaptiveDecision(history: readonly RunObservation[], rule: AdaptiveRule): AdaptiveDecision {
  const level = rule.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new RangeError(`adaptiveDecision: level must be in (0, 1), got ${level}`);
  if (!(rule.maxRunsPerVariant >= 1)) throw new RangeError(`adaptiveDecision: maxRunsPerVariant must be >= 1, got ${rule.maxRunsPerVariant}`);
  const labelA = rule.labelA ?? 'A';
  const labelB = rule.labelB ?? 'B';
  const a: RunObservation[] = [];
  const b: RunObservation[] = [];
  history.forEach((o, i) => {
    if (rule.kind === 'rate' && typeof o.failed !== 'boolean') throw new RangeError(`adaptiveDecision: run ${i} (${o.variant}) has no failed flag`);
    if (rule.kind === 'throughput' && !(typeof o.value === 'number' && Number.isFinite(o.value))) {
      throw new RangeError(`adaptiveDecision: run ${i} (${o.variant}) has no finite value`);
    }
    (o.variant === 'A' ? a : b).push(o);
  });
  const pairs = Math.min(a.length, b.length);
  let winsA = 0;
  let winsB = 0;
  const better = rule.higherIsBetter ?? true;
  for (let i = 0; i < pairs; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (rule.kind === 'rate') {
      if (x.failed && !y.failed) winsA++;
      else if (y.failed && !x.failed) winsB++;
    } else {
      const d = (x.value! - y.value!) * (better ? 1 : -1);
      if (d > 0) winsA++;
      else if (d < 0) winsB++;
    }
  }
  const logE = pairedMixtureLogE(winsA, winsB);
  const eValue = Math.exp(logE);
  const threshold = 1 / (1 - level);
  const decided = eValue >= threshold;
  const spent = a.length >= rule.maxRunsPerVariant && b.length >= rule.maxRunsPerVariant;
  const verdict: AdaptiveVerdict = decided ? (winsA > winsB ? 'A-higher' : 'B-higher') : spent ? 'inconclusive' : 'continue';
  const lvl = `${Math.round(level * 100)}%`;
  const evidence = `E=${eValue.toPrecision(3)} over ${pairs} pairs, decided at E>=${threshold.toPrecision(3)}; error <= ${(100 * (1 - level)).toFixed(0)}% under sequential looks`;
  let detail: string;
  if (rule.kind === 'rate') {
    const ka = a.filter((o) => o.failed).length;
    const kb = b.filter((o) => o.failed).length;
    const p = fisherExact(ka, a.length - ka, kb, b.length - kb).pValue;
    detail = `${labelA} ${formatRate(rateWithCI(ka, a.length))}, ${labelB} ${formatRate(rateWithCI(kb, b.length))}, Fisher p=${p.toPrecision(3)}`;
  } else if (a.length > 0 && b.length > 0) {
    detail = compareThroughput(a.map((o) => o.value!), b.map((o) => o.value!), {
      level,
      labelA,
      labelB,
      higherIsBetter: better,
    }).statement;
  } else {
    detail = `${labelA} ${a.length} runs, ${labelB} ${b.length} runs`;
  }
  const what = rule.kind === 'rate' ? 'failure rate' : 'throughput';
  let head: string;
  if (decided) {
    const winner = verdict === 'A-higher' ? labelA : labelB;
    const adjective = rule.kind === 'rate' ? 'higher failure rate' : better ? 'higher throughput' : 'lower value';
    head = `decided at ${lvl}: ${winner} has the ${adjective}`;
  } else if (spent) {
    head = `${what} difference not decided at ${lvl} after ${rule.maxRunsPerVariant} runs each`;
  } else {
    head = `${what} difference not decided yet; continue (at most ${rule.maxRunsPerVariant} runs each)`;
  }
  return { decided, stop: decided || spent, verdict, eValue, pairs, winsA, winsB, statement: `${head} (${evidence}). ${detail}` };
}
