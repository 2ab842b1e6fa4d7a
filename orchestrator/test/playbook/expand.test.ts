import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { expandPlaybook, parseDurationSec, parseMemoryMiB, selectCell } from '../../src/playbook/expand.ts';
import { parsePlaybook, planFromFile } from '../../src/playbook/load.ts';
import { seededShuffle } from '../../src/playbook/order.ts';
import type { Plan } from '../../src/playbook/plan-types.ts';
import { PROJECT_ROOT } from '../../src/util/paths.ts';

const PLAYBOOKS = join(PROJECT_ROOT, 'playbooks');
const FILE = '/srv/lab/playbooks/t.yaml';

function plan(text: string): Plan {
  const loaded = parsePlaybook(text, FILE, { checkFiles: false });
  return expandPlaybook(loaded.playbook, loaded.file);
}

/** Three cells (variants a, b, c) of a two-VM playbook; extra YAML appended at top level. */
function threeCells(extra: string): string {
  return `
name: order-test
kernels:
  linux: {kernel: vmlinuz}
vms:
  x:
    guest: testguest
    kernel: linux
    nics: [{link: l, addrs: [192.0.2.1/24]}]
  y:
    guest: testguest
    kernel: linux
    nics: [{link: l, addrs: [192.0.2.2/24]}]
variants: {a: {}, b: {}, c: {}}
${extra}
`;
}

