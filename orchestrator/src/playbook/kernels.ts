/**
 * Kernel entries → KernelSpec: follows `extends`, decides prebuilt or build,
 * resolves paths against the playbook's directory.
 */
import { isAbsolute, resolve } from 'node:path';
import type { KernelSpec } from './plan-types.ts';
import type { PathProblem } from './problems.ts';
import type { KernelEntry, Playbook } from './schema.ts';

const BUILD_KEYS = ['source', 'fixups', 'patches', 'config', 'builder'] as const;
const PREBUILT_KEYS = ['kernel', 'initrd', 'append', 'image'] as const;

/** A path in the playbook, made absolute against its directory. */
export function playbookPath(dir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(dir, p);
}

/** A source location that is a URL or a remote (host:path) is kept as written. */
function isRemote(p: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(p) || /^[^/]*@[^/]*:/.test(p) || /^[^/.][^/]*:[^/]/.test(p);
}

function localOrRemote(dir: string, p: string): string {
  return isRemote(p) ? p : playbookPath(dir, p);
}

export interface ResolvedKernels {
  specs: Map<string, KernelSpec>;
  problems: PathProblem[];
}

function flatten(name: string, kernels: Record<string, KernelEntry>, problems: PathProblem[]): KernelEntry | undefined {
  const chain: string[] = [];
  let current: string | undefined = name;
  const layers: KernelEntry[] = [];
  while (current !== undefined) {
    if (chain.includes(current)) {
      problems.push({ path: ['kernels', name, 'extends'], message: `extends cycle: ${[...chain, current].join(' → ')}` });
      return undefined;
    }
    chain.push(current);
    const entry: KernelEntry | undefined = kernels[current];
    if (!entry) {
      const from = chain[chain.length - 2]!;
      if (from === name) problems.push({ path: ['kernels', name, 'extends'], message: `extends unknown kernel "${current}" (kernels: ${Object.keys(kernels).join(', ')})` });
      return undefined;
    }
    layers.unshift(entry);
    current = entry.extends;
  }
  // Key by key: a `source` or `builder` given here replaces the inherited one whole.
  let merged: KernelEntry = {};
  for (const layer of layers) merged = { ...merged, ...layer };
  delete merged.extends;
  return merged;
}

function toSpec(name: string, k: KernelEntry, dir: string, problems: PathProblem[]): KernelSpec | undefined {
  const at = ['kernels', name];
  const build = BUILD_KEYS.filter((key) => k[key] !== undefined);
  const prebuilt = PREBUILT_KEYS.filter((key) => k[key] !== undefined);
  if (k.source) {
    if (prebuilt.length) {
      problems.push({ path: at, message: `a kernel built from source cannot also have ${prebuilt.join(', ')}` });
      return undefined;
    }
    if (!k.config) {
      problems.push({ path: at, message: 'a kernel built from source needs "config" (e.g. GENERIC.MP or LAB)' });
      return undefined;
    }
    const src = k.source;
    const source: Extract<KernelSpec, { kind: 'build' }>['source'] =
      'git' in src
        ? { type: 'git', repo: localOrRemote(dir, src.git), rev: src.rev }
        : 'tree' in src
          ? { type: 'tree', path: playbookPath(dir, src.tree) }
          : { type: 'cvs', root: localOrRemote(dir, src.cvs), date: src.date };
    const b = k.builder ?? 'cross';
    let builder: Extract<KernelSpec, { kind: 'build' }>['builder'];
    if (b === 'cross') builder = { type: 'cross' };
    else if ('vm' in b) builder = { type: 'vm', image: playbookPath(dir, b.vm) };
    else {
      const m = /^([^@]+)@(\[[^\]]+\]|[^:]+)(?::([0-9]+))?$/.exec(b.ssh);
      const port = m?.[3] ? Number(m[3]) : 22;
      if (!m || port < 1 || port > 65535) {
        problems.push({ path: [...at, 'builder', 'ssh'], message: `"${b.ssh}" is not user@host[:port]` });
        return undefined;
      }
      builder = { type: 'ssh', user: m[1]!, host: m[2]!.replace(/^\[|\]$/g, ''), port, ...(b.key ? { key: playbookPath(dir, b.key) } : {}) };
    }
    return {
      kind: 'build',
      name,
      source,
      fixups: (k.fixups ?? []).map((f) => playbookPath(dir, f)),
      patches: (k.patches ?? []).map((p) => playbookPath(dir, p)),
      config: k.config.includes('/') ? playbookPath(dir, k.config) : k.config,
      builder,
    };
  }
  if (build.length) {
    problems.push({ path: at, message: `${build.join(', ')} only apply to kernels built from source; add "source" or remove them` });
    return undefined;
  }
  if (!k.kernel && !k.image) {
    problems.push({ path: at, message: 'needs "kernel" (with optional initrd/append) or "image" for a prebuilt kernel, or "source" to build one' });
    return undefined;
  }
  if (k.kernel && k.image) {
    problems.push({ path: at, message: 'give either "kernel" or "image", not both' });
    return undefined;
  }
  if (!k.kernel && (k.initrd || k.append !== undefined)) {
    problems.push({ path: at, message: '"initrd" and "append" need "kernel" (a directly booted kernel)' });
    return undefined;
  }
  return {
    kind: 'prebuilt',
    name,
    ...(k.kernel ? { kernel: playbookPath(dir, k.kernel) } : {}),
    ...(k.initrd ? { initrd: playbookPath(dir, k.initrd) } : {}),
    ...(k.append !== undefined ? { append: k.append } : {}),
    ...(k.image ? { image: playbookPath(dir, k.image) } : {}),
  };
}

/** Every kernel of the playbook as a spec; entries with problems are left out. */
export function resolveKernels(pb: Playbook, dir: string): ResolvedKernels {
  const problems: PathProblem[] = [];
  const specs = new Map<string, KernelSpec>();
  for (const name of Object.keys(pb.kernels)) {
    const flat = flatten(name, pb.kernels, problems);
    if (!flat) continue;
    const spec = toSpec(name, flat, dir, problems);
    if (spec) specs.set(name, spec);
  }
  return { specs, problems };
}
