import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseVmstatM } from '../../src/load/vmstat.ts';
import { checkInterface, parseIfconfig } from '../../src/load/ifconfig.ts';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../fixtures/openbsd-tools/${name}`, import.meta.url)), 'utf8');

test('vmstat -m pool table: a full pfstatepl row, name-only lines skipped', () => {
  const c = parseVmstatM(fixture('vmstat-m-pool-pfstate-grep-gateway.txt'));
  assert.deepEqual(c, {
    'pool.pfstatepl.size': 296,
    'pool.pfstatepl.requests': 213123877,
    'pool.pfstatepl.fail': 209235,
    'pool.pfstatepl.inuse': 5075,
    'pool.pfstatepl.pgreq': 1050,
    'pool.pfstatepl.pgrel': 0,
    'pool.pfstatepl.npage': 1050,
    'pool.pfstatepl.hiwat': 1050,
    'pool.pfstatepl.minpg': 0,
    'pool.pfstatepl.maxpg': 2308,
    'pool.pfstatepl.idle': 526,
  });
});

test('vmstat -m pool table cut off with "..." gives the columns that are there', () => {
  const c = parseVmstatM(fixture('vmstat-m-pool-pfstatepl-grep-2011.txt'));
  assert.deepEqual(c, {
    'pool.pfstatepl.size': 204,
    'pool.pfstatepl.requests': 1130451081,
    'pool.pfstatepl.fail': 424797,
    'pool.pfstatepl.inuse': 2833,
    'pool.pfstatepl.pgreq': 527,
    'pool.pfstatepl.pgrel': 0,
  });
});

test('vmstat -m: garbage, rows without a header, and a mid-row cut never throw', () => {
  assert.deepEqual(parseVmstatM(''), {});
  assert.deepEqual(parseVmstatM('\u0000\u0001 not vmstat\n%%%'), {});
  // A pool row before any header line is not attributable to columns.
  assert.deepEqual(parseVmstatM('pfstatepl  296  213123877 209235\n'), {});
  // Cut inside the row: "209235" would read as 209, so the unterminated line is dropped.
  const text = fixture('vmstat-m-pool-pfstate-grep-gateway.txt');
  assert.deepEqual(parseVmstatM(text.slice(0, text.indexOf('209235') + 3)), {});
  assert.equal(parseVmstatM(text.slice(0, text.indexOf('pfstatekeypl') + 4))['pool.pfstatepl.idle'], 526);
});

/**
 * vio0's IPv4 line of the real OpenBSD 6.1 capture, read from the fixture: it holds
 * QEMU's default user-net address, which this project never gives a guest, so the
 * tests take it from the data instead of writing it down.
 */
function vio0Inet61(): { address: string; broadcast: string } {
  const m = /^\s+inet (\S+) netmask 0xffffff00 broadcast (\S+)$/m.exec(fixture('ifconfig-openbsd61-qemu-vio0.txt'))!;
  return { address: m[1]!, broadcast: m[2]! };
}

test('ifconfig(8) of OpenBSD 6.1 under QEMU: lo0, vio0, enc0, pflog0', () => {
  const ifs = parseIfconfig(fixture('ifconfig-openbsd61-qemu-vio0.txt'));
  assert.deepEqual(ifs.map((i) => i.name), ['lo0', 'vio0', 'enc0', 'pflog0']);
  const [lo0, vio0, enc0, pflog0] = ifs;
  assert.deepEqual(vio0, {
    name: 'vio0',
    flagsValue: 0x8843,
    flags: ['UP', 'BROADCAST', 'RUNNING', 'SIMPLEX', 'MULTICAST'],
    mtu: 1500,
    index: 1,
    lladdr: '52:54:00:12:34:57',
    groups: ['egress'],
    media: 'Ethernet autoselect',
    status: 'active',
    inet: [{ address: vio0Inet61().address, prefixLength: 24, broadcast: vio0Inet61().broadcast }],
    inet6: [],
    counters: {},
  });
  assert.equal(lo0!.mtu, 32768);
  assert.equal(lo0!.index, 3);
  assert.deepEqual(lo0!.flags, ['UP', 'LOOPBACK', 'RUNNING', 'MULTICAST']);
  assert.deepEqual(lo0!.inet, [{ address: '127.0.0.1', prefixLength: 8 }]);
  assert.deepEqual(lo0!.inet6, [
    { address: '::1', prefixLength: 128, flags: [] },
    { address: 'fe80::1', prefixLength: 64, zone: 'lo0', scopeId: 3, flags: [] },
  ]);
  assert.equal(enc0!.flagsValue, 0);
  assert.deepEqual(enc0!.flags, []);
  assert.equal(enc0!.mtu, undefined);
  assert.equal(enc0!.status, 'active');
  assert.deepEqual(pflog0!.flags, ['UP', 'RUNNING', 'PROMISC']);
  assert.equal(pflog0!.mtu, 33144);
  assert.deepEqual(pflog0!.groups, ['pflog']);
});

test('lab agent ifconfig: header index, CIDR addresses, packet counters, CRLF', () => {
  const [vio0, ...rest] = parseIfconfig(fixture('ifconfig-lab-agent-vio0.txt'));
  assert.equal(rest.length, 0);
  assert.equal(vio0!.name, 'vio0');
  assert.equal(vio0!.mtu, 1500);
  assert.equal(vio0!.index, 1);
  assert.equal(vio0!.lladdr, '52:54:00:00:01:01');
  assert.deepEqual(vio0!.inet, [{ address: '192.0.2.1', prefixLength: 24 }]);
  assert.deepEqual(vio0!.inet6, [
    { address: 'fe80::5054:ff:fe00:101', prefixLength: 64, flags: [] },
    { address: '2001:db8:1::1', prefixLength: 64, flags: [] },
  ]);
  assert.equal(vio0!.counters['ipkts'], 6);
  assert.equal(vio0!.counters['ibytes'], 580);
  assert.equal(vio0!.counters['obytes'], 370);
  assert.equal(vio0!.counters['omcasts'], 4);
  assert.equal(vio0!.counters['noproto'], 0);
});

test('ifconfig: garbage and detail lines without an interface give nothing', () => {
  assert.deepEqual(parseIfconfig(''), []);
  assert.deepEqual(parseIfconfig('\tinet 192.0.2.101 netmask 0xffffff00\nrandom text\n'), []);
  const [x] = parseIfconfig('em0: flags=8843<UP> mtu 1500\n\tinet 198.51.100.1 netmask 0xff00ff00\n\tinet6 nonsense\n');
  assert.deepEqual(x!.inet, []);
  assert.deepEqual(x!.inet6, []);
});

test('vmstat -m pool table as the lab agent prints it: every row, names with a space included', () => {
  // The first `pools` reply of a real lab run (fixtures/guest/README.md).
  const text = readFileSync(fileURLToPath(new URL('../fixtures/guest/openbsd-lab-splice-dut.txt', import.meta.url)), 'latin1');
  const start = text.indexOf('labinit> pools\n') + 'labinit> pools\n'.length;
  const table = text.slice(start, text.indexOf('ok\n', start));
  const rows = table.trim().split('\n').slice(1);
  const c = parseVmstatM(table);
  const names = new Set(Object.keys(c).map((k) => k.split('.')[1]));
  assert.equal(names.size, rows.length, 'one pool per row');
  // Rows read off the fixture: "swp vnx 32 0 0 0 0 0 0 0 0 8 0" and the mbufpl row.
  assert.equal(c['pool.swp_vnx.size'], 32);
  assert.equal(c['pool.swp_vnd.size'], 336);
  const mbuf = /^mbufpl +(\d+) +(\d+) +(\d+) +(\d+)/m.exec(table)!;
  assert.deepEqual([c['pool.mbufpl.size'], c['pool.mbufpl.requests'], c['pool.mbufpl.fail'], c['pool.mbufpl.inuse']], mbuf.slice(1).map(Number));
});

test('checkInterface against real ifconfig output: what matches is no problem', () => {
  const [lo0, vio0, enc0] = parseIfconfig(fixture('ifconfig-openbsd61-qemu-vio0.txt'));
  // "inet ADDR netmask 0xffffff00" on an UP vio0 with "mtu 1500": the hex netmask is a /24.
  assert.deepEqual(checkInterface(vio0, { addrs: [`${vio0Inet61().address}/24`], mtu: 1500 }), []);
  // lo0 shows "inet6 fe80::1%lo0 prefixlen 64" and "inet6 ::1 prefixlen 128": spelled differently, same addresses.
  assert.deepEqual(checkInterface(lo0, { addrs: ['127.0.0.1/8', '0:0::1/128', 'FE80:0::1/64'], mtu: 32768 }), []);
  // enc0 is "flags=0<>" with no mtu on its header line.
  assert.deepEqual(checkInterface(enc0, { addrs: [], mtu: 1500 }), ['not UP (flags=<>)', 'no mtu shown, want 1500']);
  // The lab agent prints "inet6 2001:db8:1::1/64".
  const [agent] = parseIfconfig(fixture('ifconfig-lab-agent-vio0.txt'));
  assert.deepEqual(checkInterface(agent, { addrs: ['192.0.2.1/24', '2001:DB8:1:0:0::1/64'], mtu: 1500 }), []);
});

test('checkInterface names each difference: mtu, missing address, wrong prefix length, absent interface', () => {
  // The agent's vio0: "mtu 1500", "inet 192.0.2.1/24", "inet6 2001:db8:1::1/64".
  const [agent] = parseIfconfig(fixture('ifconfig-lab-agent-vio0.txt'));
  assert.deepEqual(checkInterface(agent, { addrs: ['192.0.2.1/16', '192.0.2.2/24', '2001:db8::1/64'], mtu: 9000 }), [
    'mtu 1500, want 9000',
    'address 192.0.2.1/16 has prefix length 24',
    'address 192.0.2.2/24 missing',
    'address 2001:db8::1/64 missing',
  ]);
  // IPv6 prefix lengths are compared too.
  assert.deepEqual(checkInterface(agent, { addrs: ['2001:db8:1::1/48'], mtu: 1500 }), ['address 2001:db8:1::1/48 has prefix length 64']);
  assert.deepEqual(checkInterface(undefined, { addrs: [], mtu: 1500 }), ['not in the ifconfig output']);
});
