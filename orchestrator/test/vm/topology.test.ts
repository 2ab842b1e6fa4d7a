import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlannedLink, PlannedVm } from '../../src/playbook/plan-types.ts';
import { managementMac, parseLinkEnd, validateLinks, wireVm, TopologyError } from '../../src/vm/topology.ts';

function vm(name: string, nics: { index: number; link: string; mac: string }[]): PlannedVm {
  return {
    name, guest: 'testguest', cpus: 1, memoryMiB: 256, kernel: { kind: 'prebuilt', name: 'k' }, bootCommands: [], consoleOnly: false,
    nics: nics.map((n) => ({ ...n, addrs: [], mtu: 1500 })), routes: [], forwarding: { inet: false, inet6: false }, pf: { enabled: false }, sysctls: {},
  };
}
const source = vm('source', [{ index: 0, link: 'left', mac: '02:00:00:00:01:00' }]);
const router = vm('router', [
  { index: 0, link: 'left', mac: '02:00:00:00:02:00' },
  { index: 1, link: 'right', mac: '02:00:00:00:02:01' },
]);
const sink = vm('sink', [{ index: 0, link: 'right', mac: '02:00:00:00:03:00' }]);
const links: PlannedLink[] = [
  { name: 'left', ends: ['source.0', 'router.0'], mtu: 1500 },
  { name: 'right', ends: ['router.1', 'sink.0'], mtu: 1500 },
];

test('each end binds its own socket and sends to the other end', () => {
  const [s] = wireVm(source, links, '/r');
  const [r0, r1] = wireVm(router, links, '/r');
  assert.equal(s!.localPath, '/r/net/left.source.0.sock');
  assert.equal(s!.remotePath, '/r/net/left.router.0.sock');
  assert.equal(r0!.localPath, s!.remotePath);
  assert.equal(r0!.remotePath, s!.localPath);
  assert.equal(r1!.remotePath, '/r/net/right.sink.0.sock');
  assert.deepEqual(r1!.args, [
    '-netdev',
    'dgram,id=net1,local.type=unix,local.path=/r/net/right.router.1.sock,remote.type=unix,remote.path=/r/net/right.sink.0.sock',
    '-device',
    'virtio-net-pci,netdev=net1,mac=02:00:00:00:02:01,addr=0x4',
  ]);
});

test('a NIC on an undefined link, or a link that does not list the NIC, is an error naming both', () => {
  assert.throws(() => wireVm(vm('x', [{ index: 0, link: 'nowhere', mac: '02:00:00:00:00:01' }]), links, '/r'), /vm x: nic 0 names link "nowhere"/);
  assert.throws(() => wireVm(vm('x', [{ index: 0, link: 'left', mac: '02:00:00:00:00:01' }]), links, '/r'), /ends are source.0 and router.0/);
});

test('socket paths longer than a unix socket allows are refused', () => {
  assert.throws(() => wireVm(source, links, `/${'d'.repeat(100)}`), (e: unknown) => e instanceof TopologyError && /too long/.test(e.message));
});

test('link ends: vm names may contain dots; malformed ends are errors', () => {
  assert.deepEqual(parseLinkEnd('dut.a.1', 'l'), { vm: 'dut.a', nic: 1 });
  assert.throws(() => parseLinkEnd('dut', 'l'), /link l: end "dut"/);
});

test('validateLinks: unknown vm, missing nic, nic on two links', () => {
  assert.doesNotThrow(() => validateLinks([source, router, sink], links));
  assert.throws(() => validateLinks([source, router], links), /vm "sink", which is not in the run/);
  assert.throws(() => validateLinks([source, router, sink], [...links, { name: 'again', ends: ['source.0', 'sink.0'], mtu: 1500 }]), /has no nic 0 on this link/);
});

test('management MAC: deterministic, locally administered, unicast, distinct per VM', () => {
  assert.equal(managementMac('router'), managementMac('router'));
  assert.notEqual(managementMac('router'), managementMac('sink'));
  assert.match(managementMac('router'), /^02:fe(:[0-9a-f]{2}){4}$/);
});
