/**
 * Adaptive repetition (pure): after the planned runs, keep adding interleaved pairs
 * of the two compared variants until the sequential test in stats/sequential.ts
 * decides at the playbook's confidence, or the run budget is spent.
 */
import type { Plan, PlannedRun } from '../playbook/plan-types.ts';
import type { MeasurementRecord, RunRecord } from '../store/db.ts';
import { adaptiveDecision, type AdaptiveDecision, type RunObservation } from '../stats/index.ts';
import { isKernelVerdict } from './outcome.ts';
import { RETRY_MARK } from './retry.ts';

export type AdaptiveRuleSpec = NonNullable<Plan['adaptive']>;

/** What the comparison saw so far, in run order; runs with no kernel verdict or no value are left out. */
export function observations(rule: AdaptiveRuleSpec, runs: RunRecord[], measurements: MeasurementRecord[]): RunObservation[] {
  const [a, b] = rule.compare;
  const latest = new Map<string, RunRecord>();
  for (const r of runs) latest.set(r.runId.split(RETRY_MARK)[0]!, r);
  const out: RunObservation[] = [];
  for (const r of [...latest.values()].sort((x, y) => x.seq - y.seq)) {
    if (r.variant !== a && r.variant !== b) continue;
    if (!r.outcome || !isKernelVerdict(r.outcome)) continue;
    const variant = r.variant === a ? 'A' : 'B';
    if (rule.metric === 'panic-rate') {
      out.push({ variant, failed: r.outcome === 'panic' });
    } else {
      const m = measurements.find((x) => x.run === r.pk && x.name === rule.measurement);
      if (m && r.outcome === 'pass') out.push({ variant, value: m.value });
    }
  }
  return out;
}

export function decide(rule: AdaptiveRuleSpec, obs: RunObservation[]): AdaptiveDecision {
  return adaptiveDecision(obs, {
    kind: rule.metric === 'panic-rate' ? 'rate' : 'throughput',
    maxRunsPerVariant: rule.maxRuns,
    level: rule.confidence,
    labelA: rule.compare[0],
    labelB: rule.compare[1],
  });
}

/** The next pair: one more repetition of each compared variant's first cell, A then B. */
export function nextPair(rule: AdaptiveRuleSpec, planned: PlannedRun[], nextSeq: number): PlannedRun[] {
  return rule.compare.map((variant, i) => {
    const cellRuns = planned.filter((r) => r.variant === variant);
    const template = cellRuns[0];
    if (!template) throw new Error(`adaptive: no planned run of variant "${variant}" to repeat`);
    const rep = Math.max(...cellRuns.filter((r) => r.cellId === template.cellId).map((r) => r.repetition)) + 1;
    return { ...template, repetition: rep, id: `${template.cellId}#${rep}`, seq: nextSeq + i };
  });
}
