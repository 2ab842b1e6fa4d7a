/**
 * Pure: the QEMU command line for one VM. No defaults from the host leak in
 * (-nodefaults), nothing is reachable from outside (management NIC is restricted
 * user networking with SSH forwarded from 127.0.0.1 only), and nothing is a shell
 * string: the result is an argument array.
 */
import { join } from 'node:path';
import { MANAGEMENT_SLOT, MAX_UNIX_PATH, slotHex, type NicWiring } from './topology.ts';

export type Accel = 'kvm' | 'tcg';

export type BootMedia =
  | { kind: 'kernel'; kernel: string; initrd?: string; append?: string }
  | { kind: 'cdrom'; iso: string }
  | { kind: 'disk' };

export interface VmPaths {
  /** Serial console: a unix stream socket (QEMU listens, one client at a time). */
  console: string;
  /** Everything the guest wrote to the serial port, whether or not a client was connected. */
  consoleLog: string;
  qmp: string;
  pidfile: string;
}

export interface ManagementNic {
  mac: string;
  /** Host port on 127.0.0.1 forwarded to the guest's port 22. */
  sshPort: number;
}

export interface QemuLaunch {
  name: string;
  cpus: number;
  memoryMiB: number;
  accel: Accel;
  boot: BootMedia;
  /** qcow2 overlay (never the base image). */
  disk?: string;
  nics: NicWiring[];
  management?: ManagementNic;
  paths: VmPaths;
  /** Let a guest reboot inside the same QEMU (installed OpenBSD rebooting into /bsd.test); default: a reboot ends QEMU. */
  allowReboot?: boolean;
}

/**
 * The management network: QEMU user networking on documentation ranges, with
 * restrict=on so the guest cannot reach the host or beyond.
 */
export const MANAGEMENT_NET = {
  net: '203.0.113.0/24',
  host: '203.0.113.2',
  dhcpStart: '203.0.113.15',
  ipv6Net: '2001:db8:ffff::/64',
} as const;

/** The console uses a mux chardev: the byte sequence Ctrl-a b sends a serial BREAK. */
export const CONSOLE_BREAK_SEQUENCE = '\x01b';
/** A literal Ctrl-a for the guest must be sent doubled through the mux. */
export const CONSOLE_ESCAPE_LITERAL = '\x01\x01';

export class QemuArgsError extends Error {
  constructor(vm: string, message: string) {
    super(`vm ${vm}: ${message}`);
    this.name = 'QemuArgsError';
  }
}

export function vmPaths(dir: string, name: string): VmPaths {
  const paths = {
    console: join(dir, `${name}.console.sock`),
    consoleLog: join(dir, `${name}.serial.log`),
    qmp: join(dir, `${name}.qmp.sock`),
    pidfile: join(dir, `${name}.pid`),
  };
  for (const p of [paths.console, paths.qmp]) {
    if (p.length > MAX_UNIX_PATH) throw new QemuArgsError(name, `socket path too long (${p.length} > ${MAX_UNIX_PATH}): ${p}`);
  }
  return paths;
}

/** Option values are comma-separated in QEMU; a literal comma must be doubled. */
function optValue(v: string): string {
  return v.replaceAll(',', ',,');
}

export function qemuArgs(l: QemuLaunch): string[] {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(l.name)) throw new QemuArgsError(l.name, 'name must be letters, digits, "_", "." or "-"');
  if (!Number.isInteger(l.cpus) || l.cpus < 1) throw new QemuArgsError(l.name, `cpus must be a positive integer, got ${l.cpus}`);
  if (!Number.isInteger(l.memoryMiB) || l.memoryMiB < 16) throw new QemuArgsError(l.name, `memoryMiB must be an integer >= 16, got ${l.memoryMiB}`);
  const args = [
    '-name',
    `${l.name},process=obsdlab-${l.name}`,
    '-machine',
    'q35',
    '-accel',
    l.accel === 'kvm' ? 'kvm' : 'tcg,thread=multi',
    ...(l.accel === 'kvm' ? ['-cpu', 'host'] : []),
    '-smp',
    String(l.cpus),
    '-m',
    String(l.memoryMiB),
    '-display',
    'none',
    '-vga',
    'none',
    '-monitor',
    'none',
    '-nodefaults',
    ...(l.allowReboot ? [] : ['-no-reboot']),
    '-pidfile',
    l.paths.pidfile,
    '-chardev',
    `socket,id=console,path=${optValue(l.paths.console)},server=on,wait=off,mux=on,logfile=${optValue(l.paths.consoleLog)},logappend=on`,
    '-serial',
    'chardev:console',
    '-qmp',
    `unix:${optValue(l.paths.qmp)},server=on,wait=off`,
  ];
  switch (l.boot.kind) {
    case 'kernel':
      args.push('-kernel', l.boot.kernel);
      if (l.boot.initrd) args.push('-initrd', l.boot.initrd);
      if (l.boot.append) args.push('-append', l.boot.append);
      break;
    case 'cdrom':
      args.push('-cdrom', l.boot.iso, '-boot', 'd');
      break;
    case 'disk':
      if (!l.disk) throw new QemuArgsError(l.name, 'boot from disk needs a disk');
      break;
  }
  if (l.disk) {
    args.push('-drive', `file=${optValue(l.disk)},if=none,id=disk0,format=qcow2,cache=unsafe`, '-device', 'virtio-blk-pci,drive=disk0');
  }
  for (const nic of l.nics) args.push(...nic.args);
  if (l.management) {
    const m = MANAGEMENT_NET;
    const port = l.management.sshPort;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new QemuArgsError(l.name, `bad SSH port ${port}`);
    args.push(
      '-netdev',
      `user,id=mgmt,restrict=on,net=${m.net},host=${m.host},dhcpstart=${m.dhcpStart},ipv6-net=${m.ipv6Net},hostfwd=tcp:127.0.0.1:${port}-:22`,
      '-device',
      `virtio-net-pci,netdev=mgmt,mac=${l.management.mac},addr=${slotHex(MANAGEMENT_SLOT)}`,
    );
  }
  return args;
}
