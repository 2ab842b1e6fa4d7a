/**
 * Builds agent + ramdisk + ISO for the reference LAB kernel, boots it under
 * QEMU TCG (2 vCPUs, two virtio NICs on unix datagram sockets that lead
 * nowhere), and drives the agent through the openbsd-lab adapter.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openConsole } from '../../src/console/connect.ts';
import type { ConsoleSession } from '../../src/console/session.ts';
import type { GuestContext } from '../../src/guest/adapter.ts';
import { OpenBsdLabAdapter } from '../../src/guest/openbsd-lab.ts';
import { parseIfconfig, parseSysctl } from '../../src/guest/openbsd-lab-parse.ts';
import { AGENT_SOURCE_DIR } from '../../src/images/lab/agent.ts';
import { buildLabImage } from '../../src/images/lab/build.ts';
import { labKernel, labReferenceMissing } from '../lab-reference.ts';
import type { PlannedVm } from '../../src/playbook/plan-types.ts';

// The reference LAB kernel and tree (test/lab-reference.ts): the project's cross builder, cached.
const skip = labReferenceMissing();
const ref = skip ? { bsd: '', bsdGdb: '', tree: '' } : await labKernel();

describe('openbsd-lab image boots and the adapter drives the agent', { skip, timeout: 900_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-boot-'));
  let qemu: ChildProcess | null = null;
  let console: ConsoleSession | null = null;
  const killQemu = () => {
    if (qemu?.pid && qemu.exitCode === null && qemu.signalCode === null) process.kill(qemu.pid, 'SIGKILL');
  };
  process.once('exit', killQemu);
  after(() => {
    killQemu();
    process.removeListener('exit', killQemu);
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds, boots to labinit: ready, configures, profiles, enters ddb and halts', async () => {
    const t0 = Date.now();
    const image = await buildLabImage({ bsd: ref.bsd, tree: ref.tree });
    const buildMs = Date.now() - t0;
    const stubs = readFileSync(join(AGENT_SOURCE_DIR, 'syscalls.c'), 'utf8').match(/^SYSCALL_STUB\(/gm)!.length;
    assert.equal(image.manifest.agent.pinned, stubs);
    assert.equal(image.manifest.ramdisk.bytes, 4 * 1024 * 1024);

    const sock = join(dir, 'dut.serial');
    const args = [
      '-n', '10', 'qemu-system-x86_64',
      '-accel', 'tcg,thread=multi', '-machine', 'q35', '-smp', '2', '-m', '512',
      '-display', 'none', '-vga', 'none', '-monitor', 'none', '-nodefaults', '-no-reboot',
      '-boot', 'd', '-cdrom', image.iso,
      '-chardev', `socket,id=ser0,path=${sock},server=on,wait=on`, '-serial', 'chardev:ser0',
    ];
    for (const i of [0, 1]) {
      // VM-to-VM style links on unix datagram sockets; the peers do not exist, so nothing leaves.
      args.push(
        '-netdev', `dgram,id=n${i},local.type=unix,local.path=${join(dir, `nic${i}.sock`)},remote.type=unix,remote.path=${join(dir, `peer${i}.sock`)}`,
        '-device', `virtio-net-pci,netdev=n${i},mac=52:54:00:00:0${i + 1}:01`,
      );
    }
    const bootStart = Date.now();
    qemu = spawn('nice', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let qemuErr = '';
    qemu.stderr!.on('data', (d: Buffer) => (qemuErr += d.toString()));
    console = await openConsole({ vm: 'dut', socketPath: sock, dir });

    const vm: PlannedVm = {
      name: 'dut',
      guest: 'openbsd-lab',
      cpus: 2,
      memoryMiB: 512,
      kernel: { kind: 'prebuilt', name: 'LAB', kernel: image.kernel },
      iso: image.iso,
      bootCommands: [],
      consoleOnly: true,
      nics: [
        { index: 0, link: 'src', mac: '52:54:00:00:01:01', addrs: ['192.0.2.1/24', '2001:db8:1::1/64'], mtu: 1500 },
        { index: 1, link: 'dst', mac: '52:54:00:00:02:01', addrs: ['198.51.100.1/24', '2001:db8:2::1/64'], mtu: 1400 },
      ],
      routes: [],
      forwarding: { inet: true, inet6: true },
      pf: { enabled: true },
      sysctls: {},
    };
    const log: string[] = [];
    const ctx: GuestContext = { vm, console, dir, log: (l) => log.push(l), signal: new AbortController().signal };
    const adapter = new OpenBsdLabAdapter({ kernelElf: () => ref.bsdGdb });

    const boot = await adapter.waitReady(ctx, 300_000);
    const readyMs = Date.now() - bootStart;
    assert.match(boot.kernelVersion, /^OpenBSD 7\.9\S* \(LAB\) #\d+: /);
    assert.deepEqual(boot.devices, ['vio0', 'vio1']);
    assert.match(console.text(), /^labinit: pid 1$/m);
    assert.match(console.text(), /^labinit: OpenBSD 7\.9$/m);
    assert.doesNotMatch(console.text(), /labinit: mount|labinit: mknod/, 'remount and device nodes without errors');
    const shell = ctx.shell!;

    for (const nic of vm.nics) await adapter.configureInterface(ctx, { ifname: adapter.interfaceName(nic.index), addrs: nic.addrs, mtu: nic.mtu });
    await adapter.addRoute(ctx, { dest: '203.0.113.0/24', gateway: '198.51.100.2' });
    await adapter.addRoute(ctx, { dest: '2001:db8:3::/48', gateway: '2001:db8:2::2' });
    await adapter.setForwarding(ctx, vm.forwarding);

    const [vio1] = parseIfconfig((await shell.exec('ifconfig vio1', 30_000)).stdout);
    assert.equal(vio1!.mtu, 1400);
    assert.ok(vio1!.flagNames.includes('UP'));
    assert.deepEqual(vio1!.inet, ['198.51.100.1/24']);
    assert.deepEqual(vio1!.inet6, ['fe80::5054:ff:fe00:201/64', '2001:db8:2::1/64']);

    const sysctls = parseSysctl((await shell.exec('sysctl', 30_000)).stdout);
    assert.equal(sysctls['net.inet.ip.forwarding'], '1');
    assert.equal(sysctls['net.inet6.ip6.forwarding'], '1');
    assert.equal(sysctls['hw.ncpu'], '2');

    const failed = await shell.exec('ifconfig nosuch0 up', 30_000);
    assert.equal(failed.exitCode, 1);
    assert.equal(failed.stderr, 'error: SIOCGIFFLAGS: ENXIO (6)');
    const unreachable = await shell.exec('route add 192.0.2.0/24 203.0.113.1', 30_000);
    assert.equal(unreachable.stderr, 'error: RTM_ADD: ENETUNREACH (51)');

    await adapter.setPf(ctx, { enabled: true });
    await adapter.setPf(ctx, { enabled: true }); // already on: EEXIST is not an error
    await assert.rejects(adapter.setPf(ctx, { enabled: true, rules: 'pass all' }), /cannot load a pf ruleset/);

    const counters = await adapter.counters(ctx);
    assert.ok(counters['if.vio0.opkts']! > 0, 'vio0 sent its IPv6 neighbour discovery');
    assert.equal(counters['if.vio0.ierrs'], 0);
    assert.ok(counters['ip6.localout']! > 0);
    assert.ok('mbstat.mt_data' in counters);

    const profile = await adapter.profile(ctx, 2);
    assert.ok(profile.total >= 100, `expected ~400 samples (2 CPUs x 100 Hz x 2 s), got ${profile.total}`);
    assert.ok(profile.stacks.length > 0);
    assert.equal(
      profile.stacks.reduce((a, s) => a + s.count, 0) <= profile.total,
      true,
    );
    const frames = profile.stacks.flatMap((s) => s.frames);
    assert.ok(frames.some((f) => /^[A-Za-z_][A-Za-z0-9_]*\+0x[0-9a-f]+$/.test(f)), `symbolized frames, got ${frames.slice(0, 3).join(' ')}`);

    await adapter.enterDdb(ctx, 60_000);
    assert.match(console.text().slice(-300), /ddb\{\d\}> $/);
    const lateStops = await adapter.continueFromDdb(ctx, 60_000);
    const alive = await shell.exec('echo still alive after ddb', 30_000);
    assert.equal(alive.stdout, 'still alive after ddb');

    await adapter.shutdown(ctx);
    assert.match(console.text(), /The operating system has halted\./);
    await new Promise<void>((resolve) => {
      if (qemu!.exitCode !== null) return resolve();
      const t = setTimeout(() => {
        killQemu();
        resolve();
      }, 15_000);
      qemu!.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    process.stdout.write(
      `# lab image: build ${buildMs} ms (${image.cached ? 'cached' : 'fresh'}), agent ${image.manifest.agent.size} bytes, ` +
        `labinit: ready after ${readyMs} ms (adapter bootMs ${boot.bootMs}), profile ${profile.total} samples, late ddb stops after continue: ${lateStops}\n`,
    );
    assert.equal(qemuErr.includes('emulation failure'), false, qemuErr);
  });
});
