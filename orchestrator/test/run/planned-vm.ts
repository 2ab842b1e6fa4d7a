/** PlannedVm and PlannedNic stand-ins for runner tests. */
import type { PlannedNic, PlannedVm } from '../../src/playbook/plan-types.ts';

export const nic = (index: number, link: string, addrs: string[]): PlannedNic => ({ index, link, mac: `52:54:00:00:00:0${index}`, addrs, mtu: 1500 });

export const plannedVm = (name: string, guest: PlannedVm['guest'], nics: PlannedNic[], forwarding = false): PlannedVm => ({
  name,
  guest,
  cpus: 1,
  memoryMiB: 64,
  kernel: { kind: 'prebuilt', name: 'k' },
  bootCommands: [],
  consoleOnly: false,
  nics,
  routes: [],
  forwarding: { inet: forwarding, inet6: forwarding },
  pf: { enabled: false },
  sysctls: {},
});
