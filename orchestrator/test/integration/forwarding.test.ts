/**
 * Three Linux test guests, source ── router ── sink, wired by unix datagram
 * sockets: real iperf3 TCP/UDP over IPv4/IPv6 and fragmented pings through the
 * router, then the router's kernel crashed with sysrq and the panic read from
 * its console.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadContext, Measurement } from '../../src/load/types.ts';
import type { PlannedLink, PlannedLoad } from '../../src/playbook/plan-types.ts';
import { getGenerator } from '../../src/load/registry.ts';
import { plannedTestguest, TestguestLab, type BootedGuest } from './testguest-harness.ts';

const links: PlannedLink[] = [
  { name: 'left', ends: ['source.0', 'router.0'], mtu: 1500 },
  { name: 'right', ends: ['router.1', 'sink.0'], mtu: 1500 },
];
const source = plannedTestguest('source', [{ index: 0, link: 'left', mac: '02:00:5e:00:01:02', addrs: ['192.0.2.2/24', '2001:db8:1::2/64'] }], {
  routes: [
    { dest: '198.51.100.0/24', gateway: '192.0.2.1' },
    { dest: '2001:db8:2::/64', gateway: '2001:db8:1::1' },
  ],
});
const router = plannedTestguest(
  'router',
  [
    { index: 0, link: 'left', mac: '02:00:5e:00:01:01', addrs: ['192.0.2.1/24', '2001:db8:1::1/64'] },
    { index: 1, link: 'right', mac: '02:00:5e:00:02:01', addrs: ['198.51.100.1/24', '2001:db8:2::1/64'] },
  ],
  { forwarding: { inet: true, inet6: true } },
);
const sink = plannedTestguest('sink', [{ index: 0, link: 'right', mac: '02:00:5e:00:02:02', addrs: ['198.51.100.2/24', '2001:db8:2::2/64'] }], {
  routes: [
    { dest: '192.0.2.0/24', gateway: '198.51.100.1' },
    { dest: '2001:db8:1::/64', gateway: '2001:db8:2::1' },
  ],
});

async function configure(lab: TestguestLab, g: BootedGuest): Promise<void> {
  const a = lab.adapter;
  for (const nic of g.vm.nics) await a.configureInterface(g.ctx, { ifname: a.interfaceName(nic.index), addrs: nic.addrs, mtu: nic.mtu });
  if (g.vm.forwarding.inet || g.vm.forwarding.inet6) await a.setForwarding(g.ctx, g.vm.forwarding);
  for (const r of g.vm.routes) await a.addRoute(g.ctx, r);
}

function load(name: string, generator: string, params: PlannedLoad['params'], durationSec = 3): PlannedLoad {
  return { name, generator, from: 'source', to: 'sink', durationSec, params, group: 0 };
}

test('forwarding through a Linux router: iperf3 tcp/udp v4/v6, fragments, then a kernel panic', { timeout: 900_000 }, async (t) => {
  const lab = await TestguestLab.create('fw');
  t.after(() => lab.teardown());
  const t0 = Date.now();
  const [src, rtr, snk] = await Promise.all([lab.boot(source, links), lab.boot(router, links), lab.boot(sink, links)]);
  t.diagnostic(`3 guests ready ${Date.now() - t0} ms after start (bootMs ${src!.info.bootMs}/${rtr!.info.bootMs}/${snk!.info.bootMs})`);
  for (const g of [src!, rtr!, snk!]) await configure(lab, g);

  const results: Measurement[] = [];
  const run = async (l: PlannedLoad, family: 4 | 6) => {
    const ctx: LoadContext = {
      load: l,
      from: { vm: source, shell: src!.ctx.shell!, address: family === 4 ? '192.0.2.2' : '2001:db8:1::2' },
      to: { vm: sink, shell: snk!.ctx.shell!, address: family === 4 ? '198.51.100.2' : '2001:db8:2::2' },
      saveArtifact: async (name, content) => writeFileSync(join(lab.runDir, name), content),
      signal: new AbortController().signal,
    };
    const m = await getGenerator(l.generator).run(ctx);
    results.push(...m);
    return Object.fromEntries(m.map((x) => [x.name, x.value]));
  };

  const before = await lab.adapter.counters(rtr!.ctx);
  for (const [name, family, params] of [
    ['tcp4', 4, {}],
    ['tcp6', 6, {}],
    ['udp4', 4, { udp: true, bitrate: '20M' }],
    ['udp6', 6, { udp: true, bitrate: '20M', length: 1200 }],
  ] as const) {
    const m = await run(load(name, 'iperf3', params), family);
    assert.ok(m[`${name}.throughput`]! > 0, `${name} throughput ${m[`${name}.throughput`]}`);
    t.diagnostic(`${name}: ${(m[`${name}.throughput`]! / 1e6).toFixed(1)} Mbit/s received${m[`${name}.lost`] !== undefined ? `, lost ${m[`${name}.lost`]}%` : ''}`);
  }
  for (const [name, family] of [
    ['frag4', 4],
    ['frag6', 6],
  ] as const) {
    const m = await run(load(name, 'ping', { count: 10, size: 4000, interval: 0.2 }), family);
    assert.equal(m[`${name}.loss`], 0, `${name} loss`);
    assert.equal(m[`${name}.received`], 10);
    // Linux forwards (and for IPv6 never refragments), so one hop costs exactly one.
    assert.equal(m[`${name}.ttl`], 63, `${name} ttl/hop limit`);
    t.diagnostic(`${name}: 10/10 replies, rtt avg ${m[`${name}.rtt.avg`]} ms, ttl ${m[`${name}.ttl`]}`);
  }
  const after = await lab.adapter.counters(rtr!.ctx);
  assert.ok(after['ip.ForwDatagrams']! > before['ip.ForwDatagrams']!, 'router counted forwarded IPv4 datagrams');
  assert.ok(after['ip6.OutForwDatagrams']! > before['ip6.OutForwDatagrams']!, 'router counted forwarded IPv6 datagrams');
  writeFileSync(join(lab.runDir, 'measurements.json'), JSON.stringify(results, null, 2));

  // Crash the router on purpose and find the panic on its console.
  await lab.adapter.panic(rtr!.ctx);
  const hit = await rtr!.console.expect(lab.adapter.crashPatterns, { timeoutMs: 60_000 });
  assert.match(hit.match[0], /Kernel panic - not syncing/);
  const d = await lab.adapter.diagnose(rtr!.ctx, { commandTimeoutMs: 30_000 });
  const text = rtr!.console.textSince(d.consoleFrom);
  assert.match(text, /Kernel panic - not syncing: sysrq triggered crash/);
  assert.match(text, /---\[ end Kernel panic - not syncing: sysrq triggered crash \]---/);
  assert.ok(d.consoleTo > d.consoleFrom);
  writeFileSync(join(lab.runDir, 'router-panic.txt'), text);
  t.diagnostic(`router panic captured: ${d.consoleTo - d.consoleFrom} chars (run dir kept with OBSDLAB_KEEP_RUNS=1)`);
  // The crashed guest stays up (kernel.panic=0) until torn down.
  assert.equal(rtr!.running.alive(), true);
});
