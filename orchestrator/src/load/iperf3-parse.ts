/**
 * Pure: iperf3's JSON report (-J), as written by iperf 3.x clients. The summary
 * lives in "end": TCP has sum_sent/sum_received (+ retransmits on the sender),
 * UDP has sum (+ sum_sent/sum_received since 3.x) with jitter and loss.
 */

export interface Iperf3Summary {
  protocol: 'TCP' | 'UDP';
  streams: number;
  seconds: number;
  sentBitsPerSecond: number;
  receivedBitsPerSecond: number;
  sentBytes: number;
  receivedBytes: number;
  /** TCP only: retransmitted segments seen by the sender. */
  retransmits?: number;
  /** UDP only. */
  jitterMs?: number;
  lostPackets?: number;
  packets?: number;
  lostPercent?: number;
}

export class Iperf3Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Iperf3Error';
  }
}

type Sum = { seconds?: number; bytes?: number; bits_per_second?: number; retransmits?: number; jitter_ms?: number; lost_packets?: number; packets?: number; lost_percent?: number };

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function parseIperf3Json(text: string): Iperf3Summary {
  let doc: { start?: { test_start?: { protocol?: string; num_streams?: number } }; end?: Record<string, unknown>; error?: string };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch (err) {
    throw new Iperf3Error(`iperf3: output is not JSON (${(err as Error).message}): ${text.slice(0, 200)}`);
  }
  if (doc.error) throw new Iperf3Error(`iperf3: ${doc.error}`);
  const end = doc.end ?? {};
  const ts = doc.start?.test_start;
  const protocol = ts?.protocol === 'UDP' ? 'UDP' : ts?.protocol === 'TCP' ? 'TCP' : undefined;
  if (!protocol) throw new Iperf3Error('iperf3: report has no start.test_start.protocol');
  const sent = (end.sum_sent ?? end.sum) as Sum | undefined;
  const received = (end.sum_received ?? end.sum) as Sum | undefined;
  if (!sent || !received || num(sent.bits_per_second) === undefined || num(received.bits_per_second) === undefined) {
    throw new Iperf3Error('iperf3: report has no end.sum_sent/sum_received (did the test run?)');
  }
  const out: Iperf3Summary = {
    protocol,
    streams: ts?.num_streams ?? 1,
    seconds: num(received.seconds) ?? num(sent.seconds) ?? 0,
    sentBitsPerSecond: sent.bits_per_second!,
    receivedBitsPerSecond: received.bits_per_second!,
    sentBytes: num(sent.bytes) ?? 0,
    receivedBytes: num(received.bytes) ?? 0,
  };
  if (protocol === 'TCP') {
    const r = num(sent.retransmits);
    if (r !== undefined) out.retransmits = r;
  } else {
    // The receiver's view of loss and jitter; "sum" carries it in older versions.
    const udp = (end.sum_received ?? end.sum) as Sum;
    if (num(udp.jitter_ms) !== undefined) out.jitterMs = udp.jitter_ms!;
    if (num(udp.lost_packets) !== undefined) out.lostPackets = udp.lost_packets!;
    if (num(udp.packets) !== undefined) out.packets = udp.packets!;
    if (num(udp.lost_percent) !== undefined) out.lostPercent = udp.lost_percent!;
  }
  return out;
}
