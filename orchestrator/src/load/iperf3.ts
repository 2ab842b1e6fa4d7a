/**
 * iperf3 between two Linux guests: a one-shot server (`iperf3 -s -1 -J`) on `to`,
 * the client (`iperf3 -c ADDR -J -t DUR [-u -b RATE] [-P N] [-l LEN] [-6]`) on
 * `from`. Measurements are named after the load: "<load>.throughput" (what the
 * receiver got), "<load>.throughput.sent", TCP "<load>.retransmits", UDP
 * "<load>.lost", "<load>.jitter".
 */
import type { Measurement, LoadContext, LoadGenerator } from './types.ts';
import { Iperf3Error, parseIperf3Json, type Iperf3Summary } from './iperf3-parse.ts';

export const IPERF3_DEFAULT_PORT = 5201;
const MAX_SECONDS = 3600;

export interface Iperf3ClientOptions {
  address: string;
  seconds: number;
  udp?: boolean;
  /** Target bitrate, iperf3 syntax ("100M", "1G"); UDP defaults to 1M without it. */
  bitrate?: string;
  streams?: number;
  /** Datagram / write length in bytes. */
  length?: number;
  port?: number;
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`iperf3: ${what}`);
}

export function iperf3ServerCommand(port = IPERF3_DEFAULT_PORT): string {
  check(Number.isInteger(port) && port > 0 && port < 65536, `port must be 1..65535, got ${port}`);
  return `iperf3 -s -1 -J -p ${port}`;
}

export function iperf3ClientCommand(o: Iperf3ClientOptions): string {
  check(/^[0-9A-Fa-f:.]+$/.test(o.address), `address must be a literal IPv4/IPv6 address, got ${JSON.stringify(o.address)}`);
  check(Number.isInteger(o.seconds) && o.seconds >= 1 && o.seconds <= MAX_SECONDS, `seconds must be an integer 1..${MAX_SECONDS}, got ${o.seconds}`);
  const args = ['iperf3', '-c', o.address, '-J', '-t', String(o.seconds), '-p', String(o.port ?? IPERF3_DEFAULT_PORT)];
  if (o.address.includes(':')) args.push('-6');
  if (o.udp) args.push('-u');
  if (o.bitrate !== undefined) {
    check(/^\d+(\.\d+)?[KMGkmg]?$/.test(o.bitrate), `bitrate must look like 100M, got ${JSON.stringify(o.bitrate)}`);
    args.push('-b', o.bitrate);
  }
  if (o.streams !== undefined) {
    check(Number.isInteger(o.streams) && o.streams >= 1 && o.streams <= 128, `streams must be 1..128, got ${o.streams}`);
    args.push('-P', String(o.streams));
  }
  if (o.length !== undefined) {
    check(Number.isInteger(o.length) && o.length >= 16 && o.length <= 65507, `length must be 16..65507, got ${o.length}`);
    args.push('-l', String(o.length));
  }
  return args.join(' ');
}

export function iperf3Measurements(load: string, s: Iperf3Summary): Measurement[] {
  const labels = { protocol: s.protocol.toLowerCase(), streams: String(s.streams) };
  const out: Measurement[] = [
    { name: `${load}.throughput`, value: s.receivedBitsPerSecond, unit: 'bit/s', labels: { ...labels, direction: 'received' } },
    { name: `${load}.throughput.sent`, value: s.sentBitsPerSecond, unit: 'bit/s', labels: { ...labels, direction: 'sent' } },
  ];
  if (s.retransmits !== undefined) out.push({ name: `${load}.retransmits`, value: s.retransmits, unit: 'packets', labels });
  if (s.lostPercent !== undefined) out.push({ name: `${load}.lost`, value: s.lostPercent, unit: '%', labels });
  if (s.lostPackets !== undefined) out.push({ name: `${load}.lost.packets`, value: s.lostPackets, unit: 'packets', labels });
  if (s.jitterMs !== undefined) out.push({ name: `${load}.jitter`, value: s.jitterMs, unit: 'ms', labels });
  return out;
}

/**
 * The server was not listening yet. Through a relay the client's connection is
 * accepted by the relay, which then fails to reach the server and closes it
 * (iperf3 3.12 on a closed or reset control connection, as seen against a
 * local closing listener: "control socket has closed unexpectedly", "unable to
 * send cookie to server: Connection reset by peer").
 */
export function notListeningYet(message: string, relayed: boolean): boolean {
  if (/Connection refused/.test(message)) return true;
  return relayed && /control socket has closed unexpectedly|unable to send cookie to server/.test(message);
}

function param<T extends string | number | boolean>(ctx: LoadContext, key: string, type: 'string' | 'number' | 'boolean'): T | undefined {
  const v = ctx.load.params[key];
  if (v === undefined) return undefined;
  if (typeof v !== type) throw new Error(`load ${ctx.load.name}: param ${key} must be a ${type}, got ${JSON.stringify(v)}`);
  return v as T;
}

export const iperf3Generator: LoadGenerator = {
  name: 'iperf3',
  guests: ['testguest', 'openbsd'],
  serverGuests: ['testguest', 'openbsd'],
  async run(ctx: LoadContext): Promise<Measurement[]> {
    const { load } = ctx;
    if (!ctx.to?.address) throw new Error(`load ${load.name}: iperf3 needs a target VM with an address ("to:")`);
    const port = param<number>(ctx, 'port', 'number') ?? IPERF3_DEFAULT_PORT;
    const udp = param<boolean>(ctx, 'udp', 'boolean') ?? param<string>(ctx, 'protocol', 'string') === 'udp';
    if (udp && ctx.relay) throw new Error(`load ${load.name}: a splice relay ("via") carries TCP only; drop udp/protocol or via`);
    const bitrate = ctx.load.params.bitrate;
    const client = iperf3ClientCommand({
      address: (ctx.relay?.address ?? ctx.to.address).split('/')[0]!,
      seconds: load.durationSec,
      port,
      udp,
      ...(bitrate !== undefined ? { bitrate: String(bitrate) } : {}),
      ...(param<number>(ctx, 'streams', 'number') !== undefined ? { streams: param<number>(ctx, 'streams', 'number')! } : {}),
      ...(param<number>(ctx, 'length', 'number') !== undefined ? { length: param<number>(ctx, 'length', 'number')! } : {}),
    });
    const server = await ctx.to.shell.start(iperf3ServerCommand(port));
    try {
      // The server may not listen yet: a refused connection is retried, briefly and a bounded number of times.
      for (let attempt = 1; ; attempt++) {
        ctx.signal.throwIfAborted();
        const res = await ctx.from.shell.exec(client, (load.durationSec + 30) * 1000);
        await ctx.saveArtifact(`${load.name}-iperf3-client.json`, res.stdout);
        try {
          return iperf3Measurements(load.name, parseIperf3Json(res.stdout));
        } catch (err) {
          if (!(err instanceof Iperf3Error && notListeningYet(err.message, ctx.relay !== undefined)) || attempt >= 5) {
            throw new Error(`${res.vm}: ${client}: ${(err as Error).message}${res.stderr.trim() ? `\n${res.stderr.trim().slice(-300)}` : ''}`);
          }
          await new Promise((r) => setTimeout(r, 500 * attempt));
        }
      }
    } finally {
      const s = await server.stop();
      if (s.stdout.trim()) await ctx.saveArtifact(`${load.name}-iperf3-server.json`, s.stdout).catch(() => undefined);
    }
  },
  serverPort: (load) => (typeof load.params.port === 'number' ? load.params.port : IPERF3_DEFAULT_PORT),
};
