/**
 * Turns the plan's links into QEMU netdev/device arguments. Every link is a
 * point-to-point wire made of two unix datagram sockets in the run directory:
 * each end binds its own path and sends to the other's (`-netdev dgram`), so the
 * VMs of a run can start in any order. No host network is involved.
 *
 * PCI layout (same for every guest): test NIC i sits in slot TEST_NIC_FIRST_SLOT+i,
 * the management NIC after all of them, so test NIC 0 is probed first (vio0 on
 * OpenBSD, eth0 on Linux) whether or not the VM has a management NIC.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { PlannedLink, PlannedVm } from '../playbook/plan-types.ts';

export const TEST_NIC_FIRST_SLOT = 3;
export const MANAGEMENT_SLOT = 0x1e;
/** Longest unix socket path Linux accepts (sun_path is 108 bytes with the NUL). */
export const MAX_UNIX_PATH = 107;

export class TopologyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TopologyError';
  }
}

export interface NicWiring {
  nicIndex: number;
  link: string;
  mac: string;
  /** Socket this end binds and the one it sends to. */
  localPath: string;
  remotePath: string;
  args: string[];
}

export interface LinkEnd {
  vm: string;
  nic: number;
}

/** Parses "vm.nicIndex" (the VM name may itself contain dots). */
export function parseLinkEnd(end: string, link: string): LinkEnd {
  const m = /^(.+)\.(\d+)$/.exec(end);
  if (!m) throw new TopologyError(`link ${link}: end "${end}" is not "<vm>.<nic index>"`);
  return { vm: m[1]!, nic: Number(m[2]) };
}

function socketName(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** Path of the datagram socket bound by one end of a link. */
export function linkSocketPath(runDir: string, link: string, end: LinkEnd): string {
  const path = join(runDir, 'net', `${socketName(link)}.${socketName(end.vm)}.${end.nic}.sock`);
  if (path.length > MAX_UNIX_PATH) {
    throw new TopologyError(`link ${link}: socket path too long for a unix socket (${path.length} > ${MAX_UNIX_PATH}): ${path}`);
  }
  return path;
}

/** Netdev + device arguments for every test NIC of `vm`, in NIC order. */
export function wireVm(vm: PlannedVm, links: PlannedLink[], runDir: string): NicWiring[] {
  const wiring: NicWiring[] = [];
  for (const nic of [...vm.nics].sort((a, b) => a.index - b.index)) {
    const link = links.find((l) => l.name === nic.link);
    if (!link) throw new TopologyError(`vm ${vm.name}: nic ${nic.index} names link "${nic.link}", which the plan does not define`);
    const ends = link.ends.map((e) => parseLinkEnd(e, link.name));
    const mineAt = ends.findIndex((e) => e.vm === vm.name && e.nic === nic.index);
    if (mineAt < 0) {
      throw new TopologyError(`vm ${vm.name}: nic ${nic.index} is on link ${link.name}, whose ends are ${link.ends.join(' and ')}`);
    }
    const local = ends[mineAt]!;
    const remote = ends[1 - mineAt]!;
    if (remote.vm === local.vm && remote.nic === local.nic) throw new TopologyError(`link ${link.name}: both ends are ${link.ends[0]}`);
    const localPath = linkSocketPath(runDir, link.name, local);
    const remotePath = linkSocketPath(runDir, link.name, remote);
    const id = `net${nic.index}`;
    wiring.push({
      nicIndex: nic.index,
      link: link.name,
      mac: nic.mac,
      localPath,
      remotePath,
      args: [
        '-netdev',
        `dgram,id=${id},local.type=unix,local.path=${localPath},remote.type=unix,remote.path=${remotePath}`,
        '-device',
        `virtio-net-pci,netdev=${id},mac=${nic.mac},addr=${slotHex(TEST_NIC_FIRST_SLOT + nic.index)}`,
      ],
    });
  }
  return wiring;
}

/** Checks that every link has two distinct ends that exist as NICs of planned VMs. */
export function validateLinks(vms: PlannedVm[], links: PlannedLink[]): void {
  const seen = new Set<string>();
  for (const link of links) {
    for (const e of link.ends) {
      const end = parseLinkEnd(e, link.name);
      const vm = vms.find((v) => v.name === end.vm);
      if (!vm) throw new TopologyError(`link ${link.name}: end ${e} names vm "${end.vm}", which is not in the run`);
      if (!vm.nics.some((n) => n.index === end.nic && n.link === link.name)) {
        throw new TopologyError(`link ${link.name}: vm ${end.vm} has no nic ${end.nic} on this link`);
      }
      const key = `${end.vm}.${end.nic}`;
      if (seen.has(key)) throw new TopologyError(`link ${link.name}: nic ${key} is already on another link`);
      seen.add(key);
    }
  }
}

export function slotHex(slot: number): string {
  if (slot < 1 || slot > 0x1f) throw new TopologyError(`PCI slot ${slot} out of range`);
  return `0x${slot.toString(16)}`;
}

/** Deterministic, locally administered MAC of a VM's management NIC. */
export function managementMac(vmName: string): string {
  const h = createHash('sha256').update(`obsdlab-mgmt:${vmName}`).digest();
  return ['02', 'fe', ...[...h.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
