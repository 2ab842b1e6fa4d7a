/**
 * One Linux test guest under TCG: boot to SSH, exec with exit status and timeout,
 * background commands, SFTP put/get, host key pinning, QMP status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sshConnect, HostKeyMismatchError, SshCommandTimeoutError, SshConnectionLostError } from '../../src/ssh/client.ts';
import { isAlive } from '../../src/vm/processes.ts';
import { plannedTestguest, TestguestLab } from './testguest-harness.ts';

test('testguest: boot, SSH exec/put/get, host key pinning', { timeout: 600_000 }, async (t) => {
  const lab = await TestguestLab.create('tg1');
  t.after(() => lab.teardown());
  const t0 = Date.now();
  const g = await lab.boot(plannedTestguest('solo', []), []);
  t.diagnostic(`testguest ${lab.image.manifest.hash} ready (console + SSH) ${Date.now() - t0} ms after start, accel ${g.running.accel}`);
  assert.match(g.info.kernelVersion, /^Linux version 6\.1\.\d+.*cloud-amd64/);
  assert.ok(g.info.devices.some((d) => d.includes('virtio_net')), g.info.devices.join(', '));
  assert.equal((await g.running.qmp.queryStatus()).status, 'running');

  const shell = g.ctx.shell!;
  const r = await shell.exec('echo out; echo err >&2; exit 7', 20_000);
  assert.equal(r.exitCode, 7);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(r.vm, 'solo');

  await assert.rejects(shell.exec('sleep 30', 1500), (e: unknown) => e instanceof SshCommandTimeoutError && /solo: command timed out/.test(e.message));
  assert.equal((await shell.exec('echo still here', 20_000)).stdout, 'still here\n');

  const bg = await shell.start('while :; do sleep 1; done');
  const stopped = await bg.stop();
  assert.equal(stopped.exitCode, 143, 'SIGTERM ended the background loop');
  const ps = await shell.exec('ps', 20_000);
  assert.ok(!ps.stdout.includes('while'), ps.stdout);

  const local = join(lab.runDir, 'payload.bin');
  const payload = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251));
  writeFileSync(local, payload);
  await shell.put!(local, '/tmp/payload.bin');
  const sum = await shell.exec('sha256sum /tmp/payload.bin', 20_000);
  const { createHash } = await import('node:crypto');
  assert.equal(sum.stdout.split(' ')[0], createHash('sha256').update(payload).digest('hex'));
  await shell.get!('/tmp/payload.bin', `${local}.back`);
  assert.deepEqual(readFileSync(`${local}.back`), payload);

  // A second connection to the same VM verifies against the pinned key…
  const target = { vm: 'solo', port: g.running.sshPort!, privateKeyPath: lab.image.keyPath, knownHostsFile: join(g.ctx.dir, 'known_hosts') };
  const again = await sshConnect(target, { deadlineMs: 30_000 });
  assert.equal((await again.exec('hostname', 20_000)).stdout, 'solo\n');
  again.close();
  // …and a different pinned key is refused with a clear error.
  const wrong = join(lab.runDir, 'known_hosts.wrong');
  writeFileSync(wrong, 'solo ssh-ed25519 SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n');
  await assert.rejects(sshConnect({ ...target, knownHostsFile: wrong }, { deadlineMs: 30_000 }), HostKeyMismatchError);

  // A connection that drops (here: the VM is killed mid-command) fails the command, naming VM and command.
  const pid = g.running.pid;
  const pending = shell.exec('sleep 120', 180_000);
  await new Promise((r) => setTimeout(r, 500));
  const killedAt = Date.now();
  process.kill(pid, 'SIGKILL');
  await assert.rejects(pending, (e: unknown) => e instanceof SshConnectionLostError && /^solo: SSH connection lost during sleep 120/.test(e.message));
  t.diagnostic(`dropped connection reported ${Date.now() - killedAt} ms after the VM died`);
  assert.ok(Date.now() - killedAt < 30_000);
  await lab.teardown();
  assert.equal(isAlive(pid), false);
});
