import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { ConsoleSession } from '../../src/console/session.ts';
import { BootFailure, type GuestContext } from '../../src/guest/adapter.ts';
import { EXIT_CRASHED, EXIT_TIMEOUT, OpenBsdLabAdapter } from '../../src/guest/openbsd-lab.ts';
import { splitTranscript } from '../../src/guest/openbsd-lab-parse.ts';
import type { PlannedVm } from '../../src/playbook/plan-types.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/corpus/${name}`, import.meta.url), 'latin1');
const BASIC = fixture('openbsd-lab-agent-basic-dut.txt');

/**
 * A serial line to a fake agent: prints `boot` first, then answers each typed
 * line (echoed like the tty does) with the next reply recorded for that command
 * in the real transcript, or with `answer(line)` when given.
 */
function fakeAgent(boot: string, answer?: (line: string) => string | null | undefined) {
  const replies = new Map<string, string[]>();
  for (const e of splitTranscript(BASIC)) {
    const list = replies.get(e.command) ?? [];
    list.push(`${e.reply.replace(/\r/g, '').replace(/\n/g, '\r\n')}labinit> `);
    replies.set(e.command, list);
  }
  let input = '';
  const typed: string[] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, done) {
      input += chunk.toString('latin1');
      let cr: number;
      while ((cr = input.indexOf('\r')) >= 0) {
        const line = input.slice(0, cr);
        input = input.slice(cr + 1);
        typed.push(line);
        const custom = answer?.(line);
        let out: string | null | undefined = custom;
        if (out === undefined) {
          const echo = /^echo (.*)$/.exec(line);
          if (echo) out = `${echo[1]}\r\nok\r\nlabinit> `;
          else out = replies.get(line)?.shift() ?? 'error: unknown command\r\nlabinit> ';
        }
        setImmediate(() => {
          stream.push(`${line}\r\n`);
          if (out) stream.push(out);
        });
      }
      done();
    },
  });
  setImmediate(() => stream.push(boot));
  return { stream, typed };
}

const bootPart = BASIC.slice(0, BASIC.indexOf('labinit> ') + 'labinit> '.length);

function vm(extra: Partial<PlannedVm> = {}): PlannedVm {
  return {
    name: 'dut',
    guest: 'openbsd-lab',
    cpus: 2,
    memoryMiB: 1024,
    kernel: { kind: 'prebuilt', name: 'LAB' },
    bootCommands: [],
    consoleOnly: true,
    nics: [
      { index: 0, link: 'a', mac: '52:54:00:00:01:01', addrs: ['192.0.2.1/24'], mtu: 1500 },
      { index: 1, link: 'b', mac: '52:54:00:00:02:01', addrs: ['198.51.100.1/24'], mtu: 1500 },
    ],
    routes: [],
    forwarding: { inet: true, inet6: true },
    pf: { enabled: true },
    sysctls: {},
    ...extra,
  };
}

function context(stream: Duplex, v = vm()): GuestContext {
  const console = new ConsoleSession({ vm: v.name, stream });
  return { vm: v, console, dir: '/nonexistent', log: () => {}, signal: new AbortController().signal };
}

