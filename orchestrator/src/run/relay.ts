/**
 * Load phases "via" a relay VM: a socket-splicing TCP relay (SO_SPLICE) on an
 * OpenBSD guest between the client and the server, started before the
 * generator and stopped after it, its counters kept as measurements.
 */
import type { GuestAdapter, GuestContext, SpliceRelayStats } from '../guest/adapter.ts';
import type { LoadGenerator, Measurement } from '../load/types.ts';
import type { PlannedLoad, PlannedVm } from '../playbook/plan-types.ts';

/** Seconds a relay outlives its phase's duration (connection setup, a slow client): it still ends on its own. */
const RELAY_SLACK_SEC = 60;

function familyOf(cidr: string): 4 | 6 {
  return cidr.includes(':') ? 6 : 4;
}

/** The relay's address the client should connect to: on a link shared with the client, else its first of the family. */
export function relayAddress(via: PlannedVm, client: PlannedVm, family: 4 | 6): string | undefined {
  const clientLinks = new Set(client.nics.map((n) => n.link));
  const candidates = [...via.nics.filter((n) => clientLinks.has(n.link)), ...via.nics];
  for (const nic of candidates) for (const a of nic.addrs) if (familyOf(a) === family) return a.split('/')[0]!;
  return undefined;
}

export function spliceMeasurements(load: string, relayVm: string, s: SpliceRelayStats): Measurement[] {
  const labels = { vm: relayVm };
  const out: Measurement[] = [];
  const add = (name: string, value: number | undefined, unit: string) => {
    if (value !== undefined) out.push({ name: `${load}.splice.${name}`, value, unit, labels });
  };
  add('bytes', s.bytes, 'bytes');
  add('accepted', s.accepted, 'connections');
  add('connected', s.connected, 'connections');
  add('connect-failed', s.connectFailed, 'connections');
  add('splice-failed', s.spliceFailed, 'connections');
  return out;
}

export interface RelayGuest {
  vm: PlannedVm;
  adapter: GuestAdapter;
  ctx: GuestContext;
}

/**
 * Runs `body` with a splice relay on `via` forwarding to `server`'s address.
 * The relay is stopped whatever happens, except once the run is stopping (a
 * crash: the relay VM's console may be in the middle of a ddb session that a
 * stray command would disturb; the relay dies with the VM). Its counters follow
 * the generator's measurements. A relay that cannot be stopped after a good
 * load loses only its counters (logged), never the load's measurements.
 */
export async function withSpliceRelay(
  phase: PlannedLoad,
  gen: LoadGenerator,
  via: RelayGuest,
  client: PlannedVm,
  serverAddress: string | undefined,
  family: 4 | 6,
  body: (relay: { vm: string; address: string }) => Promise<Measurement[]>,
  log: (line: string) => void,
  signal: AbortSignal,
): Promise<Measurement[]> {
  const where = `load ${phase.name} via ${via.vm.name}`;
  if (!via.adapter.startSpliceRelay) throw new Error(`${where}: ${via.vm.guest} guests cannot run a splice relay`);
  if (!gen.serverPort) throw new Error(`${where}: generator ${gen.name} cannot run through a relay`);
  if (!serverAddress) throw new Error(`${where}: the server VM has no IPv${family} address`);
  const listen = relayAddress(via.vm, client, family);
  if (!listen) throw new Error(`${where}: ${via.vm.name} has no IPv${family} address for the client to connect to`);
  const port = gen.serverPort(phase);
  const relay = await via.adapter.startSpliceRelay(via.ctx, {
    listenPort: port,
    listenAddress: listen,
    target: { address: serverAddress, port },
    seconds: phase.durationSec + RELAY_SLACK_SEC,
  });
  let measurements: Measurement[];
  try {
    measurements = await body({ vm: via.vm.name, address: listen });
  } catch (err) {
    if (!signal.aborted) await relay.stop().catch((e: unknown) => log(`${where}: stopping the relay failed: ${(e as Error).message}`));
    throw err;
  }
  if (signal.aborted) return measurements;
  try {
    const stats = await relay.stop();
    if (stats.lastError) log(`${where}: relay's last error ${stats.lastError}`);
    return [...measurements, ...spliceMeasurements(phase.name, via.vm.name, stats)];
  } catch (e) {
    log(`${where}: stopping the relay failed, its counters are lost: ${(e as Error).message}`);
    return measurements;
  }
}
