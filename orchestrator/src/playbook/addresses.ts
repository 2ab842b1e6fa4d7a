/**
 * Guest address checks. Test traffic must stay inside the documentation ranges
 * (RFC 5737 and RFC 3849), so every address a playbook gives a guest is checked here.
 */

export type Family = 4 | 6;

export interface ParsedAddress {
  family: Family;
  /** The address as an unsigned integer (32 or 128 bits). */
  value: bigint;
}

export interface ParsedCidr extends ParsedAddress {
  prefix: number;
}

const DOC_RANGES: { text: string; family: Family; value: bigint; prefix: number }[] = [
  { text: '192.0.2.0/24', ...parseCidrOrThrow('192.0.2.0/24') },
  { text: '198.51.100.0/24', ...parseCidrOrThrow('198.51.100.0/24') },
  { text: '203.0.113.0/24', ...parseCidrOrThrow('203.0.113.0/24') },
  { text: '2001:db8::/32', ...parseCidrOrThrow('2001:db8::/32') },
];

export const DOCUMENTATION_RANGES: readonly string[] = DOC_RANGES.map((r) => r.text);

function bits(family: Family): number {
  return family === 4 ? 32 : 128;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  if (text.includes('%')) return undefined;
  let groups: string[];
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : halves[1]!.split(':')) : [];
  // An embedded IPv4 tail (::ffff:192.0.2.1) counts as two groups.
  const expandV4 = (list: string[]): string[] | undefined => {
    const last = list[list.length - 1];
    if (last === undefined || !last.includes('.')) return list;
    const v4 = parseIpv4(last);
    if (v4 === undefined) return undefined;
    return [...list.slice(0, -1), ((v4 >> 16n) & 0xffffn).toString(16), (v4 & 0xffffn).toString(16)];
  };
  const h = halves.length === 2 ? head : expandV4(head);
  const t = halves.length === 2 ? expandV4(tail) : tail;
  if (h === undefined || t === undefined) return undefined;
  if (halves.length === 2) {
    const missing = 8 - h.length - t.length;
    if (missing < 1) return undefined;
    groups = [...h, ...Array<string>(missing).fill('0'), ...t];
  } else {
    groups = h;
  }
  if (groups.length !== 8) return undefined;
  let value = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    value = (value << 16n) | BigInt(parseInt(g, 16));
  }
  return value;
}

/** Parses a bare IPv4 or IPv6 address; undefined if it is not one. */
export function parseAddress(text: string): ParsedAddress | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = text.includes(':') ? parseIpv6(text) : undefined;
  if (v6 !== undefined) return { family: 6, value: v6 };
  return undefined;
}

/** Parses "address/prefix"; undefined if malformed. */
export function parseCidr(text: string): ParsedCidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const addr = parseAddress(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!addr || !/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > bits(addr.family)) return undefined;
  return { ...addr, prefix };
}

function parseCidrOrThrow(text: string): ParsedCidr {
  const c = parseCidr(text);
  if (!c) throw new Error(`bad built-in range ${text}`);
  return c;
}

function network(value: bigint, prefix: number, family: Family): bigint {
  const width = bits(family);
  const hostBits = BigInt(width - prefix);
  return (value >> hostBits) << hostBits;
}

/** Does the network `net` contain `addr` (same family)? */
export function cidrContains(net: ParsedCidr, addr: ParsedAddress): boolean {
  return net.family === addr.family && network(net.value, net.prefix, net.family) === network(addr.value, net.prefix, addr.family);
}

function docRangeProblem(addr: ParsedAddress, prefix: number, shown: string): string | undefined {
  const range = DOC_RANGES.find((r) => cidrContains(r, addr));
  if (!range) {
    return `${shown} is outside the documentation ranges (${DOCUMENTATION_RANGES.join(', ')}); test guests may only use those`;
  }
  if (prefix < range.prefix) {
    return `${shown}: prefix /${prefix} reaches outside ${range.text}; use /${range.prefix} or longer`;
  }
  return undefined;
}

/** Checks an interface address "addr/prefix": undefined when fine, else a message. */
export function checkInterfaceCidr(text: string): string | undefined {
  const c = parseCidr(text);
  if (!c) return `"${text}" is not an address with prefix length (e.g. 192.0.2.1/24 or 2001:db8:1::1/64)`;
  return docRangeProblem(c, c.prefix, text);
}

/** Checks a route destination: "default" or a CIDR inside the documentation ranges. */
export function checkRouteDest(text: string): string | undefined {
  if (text === 'default') return undefined;
  const c = parseCidr(text);
  if (!c) return `"${text}" is not a route destination (CIDR such as 198.51.100.0/24, or "default")`;
  return docRangeProblem(c, c.prefix, text);
}

/** Checks a bare address (a gateway). */
export function checkHostAddress(text: string): string | undefined {
  const a = parseAddress(text);
  if (!a) return `"${text}" is not an IPv4 or IPv6 address`;
  return docRangeProblem(a, bits(a.family), text);
}

/** Canonical text of an address, for duplicate detection. */
export function addressKey(a: ParsedAddress): string {
  return `${a.family}:${a.value.toString(16)}`;
}
