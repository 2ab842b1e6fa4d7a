import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseInterfaceMacs, parseProcNetDev, parseProcNetSnmp, parseProcNetSnmp6 } from '../../src/guest/testguest-parse.ts';
import { LINUX_CRASH_PATTERNS } from '../../src/guest/testguest.ts';

const fx = (name: string) => readFileSync(new URL(`../fixtures/guest/${name}`, import.meta.url), 'utf8');

test('/proc/net/snmp: header/value pairs per protocol', () => {
  const c = parseProcNetSnmp(fx('linux-proc-net-snmp.txt'));
  assert.equal(c['ip.Forwarding'], 2);
  assert.equal(c['ip.DefaultTTL'], 64);
  assert.equal(c['ip.InReceives'], 118651);
  assert.equal(c['ip.ForwDatagrams'], 0);
  assert.equal(c['icmp.InMsgs'], 9);
  assert.equal(c['icmp.InDestUnreachs'], 3);
  assert.equal(c['icmp.InEchos'], 3);
  assert.ok('udp.InDatagrams' in c && 'tcp.ActiveOpens' in c);
});

test('/proc/net/snmp: a broken pair names the line', () => {
  assert.throws(() => parseProcNetSnmp('Ip: Forwarding DefaultTTL\nIcmp: 1 2\n'), /line 1/);
});

test('/proc/net/snmp6: protocol prefix split off', () => {
  const c = parseProcNetSnmp6(fx('linux-proc-net-snmp6.txt'));
  assert.equal(c['ip6.InReceives'], 28054);
  assert.equal(c['icmp6.InEchoReplies'], 3);
  assert.equal(c['udp6.InDatagrams'], 1787);
});

test('/proc/net/dev: per-interface rx/tx columns', () => {
  const c = parseProcNetDev(fx('linux-proc-net-dev.txt'));
  assert.equal(c['if.lo.rx_bytes'], 4315222894);
  assert.equal(c['if.eth0.rx_packets'], 17115);
  assert.equal(c['if.eth0.tx_bytes'], 1016508);
  assert.equal(c['if.eth0.tx_packets'], 11390);
  assert.equal(c['if.ifb0.tx_colls'], 0);
  assert.equal(Object.keys(c).filter((k) => k.startsWith('if.eth0.')).length, 16);
});

test('interface MACs map to names, case-insensitively', () => {
  const m = parseInterfaceMacs('eth0 02:FE:e9:d8:56:b3\nlo 00:00:00:00:00:00\nbogus line\n');
  assert.equal(m.get('02:fe:e9:d8:56:b3'), 'eth0');
  assert.equal(m.size, 2);
});

test('crash patterns match real Linux panic lines and not the ready line', () => {
  const hits = (s: string) => LINUX_CRASH_PATTERNS.some((p) => p.test(s));
  assert.ok(hits('[   12.345678] Kernel panic - not syncing: sysrq triggered crash'));
  assert.ok(hits('[    3.1] BUG: kernel NULL pointer dereference, address: 0000000000000000'));
  assert.ok(hits('[    3.2] Oops: 0002 [#1] PREEMPT SMP NOPTI'));
  assert.ok(!hits('obsdlab-testguest: ready'));
});
