/**
 * Rules that need the whole playbook: names that must exist, links with exactly two
 * ends, addresses in the documentation ranges, MTUs, conditions on real axes.
 * Checked for every matrix cell (a variant or an interpolated name can break one
 * cell only); the problem names the YAML path where the bad value is written.
 */
import {
  addressKey,
  checkHostAddress,
  checkInterfaceCidr,
  checkRouteDest,
  cidrContains,
  parseAddress,
  parseCidr,
  type ParsedCidr,
} from './addresses.ts';
import { effectiveConfig, matrixAxes, matrixCells, selectorMatches, type Cell, type EffectiveConfig } from './cells.ts';
import { placeholders, unknownPlaceholders } from './interpolate.ts';
import { resolveKernels } from './kernels.ts';
import type { KernelSpec } from './plan-types.ts';
import { formatPath, type JsonPath, type PathProblem } from './problems.ts';
import type { LoadEntry, Playbook, StepEntry } from './schema.ts';

export interface SemanticOptions {
  /** Directory of the playbook (kernel paths are resolved against it). */
  dir: string;
  /** Known load generator names; when given, phases naming others are problems. */
  generators?: readonly string[];
  /** Generators that can run through a splice relay ("via"); when given, others are problems. */
  relayableGenerators?: readonly string[];
  /** Guest kinds each generator's client (on "from") and server (on "to") run on; when given, others are problems. */
  generatorGuests?: Readonly<Record<string, GeneratorGuests>>;
}

export interface GeneratorGuests {
  client: readonly string[];
  /** Absent: "to" only lends its address. */
  server?: readonly string[];
}

/** Guest kinds that can run a splice relay. */
const RELAY_GUESTS = ['openbsd', 'openbsd-lab'];

const MIN_MTU_INET6 = 1280;

/** A problem found in one cell through an interpolated value; merged across cells at the end. */
interface CellProblem extends PathProblem {
  interpolated?: { source: string; cells: string[] };
}

/** A value still holding a placeholder names no axis; that is reported once, by checkConditions. */
function unresolved(value: string): boolean {
  return placeholders(value).length > 0;
}

function inCell(p: PathProblem, original: string | undefined, cell: Cell): CellProblem {
  return original !== undefined && placeholders(original).length > 0 ? { ...p, interpolated: { source: original, cells: [cell.id] } } : p;
}

function checkVariantsAndMatrix(pb: Playbook, out: PathProblem[]): void {
  const variants = Object.keys(pb.variants ?? {});
  const variantAxis = pb.matrix?.variant;
  variantAxis?.forEach((v, i) => {
    if (!variants.includes(String(v))) {
      out.push({
        path: ['matrix', 'variant', i],
        message: `unknown variant "${String(v)}" (variants: ${variants.length ? variants.join(', ') : 'none defined'})`,
      });
    }
  });
  for (const [variant, def] of Object.entries(pb.variants ?? {})) {
    for (const vm of Object.keys(def.vms ?? {})) {
      if (!(vm in pb.vms)) out.push({ path: ['variants', variant, 'vms', vm], message: `unknown VM "${vm}" (vms: ${Object.keys(pb.vms).join(', ')})`, atKey: true });
    }
  }
  const known = variants.length ? variants : ['default'];
  for (const name of Object.keys(pb.expect ?? {})) {
    if (!known.includes(name)) out.push({ path: ['expect', name], message: `expectation for unknown variant "${name}" (variants: ${known.join(', ')})`, atKey: true });
  }
}

