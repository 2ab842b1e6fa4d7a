/**
 * What the run executor needs from the effectful layers, as narrow interfaces.
 * run/bindings.ts binds them to the real VM layer, console engine, adapters,
 * builders and crash reporters; tests can bind stand-ins.
 */
import type { ConsoleChannel } from '../console/types.ts';
import type { GuestAdapter } from '../guest/adapter.ts';
import type { LoadGenerator } from '../load/types.ts';
import type { PlannedLink, PlannedRun, PlannedVm } from '../playbook/plan-types.ts';

/** How a VM boots: resolved by the artifact stage from its kernel spec. */
export interface BootMedia {
  kernel?: string;
  initrd?: string;
  append?: string;
  iso?: string;
  disk?: string;
  /** The debug kernel (bsd.gdb) for symbolising traces. */
  debugKernel?: string;
  /** Identifies the kernel for the store (cache key or file hash). */
  kernelId: string;
  /** The kernel's version line, to confirm the booted kernel is the built one. */
  expectedVersion?: string;
  /** Built kernel to install as /bsd.test on an installed OpenBSD guest. */
  testKernel?: string;
}

export interface VmHandle {
  readonly name: string;
  readonly pid: number;
  readonly accel: string;
  readonly console: ConsoleChannel;
  readonly sshPort?: number;
  /** Resolves when QEMU exits. */
  readonly exited: Promise<{ code: number | null; signal: string | null; stderr: string }>;
  nmi(): Promise<void>;
  reset(): Promise<void>;
  /** QMP quit, then SIGTERM, then SIGKILL. Always resolves. */
  stop(): Promise<void>;
}

export interface VmLauncher {
  start(opts: {
    vm: PlannedVm;
    media: BootMedia;
    links: PlannedLink[];
    dir: string;
    signal: AbortSignal;
    log: (line: string) => void;
  }): Promise<VmHandle>;
}

/** A crash found in console text, ready for the store. */
export interface FoundCrash {
  kind: string;
  title: string;
  signature: string;
  message: string;
  report: unknown;
}

export interface CrashReporter {
  /** Parses console text (plus the ddb captures) into crashes, symbolised when a debug kernel is known. */
  parse(text: string, opts: { debugKernel?: string; treeDir?: string }): Promise<FoundCrash[]>;
}

export interface RunDeps {
  launcher: VmLauncher;
  adapter(vm: PlannedVm): GuestAdapter;
  generator(name: string): LoadGenerator;
  crashReporter(kind: PlannedVm['guest']): CrashReporter;
  /** Boot media per VM of this run (resolved before the run, shared across runs). */
  media(run: PlannedRun, vm: PlannedVm): BootMedia;
}

/** The VM's kernel could not be built: the run's outcome is "build-failure". */
export class KernelBuildFailed extends Error {
  constructor(readonly kernel: string, readonly detail: string) {
    super(`kernel ${kernel} did not build: ${detail}`);
    this.name = 'KernelBuildFailed';
  }
}
