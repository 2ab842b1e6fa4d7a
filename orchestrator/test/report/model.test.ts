import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport, counterOfInterest, type ReportInput } from '../../src/report/model.ts';
import { renderText } from '../../src/report/text.ts';
import { renderJunit } from '../../src/report/junit.ts';
import type { RunRecord } from '../../src/store/db.ts';
import type { Outcome } from '../../src/run/outcome.ts';

function run(pk: number, runId: string, variant: string, outcome: Outcome): RunRecord {
  return {
    pk,
    sessionId: 1,
    runId,
    seq: pk,
    cell: { variant },
    cellId: `variant=${variant}`,
    variant,
    repetition: 1,
    dir: `/r/${pk}`,
    startedAt: '2026-11-25T00:00:00.000Z',
    finishedAt: '2026-11-25T00:01:00.000Z',
    outcome,
    reason: outcome === 'pass' ? null : `${outcome} happened`,
    failedVm: null,
    timeToFailureMs: null,
    durationMs: 60_000,
    accel: 'tcg',
    kernels: {},
  };
}

function input(runs: RunRecord[], extra: Partial<ReportInput> = {}): ReportInput {
  return {
    session: { playbook: 'ab', playbookFile: '/ab.yaml', startedAt: '2026-11-25T00:00:00.000Z', finishedAt: null, status: 'complete', host: 'h' },
    runs,
    expectedOutcome: () => 'pass',
    measurements: [],
    crashes: [],
    groups: [],
    confidence: 0.95,
    ...extra,
  };
}

test('rates per variant count kernel verdicts only; the last attempt of a retried run counts', () => {
  const runs = [
    run(1, 'variant=a#1', 'a', 'pass'),
    run(2, 'variant=b#1', 'b', 'infra-error'),
    run(3, 'variant=a#2', 'a', 'panic'),
    run(4, 'variant=b#1~retry1', 'b', 'pass'),
    run(5, 'variant=b#2', 'b', 'infra-error'),
  ];
  const r = buildReport(input(runs));
  const a = r.variants.find((v) => v.variant === 'a')!;
  const b = r.variants.find((v) => v.variant === 'b')!;
  assert.deepEqual([a.panic.k, a.panic.n], [1, 2]);
  // b: the retried attempt replaces the infra error; the unretried infra error is no verdict.
  assert.deepEqual([b.panic.k, b.panic.n, b.runs], [0, 1, 2]);
  assert.equal(r.retried, 1);
  assert.deepEqual(r.runs.filter((x) => x.superseded).map((x) => x.id), ['variant=b#1']);
  // The panic of a#2 and the unretried infra error of b#2 were not expected.
  assert.equal(r.unexpected, 2);
  const text = renderText(r);
  assert.match(text, /infra-error \(retried\)/);
  assert.match(text, /1 attempt\(s\) retried after infrastructure errors/);
  assert.deepEqual(text.split('\n').filter((l) => l.length > 80), [], 'mail-width lines');
  const junit = renderJunit(r);
  assert.match(junit, /<skipped message="infrastructure error, run again: infra-error happened"\/>/);
  assert.match(junit, /tests="5" failures="2"/);
});

test('expected outcomes come from the playbook: an expected panic is no failure', () => {
  const r = buildReport(input([run(1, 'variant=panic#1', 'panic', 'panic')], { expectedOutcome: () => 'panic' }));
  assert.equal(r.unexpected, 0);
  assert.doesNotMatch(renderJunit(r), /<failure/);
});

test('throughput is compared across variants, other measurements summarised by median', () => {
  const runs = [1, 2, 3, 4, 5, 6].map((i) => run(i, `variant=${i % 2 ? 'a' : 'b'}#${Math.ceil(i / 2)}`, i % 2 ? 'a' : 'b', 'pass'));
  const measurements = runs.flatMap((r, i) => [
    { run: r.pk, vm: 'source', phase: 'tcp4', name: 'tcp4.throughput', value: (r.variant === 'a' ? 100 : 110) + i, unit: 'bit/s' },
    { run: r.pk, vm: 'source', phase: 'frag6', name: 'frag6.ttl', value: r.variant === 'a' ? 62 : 63, unit: 'hops' },
  ]);
  const r = buildReport(input(runs, { measurements }));
  assert.equal(r.throughput.length, 1);
  const t = r.throughput[0]!;
  assert.deepEqual(t.perVariant.map((v) => [v.variant, v.n, v.median]), [['a', 3, 102], ['b', 3, 113]]);
  assert.equal(t.comparisons.length, 1);
  assert.ok(t.comparisons[0]!.relDiff > 0, 'b is faster than a');
  assert.deepEqual(r.measurements.map((m) => [m.measurement, m.perVariant.map((v) => v.median)]), [['frag6.ttl', [62, 63]]]);
});

test('the report keeps network counters and, of the pool table, gets, failures and items in use of network pools', () => {
  // Counter names as the lab DUT reported them in a real run (netstat and pools).
  for (const name of ['ip.fragmented', 'ip6.ofragments', 'if.vio1.odrop', 'mbstat.mt_data', 'pool.mbufpl.requests', 'pool.mcl2k.inuse', 'pool.pfstate.fail']) {
    assert.equal(counterOfInterest(name), true, name);
  }
  for (const name of ['pool.mbufpl.hiwat', 'pool.mcl2k.npage', 'pool.amappl.requests', 'pool.anonpl.inuse', 'ip6.localout']) {
    assert.equal(counterOfInterest(name), false, name);
  }
});

test('measurements and counters of a retried attempt do not count, like its outcome', () => {
  // What the lab run showed: tcp4 measured, then tcp6 failed (infra error), the run retried.
  const runs = [run(1, 'variant=a#1', 'a', 'infra-error'), run(2, 'variant=a#1~retry1', 'a', 'pass'), run(3, 'variant=a#2', 'a', 'pass')];
  const measurements = [
    { run: 1, vm: 'source', phase: 'tcp4', name: 'tcp4.throughput', value: 10, unit: 'bit/s' },
    { run: 2, vm: 'source', phase: 'tcp4', name: 'tcp4.throughput', value: 100, unit: 'bit/s' },
    { run: 3, vm: 'source', phase: 'tcp4', name: 'tcp4.throughput', value: 200, unit: 'bit/s' },
    { run: 1, vm: 'source', phase: 'frag4', name: 'frag4.loss', value: 100, unit: '%' },
    { run: 2, vm: 'source', phase: 'frag4', name: 'frag4.loss', value: 0, unit: '%' },
  ];
  const counterDeltas = [
    { run: 1, vm: 'dut', name: 'ip.forward', delta: 5 },
    { run: 2, vm: 'dut', name: 'ip.forward', delta: 50 },
  ];
  const r = buildReport(input(runs, { measurements, counterDeltas }));
  assert.deepEqual(r.throughput[0]!.perVariant.map((v) => [v.n, v.median]), [[2, 150]]);
  assert.deepEqual(r.measurements.map((m) => [m.measurement, m.perVariant[0]!.n, m.perVariant[0]!.median]), [['frag4.loss', 1, 0]]);
  assert.deepEqual(r.counters.map((c) => [c.counter, c.perVariant[0]!.median]), [['ip.forward', 50]]);
});
