/**
 * Pure parsers for the Linux test guest's /proc files and command output.
 */
import type { CounterSnapshot } from './adapter.ts';

/**
 * /proc/net/snmp: pairs of lines, "Proto: Name1 Name2…" then "Proto: v1 v2…".
 * Keys are "<proto lower-case>.<Name>", e.g. "ip.ForwDatagrams", "icmp.InEchoReps".
 */
export function parseProcNetSnmp(text: string): CounterSnapshot {
  const out: CounterSnapshot = {};
  const lines = text.split('\n').filter((l) => l.trim());
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const head = /^(\w+):\s+(.*)$/.exec(lines[i]!);
    const vals = /^(\w+):\s+(.*)$/.exec(lines[i + 1]!);
    if (!head || !vals || head[1] !== vals[1]) {
      throw new Error(`/proc/net/snmp line ${i + 1}: expected a header/value pair, got: ${lines[i]}`);
    }
    const names = head[2]!.trim().split(/\s+/);
    const values = vals[2]!.trim().split(/\s+/);
    const proto = head[1]!.toLowerCase();
    names.forEach((n, k) => {
      const v = Number(values[k]);
      if (Number.isFinite(v)) out[`${proto}.${n}`] = v;
    });
  }
  return out;
}

/**
 * /proc/net/snmp6: "Ip6InReceives   123" lines. Keys are "ip6.InReceives",
 * "icmp6.InEchoReplies", "udp6.InDatagrams"… (per-type Icmp6InType128 lines too).
 */
export function parseProcNetSnmp6(text: string): CounterSnapshot {
  const out: CounterSnapshot = {};
  for (const line of text.split('\n')) {
    const m = /^(Ip6|Icmp6|Udp6|UdpLite6)(\w+)\s+(\d+)\s*$/.exec(line.trim());
    if (m) out[`${m[1]!.toLowerCase()}.${m[2]}`] = Number(m[3]);
  }
  return out;
}

const DEV_COLUMNS = [
  'rx_bytes', 'rx_packets', 'rx_errs', 'rx_drop', 'rx_fifo', 'rx_frame', 'rx_compressed', 'rx_multicast',
  'tx_bytes', 'tx_packets', 'tx_errs', 'tx_drop', 'tx_fifo', 'tx_colls', 'tx_carrier', 'tx_compressed',
];

/** /proc/net/dev: per-interface counters as "if.<name>.<column>" (rx_bytes, tx_packets…). */
export function parseProcNetDev(text: string): CounterSnapshot {
  const out: CounterSnapshot = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([^:\s|]+):\s*(\d[\d\s]*)$/.exec(line);
    if (!m) continue;
    const values = m[2]!.trim().split(/\s+/).map(Number);
    DEV_COLUMNS.forEach((c, k) => {
      if (values[k] !== undefined) out[`if.${m[1]}.${c}`] = values[k]!;
    });
  }
  return out;
}

/** Lines "NAME MAC" (from /sys/class/net/*\/address) → MAC (lower-case) → interface name. */
export function parseInterfaceMacs(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5})\s*$/.exec(line.trim());
    if (m) map.set(m[2]!.toLowerCase(), m[1]!);
  }
  return map;
}
