/**
 * Starts and stops one QEMU VM: overlay, sockets and pidfile in the VM's run
 * directory, accelerator choice with KVM→TCG fallback, QMP connection, and a
 * teardown that always ends the process (QMP quit → SIGTERM → SIGKILL).
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { PlannedLink, PlannedVm } from '../playbook/plan-types.ts';
import { chooseAccel, kvmFailureIn, markKvmUnusable } from './accel.ts';
import { createOverlay } from './overlay.ts';
import { freeLoopbackPort } from './ports.ts';
import { isAlive, reapStalePidfile, spawnTracked, type ChildExit, type TrackedChild } from './processes.ts';
import { QmpClient } from './qmp.ts';
import { qemuArgs, vmPaths, type Accel, type BootMedia, type VmPaths } from './qemu-args.ts';
import { managementMac, wireVm, type NicWiring } from './topology.ts';

export const QEMU_BINARY = 'qemu-system-x86_64';

export class VmStartError extends Error {
  constructor(readonly vm: string, readonly reason: string, readonly stderr: string) {
    super(`${vm}: QEMU failed to start: ${reason}${stderr.trim() ? `\n--- QEMU stderr ---\n${stderr.trim().split('\n').slice(-15).join('\n')}` : ''}`);
    this.name = 'VmStartError';
  }
}

export interface StartVmOptions {
  name: string;
  /** This VM's run directory: sockets, pidfile, console log and overlay go here. */
  dir: string;
  cpus: number;
  memoryMiB: number;
  boot: BootMedia;
  /** Base image; the VM gets a qcow2 overlay on it in `dir`. */
  disk?: string;
  /** Test NICs, from topology.wireVm(). */
  nics?: NicWiring[];
  /** Give the VM a management NIC with SSH forwarded from a free 127.0.0.1 port. */
  management?: boolean;
  /** A guest reboot restarts the guest instead of ending QEMU. */
  allowReboot?: boolean;
  /** Overrides the accelerator choice (otherwise OBSDLAB_ACCEL or KVM-if-usable). */
  accel?: Accel;
  /** Try KVM (with fallback to TCG) even when /dev/kvm looks unusable; for tests of the fallback. */
  tryKvm?: boolean;
  /** How long a KVM start is watched for failure before it is trusted (ms). */
  kvmProbeMs?: number;
  log?: (line: string) => void;
}

export interface RunningVm {
  readonly name: string;
  readonly pid: number;
  readonly accel: Accel;
  /** Why this accelerator (forced, /dev/kvm missing, fell back after a KVM failure…). */
  readonly accelReason: string;
  readonly paths: VmPaths;
  readonly consoleSocket: string;
  readonly consoleLog: string;
  readonly qmp: QmpClient;
  readonly sshPort?: number;
  readonly managementMac?: string;
  readonly overlay?: string;
  readonly nics: NicWiring[];
  /** Date.now() when QEMU was started (the run that stuck). */
  readonly startedAt: number;
  readonly exited: Promise<ChildExit>;
  alive(): boolean;
  stderrTail(): string;
  /** QMP quit, then SIGTERM, then SIGKILL; removes the sockets. Safe to call twice. */
  stop(opts?: { graceMs?: number }): Promise<void>;
}

/**
 * Starts the VM of a plan entry with its links wired. `dir` is this VM's run
 * directory; link sockets go to `linkDir` (default: the parent of `dir`, shared by
 * the run's VMs). `boot` comes from the guest's image.
 */
