/**
 * The report model: everything a reporter renders, computed once from the store's
 * records (pure). Renderers (text, JSON, JUnit, HTML) only format it.
 */
import type { CrashRecord, MeasurementRecord, RunRecord, SignatureGroup } from '../store/db.ts';
import type { Outcome } from '../run/outcome.ts';
import { RETRY_MARK } from '../run/retry.ts';
import { rateWithCI, fisherExact, compareThroughput, median } from '../stats/index.ts';

export interface RateSummary {
  k: number;
  n: number;
  rate: number;
  ci: [number, number];
}

export interface RunSummary {
  seq: number;
  id: string;
  /** An infrastructure error that a later attempt of the same run replaced: shown, never counted. */
  superseded: boolean;
  cellId: string;
  variant: string;
  repetition: number;
  outcome: Outcome | 'incomplete';
  expected: boolean;
  reason: string | null;
  failedVm: string | null;
  durationMs: number | null;
  timeToFailureMs: number | null;
  accel: string | null;
  dir: string;
  /** Kernel identity per VM (cache key or image id). */
  kernels: Record<string, string>;
  crashes: { vm: string; title: string; signature: string }[];
}

export interface CellSummary {
  cellId: string;
  cell: Record<string, string>;
  runs: number;
  outcomes: Partial<Record<Outcome | 'incomplete', number>>;
  panic: RateSummary;
  hang: RateSummary;
}

export interface ThroughputSummary {
  measurement: string;
  unit: string;
  perVariant: { variant: string; n: number; median: number; values: number[] }[];
  comparisons: { a: string; b: string; relDiff: number; ci: [number, number]; statement: string }[];
}

export interface CrashGroupSummary extends SignatureGroup {
  /** Runs of this session with this signature. */
  runs: string[];
  perVariant: { variant: string; k: number; n: number; ci: [number, number] }[];
  /** Same signature seen before this session. */
  seenBefore: boolean;
}

export interface RateComparison {
  a: string;
  b: string;
  what: 'panic';
  pValue: number;
  statement: string;
}

export interface SessionReport {
  playbook: string;
  playbookFile: string;
  startedAt: string;
  finishedAt: string | null;
  status: string;
  host: string;
  accel: string[];
  order: string[];
  runs: RunSummary[];
  cells: CellSummary[];
  variants: { variant: string; panic: RateSummary; hang: RateSummary; runs: number }[];
  rateComparisons: RateComparison[];
  throughput: ThroughputSummary[];
  /** Every other measurement (loss, hop limit, rtt, retransmits, profile samples), median per variant. */
  measurements: { measurement: string; unit: string; perVariant: { variant: string; n: number; median: number }[] }[];
  /** Counters that the diffs under test touch (mbufs, pools, fragments, forwarding, drops), median movement per variant. */
  counters: { vm: string; counter: string; perVariant: { variant: string; n: number; median: number }[] }[];
  crashGroups: CrashGroupSummary[];
  unexpected: number;
  /** Attempts that ended as infrastructure errors and were run again. */
  retried: number;
  /** Adaptive repetition: the stopping rule and where it ended. */
  adaptive?: { rule: string; decided: boolean; stop: boolean; verdict: string; pairs: number; statement: string };
}

export interface ReportInput {
  session: { playbook: string; playbookFile: string; startedAt: string; finishedAt: string | null; status: string; host: string };
  runs: RunRecord[];
  expectedOutcome: (run: RunRecord) => Outcome;
  measurements: MeasurementRecord[];
  /** Counter movement per run and VM over the load (after − before); optional. */
  counterDeltas?: { run: number; vm: string; name: string; delta: number }[];
  crashes: CrashRecord[];
  groups: SignatureGroup[];
  confidence: number;
  /** The adaptive repetition's rule and final decision, when the playbook asked for one. */
  adaptive?: SessionReport['adaptive'];
}

/** Counters worth a line in the report: what mbuf refcounting diffs and fragment handling move. */
const COUNTER_OF_INTEREST = /frag|forward|mbuf|mbstat|mcl|drop|reass|defrag|pullup|Ierrs|Oerrs/i;
/** Of the pool table (hundreds of rows): gets, failures and items in use of the network pools. */
const POOL_COUNTER = /^pool\.([^.]+)\.(\w+)$/;
const POOL_OF_INTEREST = /mbuf|mcl|mtag|pf|frag|ipq|ip6q|sock|tcp|inpcb/;
const POOL_COLUMN_OF_INTEREST = /^(requests|fail|inuse)$/;

