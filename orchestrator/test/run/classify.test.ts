import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, emptyEvents } from '../../src/run/classify.ts';

test('no events is a pass', () => {
  assert.deepEqual(classify(emptyEvents()), { outcome: 'pass' });
});

test('a crash wins over the failures it caused, earliest crash first', () => {
  const ev = emptyEvents();
  ev.commandFailures.push({ vm: 'source', atMs: 9000, error: 'iperf3: connection reset' });
  ev.infraErrors.push({ vm: 'dut', atMs: 9500, error: 'ssh dropped' });
  ev.crashes.push({ vm: 'dut', atMs: 8000, summary: 'uvm_fault in refcnt_rele' });
  ev.crashes.push({ vm: 'sink', atMs: 8500, summary: 'Kernel panic' });
  assert.deepEqual(classify(ev), { outcome: 'panic', reason: 'uvm_fault in refcnt_rele', failedVm: 'dut', timeToFailureMs: 8000 });
});

test('hang beats boot failure and infra errors; boot failure beats infra', () => {
  const ev = emptyEvents();
  ev.infraErrors.push({ atMs: 1, error: 'qemu died' });
  ev.bootFailures.push({ vm: 'dut', atMs: 5, reason: 'no agent prompt' });
  assert.equal(classify(ev).outcome, 'boot-failure');
  ev.hangs.push({ vm: 'dut', atMs: 10, detail: 'console silent 120s' });
  assert.equal(classify(ev).outcome, 'hang');
});

test('command failures with live guests are infra errors, build failures come first', () => {
  const ev = emptyEvents();
  ev.commandFailures.push({ vm: 'source', atMs: 3, error: 'iperf3 exited 1' });
  assert.deepEqual(classify(ev), { outcome: 'infra-error', reason: 'iperf3 exited 1', failedVm: 'source' });
  ev.buildFailures.push({ kernel: 'proxy', error: 'patch does not apply' });
  assert.equal(classify(ev).outcome, 'build-failure');
});
