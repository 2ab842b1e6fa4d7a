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

test('crash patterns match the real sysrq panic of the test guest and not its ready line', () => {
  // Captured from the router guest in integration/forwarding.test.ts.
  const panic = fx('linux-sysrq-panic.txt');
  const first = panic.split('\n').find((l) => LINUX_CRASH_PATTERNS.some((p) => p.test(l)));
  assert.equal(first, '[   61.067640] Kernel panic - not syncing: sysrq triggered crash');
  assert.ok(!LINUX_CRASH_PATTERNS.some((p) => p.test('obsdlab-testguest: ready')));
  assert.ok(!LINUX_CRASH_PATTERNS.some((p) => p.test('obsdlab-testguest: management eth1 203.0.113.15/24')));
});
