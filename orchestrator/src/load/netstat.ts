/**
 * Parsers for OpenBSD's `netstat -s` (protocol statistics) and `netstat -m` (mbufs).
 * Both are the BSD layouts printed by usr.bin/netstat/inet.c and mbuf.c.
 */
import type { CounterSnapshot } from '../guest/adapter.ts';

/** "packets (bytes) received in-sequence" → "packets_received_in_sequence" */
function slug(text: string): string {
  return text
    .replace(/\([^)]*\)/g, ' ')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/**
 * `netstat -s`: a `proto:` header, then tab-indented "N description" lines; a more
 * indented line belongs to the nearest less indented one. Keys are
 * "<proto>.<slug>" and, for nested lines, "<proto>.<parent>.<slug>". A number in
 * parentheses ("(4174750982 bytes)") becomes an extra "...bytes" key.
 */
export function parseNetstatS(text: string): CounterSnapshot {
  const out: CounterSnapshot = {};
  let proto = '';
  const parents: string[] = [];
  for (const raw of text.replace(/\r/g, '').split('\n')) {
    if (raw.trim() === '') continue;
    const header = /^([A-Za-z0-9_-]+):\s*$/.exec(raw);
    if (header) {
      proto = header[1]!.toLowerCase();
      parents.length = 0;
      continue;
    }
    const m = /^(\s+)(\d+) (.*)$/.exec(raw);
    if (!m || !proto) continue;
    const depth = m[1]!.replace(/ {8}/g, '\t').replace(/ +/g, '').length;
    const name = slug(m[3]!);
    if (!name) continue;
    parents.length = Math.max(0, depth - 1);
    const key = [proto, ...parents, name].join('.');
    out[key] = Number(m[2]);
    const paren = /\((?:for )?(\d+) ([a-z ]+?)\)/.exec(m[3]!);
    if (paren) out[`${key}.${slug(paren[2]!)}`] = Number(paren[1]);
    parents[depth - 1] = name;
  }
  return out;
}

/** `netstat -m`: mbuf totals and cluster pools (old "cluster pages" and newer "N byte clusters" lines). */
export function parseNetstatM(text: string): CounterSnapshot {
  const out: CounterSnapshot = {};
  for (const raw of text.replace(/\r/g, '').split('\n')) {
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^(\d+) mbufs? in use:?$/.exec(line))) out['mbuf.inuse'] = Number(m[1]);
    else if ((m = /^(\d+) mbufs? allocated to (.+)$/.exec(line))) out[`mbuf.type.${slug(m[2]!)}`] = Number(m[1]);
    else if ((m = /^(\d+)\/(\d+)\/(\d+) mbuf (\d+) byte clusters in use \(current\/peak\/max\)$/.exec(line))) {
      out[`mbuf.clusters${m[4]}.current`] = Number(m[1]);
      out[`mbuf.clusters${m[4]}.peak`] = Number(m[2]);
      out[`mbuf.clusters${m[4]}.max`] = Number(m[3]);
    } else if ((m = /^(\d+)\/(\d+)\/(\d+) mbuf cluster pages in use \(current\/peak\/max\)$/.exec(line))) {
      out['mbuf.clusterpages.current'] = Number(m[1]);
      out['mbuf.clusterpages.peak'] = Number(m[2]);
      out['mbuf.clusterpages.max'] = Number(m[3]);
    } else if ((m = /^(\d+) Kbytes allocated to network \((\d+)% in use\)$/.exec(line))) {
      out['mbuf.kbytes'] = Number(m[1]);
      out['mbuf.kbytes.inuse_pct'] = Number(m[2]);
    } else if ((m = /^(\d+) requests for memory (denied|delayed)$/.exec(line))) out[`mbuf.requests.${m[2]}`] = Number(m[1]);
    else if ((m = /^(\d+) calls to protocol drain routines$/.exec(line))) out['mbuf.drain_calls'] = Number(m[1]);
  }
  if (out['mbuf.inuse'] === undefined) throw new Error('netstat -m: no "N mbufs in use" line in the output');
  return out;
}
