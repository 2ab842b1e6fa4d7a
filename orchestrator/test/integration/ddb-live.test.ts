/**
 * The console engine and the ddb driver against a real OpenBSD LAB kernel
 * under QEMU TCG (2 vCPUs): `boot -d` from the ISO's boot.conf stops in
 * init_x86_64; the driver runs there, continues the kernel to the lab agent,
 * breaks back into ddb with a serial BREAK through the mux console, runs the
 * full script on both CPUs and ends with `boot reboot` (QEMU exits: -no-reboot).
 *
 * The kernel and its tree come from test/lab-reference.ts (the project's cross
 * builder, a cache hit after the first build); the ISO from buildLabImage().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openConsole } from '../../src/console/connect.ts';
import { DDB_PROMPT } from '../../src/console/openbsd.ts';
import { readConsoleRecording } from '../../src/console/recording.ts';
import { runDdbScript } from '../../src/ddb/driver.ts';
import { enterDdb } from '../../src/ddb/enter.ts';
import { buildLabImage } from '../../src/images/lab/build.ts';
import { startVm } from '../../src/vm/qemu.ts';
import { labKernel, labReferenceMissing } from '../lab-reference.ts';

const missing = labReferenceMissing();
const { bsd, tree } = missing ? { bsd: '', tree: '' } : await labKernel();

test('live ddb on a LAB kernel: boot -d, BREAK, both CPUs, boot reboot', { skip: missing, timeout: 600_000 }, async (t) => {
  const image = await buildLabImage({ bsd, tree, bootConf: { extraLines: ['boot -d'] } });
  const dir = mkdtempSync(join(tmpdir(), 'obsdlab-ddb-live-'));
  const vm = await startVm({ name: 'dut', dir, cpus: 2, memoryMiB: 512, boot: { kind: 'cdrom', iso: image.iso }, accel: 'tcg', log: () => {} });
  const con = await openConsole({ vm: 'dut', socketPath: vm.consoleSocket, dir, chardev: 'mux' });
  t.after(async () => {
    con.close();
    await vm.stop();
    if (!process.env.OBSDLAB_KEEP) rmSync(dir, { recursive: true, force: true });
  });
  const log: string[] = [];

  // 1. boot -d: ddb in init_x86_64 before autoconf; only cpu0 exists.
  const early = await runDdbScript(con, { commandTimeoutMs: 20_000, promptTimeoutMs: 60_000, script: { finish: 'stay' }, log: (l) => log.push(l) });
  assert.equal(early.wedged, false, log.join('\n'));
  assert.equal(early.firstCpu, 0);
  const earlyOut = (c: string) => early.captures.find((x) => x.command === c)?.output ?? '';
  assert.equal(earlyOut('show panic'), 'the kernel did not panic');
  assert.match(earlyOut('trace'), /init_x86_64\(/);
  assert.match(earlyOut('trace'), /^db_enter\(/);
  assert.match(earlyOut('show registers'), /^rip +0x[0-9a-f]+ +db_enter\+0x[0-9a-f]+$/m);
  assert.equal(earlyOut('set $maxwidth = 0'), '');

  // 2. continue to the agent, then break in with a serial BREAK (mux Ctrl-a b).
  await con.sendLine('c');
  await con.expect(/^labinit> /, { timeoutMs: 180_000 });
  const entered = await enterDdb(con, { via: 'break', timeoutMs: 60_000 });
  assert.equal(entered.entered, true, 'BREAK reached ddb');

  // 3. the full script on both CPUs, then boot reboot (QEMU exits with -no-reboot).
  const r = await runDdbScript(con, { commandTimeoutMs: 30_000, log: (l) => log.push(l) });
  const out = (c: string, cpu?: number) => r.captures.find((x) => x.command === c && (cpu === undefined || x.cpu === cpu));
  const info = out('machine cpuinfo');
  assert.ok(info, log.join('\n'));
  assert.match(info.output, /^ {4}\d: stopped$/m);
  assert.match(info.output, /^\* {3}\d: ddb$/m);
  const other = r.firstCpu === 0 ? 1 : 0;
  assert.match(out('show registers', r.firstCpu ?? 0)?.output ?? '', /^rip +0x[0-9a-f]+/m);
  if (r.wedged) {
    // Under TCG the stopped vCPU sometimes never takes ddb over (seen in 1 of 3 full
    // test runs here). The driver's promise then: that one command is a timeout, every
    // capture before it is kept, and the session is reported wedged (the caller resets).
    const last = r.commands.at(-1)!;
    assert.deepEqual([last.command, last.status], [`machine ddbcpu ${other}`, 'timeout'], log.join('\n'));
    assert.ok(r.commands.slice(0, -1).every((c) => c.status === 'ok'), JSON.stringify(r.commands.map((c) => [c.command, c.status])));
    return;
  }
  assert.deepEqual(r.visitedCpus, [other]);
  assert.match(out('trace', other)?.output ?? '', /x86_ipi_db/);
  assert.equal(r.finished, 'reboot');
  assert.ok(r.commands.every((c) => c.status === 'ok'), JSON.stringify(r.commands.map((c) => [c.command, c.status])));
  const exit = await Promise.race([vm.exited, new Promise<null>((res) => setTimeout(() => res(null), 60_000))]);
  assert.ok(exit, 'QEMU exited after boot reboot');

  // The recording holds the BREAK and every command, and the log never contains the input.
  const rec = readConsoleRecording(dir, 'dut');
  assert.ok(rec.input.some((i) => i.data === 'break'));
  assert.ok(DDB_PROMPT.test(rec.log.toString('latin1')));
});
