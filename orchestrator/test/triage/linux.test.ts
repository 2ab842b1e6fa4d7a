import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseLinuxConsole } from '../../src/triage/linux.ts';

// Captured from the obsdlab test guest (Debian 6.1.0-56-cloud-amd64) under QEMU TCG:
// `echo c > /proc/sysrq-trigger` typed at its serial console shell.
const capture = readFileSync(new URL('../fixtures/linux/testguest-sysrq-panic.txt', import.meta.url), 'utf8');

test('the sysrq panic of the test guest parses as read from the transcript', () => {
  const crashes = parseLinuxConsole(capture);
  assert.equal(crashes.length, 1);
  const c = crashes[0]!;
  assert.equal(c.kind, 'panic');
  assert.equal(c.message, 'sysrq triggered crash');
  assert.equal(c.cpu, 0);
  assert.equal(c.pid, 104);
  assert.equal(c.comm, 'sh');
  // Reliable frames in the transcript, top first; the "? _printk" style guesses are not frames.
  assert.deepEqual(
    c.frames.map((f) => f.function),
    ['dump_stack_lvl', 'panic', 'sysrq_handle_crash', '__handle_sysrq.cold', 'write_sysrq_trigger', 'proc_reg_write', 'vfs_write', 'ksys_write', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe'],
  );
  assert.equal(c.title, 'linux: panic: sysrq triggered crash in sysrq_handle_crash');
  assert.match(c.signature, /^[0-9a-f]{16}$/);
  assert.ok(capture.slice(c.start, c.end).includes('---[ end Kernel panic'));
});

test('signature ignores timestamps, pids and addresses', () => {
  const other = capture
    .replace(/\[\s*\d+\.\d+\]/g, '[  99.000000]')
    .replace('PID: 104', 'PID: 777')
    .replace(/0x1c200000/g, '0x2a400000');
  assert.equal(parseLinuxConsole(other)[0]!.signature, parseLinuxConsole(capture)[0]!.signature);
});

test('a different message is a different bug; truncated logs keep what is there', () => {
  const other = capture.replaceAll('sysrq triggered crash', 'Attempted to kill init!');
  assert.notEqual(parseLinuxConsole(other)[0]!.signature, parseLinuxConsole(capture)[0]!.signature);
  const cut = capture.slice(0, capture.indexOf('vfs_write'));
  const c = parseLinuxConsole(cut)[0]!;
  assert.equal(c.message, 'sysrq triggered crash');
  assert.equal(c.frames.at(-1)!.function, 'proc_reg_write');
  assert.deepEqual(parseLinuxConsole('no crash here\n'), []);
});