export function counterOfInterest(name: string): boolean {
  const pool = POOL_COUNTER.exec(name);
  if (pool) return POOL_OF_INTEREST.test(pool[1]!) && POOL_COLUMN_OF_INTEREST.test(pool[2]!);
  return COUNTER_OF_INTEREST.test(name);
}

/** Throughput measurements compared across variants are those whose name ends in this. */
const THROUGHPUT_SUFFIX = '.throughput';

export function buildReport(input: ReportInput): SessionReport {
  const { runs, crashes, confidence } = input;
  const crashesByRun = groupBy(crashes, (c) => c.run);
  const baseId = (id: string) => id.split(RETRY_MARK)[0]!;
  const lastAttempt = new Map<string, number>();
  for (const r of runs) lastAttempt.set(baseId(r.runId), r.pk);
  const allSummaries: RunSummary[] = runs.map((r) => {
    const outcome = r.outcome ?? 'incomplete';
    const superseded = lastAttempt.get(baseId(r.runId)) !== r.pk;
    return {
      seq: r.seq,
      id: r.runId,
      superseded,
      cellId: r.cellId,
      variant: r.variant,
      repetition: r.repetition,
      outcome,
      expected: superseded || outcome === input.expectedOutcome({ ...r, runId: baseId(r.runId) }),
      reason: r.reason,
      failedVm: r.failedVm,
      durationMs: r.durationMs,
      timeToFailureMs: r.timeToFailureMs,
      accel: r.accel,
      dir: r.dir,
      kernels: r.kernels,
      crashes: (crashesByRun.get(r.pk) ?? []).map((c) => ({ vm: c.vm, title: c.title, signature: c.signature })),
    };
  });

  // Statistics count each planned run once: its last attempt.
  const runSummaries = allSummaries.filter((r) => !r.superseded);
  const verdictRuns = (rs: RunSummary[]) => rs.filter((r) => r.outcome !== 'infra-error' && r.outcome !== 'incomplete' && r.outcome !== 'build-failure');
  const rate = (rs: RunSummary[], o: Outcome): RateSummary => {
    const n = verdictRuns(rs).length;
    const k = rs.filter((r) => r.outcome === o).length;
    const ci = rateWithCI(k, n, { method: 'clopper-pearson', level: confidence });
    return { k, n, rate: n ? k / n : 0, ci: [ci.lo, ci.hi] };
  };

  const cells: CellSummary[] = [...groupBy(runSummaries, (r) => r.cellId)].map(([cellId, rs]) => ({
    cellId,
    cell: runs.find((r) => r.cellId === cellId)!.cell,
    runs: rs.length,
    outcomes: countBy(rs, (r) => r.outcome),
    panic: rate(rs, 'panic'),
    hang: rate(rs, 'hang'),
  }));

  const byVariant = groupBy(runSummaries, (r) => r.variant);
  const variants = [...byVariant].map(([variant, rs]) => ({ variant, panic: rate(rs, 'panic'), hang: rate(rs, 'hang'), runs: rs.length }));

  const rateComparisons: RateComparison[] = [];
  for (const [i, a] of variants.entries()) {
    for (const b of variants.slice(i + 1)) {
      if (a.panic.n === 0 || b.panic.n === 0 || a.panic.k + b.panic.k === 0) continue;
      const p = fisherExact(a.panic.k, a.panic.n - a.panic.k, b.panic.k, b.panic.n - b.panic.k).pValue;
      rateComparisons.push({
        a: a.variant,
        b: b.variant,
        what: 'panic',
        pValue: p,
        statement:
          `panic rate ${a.variant} ${a.panic.k}/${a.panic.n} vs ${b.variant} ${b.panic.k}/${b.panic.n}: ` +
          (p < 1 - confidence ? `differ (Fisher exact p = ${fmtP(p)})` : `no difference shown (Fisher exact p = ${fmtP(p)})`),
      });
    }
  }

  // Measurements and counters, like rates, come from each planned run's last attempt only.
  const anyRunByPk = new Map(runs.map((r) => [r.pk, r]));
  const runByPk = new Map(runs.filter((r) => lastAttempt.get(baseId(r.runId)) === r.pk).map((r) => [r.pk, r]));
  const finalMeasurements = input.measurements.filter((m) => runByPk.has(m.run));
  const throughput: ThroughputSummary[] = [];
  const tputs = finalMeasurements.filter((m) => m.name.endsWith(THROUGHPUT_SUFFIX));
  for (const [name, ms] of groupBy(tputs, (m) => m.name)) {
    const perVariantMap = new Map<string, number[]>();
    for (const m of ms) {
      const variant = runByPk.get(m.run)?.variant ?? '?';
      perVariantMap.set(variant, [...(perVariantMap.get(variant) ?? []), m.value]);
    }
    const perVariant = [...perVariantMap].map(([variant, values]) => ({ variant, n: values.length, median: median(values), values }));
    const comparisons: ThroughputSummary['comparisons'] = [];
    for (const [i, a] of perVariant.entries()) {
      for (const b of perVariant.slice(i + 1)) {
        if (a.n < 2 || b.n < 2) continue;
        const c = compareThroughput(b.values, a.values, { level: confidence, labelA: b.variant, labelB: a.variant });
        const named = c.statement.includes(b.variant) && c.statement.includes(a.variant);
        comparisons.push({ a: b.variant, b: a.variant, relDiff: c.relDiff, ci: c.ci, statement: named ? c.statement : `${b.variant} vs ${a.variant}: ${c.statement}` });
      }
    }
    throughput.push({ measurement: name, unit: ms[0]!.unit, perVariant, comparisons });
  }

  const measurements: SessionReport['measurements'] = [];
  for (const [name, ms] of groupBy(finalMeasurements.filter((m) => !m.name.endsWith(THROUGHPUT_SUFFIX) && !m.name.endsWith(`${THROUGHPUT_SUFFIX}.sent`)), (m) => m.name)) {
    const perVariant = [...groupBy(ms, (m) => runByPk.get(m.run)?.variant ?? '?')].map(([variant, xs]) => ({
      variant,
      n: xs.length,
      median: median(xs.map((x) => x.value)),
    }));
    measurements.push({ measurement: name, unit: ms[0]!.unit, perVariant });
  }

  const counters: SessionReport['counters'] = [];
  const interesting = (input.counterDeltas ?? []).filter((c) => counterOfInterest(c.name) && runByPk.has(c.run));
  for (const [key, cs] of groupBy(interesting, (c) => `${c.vm}\u0000${c.name}`)) {
    if (cs.every((c) => c.delta === 0)) continue;
    const [vm, counter] = key.split('\u0000') as [string, string];
    const perVariant = [...groupBy(cs, (c) => runByPk.get(c.run)!.variant)].map(([variant, xs]) => ({
      variant,
      n: xs.length,
      median: median(xs.map((x) => x.delta)),
    }));
    counters.push({ vm, counter, perVariant });
  }

  const crashGroups: CrashGroupSummary[] = input.groups.map((g) => {
    const these = crashes.filter((c) => c.signature === g.signature);
    const runIds = [...new Set(these.map((c) => anyRunByPk.get(c.run)?.runId ?? '?'))];
    const perVariant = [...byVariant].map(([variant, rs]) => {
      const n = verdictRuns(rs).length;
      const k = rs.filter((r) => r.crashes.some((c) => c.signature === g.signature)).length;
      const ci = rateWithCI(k, n, { method: 'clopper-pearson', level: confidence });
      return { variant, k, n, ci: [ci.lo, ci.hi] as [number, number] };
    });
    // The example is this session's first crash of the group; the store's first one may be from another night.
    const example = these[0];
    return {
      ...g,
      ...(example ? { exampleConsole: example.console, exampleRun: anyRunByPk.get(example.run)?.runId ?? g.exampleRun } : {}),
      runs: runIds,
      perVariant,
      seenBefore: g.firstSeen < input.session.startedAt,
    };
  });

  return {
    playbook: input.session.playbook,
    playbookFile: input.session.playbookFile,
    startedAt: input.session.startedAt,
    finishedAt: input.session.finishedAt,
    status: input.session.status,
    host: input.session.host,
    accel: [...new Set(runs.map((r) => r.accel).filter((a): a is string => !!a))],
    order: runSummaries.map((r) => r.id),
    runs: allSummaries,
    cells,
    variants,
    rateComparisons,
    throughput,
    measurements,
    counters,
    crashGroups,
    unexpected: runSummaries.filter((r) => !r.expected).length,
    retried: allSummaries.filter((r) => r.superseded).length,
    ...(input.adaptive ? { adaptive: input.adaptive } : {}),
  };
}


function fmtP(p: number): string {
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}

function groupBy<T, K>(xs: T[], key: (x: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = m.get(k);
    if (list) list.push(x);
    else m.set(k, [x]);
  }
  return m;
}

function countBy<T, K extends string>(xs: T[], key: (x: T) => K): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}
