/**
 * Pure: busybox ping/ping6 output ("N bytes from ADDR: seq=S ttl=T time=X ms",
 * then the statistics block). For IPv6 the ttl field is the reply's hop limit.
 */

export interface PingReply {
  bytes: number;
  from: string;
  seq: number;
  ttl: number;
  timeMs: number;
  duplicate: boolean;
}

export interface PingSummary {
  target: string;
  dataBytes: number;
  transmitted: number;
  received: number;
  lossPercent: number;
  rtt?: { min: number; avg: number; max: number };
  replies: PingReply[];
}

export class PingParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PingParseError';
  }
}

export function parseBusyboxPing(text: string): PingSummary {
  const t = text.replace(/\r/g, '');
  const head = /^PING (\S+) \(([^)]+)\): (\d+) data bytes$/m.exec(t);
  const stats = /^(\d+) packets transmitted, (\d+) packets received, (?:\+\d+ duplicates, )?(\d+(?:\.\d+)?)% packet loss$/m.exec(t);
  if (!head || !stats) {
    throw new PingParseError(`ping: no ${head ? 'statistics' : '"PING … data bytes"'} line in output:\n${t.slice(-400)}`);
  }
  const replies = [...t.matchAll(/^(\d+) bytes from (\S+?): seq=(\d+) ttl=(\d+) time=([\d.]+) ms( \(DUP!\))?$/gm)].map((m) => ({
    bytes: Number(m[1]),
    from: m[2]!,
    seq: Number(m[3]),
    ttl: Number(m[4]),
    timeMs: Number(m[5]),
    duplicate: Boolean(m[6]),
  }));
  const rtt = /^round-trip min\/avg\/max = ([\d.]+)\/([\d.]+)\/([\d.]+) ms$/m.exec(t);
  return {
    target: head[2]!,
    dataBytes: Number(head[3]),
    transmitted: Number(stats[1]),
    received: Number(stats[2]),
    lossPercent: Number(stats[3]),
    ...(rtt ? { rtt: { min: Number(rtt[1]), avg: Number(rtt[2]), max: Number(rtt[3]) } } : {}),
    replies,
  };
}
