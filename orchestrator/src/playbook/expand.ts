/**
 * Playbook → Plan (pure). The matrix cross product times the repetitions, each run
 * with its variant merged, conditions applied, values interpolated, paths absolute,
 * defaults filled in and runs put in execution order.
 */
import { dirname } from 'node:path';
import { effectiveConfig, matrixCells, selectorMatches, type Cell, type EffectiveConfig } from './cells.ts';
import { playbookPath, resolveKernels } from './kernels.ts';
import { assignMac } from './mac.ts';
import { orderRuns, type OrderMode } from './order.ts';
import type { KernelSpec, Plan, PlannedLink, PlannedLoad, PlannedRun, PlannedStep, PlannedVm, Timeouts } from './plan-types.ts';
import type { Playbook, ScalarValue, VmEntry } from './schema.ts';

export const DEFAULT_TIMEOUTS: Timeouts = {
  bootSec: 300,
  sshSec: 60,
  commandSec: 60,
  loadSec: 120,
  ddbCommandSec: 30,
  hangSec: 120,
  runSec: 1800,
};
export const DEFAULT_MTU = 1500;
export const DEFAULT_LOAD_SECONDS = 10;
export const DEFAULT_MEMORY_MIB: Record<VmEntry['guest'], number> = { testguest: 256, 'openbsd-lab': 512, openbsd: 1024 };
export const DEFAULT_ADAPTIVE_CONFIDENCE = 0.95;
export const DEFAULT_ADAPTIVE_MAX_RUNS = 30;

/** MiB from a number or "512M" / "1G" / "512MiB" / "1GiB". */
export function parseMemoryMiB(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = /^([1-9][0-9]*)(M|MiB|G|GiB)?$/.exec(value);
  if (!m) throw new Error(`bad memory size "${value}"`);
  const n = Number(m[1]);
  return m[2]?.startsWith('G') ? n * 1024 : n;
}

/** Seconds from a number or "30s" / "2m" / "30". */
export function parseDurationSec(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = /^([0-9]+(?:\.[0-9]+)?)(s|m)?$/.exec(value);
  if (!m) throw new Error(`bad duration "${value}"`);
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
}

function scalarRecord(r: Record<string, ScalarValue> | undefined): Record<string, string | number | boolean> {
  return { ...(r ?? {}) };
}

function planVm(
  pb: Playbook,
  dir: string,
  name: string,
  vm: VmEntry,
  kernels: Map<string, KernelSpec>,
  linkMtu: Map<string, number>,
  macs: Set<string>,
): PlannedVm {
  const kernel = kernels.get(vm.kernel);
  if (!kernel) throw new Error(`vm ${name}: unknown kernel "${vm.kernel}" (validate the playbook first)`);
  if (vm.pf?.rulesFile !== undefined) throw new Error(`vm ${name}: pf.rulesFile must be read by loadPlaybook before expansion`);
  const fwd = vm.forwarding;
  const forwarding =
    typeof fwd === 'boolean' ? { inet: fwd, inet6: fwd } : { inet: fwd?.inet ?? false, inet6: fwd?.inet6 ?? false };
  const disk = vm.disk ?? vm.image;
  return {
    name,
    guest: vm.guest,
    cpus: vm.cpus ?? 1,
    memoryMiB: vm.memory !== undefined ? parseMemoryMiB(vm.memory) : DEFAULT_MEMORY_MIB[vm.guest],
    kernel,
    ...(disk !== undefined ? { disk: playbookPath(dir, disk) } : {}),
    ...(vm.iso !== undefined ? { iso: playbookPath(dir, vm.iso) } : {}),
    bootCommands: vm.boot ?? [],
    consoleOnly: vm.consoleOnly ?? vm.guest === 'openbsd-lab',
    nics: (vm.nics ?? []).map((nic, index) => ({
      index,
      link: nic.link,
      mac: assignMac(pb.name, name, index, macs),
      addrs: nic.addrs ?? [],
      mtu: nic.mtu ?? linkMtu.get(nic.link) ?? DEFAULT_MTU,
    })),
    routes: (vm.routes ?? []).map((r) => ({ dest: r.dest, gateway: r.gateway })),
    forwarding,
    pf: vm.pf ? { enabled: vm.pf.enabled ?? true, ...(vm.pf.rules !== undefined ? { rules: vm.pf.rules } : {}) } : { enabled: false },
    sysctls: Object.fromEntries(Object.entries(vm.sysctls ?? {}).map(([k, v]) => [k, String(v)])),
    ...(vm.sshKey !== undefined ? { sshKey: playbookPath(dir, vm.sshKey) } : {}),
  };
}