describe('expansion of the shipped playbooks', () => {
  it('mbuf-extref: 3 variants x 2 btrace x 6 repetitions = 36 runs, interleaved', () => {
    const p = planFromFile(join(PLAYBOOKS, 'mbuf-extref.yaml'));
    assert.equal(p.runs.length, 36);
    assert.deepEqual(
      p.runs.slice(0, 7).map((r) => r.id),
      [
        'variant=unpatched,btrace=off#1',
        'variant=unpatched,btrace=on#1',
        'variant=proxy,btrace=off#1',
        'variant=proxy,btrace=on#1',
        'variant=refs,btrace=off#1',
        'variant=refs,btrace=on#1',
        'variant=unpatched,btrace=off#2',
      ],
    );
    assert.deepEqual(p.runs.map((r) => r.seq), Array.from({ length: 36 }, (_, i) => i + 1));
    assert.equal(new Set(p.runs.map((r) => r.id)).size, 36);
    assert.equal(p.runs[35]!.id, 'variant=refs,btrace=on#6');
    // source 1 + dut 4 + sink 1 cpus; 256M + 1G + 256M
    assert.deepEqual(p.runs[0]!.resources, { cpus: 6, memoryMiB: 1536 });
    assert.deepEqual(p.kernels.map((k) => k.name), ['linux', 'unpatched', 'proxy', 'refs']);
    const dut = p.runs[3]!.vms.find((vm) => vm.name === 'dut')!;
    assert.equal(dut.kernel.name, 'proxy');
    assert.equal(dut.guest, 'openbsd');
    assert.equal(dut.cpus, 4);
    assert.equal(dut.disk, join(PROJECT_ROOT, 'vm-images/openbsd-7.8-amd64.qcow2'));
    assert.match(dut.pf.rules ?? '', /^set reassemble yes$/m);
    assert.deepEqual(dut.forwarding, { inet: true, inet6: true });
    assert.deepEqual(dut.sysctls, { 'kern.allowdt': '1', 'ddb.console': '1' });
  });

  it('mbuf-extref: the btrace profile phases run only in btrace=on cells, alongside their load', () => {
    const p = planFromFile(join(PLAYBOOKS, 'mbuf-extref.yaml'));
    for (const run of p.runs) {
      const profiles = run.load.filter((l) => l.generator === 'profile');
      assert.equal(profiles.length, run.cell.btrace === 'on' ? 2 : 0, run.id);
      for (const prof of profiles) {
        const partner = run.load.find((l) => l.generator !== 'profile' && l.group === prof.group);
        assert.ok(partner, `${run.id}: ${prof.name} has a load in its group`);
      }
    }
  });

  it('mbuf-extref: extends gives proxy and refs the base source, fix-ups, config and builder, plus their patch', () => {
    const p = planFromFile(join(PLAYBOOKS, 'mbuf-extref.yaml'));
    const byName = new Map(p.kernels.map((k) => [k.name, k]));
    const base = byName.get('unpatched')!;
    const proxy = byName.get('proxy')!;
    assert.equal(base.kind, 'build');
    assert.equal(proxy.kind, 'build');
    if (base.kind !== 'build' || proxy.kind !== 'build') return;
    assert.deepEqual(proxy.source, base.source);
    assert.deepEqual(proxy.source, { type: 'git', repo: join(PROJECT_ROOT, '..', 'shared/openbsd-lab/src/sys.bundle'), rev: 'b4c64bc50' });
    assert.deepEqual(proxy.fixups, base.fixups);
    assert.equal(proxy.config, 'GENERIC.MP');
    assert.deepEqual(proxy.builder, { type: 'vm', image: join(PROJECT_ROOT, 'vm-images/openbsd-7.8-amd64.qcow2') });
    assert.deepEqual(base.patches, []);
    assert.deepEqual(proxy.patches, [join(PROJECT_ROOT, 'patches/dlg-mbuf-ext-proxy-2026-04-22.diff')]);
    const refs = byName.get('refs')!;
    assert.ok(refs.kind === 'build' && refs.patches[0] === join(PROJECT_ROOT, 'patches/dlg-mbuf-ext-refs.git.diff'));
  });

  it('mbuf-extref-lab: 18 runs, console-only 2-cpu DUT with cross-built LAB kernels', () => {
    const p = planFromFile(join(PLAYBOOKS, 'mbuf-extref-lab.yaml'));
    assert.equal(p.runs.length, 18);
    const dut = p.runs[0]!.vms.find((vm) => vm.name === 'dut')!;
    assert.equal(dut.guest, 'openbsd-lab');
    assert.equal(dut.consoleOnly, true);
    assert.equal(dut.cpus, 2);
    assert.equal(dut.memoryMiB, 512);
    assert.deepEqual(dut.pf, { enabled: true });
    assert.ok(dut.kernel.kind === 'build' && dut.kernel.config === 'LAB' && dut.kernel.builder.type === 'cross');
    assert.ok(p.runs.every((r) => r.load.some((l) => l.generator === 'profile') === (r.cell.profile === 'on')));
  });

  it('mbuf-extref-lab-ci: one run per variant, profile on, short loads, a ddb run on the unpatched kernel', () => {
    const p = planFromFile(join(PLAYBOOKS, 'mbuf-extref-lab-ci.yaml'));
    assert.deepEqual(p.runs.map((r) => r.id), [
      'variant=unpatched,profile=on#1',
      'variant=proxy,profile=on#1',
      'variant=refs,profile=on#1',
      'variant=ddb,profile=on#1',
    ]);
    assert.ok(p.runs.every((r) => r.load.every((l) => l.durationSec <= 5)));
    const ddb = p.runs[3]!;
    assert.equal(ddb.vms.find((v) => v.name === 'dut')!.kernel.name, 'unpatched');
    assert.deepEqual(ddb.setup, [{ vm: 'dut', op: 'panic', args: {}, atSec: 2 }]);
    assert.deepEqual(ddb.expect, { outcome: 'panic' });
  });

  it('selftest: implied variant axis, panic step during the load, expectations', () => {
    const p = planFromFile(join(PLAYBOOKS, 'selftest.yaml'));
    assert.deepEqual(p.runs.map((r) => r.id), ['variant=normal#1', 'variant=panic#1']);
    const [normal, panic] = p.runs as [Plan['runs'][0], Plan['runs'][0]];
    assert.deepEqual(normal.setup, []);
    assert.deepEqual(panic.setup, [{ vm: 'router', op: 'panic', args: {}, atSec: 3 }]);
    assert.deepEqual(panic.expect, { outcome: 'panic' });
    assert.deepEqual(normal.expect, { outcome: 'pass' });
    assert.deepEqual(normal.resources, { cpus: 4, memoryMiB: 768 });
    assert.deepEqual(
      normal.links.map((l) => [l.name, l.ends, l.mtu]),
      [
        ['src-rtr', ['source.0', 'router.0'], 1500],
        ['rtr-snk', ['router.1', 'sink.0'], 1500],
      ],
    );
    const frag6 = normal.load.find((l) => l.name === 'frag6')!;
    assert.deepEqual(frag6.params, { family: 6, size: 4000, count: 40, interval: 0.1 });
    assert.ok(frag6.params.size as number > normal.links[0]!.mtu);
    assert.deepEqual(normal.timeouts, { bootSec: 120, sshSec: 60, commandSec: 30, loadSec: 120, ddbCommandSec: 30, hangSec: 60, runSec: 600 });
  });
});