function checkConditions(pb: Playbook, out: PathProblem[]): void {
  const axes = matrixAxes(pb);
  const check = (when: StepEntry['when'], path: JsonPath): void => {
    for (const [axisName, want] of Object.entries(when ?? {})) {
      const axis = axes.find((a) => a.name === axisName);
      if (!axis) {
        out.push({ path: [...path, 'when', axisName], message: `condition on unknown axis "${axisName}" (axes: ${axes.map((a) => a.name).join(', ') || 'none'})`, atKey: true });
        continue;
      }
      const wanted = Array.isArray(want) ? want : [want];
      wanted.forEach((w, i) => {
        if (!axis.values.some((v) => String(v) === String(w))) {
          out.push({
            path: Array.isArray(want) ? [...path, 'when', axisName, i] : [...path, 'when', axisName],
            message: `axis "${axisName}" has no value ${JSON.stringify(w)} (values: ${axis.values.map(String).join(', ')})`,
          });
        }
      });
    }
  };
  (pb.setup ?? []).forEach((s, i) => check(s.when, ['setup', i]));
  (pb.load ?? []).forEach((l, i) => check(l.when, ['load', i]));
  for (const [variant, def] of Object.entries(pb.variants ?? {})) {
    (def.setup ?? []).forEach((s, i) => check(s.when, ['variants', variant, 'setup', i]));
    (def.load ?? []).forEach((l, i) => check(l.when, ['variants', variant, 'load', i]));
  }
  const names = axes.map((a) => a.name);
  out.push(...unknownPlaceholders(pb.vms, ['vms'], names));
  out.push(...unknownPlaceholders(pb.setup, ['setup'], names));
  out.push(...unknownPlaceholders(pb.load, ['load'], names));
  for (const [variant, def] of Object.entries(pb.variants ?? {})) {
    out.push(...unknownPlaceholders(def.vms, ['variants', variant, 'vms'], names));
    out.push(...unknownPlaceholders(def.setup, ['variants', variant, 'setup'], names));
    out.push(...unknownPlaceholders(def.load, ['variants', variant, 'load'], names));
  }
  for (const [name, k] of Object.entries(pb.kernels)) {
    const found = unknownPlaceholders(k, ['kernels', name], []).map((p) => ({ ...p, message: 'kernels are not interpolated; "${...}" only works in vms, setup and load' }));
    out.push(...found);
  }
}

function checkAdaptive(pb: Playbook, cells: Cell[], out: PathProblem[]): void {
  const a = pb.adaptive;
  if (!a) return;
  if (a.metric === 'throughput' && !a.measurement) out.push({ path: ['adaptive'], message: 'metric throughput needs "measurement" (e.g. tcp4.throughput)' });
  a.compare.forEach((sel, i) => {
    const matches = cells.filter((c) => selectorMatches(sel, c.strings));
    if (matches.length === 0) out.push({ path: ['adaptive', 'compare', i], message: `"${sel}" matches no cell (cells: ${cells.map((c) => c.id).join('; ')})` });
  });
}

function checkGenerators(pb: Playbook, generators: readonly string[] | undefined, out: PathProblem[]): void {
  if (!generators) return;
  const phases: [JsonPath, LoadEntry[] | undefined][] = [[['load'], pb.load]];
  for (const [variant, def] of Object.entries(pb.variants ?? {})) phases.push([['variants', variant, 'load'], def.load]);
  for (const [base, list] of phases) {
    (list ?? []).forEach((phase, i) => {
      if (!generators.includes(phase.generator)) {
        out.push({ path: [...base, i, 'generator'], message: `unknown generator "${phase.generator}" (known: ${generators.join(', ')})` });
      }
    });
  }
}

function checkLinksDeclared(pb: Playbook, out: PathProblem[]): void {
  const seen = new Map<string, number>();
  (pb.links ?? []).forEach((l, i) => {
    if (seen.has(l.name)) out.push({ path: ['links', i, 'name'], message: `duplicate link "${l.name}" (also links[${seen.get(l.name)}])` });
    else seen.set(l.name, i);
  });
}

function checkStepArgs(step: StepEntry, path: JsonPath, out: PathProblem[]): void {
  const args = step.args ?? {};
  const need = (key: string, kind: 'string' | 'number' | 'any'): void => {
    const v = args[key];
    if (v === undefined) out.push({ path: [...path, 'args'], message: `op ${step.op} needs args.${key}` });
    else if (kind !== 'any' && typeof v !== kind) out.push({ path: [...path, 'args', key], message: `must be a ${kind}` });
  };
  if (step.op === 'exec') need('command', 'string');
  if (step.op === 'sysctl') {
    need('name', 'string');
    need('value', 'any');
  }
  if (step.op === 'sleep' || step.op === 'profile') need('seconds', 'number');
}

