/** Load phases through a splice relay, with a stand-in relay guest and generator. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GuestAdapter, GuestContext, SpliceRelaySpec, SpliceRelayStats } from '../../src/guest/adapter.ts';
import type { LoadGenerator } from '../../src/load/types.ts';
import type { PlannedLoad } from '../../src/playbook/plan-types.ts';
import { nic, plannedVm } from './planned-vm.ts';
import { relayAddress, spliceMeasurements, withSpliceRelay, type RelayGuest } from '../../src/run/relay.ts';

const vm = plannedVm;

const source = vm('source', 'testguest', [nic(0, 'src-dut', ['192.0.2.2/24', '2001:db8:1::2/64'])]);
const dut = vm('dut', 'openbsd-lab', [nic(0, 'dut-snk', ['198.51.100.1/24', '2001:db8:2::1/64']), nic(1, 'src-dut', ['192.0.2.1/24', '2001:db8:1::1/64'])]);
const phase: PlannedLoad = { name: 'splice4', generator: 'iperf3', from: 'source', to: 'sink', via: 'dut', durationSec: 5, params: { port: 5999 }, group: 0 };

test('the relay address is the one on the link shared with the client, of the family', () => {
  assert.equal(relayAddress(dut, source, 4), '192.0.2.1');
  assert.equal(relayAddress(dut, source, 6), '2001:db8:1::1');
  // No shared link: the relay's first address of the family (routed).
  assert.equal(relayAddress(dut, vm('far', 'testguest', [nic(0, 'elsewhere', ['203.0.113.9/24'])]), 4), '198.51.100.1');
  assert.equal(relayAddress(vm('v4only', 'openbsd', [nic(0, 'src-dut', ['192.0.2.1/24'])]), source, 6), undefined);
});

test('splice counters become measurements under the phase name, absent ones left out', () => {
  assert.deepEqual(spliceMeasurements('splice6', 'dut', { bytes: 10, accepted: 5, lastError: 'EPIPE' }), [
    { name: 'splice6.splice.bytes', value: 10, unit: 'bytes', labels: { vm: 'dut' } },
    { name: 'splice6.splice.accepted', value: 5, unit: 'connections', labels: { vm: 'dut' } },
  ]);
});

function relayGuest(events: string[], stats: SpliceRelayStats, stopFails = false): RelayGuest {
  const adapter = {
    startSpliceRelay: async (_ctx: GuestContext, spec: SpliceRelaySpec) => {
      events.push(`start ${spec.listenAddress}:${spec.listenPort} -> ${spec.target.address}:${spec.target.port} for ${spec.seconds}s`);
      return {
        stop: async () => {
          events.push('stop');
          if (stopFails) throw new Error('console gone');
          return stats;
        },
      };
    },
  } as unknown as GuestAdapter;
  return { vm: dut, adapter, ctx: {} as GuestContext };
}

const live = new AbortController().signal;

const iperf = { name: 'iperf3', guests: ['testguest'], run: async () => [], serverPort: (l: PlannedLoad) => Number(l.params.port) } as LoadGenerator;

test('the generator connects to the relay, which forwards to the server port, and is stopped after', async () => {
  const events: string[] = [];
  const ms = await withSpliceRelay(phase, iperf, relayGuest(events, { bytes: 1234, accepted: 3 }), source, '198.51.100.2', 4, async (relay) => {
    events.push(`client -> ${relay.vm} ${relay.address}`);
    return [{ name: 'splice4.throughput', value: 1e6, unit: 'bit/s' }];
  }, () => {}, live);
  assert.deepEqual(events, ['start 192.0.2.1:5999 -> 198.51.100.2:5999 for 65s', 'client -> dut 192.0.2.1', 'stop']);
  assert.deepEqual(ms.map((m) => m.name), ['splice4.throughput', 'splice4.splice.bytes', 'splice4.splice.accepted']);
});

test('a failing load still stops the relay and keeps its own error', async () => {
  const events: string[] = [];
  await assert.rejects(
    withSpliceRelay(phase, iperf, relayGuest(events, {}), source, '198.51.100.2', 4, async () => {
      throw new Error('iperf3: connection refused');
    }, () => {}, live),
    /iperf3: connection refused/,
  );
  assert.equal(events.at(-1), 'stop');
});

test('a relay that cannot be stopped loses its counters, not the load, and says so', async () => {
  const logged: string[] = [];
  const ms = await withSpliceRelay(phase, iperf, relayGuest([], {}, true), source, '198.51.100.2', 4, async () => [{ name: 'splice4.throughput', value: 1, unit: 'bit/s' }], (l) => logged.push(l), live);
  assert.deepEqual(ms.map((m) => m.name), ['splice4.throughput']);
  assert.match(logged[0]!, /load splice4 via dut: stopping the relay failed, its counters are lost: console gone/);
});

test('what cannot be relayed is an error naming the phase and relay', async () => {
  const noRelay: RelayGuest = { vm: vm('dut', 'testguest', dut.nics), adapter: {} as GuestAdapter, ctx: {} as GuestContext };
  const body = async () => [];
  await assert.rejects(withSpliceRelay(phase, iperf, noRelay, source, '198.51.100.2', 4, body, () => {}, live), /load splice4 via dut: testguest guests cannot run a splice relay/);
  const ping = { ...iperf, name: 'ping', serverPort: undefined } as LoadGenerator;
  await assert.rejects(withSpliceRelay(phase, ping, relayGuest([], {}), source, '198.51.100.2', 4, body, () => {}, live), /generator ping cannot run through a relay/);
  await assert.rejects(withSpliceRelay(phase, iperf, relayGuest([], {}), source, undefined, 6, body, () => {}, live), /the server VM has no IPv6 address/);
});

test('once the run is stopping (a crash), the relay is left alone: its console may be in ddb', async () => {
  const events: string[] = [];
  const crash = new AbortController();
  await assert.rejects(
    withSpliceRelay(phase, iperf, relayGuest(events, {}), source, '198.51.100.2', 4, async () => {
      crash.abort(new Error('panic on dut'));
      throw new Error('aborted');
    }, () => {}, crash.signal),
    /aborted/,
  );
  assert.ok(!events.includes('stop'), events.join(', '));
});
