/**
 * Parser for OpenBSD ifconfig(8) output: one "name: flags=HEX<LIST> ... mtu N"
 * line per interface, then tab/space-indented detail lines. Also reads the lab
 * ramdisk agent's ifconfig, which prints addresses as "inet A/LEN" and packet
 * counters ("ipkts 6 ierrs 0 ...") on the same kind of indented lines.
 */

export interface IfconfigInet {
  address: string;
  prefixLength: number;
  broadcast?: string;
}

export interface IfconfigInet6 {
  /** Without the "%ifname" zone suffix. */
  address: string;
  prefixLength: number;
  /** The "%vio0" zone of a link-local address, when printed. */
  zone?: string;
  scopeId?: number;
  /** Words after the prefix length other than scopeid, e.g. autoconf, temporary, deprecated. */
  flags: string[];
}

export interface IfconfigInterface {
  name: string;
  flagsValue: number;
  flags: string[];
  mtu?: number;
  index?: number;
  lladdr?: string;
  groups: string[];
  media?: string;
  status?: string;
  inet: IfconfigInet[];
  inet6: IfconfigInet6[];
  /** "ipkts 6 ierrs 0 ..." style counters, when the output has them. */
  counters: Record<string, number>;
}

const HEADER = /^([A-Za-z][A-Za-z0-9_.]*\d+): flags=([0-9a-fA-F]+)<([^>]*)>(.*)$/;

/** 0xffffff00 → 24; undefined for a non-contiguous or malformed mask. */
function maskLength(hex: string): number | undefined {
  if (!/^0x[0-9a-fA-F]{8}$/.test(hex)) return undefined;
  const bits = parseInt(hex.slice(2), 16).toString(2).padStart(32, '0');
  if (!/^1*0*$/.test(bits)) return undefined;
  return bits.indexOf('0') === -1 ? 32 : bits.indexOf('0');
}

function valueAfter(words: string[], key: string): string | undefined {
  const i = words.indexOf(key);
  return i >= 0 ? words[i + 1] : undefined;
}

function intAfter(words: string[], key: string): number | undefined {
  const v = valueAfter(words, key);
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

function parseInet(words: string[]): IfconfigInet | undefined {
  const first = words[1];
  if (!first) return undefined;
  const cidr = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(first);
  if (cidr) return { address: cidr[1]!, prefixLength: Number(cidr[2]) };
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(first)) return undefined;
  const mask = valueAfter(words, 'netmask');
  const prefixLength = mask === undefined ? 32 : maskLength(mask);
  if (prefixLength === undefined) return undefined;
  const broadcast = valueAfter(words, 'broadcast');
  return { address: first, prefixLength, ...(broadcast ? { broadcast } : {}) };
}

function parseInet6(words: string[]): IfconfigInet6 | undefined {
  const first = words[1];
  if (!first) return undefined;
  const m = /^([0-9a-fA-F:.]+)(?:%([^/\s]+))?(?:\/(\d+))?$/.exec(first);
  if (!m || !m[1]!.includes(':')) return undefined;
  const rest = words.slice(2);
  const prefixLength = m[3] !== undefined ? Number(m[3]) : intAfter(rest, 'prefixlen');
  if (prefixLength === undefined) return undefined;
  const scope = valueAfter(rest, 'scopeid');
  const flags: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    if (w === 'prefixlen' || w === 'scopeid' || w === 'pltime' || w === 'vltime') i++;
    else flags.push(w);
  }
  return {
    address: m[1]!,
    prefixLength,
    ...(m[2] ? { zone: m[2] } : {}),
    ...(scope && /^0x[0-9a-fA-F]+$/.test(scope) ? { scopeId: parseInt(scope, 16) } : {}),
    flags,
  };
}

