/**
 * Parser for the pool part of OpenBSD's `vmstat -m` ("Memory resource pool
 * statistics", usr.bin/vmstat/vmstat.c print_pool()). Pool counters are what
 * mbuf and pf changes move: mbufpl, mcl2k…, mtagpl, pfstatepl.
 *
 * Only the pool table is parsed (real vmstat -m output, and the lab agent's
 * `pools`, which prints the same table). The malloc "Memory statistics by
 * type" table is skipped: no published real output of it was available to
 * test against.
 */
import type { CounterSnapshot } from '../guest/adapter.ts';

const NUMBER = /^\d+$/;

/** A pool table header: starts with Name, Size, Requests (grep'd copies keep it). */
function poolColumns(line: string): string[] | undefined {
  const words = line.trim().split(/\s+/);
  if (words[0] !== 'Name' || words[1] !== 'Size' || words[2] !== 'Requests') return undefined;
  return words.slice(1).filter((w) => /^[A-Za-z]+$/.test(w)).map((w) => w.toLowerCase());
}

/**
 * `vmstat -m` (or any grep of it that kept the header line) → counters
 * "pool.<name>.<column>", column names lower-cased from the header: size,
 * requests, fail, inuse (older kernels: releases), pgreq, pgrel, npage, hiwat,
 * minpg, maxpg, idle. Rows cut short (a truncated paste, "..." columns) give the
 * columns they have; non-numeric values such as Maxpg "inf" are left out; an
 * unterminated last line is dropped. Never throws: garbage yields an empty or
 * partial snapshot.
 */
export function parseVmstatM(text: string): CounterSnapshot {
  const out: CounterSnapshot = {};
  let columns: string[] | undefined;
  const lines = text.replace(/\r/g, '').split('\n');
  // Output cut off mid-line (no final newline): its last number may be cut too.
  lines.pop();
  for (const raw of lines) {
    const header = poolColumns(raw);
    if (header) {
      columns = header;
      continue;
    }
    if (!columns) continue;
    // Pool names may hold a space ("swp vnx" on a real LAB kernel): the name is
    // everything before the first number, spaces written as "_".
    const all = raw.trim().split(/\s+/);
    const first = all.findIndex((w) => NUMBER.test(w));
    if (first < 1) continue;
    const name = all.slice(0, first).join('_');
    if (!/^[A-Za-z][\w.-]*$/.test(name)) continue;
    const words = [name, ...all.slice(first)];
    for (let i = 0; i < columns.length; i++) {
      const value = words[i + 1];
      if (value === undefined || !NUMBER.test(value)) {
        if (value === 'inf') continue;
        break;
      }
      out[`pool.${name}.${columns[i]}`] = Number(value);
    }
  }
  return out;
}
