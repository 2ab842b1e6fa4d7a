/**
 * No QEMU outlives obsdlab: a child Node process starts a VM through the VM layer
 * and is then stopped with SIGTERM, SIGINT or SIGKILL; the QEMU PID must be gone
 * from /proc each time. A QEMU left by an older obsdlab (not tied to its parent)
 * is found through its -pidfile and killed at the next start in that directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive, spawnTracked } from '../../src/vm/processes.ts';
import { qemuArgs, vmPaths } from '../../src/vm/qemu-args.ts';
import { startVm } from '../../src/vm/qemu.ts';
import { buildTestguest } from '../../src/vm/testguest-image.ts';

const CHILD = fileURLToPath(new URL('./orphan-child.ts', import.meta.url));

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !isAlive(pid);
}

function startChild(dir: string, kernel: string, initrd: string): Promise<{ child: ChildProcess; qemuPid: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, kernel, initrd], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`orphan child did not report a QEMU pid within 60s; stderr: ${err}`));
    }, 60_000);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /\{"qemuPid":(\d+)\}/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, qemuPid: Number(m[1]) });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`orphan child exited (${code}) before starting QEMU; stderr: ${err}`));
    });
  });
}

test('no QEMU survives its obsdlab process', { timeout: 600_000 }, async (t) => {
  const img = await buildTestguest();
  const root = mkdtempSync(join(tmpdir(), 'orph-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));

  for (const sig of ['SIGTERM', 'SIGINT', 'SIGKILL'] as const) {
    await t.test(`${sig} to the Node process`, async () => {
      const { child, qemuPid } = await startChild(join(root, sig), img.kernel, img.initrd);
      try {
        assert.ok(isAlive(qemuPid), 'QEMU running before the signal');
        const exited = new Promise((r) => child.once('exit', r));
        child.kill(sig);
        await exited;
        assert.ok(await waitGone(qemuPid, 15_000), `QEMU pid ${qemuPid} still alive after ${sig} to its parent`);
      } finally {
        if (isAlive(qemuPid)) process.kill(qemuPid, 'SIGKILL');
      }
    });
  }

  await t.test('a QEMU left by an earlier run is reaped through its pidfile', async () => {
    const dir = join(root, 'stale');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    // An "old" QEMU not tied to any parent (as a crashed obsdlab without setpriv would leave it).
    const args = qemuArgs({
      name: 'orphan',
      cpus: 1,
      memoryMiB: 128,
      accel: 'tcg',
      boot: { kind: 'kernel', kernel: img.kernel, initrd: img.initrd, append: 'console=ttyS0 quiet' },
      nics: [],
      paths: vmPaths(dir, 'orphan'),
    });
    const old = spawnTracked('stale qemu', 'qemu-system-x86_64', args, { dieWithParent: false });
    try {
      const deadline = Date.now() + 20_000;
      const { existsSync } = await import('node:fs');
      while (!existsSync(vmPaths(dir, 'orphan').pidfile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.ok(isAlive(old.pid));
      const lines: string[] = [];
      const vm = await startVm({
        name: 'orphan',
        dir,
        cpus: 1,
        memoryMiB: 128,
        boot: { kind: 'kernel', kernel: img.kernel, initrd: img.initrd, append: 'console=ttyS0 quiet' },
        log: (l) => lines.push(l),
      });
      try {
        assert.ok(await waitGone(old.pid, 10_000), 'the stale QEMU was killed');
        assert.ok(lines.some((l) => l.includes(`killed QEMU pid ${old.pid} left over`)), lines.join('\n'));
        assert.ok(vm.alive());
      } finally {
        await vm.stop();
      }
      assert.equal(vm.alive(), false);
    } finally {
      await old.kill(1000);
    }
  });
});
