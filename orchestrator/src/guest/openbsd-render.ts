/**
 * Pure renderers for the `openbsd` guest adapter: the exact command lines and
 * configuration files it sends, checked against the man pages in the tests.
 */
import { isIPv6 } from 'node:net';

/** vio0 is the management NIC, so test NIC N is vio(N+1). */
export function openbsdInterfaceName(nicIndex: number): string {
  if (!Number.isInteger(nicIndex) || nicIndex < 0) throw new Error(`openbsd: NIC index must be >= 0, got ${nicIndex}`);
  return `vio${nicIndex + 1}`;
}

function splitCidr(cidr: string): { addr: string; prefix: number; v6: boolean } {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  if (!m) throw new Error(`openbsd: address ${JSON.stringify(cidr)} is not CIDR (address/prefix)`);
  const v6 = isIPv6(m[1]!);
  const prefix = Number(m[2]);
  if (prefix > (v6 ? 128 : 32)) throw new Error(`openbsd: prefix /${prefix} too long for ${m[1]}`);
  if (!v6 && !/^\d{1,3}(\.\d{1,3}){3}$/.test(m[1]!)) throw new Error(`openbsd: ${m[1]} is not an IPv4 or IPv6 address`);
  return { addr: m[1]!, prefix, v6 };
}

/** ifconfig(8): `ifconfig vio1 mtu 1500 up`, then one `inet|inet6 addr/prefix alias` per address. */
export function ifconfigCommands(nic: { ifname: string; addrs: string[]; mtu: number }): string[] {
  if (!/^[a-z]+\d+$/.test(nic.ifname)) throw new Error(`openbsd: bad interface name ${JSON.stringify(nic.ifname)}`);
  const cmds = [`ifconfig ${nic.ifname} mtu ${nic.mtu} up`];
  for (const a of nic.addrs) {
    const { addr, prefix, v6 } = splitCidr(a);
    cmds.push(`ifconfig ${nic.ifname} ${v6 ? 'inet6' : 'inet'} ${addr}/${prefix} alias`);
  }
  return cmds;
}

/** 24 → "255.255.255.0" */
export function prefixToNetmask(prefix: number): string {
  const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (bits >>> s) & 0xff).join('.');
}

/**
 * hostname.if(5) in its long-documented forms: "inet [alias] addr netmask" and
 * "inet6 [alias] addr prefixlen" (e.g. "inet alias 192.0.2.13 255.255.255.255",
 * "inet6 alias fec0::1 64"); further IPv4 addresses are aliases; "up" last.
 */
export function renderHostnameIf(nic: { addrs: string[]; mtu: number }): string {
  const lines = [`mtu ${nic.mtu}`];
  let inet = 0;
  for (const a of nic.addrs) {
    const { addr, prefix, v6 } = splitCidr(a);
    if (v6) lines.push(`inet6 alias ${addr} ${prefix}`);
    else lines.push(`inet ${inet++ > 0 ? 'alias ' : ''}${addr} ${prefixToNetmask(prefix)}`);
  }
  lines.push('up');
  return lines.join('\n') + '\n';
}

/** route(8): `route -n add -inet6 2001:db8:2::/64 2001:db8:1::2`; "default" keeps its name. */
export function routeAddCommand(route: { dest: string; gateway: string }): string {
  const gwV6 = isIPv6(route.gateway);
  if (route.dest === 'default') return `route -n add ${gwV6 ? '-inet6' : '-inet'} default ${route.gateway}`;
  const { addr, prefix, v6 } = splitCidr(route.dest);
  if (v6 !== gwV6) throw new Error(`openbsd: route ${route.dest} via ${route.gateway} mixes address families`);
  return `route -n add ${v6 ? '-inet6' : '-inet'} ${addr}/${prefix} ${route.gateway}`;
}

export function forwardingCommands(on: { inet: boolean; inet6: boolean }): string[] {
  return [`sysctl net.inet.ip.forwarding=${on.inet ? 1 : 0}`, `sysctl net.inet6.ip6.forwarding=${on.inet6 ? 1 : 0}`];
}

export function sysctlCommand(name: string, value: string): string {
  if (!/^[a-z][a-z0-9_.]*$/.test(name)) throw new Error(`openbsd: bad sysctl name ${JSON.stringify(name)}`);
  if (!/^[A-Za-z0-9_.:,/-]*$/.test(value)) throw new Error(`openbsd: sysctl ${name}: value ${JSON.stringify(value)} has characters that need quoting`);
  return `sysctl ${name}=${value}`;
}

/**
 * Default DUT ruleset. pf.conf(5) OPTIONS: "set reassemble yes | no [no-df]" (yes is
 * also pf's default; stated so the fragment path under test is explicit); a bare
 * "pass" rule passes everything, statefully.
 */
export const DEFAULT_DUT_PF_RULES = 'set reassemble yes\npass\n';

export const PF_CONF_PATH = '/etc/pf.conf.obsdlab';

/** Single-quotes a string for sh(1). */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Writes `content` to `path` with printf (no SFTP needed). */
export function writeFileCommand(path: string, content: string): string {
  return `printf '%s' ${shQuote(content)} > ${shQuote(path)}`;
}

/** pfctl(8): -n parses only, -f loads, -e/-d enable/disable. pfctl -e fails when pf is already enabled. */
export function pfCommands(pf: { enabled: boolean; rules?: string }): string[] {
  if (!pf.enabled) return ['pfctl -d || pfctl -s info | grep -q "^Status: Disabled"'];
  const rules = pf.rules ?? DEFAULT_DUT_PF_RULES;
  return [
    writeFileCommand(PF_CONF_PATH, rules.endsWith('\n') ? rules : rules + '\n'),
    `pfctl -nf ${PF_CONF_PATH}`,
    `pfctl -f ${PF_CONF_PATH}`,
    'pfctl -e || pfctl -s info | grep -q "^Status: Enabled"',
  ];
}

/** vio devices attached in a dmesg, e.g. "vio1 at virtio1: address 52:54:00:12:34:57". */
export function vioDevices(dmesg: string): string[] {
  const seen = new Set<string>();
  for (const m of dmesg.matchAll(/^(vio\d+) at virtio\d+/gm)) seen.add(m[1]!);
  return [...seen];
}

/** First line of `sysctl -n kern.version`, e.g. "OpenBSD 7.8-current (GENERIC.MP) #12: ...". */
export function kernelVersionLine(output: string): string {
  const line = output.replace(/\r/g, '').split('\n').find((l) => l.trim() !== '');
  if (!line || !/^OpenBSD /.test(line)) throw new Error(`openbsd: kern.version does not look like an OpenBSD kernel: ${JSON.stringify(output.slice(0, 120))}`);
  return line.trim();
}

/** boot.conf(5) line that boots the test kernel: `boot /bsd.test`. */
export function bootConfWithImage(current: string, image: string): string {
  const kept = current.split('\n').filter((l) => l.trim() !== '' && !/^\s*(set image|boot)\b/.test(l));
  return [...kept, `set image ${image}`].join('\n') + '\n';
}
