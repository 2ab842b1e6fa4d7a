/**
 * Acceptance test for the full-install path: fetch + signify-verify real OpenBSD
 * media, install it unattended in QEMU (typed answers on the serial console),
 * boot the base image, and drive the installed system through the `openbsd`
 * adapter: forwarding sysctls, a pf ruleset checked by the real pfctl, tcpbench
 * on the guest's loopback, a btrace kstack profile, counters.
 *
 * Needs real media, so it runs only when told where they are:
 *   OBSDLAB_MEDIA         mirror URL or local directory laid out like a mirror
 *                         (<release>/<arch>/SHA256.sig, installNN.iso)
 *   OBSDLAB_MEDIA_PUBKEY  the release's signify key from a trusted place
 *   OBSDLAB_MEDIA_RELEASE release (default 7.8)
 * The install takes tens of minutes under TCG.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openConsole } from '../../src/console/connect.ts';
import { buildBaseImage } from '../../src/images/base-image.ts';
import { createOpenBsdAdapter } from '../../src/guest/openbsd.ts';
import type { GuestContext } from '../../src/guest/adapter.ts';
import { parseTcpbench } from '../../src/load/tcpbench.ts';
import { startVm } from '../../src/vm/qemu.ts';

const mirror = process.env.OBSDLAB_MEDIA;
const pubkey = process.env.OBSDLAB_MEDIA_PUBKEY;
const release = process.env.OBSDLAB_MEDIA_RELEASE ?? '7.8';
const skip = !mirror
  ? 'OBSDLAB_MEDIA is not set: no OpenBSD install media here (set it to a mirror URL or directory, with OBSDLAB_MEDIA_PUBKEY)'
  : !pubkey
    ? 'OBSDLAB_MEDIA_PUBKEY is not set: the release signify key is needed to verify the media'
    : false;

test('install OpenBSD from verified media, boot it, configure and measure through the openbsd adapter', { skip, timeout: 120 * 60_000 }, async () => {
  const log = (l: string) => process.stderr.write(`# ${l}\n`);
  const image = await buildBaseImage({
    media: { release, arch: 'amd64', mirror: mirror!, pubkey: pubkey! },
    log,
    openConsole: (vm) => openConsole({ vm: vm.name, socketPath: vm.consoleSocket, dir: join(vm.paths.console, '..'), chardev: 'mux' }),
  });
  const dir = mkdtempSync(join(tmpdir(), 'obsdlab-openbsd-'));
  const vm = await startVm({ name: 'dut', dir, cpus: 2, memoryMiB: 1024, boot: { kind: 'disk' }, disk: image.path, management: true, log });
  const abort = new AbortController();
  try {
    const console = await openConsole({ vm: 'dut', socketPath: vm.consoleSocket, dir, chardev: 'mux' });
    const adapter = createOpenBsdAdapter({ privateKeyPath: image.sshKey });
    const ctx: GuestContext = {
      vm: {
        name: 'dut', guest: 'openbsd', cpus: 2, memoryMiB: 1024, kernel: { kind: 'prebuilt', name: 'installed' }, bootCommands: [],
        consoleOnly: false, nics: [], routes: [], forwarding: { inet: true, inet6: true }, pf: { enabled: true }, sysctls: {},
      },
      console,
      dir,
      log,
      signal: abort.signal,
      ...(vm.sshPort ? { sshPort: vm.sshPort } : {}),
    };
    const info = await adapter.waitReady(ctx, 15 * 60_000);
    assert.match(info.kernelVersion, /^OpenBSD \d+\.\d/);
    assert.ok(info.devices.includes('vio0'), `devices: ${info.devices.join(' ')}`);

    await adapter.setForwarding(ctx, { inet: true, inet6: true });
    const fwd = await ctx.shell!.exec('sysctl -n net.inet.ip.forwarding net.inet6.ip6.forwarding', 30_000);
    assert.deepEqual(fwd.stdout.trim().split('\n'), ['1', '1']);
    await adapter.setPf(ctx, { enabled: true }); // pfctl -nf checks the default ruleset's syntax for real

    await ctx.shell!.exec('(tcpbench -s >/dev/null 2>&1 &) ; sleep 1', 30_000);
    const bench = await ctx.shell!.exec('tcpbench -t 3 127.0.0.1', 60_000);
    assert.ok(parseTcpbench(bench.stdout).bytes > 0);

    const profile = await adapter.profile(ctx, 3);
    assert.ok(profile.total > 0 && profile.stacks.length > 0);
    const counters = await adapter.counters(ctx);
    assert.ok((counters['mbuf.inuse'] ?? 0) > 0);
    await adapter.shutdown(ctx);
  } finally {
    abort.abort();
    await vm.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