/** Interfaces in output order; lines that fit nothing known are skipped, so garbage gives []. */
export function parseIfconfig(text: string): IfconfigInterface[] {
  const out: IfconfigInterface[] = [];
  let cur: IfconfigInterface | undefined;
  for (const raw of text.replace(/\r/g, '').split('\n')) {
    const header = HEADER.exec(raw);
    if (header) {
      const tail = header[4]!.trim().split(/\s+/);
      cur = {
        name: header[1]!,
        flagsValue: parseInt(header[2]!, 16),
        flags: header[3] ? header[3].split(',') : [],
        groups: [],
        inet: [],
        inet6: [],
        counters: {},
      };
      const mtu = intAfter(tail, 'mtu');
      if (mtu !== undefined) cur.mtu = mtu;
      const index = intAfter(tail, 'index');
      if (index !== undefined) cur.index = index;
      out.push(cur);
      continue;
    }
    if (!cur || !/^\s/.test(raw)) continue;
    const line = raw.trim();
    const words = line.split(/\s+/);
    switch (words[0]) {
      case 'lladdr':
        if (words[1]) cur.lladdr = words[1];
        break;
      case 'index': {
        const index = intAfter(words, 'index');
        if (index !== undefined) cur.index = index;
        break;
      }
      case 'groups:':
        cur.groups.push(...words.slice(1));
        break;
      case 'media:':
        cur.media = line.slice('media:'.length).trim();
        break;
      case 'status:':
        cur.status = line.slice('status:'.length).trim();
        break;
      case 'inet': {
        const a = parseInet(words);
        if (a) cur.inet.push(a);
        break;
      }
      case 'inet6': {
        const a = parseInet6(words);
        if (a) cur.inet6.push(a);
        break;
      }
      default:
        if (/^[io]pkts$/.test(words[0] ?? '')) {
          for (let i = 0; i + 1 < words.length; i += 2) {
            if (/^[a-z]+$/.test(words[i]!) && /^\d+$/.test(words[i + 1]!)) cur.counters[words[i]!] = Number(words[i + 1]);
          }
        }
    }
  }
  return out;
}

/** Canonical text of an address, so "2001:DB8:1:0::1" and "2001:db8:1::1" compare equal. */
function canonicalAddress(addr: string): string {
  if (addr.includes(':')) {
    try {
      return new URL(`http://[${addr}]/`).hostname.slice(1, -1);
    } catch {
      return addr.toLowerCase();
    }
  }
  return addr.split('.').map((o) => String(Number(o))).join('.');
}

/**
 * What differs between one parsed interface and the configuration a playbook asked
 * for (`addrs` in CIDR form, e.g. "192.0.2.1/24", "2001:db8::1/64"): one sentence
 * per problem, [] when the interface is UP with that MTU and every address and
 * prefix length. Extra addresses (link-local, autoconf) are not problems.
 */
export function checkInterface(iface: IfconfigInterface | undefined, want: { addrs: string[]; mtu: number }): string[] {
  if (!iface) return ['not in the ifconfig output'];
  const problems: string[] = [];
  if (!iface.flags.includes('UP')) problems.push(`not UP (flags=<${iface.flags.join(',')}>)`);
  if (iface.mtu !== want.mtu) problems.push(iface.mtu === undefined ? `no mtu shown, want ${want.mtu}` : `mtu ${iface.mtu}, want ${want.mtu}`);
  for (const cidr of want.addrs) {
    const slash = cidr.lastIndexOf('/');
    const addr = canonicalAddress(slash < 0 ? cidr : cidr.slice(0, slash));
    const prefix = Number(cidr.slice(slash + 1));
    const have: { address: string; prefixLength: number }[] = addr.includes(':') ? iface.inet6 : iface.inet;
    const same = have.filter((a) => canonicalAddress(a.address) === addr);
    if (same.length === 0) problems.push(`address ${cidr} missing`);
    else if (!same.some((a) => a.prefixLength === prefix)) problems.push(`address ${cidr} has prefix length ${same.map((a) => a.prefixLength).join(', ')}`);
  }
  return problems;
}
