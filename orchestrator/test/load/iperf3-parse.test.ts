import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseIperf3Json, Iperf3Error } from '../../src/load/iperf3-parse.ts';
import { iperf3ClientCommand, iperf3Measurements, iperf3ServerCommand, notListeningYet } from '../../src/load/iperf3.ts';

// Fixtures: real iperf 3.12 runs on loopback (1 s each), see fixtures/load/README.md.
const fx = (name: string) => readFileSync(new URL(`../fixtures/load/${name}`, import.meta.url), 'utf8');

test('TCP report: sender and receiver rates, retransmits', () => {
  const s = parseIperf3Json(fx('iperf3-tcp4.client.json'));
  assert.equal(s.protocol, 'TCP');
  assert.equal(s.streams, 1);
  assert.equal(s.sentBitsPerSecond, 12880316520.430637);
  assert.equal(s.receivedBitsPerSecond, 12869619095.096613);
  assert.equal(s.retransmits, 3);
  assert.equal(s.jitterMs, undefined);
});

test('TCP over IPv6 with the same layout', () => {
  const s = parseIperf3Json(fx('iperf3-tcp6.client.json'));
  assert.equal(s.receivedBitsPerSecond, 7074657117.999325);
  assert.equal(s.retransmits, 3);
});

test('parallel streams are summed by iperf3 and counted', () => {
  const s = parseIperf3Json(fx('iperf3-tcp4-p2.client.json'));
  assert.equal(s.streams, 2);
  assert.equal(s.sentBitsPerSecond, 14374689849.013659);
  assert.equal(s.retransmits, 1);
});

test('UDP report: receiver rate, jitter, loss, packets', () => {
  const s = parseIperf3Json(fx('iperf3-udp4.client.json'));
  assert.equal(s.protocol, 'UDP');
  assert.equal(s.sentBitsPerSecond, 50062395.139890134);
  assert.equal(s.receivedBitsPerSecond, 50016786.30723217);
  assert.equal(s.jitterMs, 0.06388163885597672);
  assert.equal(s.lostPackets, 0);
  assert.equal(s.packets, 191);
  assert.equal(s.lostPercent, 0);
  assert.equal(s.retransmits, undefined);
});

test('the server side report parses too (one-shot server -1 -J)', () => {
  const s = parseIperf3Json(fx('iperf3-udp6.server.json'));
  assert.equal(s.protocol, 'UDP');
  assert.ok(s.receivedBitsPerSecond > 0);
});

test('an iperf3 error report becomes an Iperf3Error with its message', () => {
  assert.throws(() => parseIperf3Json(fx('iperf3-refused.client.json')), (e: unknown) => e instanceof Iperf3Error && /Connection refused/.test(e.message));
  assert.throws(() => parseIperf3Json('iperf3: error - unable to connect'), /not JSON/);
});

test('measurements are named after the load', () => {
  const m = iperf3Measurements('fwd-udp4', parseIperf3Json(fx('iperf3-udp4.client.json')));
  const by = Object.fromEntries(m.map((x) => [x.name, x]));
  assert.equal(by['fwd-udp4.throughput']?.value, 50016786.30723217);
  assert.equal(by['fwd-udp4.throughput']?.unit, 'bit/s');
  assert.equal(by['fwd-udp4.throughput.sent']?.value, 50062395.139890134);
  assert.equal(by['fwd-udp4.lost']?.value, 0);
  assert.equal(by['fwd-udp4.jitter']?.unit, 'ms');
  assert.equal(by['fwd-udp4.retransmits'], undefined);
});

test('commands: server one-shot JSON, client with UDP/bitrate/streams/IPv6', () => {
  assert.equal(iperf3ServerCommand(), 'iperf3 -s -1 -J -p 5201');
  assert.equal(
    iperf3ClientCommand({ address: '2001:db8:2::2', seconds: 5, udp: true, bitrate: '100M', streams: 2, length: 1400 }),
    'iperf3 -c 2001:db8:2::2 -J -t 5 -p 5201 -6 -u -b 100M -P 2 -l 1400',
  );
  assert.throws(() => iperf3ClientCommand({ address: 'host; rm -rf /', seconds: 5 }), /literal/);
  assert.throws(() => iperf3ClientCommand({ address: '192.0.2.1', seconds: 0 }), /seconds/);
  assert.throws(() => iperf3ClientCommand({ address: '192.0.2.1', seconds: 5, bitrate: '1$(x)' }), /bitrate/);
});

test('a server that does not listen yet: refused directly, closed or reset behind a relay', () => {
  const message = (name: string) => {
    try {
      parseIperf3Json(fx(name));
    } catch (e) {
      assert.ok(e instanceof Iperf3Error);
      return e.message;
    }
    assert.fail(`${name} parsed without an error`);
  };
  assert.equal(notListeningYet(message('iperf3-refused.client.json'), false), true);
  for (const name of ['iperf3-closed.client.json', 'iperf3-reset.client.json']) {
    assert.equal(notListeningYet(message(name), true), true, `${name} behind a relay`);
    assert.equal(notListeningYet(message(name), false), false, `${name} without a relay is a real failure`);
  }
});
