/**
 * Fragment (and plain) pings with busybox ping/ping6 on the Linux test guest:
 * `ping -c COUNT -s SIZE -i INTERVAL -W 2 -w DEADLINE ADDR`, bounded in count and
 * time. Measurements: "<load>.loss" (%), "<load>.rtt.avg/min/max" (ms),
 * "<load>.ttl" (lowest TTL / IPv6 hop limit seen in replies — a router that
 * refragments IPv6 through pf lowers it by 2), "<load>.received".
 */
import type { LoadContext, LoadGenerator, Measurement } from './types.ts';
import { parseBusyboxPing, type PingSummary } from './ping-parse.ts';

export interface PingOptions {
  address: string;
  count: number;
  /** Payload bytes; above the path MTU the packets are fragmented. */
  size: number;
  intervalSec: number;
}

export function pingCommand(o: PingOptions): string {
  if (!/^[0-9A-Fa-f:.]+$/.test(o.address)) throw new Error(`ping: address must be a literal IPv4/IPv6 address, got ${JSON.stringify(o.address)}`);
  if (!Number.isInteger(o.count) || o.count < 1 || o.count > 10_000) throw new Error(`ping: count must be 1..10000, got ${o.count}`);
  if (!Number.isInteger(o.size) || o.size < 0 || o.size > 65_000) throw new Error(`ping: size must be 0..65000, got ${o.size}`);
  if (!(o.intervalSec >= 0.01 && o.intervalSec <= 60)) throw new Error(`ping: interval must be 0.01..60 s, got ${o.intervalSec}`);
  const deadline = pingDeadlineSec(o);
  const tool = o.address.includes(':') ? 'ping6' : 'ping';
  return `${tool} -c ${o.count} -s ${o.size} -i ${o.intervalSec} -W 2 -w ${deadline} ${o.address}`;
}

/** The -w bound: every echo request sent, plus time for the last replies. */
export function pingDeadlineSec(o: Pick<PingOptions, 'count' | 'intervalSec'>): number {
  return Math.ceil(o.count * o.intervalSec) + 5;
}

export function pingMeasurements(load: string, s: PingSummary): Measurement[] {
  const labels = { target: s.target, size: String(s.dataBytes) };
  const out: Measurement[] = [
    { name: `${load}.loss`, value: s.lossPercent, unit: '%', labels },
    { name: `${load}.received`, value: s.received, unit: 'packets', labels },
    { name: `${load}.transmitted`, value: s.transmitted, unit: 'packets', labels },
  ];
  if (s.rtt) {
    out.push(
      { name: `${load}.rtt.min`, value: s.rtt.min, unit: 'ms', labels },
      { name: `${load}.rtt.avg`, value: s.rtt.avg, unit: 'ms', labels },
      { name: `${load}.rtt.max`, value: s.rtt.max, unit: 'ms', labels },
    );
  }
  const ttls = s.replies.filter((r) => !r.duplicate).map((r) => r.ttl);
  if (ttls.length) out.push({ name: `${load}.ttl`, value: Math.min(...ttls), unit: 'hops', labels: { ...labels, max: String(Math.max(...ttls)) } });
  return out;
}

function numParam(ctx: LoadContext, key: string, dflt: number): number {
  const v = ctx.load.params[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number') throw new Error(`load ${ctx.load.name}: param ${key} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

export const pingGenerator: LoadGenerator = {
  name: 'ping',
  guests: ['testguest'],
  async run(ctx: LoadContext): Promise<Measurement[]> {
    const { load } = ctx;
    if (!ctx.to?.address) throw new Error(`load ${load.name}: ping needs a target VM with an address ("to:")`);
    const intervalSec = numParam(ctx, 'interval', 0.2);
    const opts: PingOptions = {
      address: ctx.to.address.split('/')[0]!,
      count: numParam(ctx, 'count', Math.max(1, Math.min(1000, Math.floor(load.durationSec / intervalSec)))),
      size: numParam(ctx, 'size', 56),
      intervalSec,
    };
    const cmd = pingCommand(opts);
    const res = await ctx.from.shell.exec(cmd, (pingDeadlineSec(opts) + 15) * 1000);
    await ctx.saveArtifact(`${load.name}-ping.txt`, `$ ${cmd}\n${res.stdout}${res.stderr}`);
    // busybox ping exits 1 when replies are missing: that is a measurement (loss), not a failure.
    try {
      return pingMeasurements(load.name, parseBusyboxPing(res.stdout));
    } catch (err) {
      throw new Error(`${res.vm}: ${cmd} (exit ${res.exitCode}): ${(err as Error).message}\n${res.stderr.trim().slice(-300)}`);
    }
  },
};