export async function startPlannedVm(
  vm: PlannedVm,
  links: PlannedLink[],
  opts: { dir: string; boot: BootMedia; linkDir?: string; management?: boolean; disk?: string; log?: (line: string) => void; accel?: Accel },
): Promise<RunningVm> {
  return startVm({
    name: vm.name,
    dir: opts.dir,
    cpus: vm.cpus,
    memoryMiB: vm.memoryMiB,
    boot: opts.boot,
    disk: opts.disk ?? vm.disk,
    nics: wireVm(vm, links, opts.linkDir ?? dirname(opts.dir)),
    management: opts.management ?? !vm.consoleOnly,
    ...(opts.accel ? { accel: opts.accel } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
}

export async function startVm(opts: StartVmOptions): Promise<RunningVm> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  mkdirSync(opts.dir, { recursive: true });
  const paths = vmPaths(opts.dir, opts.name);
  const reaped = await reapStalePidfile(paths.pidfile);
  if (reaped) log(`vm ${opts.name}: killed QEMU pid ${reaped} left over from an earlier run (pidfile ${paths.pidfile})`);
  const nics = opts.nics ?? [];
  for (const p of [paths.console, paths.consoleLog, paths.qmp, paths.pidfile, ...nics.map((n) => n.localPath)]) rmSync(p, { force: true });
  for (const n of nics) mkdirSync(dirname(n.localPath), { recursive: true });

  const overlay = opts.disk ? await createOverlay(opts.disk, join(opts.dir, `${opts.name}.overlay.qcow2`)) : undefined;
  const mac = opts.management ? managementMac(opts.name) : undefined;
  const choice = opts.accel
    ? { accel: opts.accel, fallback: false, reason: 'requested by the caller' }
    : opts.tryKvm
      ? { accel: 'kvm' as const, fallback: true, reason: 'KVM tried on request' }
      : chooseAccel();

  const launch = async (accel: Accel, sshPort: number | undefined) => {
    const args = qemuArgs({
      name: opts.name,
      cpus: opts.cpus,
      memoryMiB: opts.memoryMiB,
      accel,
      boot: opts.boot,
      ...(overlay ? { disk: overlay } : {}),
      nics,
      ...(mac && sshPort ? { management: { mac, sshPort } } : {}),
      paths,
      ...(opts.allowReboot ? { allowReboot: true } : {}),
    });
    const child = spawnTracked(`vm ${opts.name}`, QEMU_BINARY, args, { cwd: opts.dir });
    return { child, startedAt: Date.now() };
  };

  let accel = choice.accel;
  let reason = choice.reason;
  let sshPort = mac ? await freeLoopbackPort() : undefined;
  let { child, startedAt } = await launch(accel, sshPort);
  let qmp: QmpClient;
  if (accel === 'kvm' && choice.fallback) {
    const failure = await probeKvm(child, paths, opts.kvmProbeMs ?? 5000);
    if (failure) {
      log(`vm ${opts.name}: KVM failed (${failure}); restarting under TCG`);
      markKvmUnusable(failure);
      await child.kill(1000);
      for (const p of [paths.console, paths.qmp, ...nics.map((n) => n.localPath)]) rmSync(p, { force: true });
      accel = 'tcg';
      reason = `fell back from KVM: ${failure}`;
      sshPort = mac ? await freeLoopbackPort() : undefined;
      ({ child, startedAt } = await launch(accel, sshPort));
    }
  }
  try {
    qmp = await connectQmp(opts.name, child, paths.qmp);
  } catch (err) {
    await child.kill(1000);
    throw err;
  }
  log(`vm ${opts.name}: QEMU pid ${child.pid} running under ${accel} (${reason})${sshPort ? `, ssh on 127.0.0.1:${sshPort}` : ''}`);
  return makeRunningVm({ name: opts.name, child, accel, reason, paths, qmp, sshPort, mac, overlay, nics, startedAt });
}

async function connectQmp(vm: string, child: TrackedChild, path: string): Promise<QmpClient> {
  const died = child.exited.then((e) => {
    throw new VmStartError(vm, `QEMU exited (code ${e.code ?? '-'}, signal ${e.signal ?? '-'}) before QMP answered`, child.stderrTail());
  });
  return Promise.race([QmpClient.connect(vm, path, 15_000), died]);
}

/** Watches a fresh KVM start; returns why KVM is unusable, or undefined when it is fine. */
async function probeKvm(child: TrackedChild, paths: VmPaths, probeMs: number): Promise<string | undefined> {
  const deadline = Date.now() + probeMs;
  let exited = false;
  void child.exited.then(() => (exited = true));
  let qmp: QmpClient | undefined;
  try {
    while (Date.now() < deadline) {
      const fromStderr = kvmFailureIn(child.stderrTail());
      if (fromStderr) return fromStderr;
      if (exited) return `QEMU exited within ${probeMs} ms under KVM`;
      qmp ??= await QmpClient.connect('kvm-probe', paths.qmp, 2000).catch(() => undefined);
      if (qmp) {
        const st = await qmp.queryStatus(1000).catch(() => undefined);
        if (st && (st.status === 'internal-error' || st.status === 'guest-panicked' || st.status === 'shutdown')) {
          return `guest status "${st.status}" under KVM`;
        }
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    if (consoleBytes(paths.consoleLog) === 0) return `no console output within ${probeMs} ms under KVM`;
    return undefined;
  } finally {
    qmp?.close();
  }
}

function consoleBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function makeRunningVm(s: {
  name: string;
  child: TrackedChild;
  accel: Accel;
  reason: string;
  paths: VmPaths;
  qmp: QmpClient;
  sshPort: number | undefined;
  mac: string | undefined;
  overlay: string | undefined;
  nics: NicWiring[];
  startedAt: number;
}): RunningVm {
  let stopping: Promise<void> | undefined;
  const stop = async (graceMs: number): Promise<void> => {
    if (isAlive(s.child.pid) && !s.qmp.closed) {
      await s.qmp.quit(2000).catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const gone = await Promise.race([s.child.exited.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), 3000)))]);
      clearTimeout(timer);
      if (!gone) await s.child.kill(graceMs);
    } else {
      await s.child.kill(graceMs);
    }
    s.qmp.close();
    for (const p of [s.paths.console, s.paths.qmp, s.paths.pidfile, ...s.nics.map((n) => n.localPath)]) rmSync(p, { force: true });
  };
  return {
    name: s.name,
    pid: s.child.pid,
    accel: s.accel,
    accelReason: s.reason,
    paths: s.paths,
    consoleSocket: s.paths.console,
    consoleLog: s.paths.consoleLog,
    qmp: s.qmp,
    ...(s.sshPort ? { sshPort: s.sshPort } : {}),
    ...(s.mac ? { managementMac: s.mac } : {}),
    ...(s.overlay ? { overlay: s.overlay } : {}),
    nics: s.nics,
    startedAt: s.startedAt,
    exited: s.child.exited,
    alive: () => isAlive(s.child.pid),
    stderrTail: () => s.child.stderrTail(),
    stop: (opts) => (stopping ??= stop(opts?.graceMs ?? 3000)),
  };
}
