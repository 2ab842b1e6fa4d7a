import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConsoleReader } from '../../src/console/reader.ts';
import {
  BOOT_PROMPT,
  CANNOT_OPEN_DISK,
  DDB_PROMPT,
  HALTED,
  KERNEL_ASSERTION,
  KERNEL_TRAP,
  OPENBSD_CRASH_PATTERNS,
  PANIC,
  REBOOTING,
  STOPPED_AT,
  UVM_FAULT,
  isBootCommand,
  networkInterfaces,
  parseDmesg,
  promptCpu,
  typeBootCommands,
} from '../../src/console/openbsd.ts';
import type { ConsoleChannel, ExpectMatch } from '../../src/console/types.ts';
import { sharedDir } from '../../src/util/paths.ts';

const corpus = join(sharedDir(), 'corpus');
const skip = existsSync(join(corpus, 'real')) ? false : `corpus not at ${corpus}`;

function normalised(file: string): string {
  const r = new ConsoleReader();
  r.feed(readFileSync(join(corpus, file)));
  return r.text();
}

test('parseDmesg: lab MP kernel (version line, CPUs, virtio NICs)', { skip }, () => {
  const d = parseDmesg(normalised('real/openbsd-lab-mp-no-init-ddb-all-cpus.txt'));
  assert.ok(d);
  assert.equal(d.versionLine, 'OpenBSD 7.9-current (LAB) #0: Wed Nov 25 17:28:22 UTC 2026');
  assert.equal(d.release, '7.9');
  assert.equal(d.flavour, 'current');
  assert.equal(d.config, 'LAB');
  assert.deepEqual(d.cpus, [0, 1]);
  assert.deepEqual(
    networkInterfaces(d).map((n) => [n.name, n.parent, n.detail]),
    [
      ['vio0', 'virtio1', ': 1 queue, address 52:54:00:00:00:10'],
      ['vio1', 'virtio2', ': 1 queue, address 52:54:00:00:00:11'],
    ],
  );
  const names = d.devices.map((x) => x.name);
  for (const n of ['mainbus0', 'cpu0', 'cpu1', 'com0', 'virtio0', 'viornd0', 'ahci0', 'cd0', 'pci0']) assert.ok(names.includes(n), n);
  assert.equal(d.devices.find((x) => x.name === 'mainbus0')?.parent, 'root');
});

test('parseDmesg: uniprocessor 8.0-beta kernel', { skip }, () => {
  const d = parseDmesg(normalised('real/openbsd-8.0-beta-amd64-up-cannot-open-disk.txt'));
  assert.ok(d);
  assert.equal(d.versionLine, 'OpenBSD 8.0-beta (LAB) #1: Wed Nov 25 00:59:59 UTC 2026');
  assert.equal(d.flavour, 'beta');
  assert.deepEqual(d.cpus, [0]);
  assert.deepEqual(
    networkInterfaces(d).map((n) => n.name),
    ['vio0'],
  );
});

test('parseDmesg: null before the kernel banner', () => {
  assert.equal(parseDmesg('>> OpenBSD/amd64 CDBOOT 3.65\nboot> '), null);
});

test('crash and state patterns on the real transcripts', { skip }, () => {
  const lab = normalised('real/openbsd-lab-mp-boot-d-then-cannot-open-disk.txt');
  assert.equal(PANIC.exec(lab)?.[1], 'cannot open disk, 0x1100/0x2f02, error 2');
  assert.ok(CANNOT_OPEN_DISK.test(lab));
  assert.deepEqual(STOPPED_AT.exec(lab)?.slice(1), ['db_enter+0x9', 'popq    %rbp']);
  assert.ok(BOOT_PROMPT.test(lab));
  const noInit = normalised('real/openbsd-lab-mp-no-init-ddb-all-cpus.txt');
  assert.ok(REBOOTING.test(noInit));
  const basic = normalised('real/openbsd-lab-agent-basic-dut.txt');
  assert.ok(HALTED.test(basic));
  const syz = normalised('mail/syzbot-108d7f10e00000-assert-ifp-arptfree.txt');
  assert.ok(KERNEL_ASSERTION.test(syz));
  const fuzz = normalised('mail/fuzzbsd-openbsd61-msdos18-uvm_fault-brelse-serial.txt');
  assert.ok(KERNEL_TRAP.test(fuzz));
  assert.ok(UVM_FAULT.test(fuzz));
  // A console that never crashed: the agent's forwarding run (it enters no ddb).
  const fwd = normalised('real/openbsd-lab-agent-forward-dut.txt');
  assert.deepEqual(
    OPENBSD_CRASH_PATTERNS.filter((p) => p.test(fwd)),
    [],
  );
});

test('ddb prompt: CPU number on MP kernels, null on UP', () => {
  assert.equal(promptCpu('ddb{1}> '), 1);
  assert.equal(promptCpu('ddb> '), null);
  assert.equal(promptCpu(DDB_PROMPT.exec('x\nddb{12}> ')!), 12);
});

test('isBootCommand', () => {
  assert.equal(isBootCommand('boot -d'), true);
  assert.equal(isBootCommand('boot'), true);
  assert.equal(isBootCommand('b /bsd'), true);
  assert.equal(isBootCommand('set tty com0'), false);
  assert.equal(isBootCommand('bootstrap'), false);
});

/** A console that answers each typed line with the next canned output. */
function scripted(outputs: string[]): { con: ConsoleChannel; typed: string[] } {
  const reader = new ConsoleReader();
  const typed: string[] = [];
  reader.feed(Buffer.from(outputs.shift() ?? '', 'latin1'));
  const con = {
    vm: 'dut',
    closed: false,
    async expect(p: RegExp | string | (RegExp | string)[], o: { timeoutMs: number }): Promise<ExpectMatch> {
      const m = reader.search(Array.isArray(p) ? p : [p]);
      if (!m) throw new Error(`no match within ${o.timeoutMs}`);
      return m;
    },
    async send() {},
    async sendLine(line: string) {
      typed.push(line);
      reader.feed(Buffer.from(line + (outputs.shift() ?? ''), 'latin1'));
    },
    async sendBreak() {},
    text: () => reader.text(),
    textSince: (m: number) => reader.text(m),
    mark: () => reader.mark,
    idleMs: () => 0,
    onText: () => () => {},
  } satisfies ConsoleChannel;
  return { con, typed };
}

test('typeBootCommands waits for each boot> prompt (the 8.0-beta console: set tty com0 prompts again)', async () => {
  // From openbsd-8.0-beta-amd64-up-cannot-open-disk.txt, lines 14-16.
  const { con, typed } = scripted([
    '>> OpenBSD/amd64 CDBOOT 3.65\r\r\n|\b/\b-\b\\\b|\b/\bboot> ',
    '\r\r\nswitching console to com>> OpenBSD/amd64 CDBOOT 3.65\r\n\rboot> ',
    '\r\n\r-\b0\r\r\n',
  ]);
  await typeBootCommands(con, ['set tty com0', 'boot /bsd'], { timeoutMs: 1000 });
  assert.deepEqual(typed, ['set tty com0', 'boot /bsd']);
  await assert.rejects(typeBootCommands(con, ['boot -d', 'set tty com0'], { timeoutMs: 10 }), /dut: boot command 1 \("boot -d"\) starts the kernel, but 1 more follow it/);
});