describe('run order', () => {
  it('interleave (default): A1 B1 C1 A2 B2 C2', () => {
    const p = plan(threeCells('repetitions: 2'));
    assert.deepEqual(p.runs.map((r) => r.id), ['variant=a#1', 'variant=b#1', 'variant=c#1', 'variant=a#2', 'variant=b#2', 'variant=c#2']);
    assert.deepEqual(p.order, { mode: 'interleave' });
  });

  it('blocked: A1 A2 B1 B2 C1 C2', () => {
    const p = plan(threeCells('repetitions: 2\norder: blocked'));
    assert.deepEqual(p.runs.map((r) => r.id), ['variant=a#1', 'variant=a#2', 'variant=b#1', 'variant=b#2', 'variant=c#1', 'variant=c#2']);
  });

  it('random: a permutation, the same for the same seed, different for another', () => {
    const ids = (seed: number) => plan(threeCells(`repetitions: 4\norder: {random: ${seed}}`)).runs.map((r) => r.id);
    const first = ids(42);
    assert.deepEqual(ids(42), first);
    assert.deepEqual([...first].sort(), [...plan(threeCells('repetitions: 4')).runs.map((r) => r.id)].sort());
    assert.notDeepEqual(ids(43), first);
    assert.notDeepEqual(first, plan(threeCells('repetitions: 4')).runs.map((r) => r.id));
    assert.deepEqual(plan(threeCells('repetitions: 4\norder: {random: 42}')).order, { mode: 'random', seed: 42 });
  });

  it('seeded shuffle keeps every element once', () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    const shuffled = seededShuffle(items, 7);
    assert.deepEqual([...shuffled].sort((a, b) => a - b), items);
    assert.notDeepEqual(shuffled, items);
  });

  it('a playbook without matrix or variants has one "default" cell', () => {
    const p = plan(threeCells('').replace('variants: {a: {}, b: {}, c: {}}', 'repetitions: 2'));
    assert.deepEqual(p.runs.map((r) => [r.id, r.variant, r.cellId]), [
      ['default#1', 'default', 'default'],
      ['default#2', 'default', 'default'],
    ]);
  });
});

