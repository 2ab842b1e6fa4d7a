/**
 * udpbench (bluhm's, OpenBSD package net/udpbench): `udpbench recv` on the sink,
 * `udpbench send` on the source; each side prints one summary line on exit:
 * "send: syscalls N, packets N, frame N, payload N, ip N, ether N, begin S.U,
 * end S.U, duration S.U, bit/s X, start S.U, stop S.U" (udpbench.c status_line).
 */
import type { LoadContext, LoadGenerator, Measurement } from './types.ts';

export interface UdpbenchOptions {
  action: 'send' | 'recv';
  /** Send duration; recv waits this long plus udpbench's own grace. */
  seconds: number;
  /** UDP payload length (-l). */
  length: number;
  port: number;
  address: string;
  /** Packets per second limit when sending (-P). */
  packetRate?: number;
}

export function udpbenchCommand(o: UdpbenchOptions): string {
  if (!Number.isInteger(o.seconds) || o.seconds < 1 || o.seconds > 3600) throw new Error(`udpbench: seconds must be 1..3600, got ${o.seconds}`);
  if (!Number.isInteger(o.length) || o.length < 0 || o.length > 65507) throw new Error(`udpbench: length must be 0..65507, got ${o.length}`);
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) throw new Error(`udpbench: port must be 1..65535, got ${o.port}`);
  if (!/^[0-9A-Fa-f:.]+$/.test(o.address)) throw new Error(`udpbench: address must be a literal IPv4/IPv6 address, got ${JSON.stringify(o.address)}`);
  const args = ['udpbench', `-l${o.length}`, `-p${o.port}`, `-t${o.seconds}`];
  if (o.packetRate !== undefined) {
    if (o.action !== 'send') throw new Error('udpbench: -P (packet rate) is for the sending side');
    args.push(`-P${o.packetRate}`);
  }
  args.push(o.action, o.address);
  return args.join(' ');
}

export interface UdpbenchResult {
  action: 'send' | 'recv';
  syscalls: number;
  packets: number;
  payload: number;
  ip: number;
  ether: number;
  durationSec: number;
  bitsPerSec: number;
}

export function parseUdpbench(text: string): UdpbenchResult {
  const m = /^(send|recv): syscalls (\d+), packets (\d+), frame \d+, payload (\d+), ip (\d+), ether (\d+), begin [\d.]+, end [\d.]+, duration ([\d.]+), bit\/s ([\d.e+-]+)/m.exec(text.replace(/\r/g, ''));
  if (!m) throw new Error(`udpbench: no "send:" or "recv:" summary line in output:\n${text.slice(-400)}`);
  return {
    action: m[1] as 'send' | 'recv',
    syscalls: Number(m[2]),
    packets: Number(m[3]),
    payload: Number(m[4]),
    ip: Number(m[5]),
    ether: Number(m[6]),
    durationSec: Number(m[7]),
    bitsPerSec: Number(m[8]),
  };
}

/** Throughput as the receiver saw it, and the share of sent packets that never arrived. */
export function udpbenchMeasurements(send: UdpbenchResult, recv: UdpbenchResult, load: string): Measurement[] {
  const lost = send.packets > 0 ? (100 * Math.max(0, send.packets - recv.packets)) / send.packets : 0;
  return [
    { name: `${load}.throughput`, value: recv.bitsPerSec, unit: 'bit/s', labels: { side: 'recv' } },
    { name: `${load}.send-rate`, value: send.bitsPerSec, unit: 'bit/s', labels: { side: 'send' } },
    { name: `${load}.loss`, value: lost, unit: '%' },
  ];
}

export const udpbenchGenerator: LoadGenerator = {
  name: 'udpbench',
  guests: ['openbsd'],
  serverGuests: ['openbsd'],
  async run(ctx: LoadContext): Promise<Measurement[]> {
    const { load } = ctx;
    if (!ctx.to?.address) throw new Error(`load ${load.name}: udpbench needs a target VM with an address ("to:")`);
    const address = ctx.to.address.split('/')[0]!;
    const length = typeof load.params.length === 'number' ? load.params.length : 1000;
    const port = typeof load.params.port === 'number' ? load.params.port : 12345;
    const packetRate = typeof load.params.packetRate === 'number' ? load.params.packetRate : undefined;
    const recvCmd = udpbenchCommand({ action: 'recv', seconds: load.durationSec + 2, length, port, address });
    const sendCmd = udpbenchCommand({ action: 'send', seconds: load.durationSec, length, port, address, ...(packetRate ? { packetRate } : {}) });
    const receiver = await ctx.to.shell.start(recvCmd);
    // the receiver must be bound before the first datagram: udpbench prints "sockname:" once it is
    await new Promise((r) => setTimeout(r, 1000));
    const sent = await ctx.from.shell.exec(sendCmd, (load.durationSec + 30) * 1000);
    const received = await receiver.wait((load.durationSec + 30) * 1000);
    await ctx.saveArtifact(`${load.name}-udpbench.txt`, `$ ${sendCmd}\n${sent.stdout}${sent.stderr}\n$ ${recvCmd}\n${received.stdout}${received.stderr}`);
    if (sent.exitCode !== 0) throw new Error(`${sent.vm}: ${sendCmd} exited ${sent.exitCode}: ${sent.stderr.trim().slice(-300)}`);
    return udpbenchMeasurements(parseUdpbench(sent.stdout), parseUdpbench(received.stdout), load.name);
  },
};
