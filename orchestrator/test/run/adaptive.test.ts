import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextPair, observations, decide, type AdaptiveRuleSpec } from '../../src/run/adaptive.ts';
import type { RunRecord } from '../../src/store/db.ts';
import type { PlannedRun } from '../../src/playbook/plan-types.ts';
import type { Outcome } from '../../src/run/outcome.ts';

const rule: AdaptiveRuleSpec = { metric: 'throughput', measurement: 'tcp4.throughput', confidence: 0.95, maxRuns: 10, compare: ['proxy', 'refs'] };

function rec(pk: number, runId: string, variant: string, outcome: Outcome): RunRecord {
  return { pk, sessionId: 1, runId, seq: pk, cell: { variant }, cellId: `variant=${variant}`, variant, repetition: 1, dir: '', startedAt: '', finishedAt: '', outcome, reason: null, failedVm: null, timeToFailureMs: null, durationMs: 1, accel: 'tcg', kernels: {} };
}

test('observations: kernel verdicts of the compared variants, last attempt only, in run order', () => {
  const runs = [
    rec(1, 'variant=proxy#1', 'proxy', 'pass'),
    rec(2, 'variant=refs#1', 'refs', 'infra-error'),
    rec(3, 'variant=unpatched#1', 'unpatched', 'pass'),
    rec(4, 'variant=refs#1~retry1', 'refs', 'pass'),
    rec(5, 'variant=proxy#2', 'proxy', 'panic'),
  ];
  const ms = [1, 4, 5].map((run) => ({ run, vm: 'source', phase: 'tcp4', name: 'tcp4.throughput', value: run * 10, unit: 'bit/s' }));
  // Throughput: only passing runs carry a comparable value.
  assert.deepEqual(observations(rule, runs, ms), [
    { variant: 'A', value: 10 },
    { variant: 'B', value: 40 },
  ]);
  assert.deepEqual(observations({ ...rule, metric: 'panic-rate' }, runs, ms), [
    { variant: 'A', failed: false },
    { variant: 'B', failed: false },
    { variant: 'A', failed: true },
  ]);
});

test('nextPair repeats each compared variant once more, A then B, with fresh ids and seqs', () => {
  const base = { cell: {}, vms: [], links: [], setup: [], load: [], timeouts: {} as PlannedRun['timeouts'], resources: { cpus: 1, memoryMiB: 1 } };
  const planned = [
    { ...base, id: 'variant=proxy#1', seq: 1, cellId: 'variant=proxy', repetition: 1, variant: 'proxy' },
    { ...base, id: 'variant=refs#1', seq: 2, cellId: 'variant=refs', repetition: 1, variant: 'refs' },
    { ...base, id: 'variant=proxy#2', seq: 3, cellId: 'variant=proxy', repetition: 2, variant: 'proxy' },
  ] as PlannedRun[];
  const pair = nextPair(rule, planned, 4);
  assert.deepEqual(pair.map((r) => [r.id, r.seq, r.repetition]), [['variant=proxy#3', 4, 3], ['variant=refs#2', 5, 2]]);
  assert.throws(() => nextPair({ ...rule, compare: ['proxy', 'nope'] }, planned, 6), /no planned run of variant "nope"/);
});

test('decide stops at the run budget when nothing separates the variants', () => {
  const obs = Array.from({ length: 20 }, (_, i) => ({ variant: (i % 2 ? 'B' : 'A') as 'A' | 'B', value: 100 + (i % 4 < 2 ? 1 : -1) }));
  const d = decide(rule, obs);
  assert.equal(d.stop, true);
  assert.equal(d.decided, false);
});
