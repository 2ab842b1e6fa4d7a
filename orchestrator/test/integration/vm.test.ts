/**
 * The VM layer against real QEMU (TCG): accelerator fallback, QMP, and qcow2
 * overlays that leave the base image untouched while the guest writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { openConsole } from '../../src/console/connect.ts';
import { QmpError } from '../../src/vm/qmp.ts';
import { startVm } from '../../src/vm/qemu.ts';
import { buildTestguest, TESTGUEST_READY_LINE } from '../../src/vm/testguest-image.ts';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

test('VM layer with real QEMU', { timeout: 600_000 }, async (t) => {
  const img = await buildTestguest();
  const root = mkdtempSync(join(tmpdir(), 'vmt-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const boot = { kind: 'kernel' as const, kernel: img.kernel, initrd: img.initrd, append: 'console=ttyS0 quiet panic=0' };

  await t.test('KVM is tried, and a KVM that fails falls back to TCG with the reason recorded', async () => {
    const lines: string[] = [];
    const vm = await startVm({ name: 'accel', dir: join(root, 'accel'), cpus: 1, memoryMiB: 128, boot, tryKvm: true, log: (l) => lines.push(l) });
    try {
      if (vm.accel === 'kvm') {
        assert.equal(vm.accelReason, 'KVM tried on request');
      } else {
        assert.match(vm.accelReason, /^fell back from KVM: /);
        assert.ok(lines.some((l) => /vm accel: KVM failed \(.+\); restarting under TCG/.test(l)), lines.join('\n'));
      }
      assert.ok(lines.some((l) => l.includes(`running under ${vm.accel}`)));
      assert.equal((await vm.qmp.queryStatus()).status, 'running');
      await vm.qmp.quit();
      const exit = await Promise.race([vm.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
      assert.notEqual(exit, 'timeout', 'QEMU exited after QMP quit');
    } finally {
      await vm.stop();
    }
  });

  await t.test('QMP: status, typed errors, NMI, powerdown event, reset ends QEMU under -no-reboot', async () => {
    const vm = await startVm({ name: 'qmp', dir: join(root, 'qmp'), cpus: 1, memoryMiB: 128, boot, accel: 'tcg', log: () => undefined });
    try {
      assert.deepEqual(await vm.qmp.queryStatus(), { status: 'running', singlestep: false, running: true });
      await assert.rejects(vm.qmp.execute('no-such-command'), (e: unknown) => e instanceof QmpError && e.errorClass === 'CommandNotFound' && /qmp: QMP no-such-command failed/.test(e.message));
      await vm.qmp.injectNmi();
      const down = vm.qmp.waitEvent('POWERDOWN', 10_000);
      await vm.qmp.powerdown();
      assert.equal((await down).event, 'POWERDOWN');
      // With -no-reboot, QEMU turns a reset into a shutdown: the VM ends instead of rebooting.
      const shutdown = vm.qmp.waitEvent('SHUTDOWN', 10_000);
      await vm.qmp.reset();
      assert.equal((await shutdown).data?.reason, 'host-qmp-system-reset');
      const exit = await Promise.race([vm.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
      assert.notEqual(exit, 'timeout', 'QEMU exited after the reset');
      assert.equal(vm.alive(), false);
    } finally {
      await vm.stop();
    }
  });

  await t.test('overlay: the guest writes its disk, the base image is unchanged', async () => {
    const dir = join(root, 'disk');
    const base = join(root, 'base.qcow2');
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', base, '16M']);
    const before = sha256(base);
    const vm = await startVm({ name: 'disk', dir, cpus: 1, memoryMiB: 192, boot, disk: base, accel: 'tcg', log: () => undefined });
    try {
      assert.equal(vm.overlay, join(dir, 'disk.overlay.qcow2'));
      const info = JSON.parse((await execa('qemu-img', ['info', '-U', '--output=json', vm.overlay!])).stdout) as { 'backing-filename'?: string; format: string };
      assert.equal(info['backing-filename'], base);
      const con = await openConsole({ vm: 'disk', socketPath: vm.consoleSocket, dir, chardev: 'mux' });
      try {
        await con.expect(TESTGUEST_READY_LINE, { timeoutMs: 180_000 });
        await con.sendLine('');
        // $((…)) keeps the marker out of the echoed command line.
        await con.sendLine('dd if=/dev/urandom of=/dev/vda bs=4096 count=512 2>/dev/null && sync && echo WROTE-$((40+2))');
        await con.expect('WROTE-42', { timeoutMs: 120_000 });
      } finally {
        con.close();
      }
    } finally {
      await vm.stop();
    }
    assert.equal(sha256(base), before, 'base image bytes unchanged');
    assert.ok(statSync(join(dir, 'disk.overlay.qcow2')).size > 2 * 1024 * 1024, 'the writes went to the overlay');
    const cmp = await execa('qemu-img', ['compare', base, join(dir, 'disk.overlay.qcow2')], { reject: false });
    assert.equal(cmp.exitCode, 1, `overlay content differs from base: ${cmp.stdout}`);
  });
});
