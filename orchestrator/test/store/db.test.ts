import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ResultStore } from '../../src/store/db.ts';
import type { PlannedRun } from '../../src/playbook/plan-types.ts';

function plannedRun(id: string, seq: number, variant: string): PlannedRun {
  return {
    id,
    seq,
    cell: { variant },
    cellId: `variant=${variant}`,
    repetition: 1,
    variant,
    vms: [],
    links: [],
    setup: [],
    load: [],
    timeouts: { bootSec: 1, sshSec: 1, commandSec: 1, loadSec: 1, ddbCommandSec: 1, hangSec: 1, runSec: 1 },
    resources: { cpus: 1, memoryMiB: 1 },
  };
}

test('every record is visible to another reader as soon as it is written', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'obsdlab-store-')), 'r.sqlite');
  const store = new ResultStore(path);
  const s = store.beginSession({ playbook: 'p', playbookFile: '/p.yaml', reportDir: '/r', host: 'h' });
  const run = store.startRun(s, plannedRun('variant=a#1', 1, 'a'), '/r/runs/001');
  store.addMeasurements(run, 'source', 'tcp4', [{ name: 'tcp4.throughput', value: 1e9, unit: 'bit/s' }]);
  store.addCrash(run, { vm: 'dut', kind: 'uvm_fault', title: 'uvm_fault in refcnt_rele', signature: 'abc', message: 'm', report: { x: 1 }, console: '/c' });
  // A second connection, as a crashed runner's successor or a report would open it.
  const reader = new Database(path, { readonly: true });
  assert.equal((reader.prepare('SELECT count(*) n FROM measurements').get() as { n: number }).n, 1);
  assert.equal((reader.prepare('SELECT title FROM crashes').get() as { title: string }).title, 'uvm_fault in refcnt_rele');
  assert.equal((reader.prepare('SELECT outcome FROM runs').get() as { outcome: string | null }).outcome, null, 'unfinished run');
  store.finishRun(run, { outcome: 'panic', durationMs: 5, reason: 'uvm_fault in refcnt_rele', failedVm: 'dut' });
  assert.equal((reader.prepare('SELECT outcome FROM runs').get() as { outcome: string }).outcome, 'panic');
  reader.close();
  store.close();
});

test('signature history spans sessions: first seen stays, count grows', async () => {
  const store = new ResultStore(':memory:');
  const s1 = store.beginSession({ playbook: 'p', playbookFile: '/p.yaml', reportDir: '/r1', host: 'h' });
  const r1 = store.startRun(s1, plannedRun('variant=a#1', 1, 'a'), '/r1/1');
  store.addCrash(r1, { vm: 'dut', kind: 'panic', title: 'T', signature: 'sig1', message: 'm', report: {}, console: '/c1' });
  const first = store.signatureGroups(s1)[0]!;
  await new Promise((r) => setTimeout(r, 5));
  const s2 = store.beginSession({ playbook: 'p', playbookFile: '/p.yaml', reportDir: '/r2', host: 'h' });
  const r2 = store.startRun(s2, plannedRun('variant=a#1', 1, 'a'), '/r2/1');
  store.addCrash(r2, { vm: 'dut', kind: 'panic', title: 'T', signature: 'sig1', message: 'm', report: {}, console: '/c2' });
  store.addCrash(r2, { vm: 'dut', kind: 'panic', title: 'U', signature: 'sig2', message: 'm', report: {}, console: '/c3' });
  const groups = store.signatureGroups(s2);
  assert.deepEqual(groups.map((g) => [g.signature, g.count]), [['sig1', 2], ['sig2', 1]]);
  assert.equal(groups[0]!.firstSeen, first.firstSeen);
  assert.ok(groups[0]!.lastSeen > first.firstSeen);
  assert.deepEqual(store.signatureGroups(s1).map((g) => g.signature), ['sig1'], 'a session sees only its own signatures');
  assert.equal(store.crashes(s2).length, 2);
  store.close();
});

test('counters keep one value per run, vm, phase and name', () => {
  const store = new ResultStore(':memory:');
  const s = store.beginSession({ playbook: 'p', playbookFile: '/p.yaml', reportDir: '/r', host: 'h' });
  const run = store.startRun(s, plannedRun('x#1', 1, 'x'), '/r/1');
  store.addCounters(run, 'dut', 'before', { 'ip.forward': 0, 'ip6.forward': 3, bogus: Number.NaN });
  store.addCounters(run, 'dut', 'after', { 'ip.forward': 40 });
  assert.deepEqual(store.counters(run), [
    { vm: 'dut', phase: 'after', name: 'ip.forward', value: 40 },
    { vm: 'dut', phase: 'before', name: 'ip.forward', value: 0 },
    { vm: 'dut', phase: 'before', name: 'ip6.forward', value: 3 },
  ]);
  store.close();
});
