/**
 * After a load phase failed while every guest still answers: is the path
 * between its ends dead? A dead path ("forwarding stalled") is named in the
 * run's outcome instead of the tool's timeout, and the load stops there. Who
 * stalled is not known from outside: a router's kernel (a stuck queue, a
 * leaked pool, a wedged ARP/ND entry) or the VM links themselves.
 */
import type { GuestShell } from '../guest/adapter.ts';
import { parseBusyboxPing } from '../load/ping-parse.ts';
import { pingCommand } from '../load/ping.ts';
import type { PlannedLoad, PlannedRun, PlannedVm } from '../playbook/plan-types.ts';

/** Five pings a second apart, ten seconds at most: a live path answers at least one. */
const PROBE = { count: 5, size: 56, intervalSec: 1 } as const;

export interface PathToProbe {
  phase: PlannedLoad;
  from: PlannedVm;
  to: PlannedVm;
  family: 4 | 6;
  /** The target's address the probe pings. */
  address: string;
  /** The VMs that forward between the ends: the suspects when the path is dead. */
  routers: PlannedVm[];
}

/** The failed phases' paths worth probing, once each (the same ends and family probe alike). */
export function pathsToProbe(
  run: PlannedRun,
  failedPhaseNames: string[],
  family: (phase: PlannedLoad) => 4 | 6,
  addressOf: (vm: PlannedVm, family: 4 | 6) => string | undefined,
): PathToProbe[] {
  const byName = new Map(run.vms.map((v) => [v.name, v]));
  const seen = new Set<string>();
  const out: PathToProbe[] = [];
  for (const name of failedPhaseNames) {
    const phase = run.load.find((l) => l.name === name);
    if (!phase?.to) continue;
    const from = byName.get(phase.from);
    const to = byName.get(phase.to);
    if (!from || !to) continue;
    const fam = family(phase);
    const address = addressOf(to, fam);
    const key = `${from.name}>${to.name}/${fam}`;
    if (!address || seen.has(key)) continue;
    seen.add(key);
    const routers = run.vms.filter((v) => v !== from && v !== to && (fam === 4 ? v.forwarding.inet : v.forwarding.inet6));
    out.push({ phase, from, to, family: fam, address, routers });
  }
  return out;
}

/**
 * Pings the target from the client: true when anything answered, false when
 * nothing did, undefined when the probe could not tell (a client without a
 * ping we drive, or the probe itself failed to run).
 */
export async function pathAnswers(path: PathToProbe, shell: GuestShell): Promise<boolean | undefined> {
  if (path.from.guest !== 'testguest') return undefined;
  const command = pingCommand({ address: path.address, ...PROBE });
  try {
    const res = await shell.exec(command, 30_000);
    return parseBusyboxPing(res.stdout).received > 0;
  } catch {
    return undefined;
  }
}

export function stallDetail(path: PathToProbe): string {
  const via = path.routers.length ? ` through ${path.routers.map((r) => r.name).join(', ')}` : '';
  return `forwarding stalled: ${path.from.name} cannot reach ${path.to.name} (${path.address}) over IPv${path.family}${via} after load ${path.phase.name} failed; every guest still answers`;
}