function checkCell(
  pb: Playbook,
  cfg: EffectiveConfig,
  kernelNames: Set<string>,
  specs: Map<string, KernelSpec>,
  opts: SemanticOptions,
  out: CellProblem[],
): void {
  const { cell } = cfg;
  const original = (path: JsonPath): string | undefined => {
    let v: unknown = pb;
    for (const seg of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[String(seg)] : undefined;
    return typeof v === 'string' ? v : undefined;
  };
  const vmNames = Object.keys(cfg.vms);
  const explicitLinks = pb.links ? new Map(pb.links.map((l) => [l.name, l])) : undefined;
  const linkEnds = new Map<string, JsonPath[]>();
  const addresses = new Map<string, JsonPath>();

  for (const [name, vm] of Object.entries(cfg.vms)) {
    const kernelPath = cfg.vmPath(name, ['kernel']);
    if (!kernelNames.has(vm.kernel) && !unresolved(vm.kernel)) {
      out.push(inCell({ path: kernelPath, message: `unknown kernel "${vm.kernel}" (kernels: ${[...kernelNames].join(', ')})` }, original(kernelPath), cell));
    }
    const spec = specs.get(vm.kernel);
    if (vm.guest === 'testguest' && spec && (spec.kind !== 'prebuilt' || !spec.kernel)) {
      out.push({ path: kernelPath, message: `testguest boots a prebuilt Linux kernel directly; kernel "${vm.kernel}" has no "kernel" file` });
    }
    if (vm.guest === 'openbsd' && vm.disk === undefined && vm.image === undefined) {
      out.push({ path: ['vms', name], message: 'guest openbsd needs "disk": an installed OpenBSD image (obsdlab image build)' });
    }
    if (vm.guest === 'openbsd-lab' && vm.consoleOnly === false) {
      out.push({ path: cfg.vmPath(name, ['consoleOnly']), message: 'openbsd-lab guests have no SSH; consoleOnly cannot be false' });
    }
    if (vm.disk !== undefined && vm.image !== undefined) {
      out.push({ path: cfg.vmPath(name, ['image']), message: '"image" is another name for "disk"; give only one' });
    }
    const connected: ParsedCidr[] = [];
    (vm.nics ?? []).forEach((nic, n) => {
      const nicPath = (rest: JsonPath): JsonPath => cfg.vmPath(name, ['nics', n, ...rest]);
      if (explicitLinks && !explicitLinks.has(nic.link)) {
        out.push({ path: nicPath(['link']), message: `unknown link "${nic.link}" (links: ${[...explicitLinks.keys()].join(', ')})` });
      }
      linkEnds.set(nic.link, [...(linkEnds.get(nic.link) ?? []), nicPath(['link'])]);
      let hasInet6 = false;
      (nic.addrs ?? []).forEach((addr, a) => {
        const problem = checkInterfaceCidr(addr);
        if (problem) {
          out.push(inCell({ path: nicPath(['addrs', a]), message: problem }, original(nicPath(['addrs', a])), cell));
          return;
        }
        const c = parseCidr(addr)!;
        if (c.family === 6) hasInet6 = true;
        connected.push(c);
        const key = addressKey(c);
        const first = addresses.get(key);
        if (first) out.push({ path: nicPath(['addrs', a]), message: `address ${addr} is also used at ${formatPath(first)}` });
        else addresses.set(key, nicPath(['addrs', a]));
      });
      const mtu = nic.mtu ?? explicitLinks?.get(nic.link)?.mtu;
      if (hasInet6 && mtu !== undefined && mtu < MIN_MTU_INET6) {
        const at = nic.mtu !== undefined ? nicPath(['mtu']) : ['links', pb.links!.findIndex((l) => l.name === nic.link), 'mtu'];
        out.push({ path: at, message: `MTU ${mtu} is below ${MIN_MTU_INET6}, the IPv6 minimum, on a NIC with IPv6 addresses` });
      }
    });
    (vm.routes ?? []).forEach((route, r) => {
      const rp = (rest: JsonPath): JsonPath => cfg.vmPath(name, ['routes', r, ...rest]);
      const destProblem = checkRouteDest(route.dest);
      if (destProblem) out.push({ path: rp(['dest']), message: destProblem });
      const gwProblem = checkHostAddress(route.gateway);
      if (gwProblem) {
        out.push({ path: rp(['gateway']), message: gwProblem });
        return;
      }
      const gw = parseAddress(route.gateway)!;
      const dest = route.dest === 'default' ? undefined : parseCidr(route.dest);
      if (dest && dest.family !== gw.family) out.push({ path: rp(['gateway']), message: `gateway ${route.gateway} is IPv${gw.family} but destination ${route.dest} is IPv${dest.family}` });
      else if (!connected.some((c) => cidrContains(c, gw))) {
        out.push({ path: rp(['gateway']), message: `gateway ${route.gateway} is on none of ${name}'s links` });
      }
    });
  }

  for (const [link, ends] of linkEnds) {
    if (ends.length !== 2) {
      for (const end of ends) {
        out.push({ path: end, message: `link "${link}" must join exactly two NICs, but ${ends.length} use it` });
      }
    }
  }
  (pb.links ?? []).forEach((l, i) => {
    if (!linkEnds.has(l.name)) out.push({ path: ['links', i, 'name'], message: `link "${l.name}" is used by no NIC (it must join exactly two)` });
  });

  for (const { item: step, path } of cfg.setup) {
    if (!vmNames.includes(step.vm) && !unresolved(step.vm)) out.push(inCell({ path: [...path, 'vm'], message: `unknown VM "${step.vm}" (vms: ${vmNames.join(', ')})` }, original([...path, 'vm']), cell));
    checkStepArgs(step, path, out);
  }
  const phaseNames = new Map<string, JsonPath>();
  for (const { item: phase, path } of cfg.load) {
    for (const end of ['from', 'to', 'via'] as const) {
      const vm = phase[end];
      if (vm !== undefined && !vmNames.includes(vm) && !unresolved(vm)) out.push(inCell({ path: [...path, end], message: `unknown VM "${vm}" (vms: ${vmNames.join(', ')})` }, original([...path, end]), cell));
    }
    if (phase.via !== undefined) checkRelay(cfg, phase, path, opts.relayableGenerators, out);
    const guests = opts.generatorGuests?.[phase.generator];
    if (guests) checkGeneratorGuests(cfg, phase, path, guests, out);
    const first = phaseNames.get(phase.name);
    if (first) out.push({ path: [...path, 'name'], message: `duplicate load phase name "${phase.name}" (also at ${formatPath(first)})` });
    else phaseNames.set(phase.name, path);
  }
}

function checkGeneratorGuests(cfg: EffectiveConfig, phase: LoadEntry, path: JsonPath, guests: GeneratorGuests, out: PathProblem[]): void {
  const ends: ['from' | 'to', readonly string[] | undefined, string][] = [
    ['from', guests.client, 'client'],
    ['to', guests.server, 'server'],
  ];
  for (const [end, kinds, side] of ends) {
    const name = phase[end];
    const vm = name !== undefined ? cfg.vms[name] : undefined;
    if (!vm || !kinds || kinds.includes(vm.guest)) continue;
    out.push({ path: [...path, end], message: `generator ${phase.generator} runs its ${side} on ${kinds.join(' or ')} guests; VM "${name}" is a ${vm.guest} guest` });
  }
}

function checkRelay(cfg: EffectiveConfig, phase: LoadEntry, path: JsonPath, relayable: readonly string[] | undefined, out: PathProblem[]): void {
  const via = cfg.vms[phase.via!];
  const at = [...path, 'via'];
  if (phase.to === undefined) out.push({ path: at, message: 'a relayed phase needs "to": the VM whose server the relay forwards to' });
  if (phase.via === phase.from || phase.via === phase.to) out.push({ path: at, message: `the relay VM "${phase.via}" must be neither the client ("from") nor the server ("to")` });
  if (via && !RELAY_GUESTS.includes(via.guest)) out.push({ path: at, message: `VM "${phase.via}" is a ${via.guest} guest; splice relays run on ${RELAY_GUESTS.join(' or ')} guests` });
  if (relayable && !relayable.includes(phase.generator)) {
    out.push({ path: [...path, 'generator'], message: `generator "${phase.generator}" cannot run through a splice relay (can: ${relayable.join(', ')})` });
  }
  const params = phase.params ?? {};
  if (params.udp === true || params.protocol === 'udp') out.push({ path: at, message: 'a splice relay carries TCP; this phase asks for UDP' });
}

/** Every semantic problem of a schema-valid playbook, without duplicates. */
export function semanticProblems(pb: Playbook, opts: SemanticOptions): PathProblem[] {
  const out: CellProblem[] = [];
  if (Object.keys(pb.vms).length === 0) out.push({ path: ['vms'], message: 'no VMs defined' });
  const kernels = resolveKernels(pb, opts.dir);
  out.push(...kernels.problems);
  checkVariantsAndMatrix(pb, out);
  checkConditions(pb, out);
  checkLinksDeclared(pb, out);
  checkGenerators(pb, opts.generators, out);
  const cells = matrixCells(pb);
  checkAdaptive(pb, cells, out);
  const kernelNames = new Set(Object.keys(pb.kernels));
  for (const cell of cells) {
    checkCell(pb, effectiveConfig(pb, cell), kernelNames, kernels.specs, opts, out);
  }
  const merged = new Map<string, CellProblem>();
  for (const p of out) {
    const key = `${p.path.map(String).join('\u0000')}\u0001${p.message}`;
    const first = merged.get(key);
    if (!first) merged.set(key, p.interpolated ? { ...p, interpolated: { ...p.interpolated, cells: [...p.interpolated.cells] } } : p);
    else if (first.interpolated && p.interpolated) first.interpolated.cells.push(...p.interpolated.cells);
  }
  return [...merged.values()].map(({ interpolated, ...p }) => {
    if (!interpolated) return p;
    const cells = [...new Set(interpolated.cells)];
    return { ...p, message: `${p.message}; from "${interpolated.source}" in cell${cells.length > 1 ? 's' : ''} ${cells.join('; ')}` };
  });
}
