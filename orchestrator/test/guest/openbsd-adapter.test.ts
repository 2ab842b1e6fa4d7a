import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duplex } from 'node:stream';
import { ConsoleSession } from '../../src/console/session.ts';
import { OpenBsdAdapter } from '../../src/guest/openbsd.ts';
import { BootFailure, GuestCommandError, type CommandResult, type GuestContext, type GuestShell } from '../../src/guest/adapter.ts';
import type { PlannedVm } from '../../src/playbook/plan-types.ts';
import { sharedDir } from '../../src/util/paths.ts';

const corpus = (name: string) => readFileSync(join(sharedDir(), 'corpus', 'real', name), 'utf8');
const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../fixtures/openbsd-tools/${name}`, import.meta.url)), 'utf8');

/** A serial line: what the test pushes is console output; what the adapter writes is kept. */
function serialLine() {
  const typed: string[] = [];
  const stream = new Duplex({
    read() {},
    write(chunk, _enc, cb) {
      typed.push(chunk.toString());
      cb();
    },
  });
  return { stream, typed, emit: (s: string) => stream.push(s) };
}

function fakeShell(answers: Record<string, string | { exitCode: number; stderr: string }>) {
  const commands: string[] = [];
  const shell: GuestShell = {
    async exec(command: string): Promise<CommandResult> {
      commands.push(command);
      const a = answers[command] ?? '';
      const r = typeof a === 'string' ? { exitCode: 0, stdout: a, stderr: '' } : { exitCode: a.exitCode, stdout: '', stderr: a.stderr };
      return { vm: 'dut', command, durationMs: 1, ...r };
    },
    async start() {
      throw new Error('not used');
    },
  };
  return { shell, commands };
}

const vm = (bootCommands: string[]): PlannedVm => ({
  name: 'dut',
  guest: 'openbsd',
  cpus: 2,
  memoryMiB: 1024,
  kernel: { kind: 'prebuilt', name: 'installed' },
  bootCommands,
  consoleOnly: false,
  nics: [],
  routes: [],
  forwarding: { inet: true, inet6: true },
  pf: { enabled: true },
  sysctls: {},
});

function context(consoleSession: ConsoleSession, bootCommands: string[]): GuestContext & { lines: string[] } {
  const lines: string[] = [];
  return { vm: vm(bootCommands), console: consoleSession, dir: '/nonexistent', log: (l) => lines.push(l), signal: new AbortController().signal, sshPort: 2222, lines };
}

// The lab DUT's real console (boot loader, banner, dmesg); an installed system then prints
// getty's banner and "login: " — those two lines are added here, in the format of OpenBSD's gettytab.
const realBoot = corpus('openbsd-lab-agent-forward-dut.txt').split('\n').slice(0, 120).join('\n');
const VERSION = 'OpenBSD 7.9-current (LAB) #0: Wed Nov 25 17:28:22 UTC 2026';

test('waitReady: types bootCommands at boot>, waits for banner and login:, then SSH; BootInfo from sysctl and dmesg', async () => {
  const line = serialLine();
  const session = new ConsoleSession({ vm: 'dut', stream: line.stream });
  const { shell, commands } = fakeShell({
    'sysctl -n kern.version': `${VERSION}\n    builder@vm:/obsd-lab/build/compile/LAB\n`,
    dmesg: realBoot,
  });
  let connectedWith = 0;
  const adapter = new OpenBsdAdapter({
    connectShell: async (_ctx, deadline) => ((connectedWith = deadline), shell),
    runDdb: async () => assert.fail('not used'),
  });
  const ctx = context(session, ['boot /bsd.test']);
  const ready = adapter.waitReady(ctx, 20_000);
  line.emit('>> OpenBSD/amd64 BOOT 3.65\nboot> ');
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(line.typed.join(''), 'boot /bsd.test\r');
  line.emit(realBoot.split('\n').slice(2).join('\n') + '\n\nOpenBSD/amd64 (dut.obsdlab) (tty00)\n\nlogin: ');
  const info = await ready;
  assert.equal(info.kernelVersion, VERSION);
  assert.deepEqual(info.devices, ['vio0', 'vio1']);
  assert.ok(connectedWith >= 5000);
  assert.deepEqual(commands, ['sysctl -n kern.version', 'dmesg']);
  assert.equal(ctx.shell, shell);
});

test('waitReady: a panic after the banner is a BootFailure with the console tail (real transcript)', async () => {
  const line = serialLine();
  const session = new ConsoleSession({ vm: 'dut', stream: line.stream });
  const adapter = new OpenBsdAdapter({ connectShell: async () => assert.fail('no SSH expected'), runDdb: async () => assert.fail('not used') });
  const ready = adapter.waitReady(context(session, []), 20_000);
  line.emit(corpus('openbsd-8.0-beta-amd64-up-cannot-open-disk.txt'));
  await assert.rejects(ready, (e: Error) => e instanceof BootFailure && /kernel panicked during boot: panic: cannot open disk/.test(e.message));
});

test('waitReady: silence at boot> is a BootFailure naming what was awaited', async () => {
  const line = serialLine();
  const session = new ConsoleSession({ vm: 'dut', stream: line.stream });
  const adapter = new OpenBsdAdapter({ connectShell: async () => assert.fail('no SSH expected'), runDdb: async () => assert.fail('not used') });
  line.emit('SeaBIOS (version 1.16.2)\n');
  await assert.rejects(adapter.waitReady(context(session, ['boot /bsd.test']), 300), (e: Error) => e instanceof BootFailure && /no boot> prompt/.test(e.message) && /SeaBIOS/.test(e.message));
});

test('configuration commands go to the shell in order; a failing one is a GuestCommandError', async () => {
  const line = serialLine();
  const session = new ConsoleSession({ vm: 'dut', stream: line.stream });
  // A real `ifconfig vio0` answer with documentation addresses: the lab agent's, which
  // prints ifconfig(8)'s header and inet/inet6 lines in CIDR form (fixtures/openbsd-tools/SOURCES.md).
  const vio0 = fixture('ifconfig-lab-agent-vio0.txt').replace(/\r/g, '');
  const { shell, commands } = fakeShell({ 'ifconfig vio0': vio0, 'pfctl -nf /etc/pf.conf.obsdlab': { exitCode: 1, stderr: '/etc/pf.conf.obsdlab:1: syntax error' } });
  const adapter = new OpenBsdAdapter({ connectShell: async () => shell, runDdb: async () => assert.fail('not used') });
  const ctx = context(session, []);
  ctx.shell = shell;
  await assert.rejects(adapter.configureInterface(ctx, { ifname: 'vio0', addrs: ['192.0.2.1/24'], mtu: 9000 }), /dut: vio0 is not as configured: mtu 1500, want 9000/);
  commands.length = 0;
  await adapter.configureInterface(ctx, { ifname: 'vio0', addrs: ['192.0.2.1/24'], mtu: 1500 });
  await adapter.addRoute(ctx, { dest: '203.0.113.0/24', gateway: '192.0.2.2' });
  await adapter.setForwarding(ctx, { inet: true, inet6: true });
  assert.deepEqual(commands, [
    'ifconfig vio0 mtu 1500 up',
    'ifconfig vio0 inet 192.0.2.1/24 alias',
    'ifconfig vio0',
    "printf '%s' 'mtu 1500\ninet 192.0.2.1 255.255.255.0\nup\n' > '/etc/hostname.vio0'",
    'route -n add -inet 203.0.113.0/24 192.0.2.2',
    'sysctl net.inet.ip.forwarding=1',
    'sysctl net.inet6.ip6.forwarding=1',
  ]);
  await assert.rejects(adapter.setPf(ctx, { enabled: true, rules: 'pass in al\n' }), (e: Error) => e instanceof GuestCommandError && /syntax error/.test(e.message));
});

test('counters and profile parse the real tool outputs', async () => {
  const line = serialLine();
  const session = new ConsoleSession({ vm: 'dut', stream: line.stream });
  const { shell } = fakeShell({
    'netstat -s': fixture('netstat-s-tcp-bsd.txt'),
    'netstat -m': fixture('netstat-m-openbsd-2005.txt'),
    'vmstat -m': fixture('vmstat-m-pool-pfstate-grep-gateway.txt'),
    "btrace -e 'profile:hz:100 { @[kstack] = count(); }' & pid=$!; sleep 3; kill -INT $pid; wait $pid": fixture('dt-profile-kstack-lab.txt'),
  });
  const adapter = new OpenBsdAdapter({ connectShell: async () => shell, runDdb: async () => assert.fail('not used') });
  const ctx = context(session, []);
  ctx.shell = shell;
  const c = await adapter.counters(ctx);
  assert.equal(c['tcp.packets_sent'], 2297743863);
  assert.equal(c['mbuf.inuse'], 136);
  assert.equal(c['pool.pfstatepl.fail'], 209235);
  const p = await adapter.profile(ctx, 3);
  assert.equal(p.total, 985);
});

test('breakIn: true when ddb answers the BREAK, false on silence', async () => {
  const line = serialLine();
  let breaks = 0;
  const session = new ConsoleSession({ vm: 'dut', stream: line.stream, breakHook: async () => void breaks++ });
  const adapter = new OpenBsdAdapter({ connectShell: async () => assert.fail(''), runDdb: async () => assert.fail('') });
  const ctx = context(session, []);
  const answered = adapter.breakIn(ctx, 2000);
  setTimeout(() => line.emit('Stopped at      db_enter+0x14:  popq    %rbp\nddb{0}> '), 20);
  assert.equal(await answered, true);
  assert.equal(await adapter.breakIn(ctx, 100), false);
  assert.equal(breaks, 2);
});

test('test kernel: copied to /bsd.test, boot.conf points at it, version confirmed, boot.conf restored', async () => {
  const line = serialLine();
  const session = new ConsoleSession({ vm: 'dut', stream: line.stream });
  const { shell, commands } = fakeShell({
    'cat /etc/boot.conf 2>/dev/null; true': 'stty com0 115200\nset tty com0\n',
    'sysctl -n kern.version': `${VERSION}\n    builder@vm:/obsd-lab/build/compile/LAB\n`,
  });
  const puts: string[] = [];
  shell.put = async (from, to) => void puts.push(`${from} -> ${to}`);
  const adapter = new OpenBsdAdapter({ connectShell: async () => shell, runDdb: async () => assert.fail('') });
  const ctx = context(session, []);
  ctx.shell = shell;
  await adapter.installTestKernel(ctx, '/cache/kernels/abc/bsd');
  assert.deepEqual(puts, ['/cache/kernels/abc/bsd -> /bsd.test.new']);
  assert.deepEqual(commands.splice(0), [
    'mv /bsd.test.new /bsd.test && chmod 644 /bsd.test',
    'cat /etc/boot.conf 2>/dev/null; true',
    "printf '%s' 'stty com0 115200\nset tty com0\n' > '/etc/boot.conf.obsdlab-saved'",
    "printf '%s' 'stty com0 115200\nset tty com0\nset image /bsd.test\n' > '/etc/boot.conf'",
  ]);
  await adapter.confirmKernel(ctx, VERSION);
  await assert.rejects(adapter.confirmKernel(ctx, 'OpenBSD 7.9-current (LAB) #1: Thu Nov 26 09:00:00 UTC 2026'), /running kernel is not the built one/);
  await adapter.fallbackToBsd(ctx);
  assert.equal(commands.at(-1), 'if [ -f /etc/boot.conf.obsdlab-saved ]; then mv /etc/boot.conf.obsdlab-saved /etc/boot.conf; fi');
});

test('the splice relay is relayd: config written and checked, run under timeout(1), stopped, config removed', async () => {
  const { shell, commands } = fakeShell({});
  const started: string[] = [];
  let stopped = 0;
  shell.start = async (command) => {
    started.push(command);
    return { command, wait: async () => assert.fail('not waited'), stop: async () => (stopped++, { vm: 'dut', command, exitCode: 0, stdout: '', stderr: '', durationMs: 1 }) };
  };
  const ctx = { vm: vm([]), shell, log: () => {}, signal: new AbortController().signal } as unknown as GuestContext;
  const adapter = new OpenBsdAdapter({ connectShell: async () => shell, runDdb: async () => assert.fail('no ddb') });
  const relay = await adapter.startSpliceRelay(ctx, { listenPort: 5201, listenAddress: '192.0.2.1', target: { address: '198.51.100.2', port: 5201 }, seconds: 65 });
  // relayd.conf(5): a relay block with "listen on ADDRESS port PORT" and "forward to ADDRESS port PORT".
  assert.deepEqual(commands, [
    "printf '%s' 'relay obsdlab_splice {\n\tlisten on 192.0.2.1 port 5201\n\tforward to 198.51.100.2 port 5201\n}\n' > '/etc/relayd.obsdlab.conf'",
    'relayd -n -f /etc/relayd.obsdlab.conf',
  ]);
  assert.deepEqual(started, ['timeout 65 relayd -d -f /etc/relayd.obsdlab.conf']);
  assert.deepEqual(await relay.stop(), {});
  assert.equal(stopped, 1);
  assert.equal(commands.at(-1), "rm -f '/etc/relayd.obsdlab.conf'");
});

test('a relayd configuration that does not check is an error with its output', async () => {
  const { shell } = fakeShell({ 'relayd -n -f /etc/relayd.obsdlab.conf': { exitCode: 1, stderr: '/etc/relayd.obsdlab.conf:2: syntax error' } });
  const ctx = { vm: vm([]), shell, log: () => {}, signal: new AbortController().signal } as unknown as GuestContext;
  const adapter = new OpenBsdAdapter({ connectShell: async () => shell, runDdb: async () => assert.fail('no ddb') });
  await assert.rejects(
    adapter.startSpliceRelay(ctx, { listenPort: 5201, listenAddress: '192.0.2.1', target: { address: '198.51.100.2', port: 5201 }, seconds: 5 }),
    /relayd -n -f[\s\S]*syntax error/,
  );
});
