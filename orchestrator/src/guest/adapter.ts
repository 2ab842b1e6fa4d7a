/**
 * A guest adapter knows one guest OS: how it boots, how it is told to configure
 * interfaces, routes, forwarding and pf, how it crashes on demand and how its
 * crash diagnostics are collected. The runner never branches on the OS.
 *
 * Implementations: guest/testguest.ts (Linux stand-in, SSH), guest/openbsd.ts
 * (installed OpenBSD, SSH), guest/openbsd-lab.ts (ramdisk agent, console only).
 */
import type { ConsoleChannel } from '../console/types.ts';
import type { PlannedVm } from '../playbook/plan-types.ts';

export interface CommandResult {
  vm: string;
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** A long-running command started in the guest (load server, btrace). */
export interface BackgroundCommand {
  readonly command: string;
  /** Waits for it to end (or kills it at timeout) and returns its output. */
  wait(timeoutMs: number): Promise<CommandResult>;
  /** Stops it early (SIGTERM in the guest, then closes the channel). */
  stop(): Promise<CommandResult>;
}

/** What the guest's command channel is: SSH for installed systems, the serial console for the lab agent. */
export interface GuestShell {
  exec(command: string, timeoutMs: number): Promise<CommandResult>;
  start(command: string): Promise<BackgroundCommand>;
  put?(localPath: string, remotePath: string): Promise<void>;
  get?(remotePath: string, localPath: string): Promise<void>;
}

export interface GuestContext {
  vm: PlannedVm;
  console: ConsoleChannel;
  /** Set once waitReady() has succeeded. */
  shell?: GuestShell;
  /** The run directory of this VM (console log, command log). */
  dir: string;
  /** Appends a line to the VM's command log. */
  log(line: string): void;
  signal: AbortSignal;
  /** Host port forwarded to the guest's SSH (127.0.0.1 only), when the VM has a management NIC. */
  sshPort?: number;
}

export interface BootInfo {
  /** The kernel's version line (OpenBSD: kern.version first line; Linux: /proc/version). */
  kernelVersion: string;
  /** Devices seen in dmesg that matter for the test (vio0, virtio_net ...). */
  devices: string[];
  /** Milliseconds from VM start to ready. */
  bootMs: number;
}

/** Named counter values, e.g. "ip.forward" → 40, "mbuf.clusters.inuse" → 12. */
export type CounterSnapshot = Record<string, number>;

export interface KernelProfile {
  /** Total samples. */
  total: number;
  /** Stacks leaf-first, with sample counts. Frames are "func+0xoff" or raw addresses until symbolized. */
  stacks: { frames: string[]; count: number }[];
}

/** What the adapter collected after a crash was detected on the console. */
export interface Diagnosis {
  /** Console offsets of the crash text (from the first crash line to the end of collection). */
  consoleFrom: number;
  consoleTo: number;
  /** Per-command captures of a scripted debugger session (OpenBSD ddb), in order. */
  commands: { command: string; output: string; status: 'ok' | 'timeout' }[];
  /** The debugger stopped answering mid-script (the VM was then reset). */
  wedged: boolean;
}

/** A TCP relay on the guest that moves each connection to a target with socket splicing (SO_SPLICE). */
export interface SpliceRelaySpec {
  /** The port it listens on (all addresses of the target's family). */
  listenPort: number;
  /** The address it listens on, when the relay needs one (relayd). */
  listenAddress: string;
  target: { address: string; port: number };
  /** The relay ends by itself after this long (every load is bounded). */
  seconds: number;
}

/** What the relay saw; counters a relay cannot tell are absent. */
export interface SpliceRelayStats {
  accepted?: number;
  connected?: number;
  connectFailed?: number;
  spliceFailed?: number;
  /** Bytes moved by the kernel in both directions (getsockopt SO_SPLICE). */
  bytes?: number;
  lastError?: string;
}

export interface SpliceRelay {
  /** Ends the relay (closing its connections) and returns its counters. */
  stop(): Promise<SpliceRelayStats>;
}

export interface GuestAdapter {
  readonly kind: PlannedVm['guest'];
  /** Console-only guests have no SSH; their commands go over the serial console. */
  readonly transport: 'ssh' | 'console';
  /** Guest interface name of the N-th test NIC (the management NIC, if any, is not counted). */
  interfaceName(nicIndex: number): string;
  /** Waits until the guest takes commands; sets ctx.shell. Throws BootFailure on failure. */
  waitReady(ctx: GuestContext, timeoutMs: number): Promise<BootInfo>;
  configureInterface(ctx: GuestContext, nic: { ifname: string; addrs: string[]; mtu: number }): Promise<void>;
  addRoute(ctx: GuestContext, route: { dest: string; gateway: string }): Promise<void>;
  setForwarding(ctx: GuestContext, on: { inet: boolean; inet6: boolean }): Promise<void>;
  setSysctl(ctx: GuestContext, name: string, value: string): Promise<void>;
  setPf(ctx: GuestContext, pf: { enabled: boolean; rules?: string }): Promise<void>;
  counters(ctx: GuestContext): Promise<CounterSnapshot>;
  /** A kernel profile with stacks for `seconds` (btrace kstack profile, or dt(4) through the agent). */
  profile(ctx: GuestContext, seconds: number): Promise<KernelProfile>;
  /** Crashes the kernel on purpose (Linux sysrq c; OpenBSD ddb.trigger / panic). */
  panic(ctx: GuestContext): Promise<void>;
  /** Patterns that mean "the kernel crashed" on this guest's console. */
  readonly crashPatterns: RegExp[];
  /** After a crash pattern matched: collect what a developer would (ddb script, panic text). */
  diagnose(ctx: GuestContext, opts: { commandTimeoutMs: number }): Promise<Diagnosis>;
  /** Tries to enter the debugger of a silent guest (BREAK/NMI); resolves true when it answered. */
  breakIn(ctx: GuestContext, timeoutMs: number): Promise<boolean>;
  /**
   * Installed systems only: installs a built kernel (as /bsd.test), reboots into it,
   * and confirms the running kernel's version line is the built one.
   */
  bootTestKernel?(ctx: GuestContext, kernel: string, expectedVersion: string | undefined, timeoutMs: number): Promise<BootInfo>;
  /** OpenBSD guests: starts a socket-splicing relay (load phases with "via"). */
  startSpliceRelay?(ctx: GuestContext, spec: SpliceRelaySpec): Promise<SpliceRelay>;
  /** Clean shutdown before teardown (best effort). */
  shutdown(ctx: GuestContext): Promise<void>;
}

/** The guest never became ready: an outcome ("boot-failure"), not an infrastructure error. */
export class BootFailure extends Error {
  constructor(readonly vm: string, readonly reason: string, readonly consoleTail: string) {
    super(`${vm}: boot failure: ${reason}\n--- last console output ---\n${consoleTail}`);
    this.name = 'BootFailure';
  }
}

/** A guest command failed; carries the VM, command and output. */
export class GuestCommandError extends Error {
  constructor(readonly result: CommandResult, detail?: string) {
    super(
      `${result.vm}: command failed (exit ${result.exitCode}): ${result.command}` +
        (detail ? `\n${detail}` : '') +
        (result.stderr.trim() ? `\n${result.stderr.trim().split('\n').slice(-5).join('\n')}` : ''),
    );
    this.name = 'GuestCommandError';
  }
}
