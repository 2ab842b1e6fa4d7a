import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDir } from '../../src/util/paths.ts';
import { parseBusyboxPing, PingParseError } from '../../src/load/ping-parse.ts';
import { pingCommand, pingMeasurements } from '../../src/load/ping.ts';

const fx = (name: string) => readFileSync(new URL(`../fixtures/load/${name}`, import.meta.url), 'utf8');
// Real busybox ping output from a Linux guest through an OpenBSD router (corpus).
const source = readFileSync(join(sharedDir(), 'corpus/real/openbsd-lab-agent-forward-source-linux.txt'), 'utf8');
/** The output of the shell command that starts with `cmd` in the transcript. */
function commandOutput(cmd: string): string {
  const parts = source.split(/^source# (?:\x1b\[6n)?/m);
  const part = parts.find((p) => p.startsWith(cmd));
  assert.ok(part, `command ${cmd} not in the corpus transcript`);
  return part;
}

test('IPv4 fragment pings through the router: ttl 63, no loss', () => {
  const s = parseBusyboxPing(commandOutput('ping -c 20 -s 4000 198.51.100.2'));
  assert.equal(s.target, '198.51.100.2');
  assert.equal(s.dataBytes, 4000);
  assert.equal(s.transmitted, 20);
  assert.equal(s.received, 20);
  assert.equal(s.lossPercent, 0);
  assert.deepEqual(s.rtt, { min: 2.724, avg: 4.906, max: 18.271 });
  assert.equal(s.replies.length, 20);
  assert.equal(s.replies[0]!.bytes, 4008);
  assert.ok(s.replies.every((r) => r.ttl === 63));
});

test('IPv6 fragments refragmented by pf: hop limit 62 (lowered by two)', () => {
  const s = parseBusyboxPing(commandOutput('ping6 -c 20 -s 4000 2001:db8:2::2'));
  assert.equal(s.target, '2001:db8:2::2');
  assert.equal(s.replies[0]!.from, '2001:db8:2::2');
  assert.equal(s.replies[19]!.seq, 19);
  assert.equal(s.replies[0]!.timeMs, 17.695);
  const m = Object.fromEntries(pingMeasurements('frag6', s).map((x) => [x.name, x.value]));
  assert.equal(m['frag6.ttl'], 62);
  assert.equal(m['frag6.loss'], 0);
  assert.equal(m['frag6.rtt.avg'], 5.044);
});

test('quiet mode (-q): statistics without replies, no ttl measurement', () => {
  const s = parseBusyboxPing(commandOutput('wait; cat /tmp/p4 /tmp/p6').split('--- 2001:db8:2::2')[0]!.replace(/^wait.*\n/, 'PING 198.51.100.2 (198.51.100.2): 4000 data bytes\n'));
  assert.equal(s.transmitted, 400);
  assert.equal(s.received, 400);
  assert.equal(s.replies.length, 0);
  assert.equal(pingMeasurements('q', s).find((m) => m.name === 'q.ttl'), undefined);
});

test('no replies: 100% loss and no round-trip line', () => {
  const s = parseBusyboxPing(fx('busybox-ping4-noreply.txt'));
  assert.equal(s.transmitted, 2);
  assert.equal(s.received, 0);
  assert.equal(s.lossPercent, 100);
  assert.equal(s.rtt, undefined);
});

test('loopback ping6 with a 3000-byte payload (captured on this host)', () => {
  const s = parseBusyboxPing(fx('busybox-ping6-frag-lo.txt'));
  assert.equal(s.target, '::1');
  assert.equal(s.replies[1]!.bytes, 3008);
  assert.deepEqual(s.rtt, { min: 0.076, avg: 0.091, max: 0.121 });
});

test('output without statistics is a clear error', () => {
  assert.throws(() => parseBusyboxPing('ping: bad address \'x\'\n'), PingParseError);
});

test('ping command is bounded in count and time', () => {
  assert.equal(pingCommand({ address: '198.51.100.2', count: 20, size: 4000, intervalSec: 0.2 }), 'ping -c 20 -s 4000 -i 0.2 -W 2 -w 9 198.51.100.2');
  assert.equal(pingCommand({ address: '2001:db8:2::2', count: 5, size: 4000, intervalSec: 1 }), 'ping6 -c 5 -s 4000 -i 1 -W 2 -w 10 2001:db8:2::2');
  assert.throws(() => pingCommand({ address: '198.51.100.2', count: 0, size: 56, intervalSec: 1 }), /count/);
  assert.throws(() => pingCommand({ address: 'a b', count: 1, size: 56, intervalSec: 1 }), /literal/);
});