function planLinks(pb: Playbook, cfg: EffectiveConfig): { links: PlannedLink[]; mtu: Map<string, number> } {
  const ends = new Map<string, string[]>();
  const nicMtus = new Map<string, number[]>();
  for (const [name, vm] of Object.entries(cfg.vms)) {
    (vm.nics ?? []).forEach((nic, i) => {
      ends.set(nic.link, [...(ends.get(nic.link) ?? []), `${name}.${i}`]);
      if (nic.mtu !== undefined) nicMtus.set(nic.link, [...(nicMtus.get(nic.link) ?? []), nic.mtu]);
    });
  }
  const explicit = new Map((pb.links ?? []).map((l) => [l.name, l.mtu]));
  const mtu = new Map<string, number>();
  const links: PlannedLink[] = [];
  const order = pb.links ? pb.links.map((l) => l.name) : [...ends.keys()];
  for (const name of order) {
    const e = ends.get(name);
    if (!e || e.length !== 2) throw new Error(`link ${name}: needs exactly two NICs (validate the playbook first)`);
    const linkMtu = explicit.get(name) ?? (nicMtus.has(name) ? Math.max(...nicMtus.get(name)!) : DEFAULT_MTU);
    if (explicit.get(name) !== undefined) mtu.set(name, linkMtu);
    links.push({ name, ends: [e[0]!, e[1]!], mtu: linkMtu });
  }
  return { links, mtu };
}

function planLoad(cfg: EffectiveConfig): PlannedLoad[] {
  const groups = new Map<string, number>();
  let next = 0;
  return cfg.load.map(({ item }) => {
    let group: number;
    if (item.group === undefined) group = next++;
    else {
      const label = String(item.group);
      if (!groups.has(label)) groups.set(label, next++);
      group = groups.get(label)!;
    }
    return {
      name: item.name,
      generator: item.generator,
      from: item.from,
      ...(item.to !== undefined ? { to: item.to } : {}),
      ...(item.via !== undefined ? { via: item.via } : {}),
      durationSec: item.duration !== undefined ? parseDurationSec(item.duration) : DEFAULT_LOAD_SECONDS,
      params: scalarRecord(item.params),
      group,
    };
  });
}

function planSteps(cfg: EffectiveConfig): PlannedStep[] {
  return cfg.setup.map(({ item }) => ({
    vm: item.vm,
    op: item.op,
    args: scalarRecord(item.args),
    ...(item.at !== undefined ? { atSec: item.at } : {}),
  }));
}

function timeoutsOf(t: EffectiveConfig['timeouts']): Timeouts {
  return {
    bootSec: t.boot ?? DEFAULT_TIMEOUTS.bootSec,
    sshSec: t.ssh ?? DEFAULT_TIMEOUTS.sshSec,
    commandSec: t.command ?? DEFAULT_TIMEOUTS.commandSec,
    loadSec: t.load ?? DEFAULT_TIMEOUTS.loadSec,
    ddbCommandSec: t.ddbCommand ?? DEFAULT_TIMEOUTS.ddbCommandSec,
    hangSec: t.hang ?? DEFAULT_TIMEOUTS.hangSec,
    runSec: t.run ?? DEFAULT_TIMEOUTS.runSec,
  };
}

