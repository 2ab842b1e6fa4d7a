import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import {
  bootConfWithImage,
  forwardingCommands,
  ifconfigCommands,
  kernelVersionLine,
  openbsdInterfaceName,
  pfCommands,
  renderHostnameIf,
  prefixToNetmask,
  routeAddCommand,
  shQuote,
  sysctlCommand,
  vioDevices,
  writeFileCommand,
} from '../../src/guest/openbsd-render.ts';
import { sharedDir } from '../../src/util/paths.ts';

const corpus = (name: string) => readFileSync(join(sharedDir(), 'corpus', 'real', name), 'utf8').replace(/\r/g, '');

test('test NICs are vio1.. because vio0 is the management NIC', () => {
  assert.equal(openbsdInterfaceName(0), 'vio1');
  assert.equal(openbsdInterfaceName(2), 'vio3');
  assert.throws(() => openbsdInterfaceName(-1), /NIC index/);
});

test('ifconfig(8) commands: mtu/up, then inet/inet6 address/prefix alias', () => {
  // ifconfig(8): "ifconfig interface [address_family] [address [dest_address]] [parameters]";
  // the address may be given in CIDR notation; "alias" adds an address.
  assert.deepEqual(ifconfigCommands({ ifname: 'vio1', addrs: ['192.0.2.1/24', '2001:db8:1::1/64'], mtu: 1500 }), [
    'ifconfig vio1 mtu 1500 up',
    'ifconfig vio1 inet 192.0.2.1/24 alias',
    'ifconfig vio1 inet6 2001:db8:1::1/64 alias',
  ]);
  assert.throws(() => ifconfigCommands({ ifname: 'vio1', addrs: ['192.0.2.1'], mtu: 1500 }), /not CIDR/);
  assert.throws(() => ifconfigCommands({ ifname: 'vio1; reboot', addrs: [], mtu: 1500 }), /bad interface name/);
  assert.throws(() => ifconfigCommands({ ifname: 'vio1', addrs: ['192.0.2.1/33'], mtu: 1500 }), /prefix \/33 too long/);
});

test('hostname.if(5): "inet [alias] addr netmask", "inet6 alias addr prefixlen", then up', () => {
  // hostname.if(5) DESCRIPTION example form: "inet alias ADDR 255.255.255.255", "inet6 alias ADDR 64"
  assert.equal(
    renderHostnameIf({ addrs: ['198.51.100.1/24', '2001:db8:2::1/64', '198.51.100.9/32'], mtu: 9000 }),
    'mtu 9000\ninet 198.51.100.1 255.255.255.0\ninet6 alias 2001:db8:2::1 64\ninet alias 198.51.100.9 255.255.255.255\nup\n',
  );
  assert.equal(prefixToNetmask(0), '0.0.0.0');
  assert.equal(prefixToNetmask(20), '255.255.240.0');
});

test('route(8) add lines per family', () => {
  // route(8): "route add [-inet | -inet6] destination gateway"; -n avoids name lookups.
  assert.equal(routeAddCommand({ dest: '2001:db8:2::/64', gateway: '2001:db8:1::2' }), 'route -n add -inet6 2001:db8:2::/64 2001:db8:1::2');
  assert.equal(routeAddCommand({ dest: '198.51.100.0/24', gateway: '192.0.2.2' }), 'route -n add -inet 198.51.100.0/24 192.0.2.2');
  assert.equal(routeAddCommand({ dest: 'default', gateway: '192.0.2.1' }), 'route -n add -inet default 192.0.2.1');
  assert.throws(() => routeAddCommand({ dest: '198.51.100.0/24', gateway: '2001:db8::1' }), /mixes address families/);
});

test('forwarding and sysctl(8) name=value', () => {
  assert.deepEqual(forwardingCommands({ inet: true, inet6: false }), ['sysctl net.inet.ip.forwarding=1', 'sysctl net.inet6.ip6.forwarding=0']);
  assert.equal(sysctlCommand('kern.pool_debug', '1'), 'sysctl kern.pool_debug=1');
  assert.throws(() => sysctlCommand('kern.x', '1; reboot'), /need(s)? quoting/);
});

test('pf: ruleset written, parsed with -n, loaded with -f, enabled with -e (pfctl(8))', () => {
  const cmds = pfCommands({ enabled: true });
  // pf.conf(5) OPTIONS: "set reassemble yes | no [no-df]"
  assert.equal(cmds[0], `printf '%s' 'set reassemble yes\npass\n' > '/etc/pf.conf.obsdlab'`);
  assert.deepEqual(cmds.slice(1), ['pfctl -nf /etc/pf.conf.obsdlab', 'pfctl -f /etc/pf.conf.obsdlab', 'pfctl -e || pfctl -s info | grep -q "^Status: Enabled"']);
  assert.deepEqual(pfCommands({ enabled: false }), ['pfctl -d || pfctl -s info | grep -q "^Status: Disabled"']);
});

test('writeFileCommand survives quotes and newlines in sh', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'obsdlab-sh-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const content = "pass in proto tcp to port { 22 } label 'ssh'\n%s $HOME `x`\n";
  execFileSync('/bin/sh', ['-c', writeFileCommand(join(dir, 'f'), content)]);
  assert.equal(readFileSync(join(dir, 'f'), 'utf8'), content);
  assert.equal(shQuote("a'b"), `'a'\\''b'`);
});

test('boot.conf(5): set image /bsd.test replaces an earlier image/boot line, keeps the rest', () => {
  assert.equal(bootConfWithImage('stty com0 115200\nset tty com0\nset image /bsd.old\n', '/bsd.test'), 'stty com0 115200\nset tty com0\nset image /bsd.test\n');
  assert.equal(bootConfWithImage('', '/bsd.test'), 'set image /bsd.test\n');
});

test('vio devices and version line from a real OpenBSD console (lab transcript)', () => {
  const text = corpus('openbsd-lab-agent-forward-dut.txt');
  assert.deepEqual(vioDevices(text), ['vio0', 'vio1']);
  const banner = text.split('\n').find((l) => l.startsWith('OpenBSD '))!;
  assert.equal(kernelVersionLine(banner + '\n    builder@host:/sys/arch/amd64/compile/LAB\n'), banner.trim());
  assert.throws(() => kernelVersionLine('Linux version 6.1\n'), /does not look like an OpenBSD kernel/);
});
