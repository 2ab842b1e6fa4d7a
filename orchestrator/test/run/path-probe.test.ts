/** Probing the path of a failed load phase (pure parts and the ping), on real busybox ping output. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { GuestShell } from '../../src/guest/adapter.ts';
import type { PlannedRun, PlannedVm } from '../../src/playbook/plan-types.ts';
import { nic as linkNic, plannedVm } from './planned-vm.ts';
import { pathAnswers, pathsToProbe, stallDetail } from '../../src/run/path-probe.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/load/${name}`, import.meta.url), 'utf8');

const vm = plannedVm;
const nic = (link: string, addrs: string[]) => linkNic(0, link, addrs);

const source = vm('source', 'testguest', [nic('a', ['192.0.2.2/24', '2001:db8:1::2/64'])]);
const dut = vm('dut', 'openbsd-lab', [nic('a', ['192.0.2.1/24']), nic('b', ['198.51.100.1/24'])], true);
const sink = vm('sink', 'testguest', [nic('b', ['198.51.100.2/24', '2001:db8:2::2/64'])]);
const run = {
  vms: [source, dut, sink],
  load: [
    { name: 'tcp4', generator: 'iperf3', from: 'source', to: 'sink', durationSec: 5, params: { family: 4 }, group: 0 },
    { name: 'splice4', generator: 'iperf3', from: 'source', to: 'sink', via: 'dut', durationSec: 5, params: { family: 4 }, group: 1 },
    { name: 'tcp6', generator: 'iperf3', from: 'source', to: 'sink', durationSec: 5, params: { family: 6 }, group: 2 },
    { name: 'profile', generator: 'profile', from: 'dut', durationSec: 5, params: {}, group: 3 },
  ],
} as unknown as PlannedRun;
const family = (p: PlannedRun['load'][number]) => (p.params.family === 6 ? 6 : 4);
const firstAddress = (v: PlannedVm, fam: 4 | 6) => v.nics.flatMap((n) => n.addrs).find((a) => a.includes(':') === (fam === 6))?.split('/')[0];

test('one probe per pair of ends and family; phases without a target are skipped; routers are the forwarding VMs between', () => {
  const paths = pathsToProbe(run, ['tcp4', 'splice4', 'tcp6', 'profile', 'nosuch'], family, firstAddress);
  assert.deepEqual(
    paths.map((p) => [p.phase.name, p.from.name, p.to.name, p.family, p.address, p.routers.map((r) => r.name)]),
    [
      ['tcp4', 'source', 'sink', 4, '198.51.100.2', ['dut']],
      ['tcp6', 'source', 'sink', 6, '2001:db8:2::2', ['dut']],
    ],
  );
  assert.equal(
    stallDetail(paths[0]!),
    'forwarding stalled: source cannot reach sink (198.51.100.2) over IPv4 through dut after load tcp4 failed; every guest still answers',
  );
});

function shellAnswering(stdout: string, seen: string[] = []): GuestShell {
  return {
    exec: async (command) => {
      seen.push(command);
      return { vm: 'source', command, exitCode: stdout.includes(' 0 packets received') ? 1 : 0, stdout, stderr: '', durationMs: 1 };
    },
    start: async () => assert.fail('not used'),
  };
}

test('the probe pings the target a bounded number of times; real busybox output decides', async () => {
  const [path] = pathsToProbe(run, ['tcp4'], family, firstAddress);
  const seen: string[] = [];
  // busybox-ping4-noreply.txt: nothing answered; busybox-ping4-frag-lo.txt: replies came back.
  assert.equal(await pathAnswers(path!, shellAnswering(fixture('busybox-ping4-noreply.txt'), seen)), false);
  assert.equal(await pathAnswers(path!, shellAnswering(fixture('busybox-ping4-frag-lo.txt'))), true);
  assert.deepEqual(seen, ['ping -c 5 -s 56 -i 1 -W 2 -w 10 198.51.100.2']);
});

test('a probe that cannot tell does not call the path dead', async () => {
  const [path] = pathsToProbe(run, ['tcp4'], family, firstAddress);
  const broken: GuestShell = { exec: async () => Promise.reject(new Error('connection lost')), start: async () => assert.fail('not used') };
  assert.equal(await pathAnswers(path!, broken), undefined);
  assert.equal(await pathAnswers(path!, shellAnswering('garbage')), undefined);
  assert.equal(await pathAnswers({ ...path!, from: { ...path!.from, guest: 'openbsd' } }, shellAnswering(fixture('busybox-ping4-noreply.txt'))), undefined);
});