function orderMode(pb: Playbook): OrderMode {
  const o = pb.order ?? 'interleave';
  if (o === 'interleave' || o === 'blocked') return { mode: o };
  return { mode: 'random', seed: o.random };
}

interface CellTemplate {
  cell: Cell;
  run: Omit<PlannedRun, 'id' | 'seq' | 'repetition'>;
}

function cellTemplate(pb: Playbook, dir: string, cell: Cell, kernels: Map<string, KernelSpec>): CellTemplate {
  const cfg = effectiveConfig(pb, cell);
  const { links, mtu } = planLinks(pb, cfg);
  const macs = new Set<string>();
  const vms = Object.entries(cfg.vms).map(([name, vm]) => planVm(pb, dir, name, vm, kernels, mtu, macs));
  const outcome = pb.expect?.[cell.variant]?.outcome;
  return {
    cell,
    run: {
      cell: cell.strings,
      cellId: cell.id,
      variant: cell.variant,
      vms,
      links,
      setup: planSteps(cfg),
      load: planLoad(cfg),
      timeouts: timeoutsOf(cfg.timeouts),
      resources: {
        cpus: vms.reduce((n, vm) => n + vm.cpus, 0),
        memoryMiB: vms.reduce((n, vm) => n + vm.memoryMiB, 0),
      },
      ...(outcome !== undefined ? { expect: { outcome } } : {}),
    },
  };
}

/**
 * Expands a validated playbook (see loadPlaybook) into the plan. `file` is the
 * playbook's absolute path: relative paths inside it resolve against its directory.
 */
export function expandPlaybook(pb: Playbook, file: string): Plan {
  const dir = dirname(file);
  const resolved = resolveKernels(pb, dir);
  if (resolved.problems.length > 0) throw new Error(`kernels: ${resolved.problems.map((p) => p.message).join('; ')}`);
  const templates = matrixCells(pb).map((cell) => cellTemplate(pb, dir, cell, resolved.specs));
  const order = orderMode(pb);
  const ordered = orderRuns(templates, pb.repetitions ?? 1, order);
  const runs: PlannedRun[] = ordered.map(({ cell: t, repetition }, i) => ({
    id: `${t.cell.id}#${repetition}`,
    seq: i + 1,
    repetition,
    ...structuredClone(t.run),
  }));
  const used = new Set(runs.flatMap((r) => r.vms.map((vm) => vm.kernel.name)));
  const plan: Plan = {
    playbook: { name: pb.name, file, ...(pb.description !== undefined ? { description: pb.description } : {}) },
    order: order.mode === 'random' ? { mode: 'random', seed: order.seed } : { mode: order.mode },
    kernels: [...resolved.specs.values()].filter((k) => used.has(k.name)),
    runs,
  };
  if (pb.adaptive) {
    plan.adaptive = {
      metric: pb.adaptive.metric,
      ...(pb.adaptive.measurement !== undefined ? { measurement: pb.adaptive.measurement } : {}),
      confidence: pb.adaptive.confidence ?? DEFAULT_ADAPTIVE_CONFIDENCE,
      maxRuns: pb.adaptive.maxRuns ?? DEFAULT_ADAPTIVE_MAX_RUNS,
      compare: [pb.adaptive.compare[0], pb.adaptive.compare[1]],
    };
  }
  return plan;
}

/**
 * Runs of the cells matching `selector` ("variant=proxy,btrace=on", or a variant
 * name), in plan order. Throws with the list of cells when nothing matches.
 */
export function selectCell(plan: Plan, selector: string): PlannedRun[] {
  const runs = plan.runs.filter((r) => r.cellId === selector || selectorMatches(selector, r.cell));
  if (runs.length === 0) {
    const cells = [...new Set(plan.runs.map((r) => r.cellId))];
    throw new Error(`no cell matches "${selector}"; cells: ${cells.join('; ')}`);
  }
  return runs;
}