describe('OpenBsdLabAdapter over a replayed console', () => {
  it('waits for labinit: ready and reports the kernel and its NICs', async () => {
    const { stream } = fakeAgent(bootPart);
    const ctx = context(stream);
    const adapter = new OpenBsdLabAdapter();
    const info = await adapter.waitReady(ctx, 5000);
    assert.equal(info.kernelVersion, 'OpenBSD 7.9-current (LAB) #0: Wed Nov 25 17:28:22 UTC 2026');
    assert.deepEqual(info.devices, ['vio0', 'vio1']);
    assert.ok(ctx.shell);
    assert.equal(adapter.interfaceName(1), 'vio1');
  });

  it('fails the boot when a NIC the plan needs did not attach', async () => {
    const { stream } = fakeAgent(bootPart);
    const three = vm();
    three.nics.push({ index: 2, link: 'c', mac: '52:54:00:00:03:01', addrs: [], mtu: 1500 });
    await assert.rejects(new OpenBsdLabAdapter().waitReady(context(stream, three), 5000), (e: unknown) => {
      assert.ok(e instanceof BootFailure);
      assert.match(e.reason, /vio2 \(NIC 2, link c\) did not attach; network devices: vio0, vio1/);
      return true;
    });
  });

  it('turns a panic before the agent is ready into a BootFailure with the console tail', async () => {
    const noInit = fixture('openbsd-lab-mp-no-init-ddb-all-cpus.txt');
    // From the last kernel banner (after `boot -d` and `c`) to just past the panic.
    const panicAt = noInit.indexOf('panic: no init');
    const bannerAt = noInit.lastIndexOf('OpenBSD 7.9-current (LAB)', panicAt);
    const { stream } = fakeAgent(noInit.slice(bannerAt, panicAt + 200));
    await assert.rejects(new OpenBsdLabAdapter().waitReady(context(stream), 5000), (e: unknown) => {
      assert.ok(e instanceof BootFailure);
      assert.match(e.reason, /kernel stopped before the agent was ready: (init: not found|panic: no init)/);
      assert.match(e.consoleTail, /init: not found/);
      return true;
    });
  });

  it('runs commands one at a time, strips the echo and maps ok / error', async () => {
    // `pools` answered as in a real run (fixtures/guest/openbsd-lab-splice-dut.txt).
    const real = splitTranscript(readFileSync(new URL('../fixtures/guest/openbsd-lab-splice-dut.txt', import.meta.url), 'latin1'));
    const pools = real.find((e) => e.command === 'pools')!.reply.replace(/\r/g, '').replace(/\n/g, '\r\n');
    const { stream, typed } = fakeAgent(bootPart, (line) => (line === 'pools' ? `${pools}labinit> ` : undefined));
    const ctx = context(stream);
    const adapter = new OpenBsdLabAdapter();
    await adapter.waitReady(ctx, 5000);
    const [a, b, c] = await Promise.all([
      ctx.shell!.exec('sysctl hw.ncpu', 2000),
      ctx.shell!.exec('ifconfig nosuch0 up', 2000),
      ctx.shell!.exec('sysctl kern.osrelease', 2000),
    ]);
    assert.deepEqual([a!.exitCode, a!.stdout, a!.stderr], [0, 'hw.ncpu=2', '']);
    assert.deepEqual([b!.exitCode, b!.stdout, b!.stderr], [1, '', 'error: SIOCGIFFLAGS: ENXIO (6)']);
    assert.deepEqual([c!.exitCode, c!.stdout], [0, 'kern.osrelease=7.9']);
    assert.deepEqual(typed, ['sysctl hw.ncpu', 'ifconfig nosuch0 up', 'sysctl kern.osrelease']);
    const counters = await adapter.counters(ctx);
    assert.equal(counters['if.vio0.obytes'], 370);
    assert.equal(counters['ip6.localout'], 9);
    // The first pools table of that run (its mbufpl row, read from the fixture).
    const row = /^mbufpl +(\d+) +(\d+) +(\d+) +(\d+) /m.exec(pools)!;
    assert.deepEqual(
      [counters['pool.mbufpl.size'], counters['pool.mbufpl.requests'], counters['pool.mbufpl.fail'], counters['pool.mbufpl.inuse']],
      row.slice(1, 5).map(Number),
    );
    assert.deepEqual(typed.slice(-2), ['netstat', 'pools']);
  });

  it('configures interfaces, forwarding and pf with the transcript commands', async () => {
    const { stream, typed } = fakeAgent(bootPart);
    const ctx = context(stream);
    const adapter = new OpenBsdLabAdapter();
    await adapter.waitReady(ctx, 5000);
    await adapter.configureInterface(ctx, { ifname: 'vio0', addrs: ['192.0.2.1/24', '2001:db8:1::1/64'], mtu: 1500 });
    await adapter.setForwarding(ctx, { inet: true, inet6: true });
    await adapter.addRoute(ctx, { dest: '203.0.113.0/24', gateway: '198.51.100.2' });
    await adapter.setPf(ctx, { enabled: true }); // ok
    await adapter.setPf(ctx, { enabled: true }); // DIOCSTART: EEXIST (17) → already on
    await assert.rejects(adapter.setPf(ctx, { enabled: true, rules: 'block all' }), /cannot load a pf ruleset/);
    await assert.rejects(adapter.addRoute(ctx, { dest: '192.0.2.0/24', gateway: '203.0.113.1' }), /RTM_ADD: ENETUNREACH/);
    assert.deepEqual(typed, [
      'ifconfig vio0 inet 192.0.2.1/24',
      'ifconfig vio0 inet6 2001:db8:1::1/64',
      'ifconfig vio0 up',
      'sysctl net.inet.ip.forwarding=1',
      'sysctl net.inet6.ip6.forwarding=1',
      'route add 203.0.113.0/24 198.51.100.2',
      'pf on',
      'pf on',
      'route add 192.0.2.0/24 203.0.113.1',
    ]);
  });

  it('reports a timeout, then resynchronises before the next command', async () => {
    const { stream, typed } = fakeAgent(bootPart, (line) => (line === 'sleep 30' ? null : undefined));
    const ctx = context(stream);
    const adapter = new OpenBsdLabAdapter();
    await adapter.waitReady(ctx, 5000);
    const slow = await ctx.shell!.exec('sleep 30', 300);
    assert.equal(slow.exitCode, EXIT_TIMEOUT);
    assert.match(slow.stderr, /no ok\/error from the agent within 0s/);
    stream.push('ok\r\nlabinit> '); // the late answer of "sleep 30"
    const next = await ctx.shell!.exec('sysctl hw.ncpu', 2000);
    assert.deepEqual([next.exitCode, next.stdout], [0, 'hw.ncpu=2']);
    assert.match(typed[1]!, /^echo obsdlab-sync-\d+-1$/);
    assert.equal(typed[2], 'sysctl hw.ncpu');
  });

  it('reports a kernel that stops in ddb while a command runs', async () => {
    const { stream } = fakeAgent(bootPart, (line) =>
      line === 'sleep 3' ? 'Stopped at      db_enter+0x9:   popq    %rbp\r\nddb{0}> ' : undefined,
    );
    const ctx = context(stream);
    const adapter = new OpenBsdLabAdapter();
    await adapter.waitReady(ctx, 5000);
    const r = await ctx.shell!.exec('sleep 3', 2000);
    assert.equal(r.exitCode, EXIT_CRASHED);
    assert.match(r.stderr, /kernel stopped while "sleep 3" ran: ddb\{0\}>/);
    assert.ok(adapter.crashPatterns.some((p) => p.test('ddb{0}> ')));
    assert.ok(adapter.crashPatterns.some((p) => p.test('panic: pool_do_get: mcl2k free list modified')));
  });
  it('continues a CPU that stops late after ddb was continued (seen under TCG)', async () => {
    let cs = 0;
    const { stream, typed } = fakeAgent(bootPart, (line) => {
      if (line === 'ddb') return 'entering ddb\r\nStopped at      db_enter+0x9:   popq    %rbp\r\nddb{0}> ';
      if (line === 'c' && ++cs === 1) {
        // Console text of a real run on the LAB kernel: cpu1 stopped in x86_ipi_db after cpu0 continued.
        setTimeout(() => stream.push('Stopped at      x86_ipi_db+0x9: popq    %rbp\r\nddb{1}> '), 50);
        return 'ok\r\nlabinit> ';
      }
      if (line === 'c') return '';
      if (line === '') return 'labinit> ';
      return undefined;
    });
    const ctx = context(stream);
    const adapter = new OpenBsdLabAdapter();
    await adapter.waitReady(ctx, 5000);
    await adapter.enterDdb(ctx, 2000);
    assert.equal(await adapter.continueFromDdb(ctx, 2000, 500), 1);
    const r = await ctx.shell!.exec('sysctl hw.ncpu', 2000);
    assert.deepEqual([r.exitCode, r.stdout], [0, 'hw.ncpu=2']);
    assert.deepEqual(typed, ['ddb', 'c', 'c', '', 'sysctl hw.ncpu']);
  });
});

