import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schedule, type Job } from '../../src/run/scheduler.ts';
import { parseBudget } from '../../src/run/budget.ts';

function job(id: string, cpus: number, log: string[], gate: Promise<void>): Job<string> {
  return {
    id,
    needs: { cpus, memoryMiB: 100 },
    start: async () => {
      log.push(`start ${id}`);
      await gate;
      log.push(`end ${id}`);
      return id;
    },
  };
}

test('runs jobs in order, in parallel while they fit the budget', async () => {
  const log: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const done = schedule([job('a', 2, log, gate), job('b', 2, log, gate), job('c', 2, log, gate)], {
    budget: { cpus: 4, memoryMiB: 1000 },
  });
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(log, ['start a', 'start b'], 'c must wait: a+b use the whole cpu budget');
  release();
  const results = await done;
  assert.deepEqual(results.map((r) => r.status), ['done', 'done', 'done']);
  assert.equal(log.indexOf('start c') > log.indexOf('end a'), true);
});

test('a job larger than the budget still runs, alone', async () => {
  const log: string[] = [];
  const results = await schedule([job('big', 16, log, Promise.resolve()), job('small', 1, log, Promise.resolve())], {
    budget: { cpus: 4, memoryMiB: 1000 },
  });
  assert.deepEqual(results.map((r) => r.status), ['done', 'done']);
  assert.deepEqual(log, ['start big', 'end big', 'start small', 'end small']);
});

test('a failing job is reported and does not stop the others', async () => {
  const results = await schedule(
    [
      { id: 'x', needs: { cpus: 1, memoryMiB: 1 }, start: async () => Promise.reject(new Error('boom')) },
      { id: 'y', needs: { cpus: 1, memoryMiB: 1 }, start: async () => 'ok' },
    ],
    { budget: { cpus: 1, memoryMiB: 1 } },
  );
  assert.equal(results[0]!.status, 'failed');
  assert.deepEqual(results[1], { id: 'y', status: 'done', value: 'ok' });
});

test('abort stops starting new jobs', async () => {
  const ac = new AbortController();
  const results = await schedule(
    [
      { id: 'x', needs: { cpus: 1, memoryMiB: 1 }, start: async () => (ac.abort(), 'x') },
      { id: 'y', needs: { cpus: 1, memoryMiB: 1 }, start: async () => 'y' },
    ],
    { budget: { cpus: 1, memoryMiB: 1 }, signal: ac.signal },
  );
  assert.deepEqual(results.map((r) => r.status), ['done', 'not-started']);
});

test('budget overrides parse', () => {
  assert.deepEqual(parseBudget('cpus=3,mem=2G', { cpus: 1, memoryMiB: 1 }), { cpus: 3, memoryMiB: 2048 });
  assert.deepEqual(parseBudget('mem=512', { cpus: 2, memoryMiB: 1 }), { cpus: 2, memoryMiB: 512 });
  assert.throws(() => parseBudget('gpus=1'), /cannot parse "gpus=1"/);
});
