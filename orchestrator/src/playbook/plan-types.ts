/**
 * The expanded plan: what `obsdlab plan --json` prints and what the runner executes.
 * Produced by playbook/expand.ts from a validated playbook; everything here is resolved
 * (paths absolute, defaults applied, matrix values substituted), so consumers never
 * look back at the YAML.
 */

/** How a VM's kernel is obtained. */
export type KernelSpec =
  | { kind: 'prebuilt'; name: string; kernel?: string; initrd?: string; append?: string; image?: string }
  | {
      kind: 'build';
      name: string;
      /** git mirror/bundle + commit, or a plain directory tree, or a CVS date (full src checkout). */
      source:
        | { type: 'git'; repo: string; rev: string }
        | { type: 'tree'; path: string }
        | { type: 'cvs'; root: string; date: string };
      /** Directories copied over the tree before config (e.g. sys-fixups), in order. */
      fixups: string[];
      /** Patch files in apply order (absolute paths). */
      patches: string[];
      /** Kernel config: a shipped name (LAB, GENERIC.MP) or a file path. */
      config: string;
      /** Which builder: the Linux cross build, a builder VM, or an OpenBSD host over SSH. */
      builder: { type: 'cross' } | { type: 'vm'; image: string } | { type: 'ssh'; host: string; port: number; user: string; key?: string };
    };

export interface PlannedNic {
  /** Index among the VM's test NICs (0 → vio0 / eth1 ...). The management NIC is not counted. */
  index: number;
  /** Link name; both ends of a link share it. */
  link: string;
  /** Deterministic locally administered MAC (derived from playbook name, vm, nic). */
  mac: string;
  /** CIDR addresses (documentation ranges only). */
  addrs: string[];
  mtu: number;
}

export interface PlannedRoute {
  /** CIDR or "default"; family inferred from the address. */
  dest: string;
  gateway: string;
}

export interface PlannedVm {
  name: string;
  guest: 'testguest' | 'openbsd' | 'openbsd-lab';
  cpus: number;
  memoryMiB: number;
  kernel: KernelSpec;
  /** Base disk image (never written: each run gets a qcow2 overlay). */
  disk?: string;
  /** ISO to boot from (install media, rescue, lab image). */
  iso?: string;
  /** Lines typed at the OpenBSD boot loader's `boot>` prompt, in order. */
  bootCommands: string[];
  /** No SSH expected: the outcome comes from the console alone. */
  consoleOnly: boolean;
  nics: PlannedNic[];
  routes: PlannedRoute[];
  forwarding: { inet: boolean; inet6: boolean };
  pf: { enabled: boolean; rules?: string };
  sysctls: Record<string, string>;
  /** SSH key for bring-your-own images. */
  sshKey?: string;
}

export interface PlannedLink {
  name: string;
  /** "vm.nicIndex" of each end. */
  ends: [string, string];
  mtu: number;
}

/** One step of a load phase: a generator run from one VM towards another (or on one VM). */
export interface PlannedLoad {
  name: string;
  generator: string;
  /** VM that runs the client side / the command. */
  from: string;
  /** VM that runs the server side / is the target (its address on the shared path is used). */
  to?: string;
  /** VM relaying the phase's connections to `to` with socket splicing (SO_SPLICE). */
  via?: string;
  durationSec: number;
  params: Record<string, string | number | boolean>;
  /** Phases with the same group start together (e.g. load + btrace profile). */
  group: number;
}

export interface PlannedStep {
  vm: string;
  /** An adapter operation or a raw command. */
  op: 'exec' | 'sysctl' | 'panic' | 'sleep' | 'counters' | 'profile' | 'pf';
  args: Record<string, string | number | boolean>;
  /** Run this step N seconds after the load starts instead of before it (fault injection). */
  atSec?: number;
}

export interface Timeouts {
  bootSec: number;
  sshSec: number;
  commandSec: number;
  loadSec: number;
  ddbCommandSec: number;
  hangSec: number;
  runSec: number;
}

export interface PlannedRun {
  /** Stable id: "<cell>#<rep>", e.g. "variant=proxy,btrace=on#3". */
  id: string;
  /** Position in execution order (interleaved across cells). */
  seq: number;
  /** Matrix coordinates. */
  cell: Record<string, string>;
  cellId: string;
  repetition: number;
  /** Name of the variant (value of the `variant` axis, or "default"). */
  variant: string;
  vms: PlannedVm[];
  links: PlannedLink[];
  setup: PlannedStep[];
  load: PlannedLoad[];
  timeouts: Timeouts;
  /** Resources the run needs at once, for the scheduler's budget. */
  resources: { cpus: number; memoryMiB: number };
  /** Signatures/outcomes the playbook expects (e.g. the selftest's panic variant). */
  expect?: { outcome?: string };
}

export interface Plan {
  playbook: { name: string; file: string; description?: string };
  order: { mode: 'interleave' | 'random' | 'blocked'; seed?: number };
  /** Adaptive repetition, if the playbook asks for it. */
  adaptive?: { metric: 'panic-rate' | 'throughput'; measurement?: string; confidence: number; maxRuns: number; compare: [string, string] };
  kernels: KernelSpec[];
  runs: PlannedRun[];
}
