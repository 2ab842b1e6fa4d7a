/**
 * tcpbench(1) between two OpenBSD guests: server `tcpbench -s`, client
 * `tcpbench -t SECS -n STREAMS ADDR`; the client's exit summary is the measurement.
 */
import type { LoadContext, LoadGenerator, Measurement } from './types.ts';

export interface TcpbenchOptions {
  seconds: number;
  streams: number;
  address: string;
  port?: number;
  udp?: boolean;
}

function checkPositiveInt(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`tcpbench: ${name} must be an integer 1..${max}, got ${v}`);
}

export function tcpbenchServerCommand(opts: { port?: number; udp?: boolean; family?: 4 | 6 } = {}): string {
  const args = ['tcpbench', '-s'];
  if (opts.family) args.push(`-${opts.family}`);
  if (opts.udp) args.push('-u');
  if (opts.port !== undefined) args.push('-p', String(opts.port));
  return args.join(' ');
}

export function tcpbenchClientCommand(opts: TcpbenchOptions): string {
  checkPositiveInt('seconds', opts.seconds, 86400);
  checkPositiveInt('streams', opts.streams, 1024);
  if (!/^[0-9A-Fa-f:.]+$/.test(opts.address)) throw new Error(`tcpbench: address must be a literal IPv4/IPv6 address, got ${JSON.stringify(opts.address)}`);
  const args = ['tcpbench'];
  if (opts.udp) args.push('-u');
  else args.push('-n', String(opts.streams));
  args.push('-t', String(opts.seconds));
  if (opts.port !== undefined) args.push('-p', String(opts.port));
  args.push(opts.address);
  return args.join(' ');
}

export interface TcpbenchSummary {
  bytes: number;
  direction: 'sent' | 'received';
  seconds: number;
  mbps: { min: number; avg: number; max: number; stddev: number };
  /** The "Conn: N Mbps: X" slice lines, in order. */
  slices: { conns: number; mbps: number }[];
}

/** Parses tcpbench's periodic `Conn:` lines and its exit summary (tcpbench.c summary_display). */
export function parseTcpbench(text: string): TcpbenchSummary {
  const t = text.replace(/\r/g, '');
  const slices = [...t.matchAll(/^Conn:\s+(\d+) Mbps:\s+([\d.]+) Peak Mbps:\s+[\d.]+ Avg Mbps:\s+[\d.]+$/gm)].map((m) => ({
    conns: Number(m[1]),
    mbps: Number(m[2]),
  }));
  const total = /^(\d+) bytes (sent|received) over ([\d.]+) seconds$/m.exec(t);
  const bw = /^bandwidth min\/avg\/max\/std-dev = ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) Mbps$/m.exec(t);
  if (!total || !bw) {
    throw new Error(`tcpbench: no summary ("N bytes sent over S seconds" / "bandwidth min/avg/max/std-dev") in output:\n${t.slice(-400)}`);
  }
  return {
    bytes: Number(total[1]),
    direction: total[2] as 'sent' | 'received',
    seconds: Number(total[3]),
    mbps: { min: Number(bw[1]), avg: Number(bw[2]), max: Number(bw[3]), stddev: Number(bw[4]) },
    slices,
  };
}

/** tcpbench(1) listens on 12345 unless -p says otherwise. */
export const TCPBENCH_DEFAULT_PORT = 12345;

export function tcpbenchMeasurements(s: TcpbenchSummary, load: string): Measurement[] {
  const labels = { direction: s.direction };
  return [
    { name: `${load}.throughput`, value: (s.bytes * 8) / s.seconds, unit: 'bit/s', labels },
    { name: `${load}.throughput.slice-avg`, value: s.mbps.avg * 1e6, unit: 'bit/s', labels },
    { name: `${load}.throughput.slice-stddev`, value: s.mbps.stddev * 1e6, unit: 'bit/s', labels },
  ];
}

export const tcpbenchGenerator: LoadGenerator = {
  name: 'tcpbench',
  guests: ['openbsd'],
  serverGuests: ['openbsd'],
  async run(ctx: LoadContext): Promise<Measurement[]> {
    const { load } = ctx;
    if (!ctx.to?.address) throw new Error(`load ${load.name}: tcpbench needs a target VM with an address ("to:")`);
    const address = (ctx.relay?.address ?? ctx.to.address).split('/')[0]!;
    const port = typeof load.params.port === 'number' ? load.params.port : undefined;
    const streams = typeof load.params.streams === 'number' ? load.params.streams : 1;
    const server = await ctx.to.shell.start(tcpbenchServerCommand({ port }));
    try {
      // tcpbench's client does not retry a refused connect: give the server a moment to listen
      await new Promise((r) => setTimeout(r, 1000));
      const client = tcpbenchClientCommand({ seconds: load.durationSec, streams, address, port });
      const res = await ctx.from.shell.exec(client, (load.durationSec + 30) * 1000);
      await ctx.saveArtifact(`${load.name}-tcpbench.txt`, `$ ${client}\n${res.stdout}${res.stderr}`);
      if (res.exitCode !== 0) throw new Error(`${res.vm}: ${client} exited ${res.exitCode}: ${res.stderr.trim().slice(-300)}`);
      return tcpbenchMeasurements(parseTcpbench(res.stdout), load.name);
    } finally {
      await server.stop();
    }
  },
  serverPort: (load) => (typeof load.params.port === 'number' ? load.params.port : TCPBENCH_DEFAULT_PORT),
};