describe('MAC addresses', () => {
  const macs = (p: Plan, runIndex: number) => p.runs[runIndex]!.vms.flatMap((vm) => vm.nics.map((n) => n.mac));

  it('are locally administered unicast, unique within a run and the same in every run', () => {
    const p = planFromFile(join(PLAYBOOKS, 'mbuf-extref.yaml'));
    const first = macs(p, 0);
    assert.equal(first.length, 4);
    assert.equal(new Set(first).size, 4);
    for (const mac of first) {
      assert.match(mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      const octet = parseInt(mac.slice(0, 2), 16);
      assert.equal(octet & 2, 2, `${mac} locally administered`);
      assert.equal(octet & 1, 0, `${mac} unicast`);
      assert.ok(!mac.startsWith('52:54:00:12:34:'), `${mac} avoids QEMU's default block`);
    }
    for (let i = 1; i < p.runs.length; i++) assert.deepEqual(macs(p, i), first);
  });

  it('are deterministic across expansions and depend on the playbook name', () => {
    const a = plan(threeCells(''));
    const again = plan(threeCells(''));
    const renamed = plan(threeCells('').replace('name: order-test', 'name: other'));
    assert.deepEqual(macs(a, 0), macs(again, 0));
    assert.notDeepEqual(macs(a, 0), macs(renamed, 0));
  });
});

describe('variants, conditions, interpolation', () => {
  const base = `
name: v
kernels:
  linux: {kernel: vmlinuz}
  alt: {kernel: other}
vms:
  x:
    guest: testguest
    kernel: linux
    memory: 1G
    nics: [{link: l, addrs: [192.0.2.1/24]}]
    pf: {rules: "pass"}
    sysctls: {net.inet.ip.forwarding: 1}
  y:
    guest: testguest
    kernel: linux
    nics: [{link: l, addrs: [192.0.2.2/24]}]
setup:
  - {vm: x, op: sysctl, args: {name: kern.allowdt, value: "\${trace}"}}
  - {vm: x, op: exec, args: {command: "echo $\${HOME} \${trace}"}, when: {trace: [1, 2]}}
load:
  - {name: tcp, generator: iperf3, from: x, to: y, duration: 2m}
  - {name: prof, generator: profile, from: x, duration: "30s", group: g, when: {trace: 1}}
  - {name: tcp6, generator: iperf3, from: x, to: y, group: g}
variants:
  plain: {}
  big:
    vms:
      x: {cpus: 8, kernel: alt, sysctls: {kern.maxclusters: 4096}}
    setup:
      - {vm: y, op: panic, at: 2}
matrix:
  variant: [plain, big]
  trace: [0, 1, 2]
`;

  it('merges a variant onto the base: changed keys replaced, objects merged, steps appended', () => {
    const p = plan(base);
    const run = p.runs.find((r) => r.id === 'variant=big,trace=0#1')!;
    const x = run.vms.find((vm) => vm.name === 'x')!;
    assert.equal(x.cpus, 8);
    assert.equal(x.kernel.name, 'alt');
    assert.equal(x.memoryMiB, 1024);
    assert.deepEqual(x.nics.map((n) => n.addrs), [['192.0.2.1/24']]);
    assert.deepEqual(x.sysctls, { 'net.inet.ip.forwarding': '1', 'kern.maxclusters': '4096' });
    assert.deepEqual(x.pf, { enabled: true, rules: 'pass' });
    assert.deepEqual(run.setup.map((s) => s.op), ['sysctl', 'panic']);
    assert.equal(run.setup[1]!.atSec, 2);
    const plain = p.runs.find((r) => r.id === 'variant=plain,trace=0#1')!;
    assert.equal(plain.vms[0]!.cpus, 1);
    assert.equal(plain.vms[0]!.kernel.name, 'linux');
    assert.deepEqual(plain.setup.map((s) => s.op), ['sysctl']);
    assert.deepEqual(p.kernels.map((k) => k.name), ['linux', 'alt']);
  });

  it('filters steps and phases by when, and groups phases', () => {
    const p = plan(base);
    const on = p.runs.find((r) => r.id === 'variant=plain,trace=1#1')!;
    const off = p.runs.find((r) => r.id === 'variant=plain,trace=0#1')!;
    assert.deepEqual(on.load.map((l) => [l.name, l.group, l.durationSec]), [
      ['tcp', 0, 120],
      ['prof', 1, 30],
      ['tcp6', 1, 10],
    ]);
    assert.deepEqual(off.load.map((l) => [l.name, l.group]), [
      ['tcp', 0],
      ['tcp6', 1],
    ]);
    assert.deepEqual(on.setup.map((s) => s.op), ['sysctl', 'exec']);
    assert.deepEqual(off.setup.map((s) => s.op), ['sysctl']);
    const two = p.runs.find((r) => r.id === 'variant=plain,trace=2#1')!;
    assert.deepEqual(two.setup.map((s) => s.op), ['sysctl', 'exec'], 'a list in when matches any of its values');
    assert.deepEqual(two.load.map((l) => l.name), ['tcp', 'tcp6']);
  });

  it('interpolates matrix values, keeping their type in argument maps; $${ stays literal', () => {
    const p = plan(base);
    const on = p.runs.find((r) => r.id === 'variant=plain,trace=1#1')!;
    assert.deepEqual(on.setup[0]!.args, { name: 'kern.allowdt', value: 1 });
    assert.deepEqual(on.setup[1]!.args, { command: 'echo ${HOME} 1' });
  });

  it('selectCell picks the runs of matching cells, by selector or variant name', () => {
    const p = plan(`${base}repetitions: 3\n`);
    const sel = selectCell(p, 'variant=big,trace=1');
    assert.deepEqual(sel.map((r) => r.id), ['variant=big,trace=1#1', 'variant=big,trace=1#2', 'variant=big,trace=1#3']);
    assert.equal(selectCell(p, 'big').length, 9);
    assert.equal(selectCell(p, 'trace=0').length, 6);
    assert.equal(selectCell(p, ' trace = 0 , variant=plain ').length, 3);
    assert.throws(() => selectCell(p, 'variant=huge'), /no cell matches "variant=huge"; cells: variant=plain,trace=0; variant=plain,trace=1; variant=plain,trace=2; variant=big,trace=0; variant=big,trace=1; variant=big,trace=2$/);
  });

  it('adaptive compare selectors must match cells', () => {
    const p = plan(`${base}adaptive: {metric: throughput, measurement: tcp.throughput, compare: [plain, big]}\n`);
    assert.deepEqual(p.adaptive, { metric: 'throughput', measurement: 'tcp.throughput', confidence: 0.95, maxRuns: 30, compare: ['plain', 'big'] });
    assert.throws(() => plan(`${base}adaptive: {metric: throughput, compare: [plain, "variant=huge"]}\n`), (err: Error) =>
      /adaptive: metric throughput needs "measurement"/.test(err.message) && /adaptive\.compare\[1\]: "variant=huge" matches no cell/.test(err.message));
  });

  it('reports an address used twice in one run', () => {
    assert.throws(() => plan(base.replace('addrs: [192.0.2.2/24]', 'addrs: [192.0.2.1/24]')), /vms\.y\.nics\[0\]\.addrs\[0\]: address 192\.0\.2\.1\/24 is also used at vms\.x\.nics\[0\]\.addrs\[0\]/);
  });
});

describe('kernel inheritance and merges', () => {
  const text = `
name: k
kernels:
  linux: {kernel: vmlinuz}
  base:
    source: {git: ../src.git, rev: abc123}
    fixups: [fix]
    config: GENERIC.MP
    builder: {vm: builder.qcow2}
  local: {extends: base, source: {tree: /usr/src/sys}}
  patched: {extends: local, patches: [p1.diff, p2.diff], builder: cross}
vms:
  x:
    guest: openbsd
    disk: obsd.qcow2
    kernel: \${variant}
    forwarding: true
    nics: [{link: l, addrs: [192.0.2.1/24]}]
  y:
    guest: testguest
    kernel: linux
    nics: [{link: l, addrs: [192.0.2.2/24]}]
variants:
  base: {}
  local: {}
  patched: {vms: {x: {forwarding: {inet6: false}}}}
`;

  it('extends replaces whole keys along the chain and keeps the rest', () => {
    const p = plan(text);
    const byName = new Map(p.kernels.map((k) => [k.name, k]));
    assert.deepEqual(byName.get('base'), {
      kind: 'build',
      name: 'base',
      source: { type: 'git', repo: '/srv/lab/src.git', rev: 'abc123' },
      fixups: ['/srv/lab/playbooks/fix'],
      patches: [],
      config: 'GENERIC.MP',
      builder: { type: 'vm', image: '/srv/lab/playbooks/builder.qcow2' },
    });
    assert.deepEqual(byName.get('patched'), {
      kind: 'build',
      name: 'patched',
      source: { type: 'tree', path: '/usr/src/sys' },
      fixups: ['/srv/lab/playbooks/fix'],
      patches: ['/srv/lab/playbooks/p1.diff', '/srv/lab/playbooks/p2.diff'],
      config: 'GENERIC.MP',
      builder: { type: 'cross' },
    });
  });

  it('a variant can narrow boolean forwarding to one family', () => {
    const p = plan(text);
    const fwd = (id: string) => p.runs.find((r) => r.id === id)!.vms[0]!.forwarding;
    assert.deepEqual(fwd('variant=base#1'), { inet: true, inet6: true });
    assert.deepEqual(fwd('variant=patched#1'), { inet: true, inet6: false });
  });

  it('reports a duplicate explicit link name', () => {
    assert.throws(() => plan(`${text}links: [{name: l}, {name: l}]\n`), /links\[1\]\.name: duplicate link "l" \(also links\[0\]\)/);
  });
});

describe('value parsing', () => {
  it('memory sizes', () => {
    assert.equal(parseMemoryMiB(300), 300);
    assert.equal(parseMemoryMiB('512M'), 512);
    assert.equal(parseMemoryMiB('512MiB'), 512);
    assert.equal(parseMemoryMiB('2G'), 2048);
    assert.equal(parseMemoryMiB('1GiB'), 1024);
    assert.throws(() => parseMemoryMiB('1T'), /bad memory size "1T"/);
  });
  it('durations', () => {
    assert.equal(parseDurationSec(5), 5);
    assert.equal(parseDurationSec('30s'), 30);
    assert.equal(parseDurationSec('2m'), 120);
    assert.equal(parseDurationSec('1.5'), 1.5);
    assert.throws(() => parseDurationSec('1h'), /bad duration "1h"/);
  });
});
