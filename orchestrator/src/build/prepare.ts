import { access } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { PROJECT_ROOT, sharedDir } from '../util/paths.ts';
import type { KernelBackend, PreparedBuild } from './backend.ts';
import { kernelCacheKey, kernelHash, lookupKernel, storeKernel, type CacheEntry } from './cache.ts';
import { dirContentHash, fileSha256, sha256 } from './hash.ts';
import { checkPatchSeries, formatPatchResult, type PatchResult } from './patch/check.ts';
import { selectQuirks } from './quirks.ts';
import { resolveSource, type ResolvedSource } from './source.ts';
import { BuildError, type BuildOptions, type BuildSpec, type BuiltKernel } from './types.ts';

/** Kernel configs the project ships (LAB); other names come from the tree's arch/amd64/conf. */
export function shippedConfigDir(): string {
  return join(PROJECT_ROOT, 'vm-images', 'openbsd-lab', 'kernel-configs');
}

export async function resolveKernelConfig(config: string): Promise<{ name: string; file: string | null }> {
  if (config.includes('/')) {
    const file = isAbsolute(config) ? config : resolve(config);
    try {
      await access(file);
    } catch {
      throw new BuildError('config', `kernel config file ${file} does not exist`);
    }
    return { name: basename(file), file };
  }
  if (!/^[A-Za-z0-9._-]+$/.test(config)) throw new BuildError('config', `invalid kernel config name "${config}"`);
  const shipped = join(shippedConfigDir(), config);
  try {
    await access(shipped);
    return { name: config, file: shipped };
  } catch {
    return { name: config, file: null };
  }
}

/** A source viewed as a patch target (for the pre-build check of every patch). */
function sourceTarget(src: ResolvedSource) {
  return { describe: src.describe, has: (rel: string) => src.has(rel), read: (rel: string) => src.read(rel) };
}

/**
 * Resolves everything about a build without building: source commit, quirks,
 * overlays, patch check, config and the cache key. A patch that does not apply
 * is a BuildError('patch') naming every failing patch with its rejected hunks.
 */
export async function prepareBuild(spec: BuildSpec, backend: KernelBackend, signal?: AbortSignal): Promise<PreparedBuild> {
  const source = await resolveSource(spec.source, signal);
  const ctx = source.date === undefined ? { has: source.has } : { date: source.date, has: source.has };
  const quirks = await selectQuirks(ctx);
  const quirkFixups = quirks.flatMap((q) => (q.fixups ?? []).map((f) => join(sharedDir(), f)));
  const fixupDirs = [...new Set([...quirkFixups, ...spec.fixups.map((f) => resolve(f))])];
  for (const d of fixupDirs) {
    try {
      await access(d);
    } catch {
      throw new BuildError('source', `${spec.name}: fix-up overlay ${d} does not exist`);
    }
  }
  const quirkPatches = quirks.flatMap((q) => (q.patch ? [join(sharedDir(), q.patch)] : []));
  const patches = spec.patches.map((p) => resolve(p));
  const all = [...quirkPatches, ...patches];
  let patchCheck: PatchResult[];
  try {
    patchCheck = await checkPatchSeries(sourceTarget(source), all, signal);
  } catch (e) {
    throw new BuildError('patch', `${spec.name}: ${(e as Error).message}`);
  }
  const bad = patchCheck.filter((r) => r.verdict === 'fails' || r.verdict === 'already-applied');
  if (bad.length) {
    throw new BuildError('patch', bad.map((r) => `${spec.name}: ${formatPatchResult(r, source.describe)}`).join('\n'));
  }
  const config = await resolveKernelConfig(spec.config);
  const configHash = config.file ? await fileSha256(config.file) : sha256(`tree:arch/amd64/conf/${config.name}`);
  const fixupHashes: string[] = [];
  for (const d of fixupDirs) fixupHashes.push(await dirContentHash(d));
  const patchHashes: string[] = [];
  for (const p of all) patchHashes.push(await fileSha256(p));
  const makeVars = Object.assign({}, ...quirks.map((q) => q.makeVars ?? {})) as Record<string, string>;
  const key = kernelCacheKey({
    treeHash: source.treeHash,
    patchHashes,
    configHash,
    fixupsHash: sha256(fixupHashes.join('\n')),
    quirks: quirks.map((q) => q.id),
    toolchain: await backend.toolchainIdentity(signal),
    builder: backend.kind,
  });
  return { spec, source, quirks, fixupDirs, quirkPatches, patches, patchCheck, config, makeVars, key };
}

function fromEntry(prep: PreparedBuild, entry: CacheEntry, cached: boolean): BuiltKernel {
  return {
    name: prep.spec.name,
    bsd: entry.bsd,
    bsdGdb: entry.bsdGdb,
    log: entry.log,
    key: entry.manifest.key,
    buildSeconds: entry.manifest.buildSeconds,
    cached,
    treeDir: entry.manifest.treeDir,
    commit: entry.manifest.commit,
    version: entry.manifest.version,
  };
}

/** Builds a prepared kernel with a backend unless the cache has it. */
export async function buildPrepared(prep: PreparedBuild, backend: KernelBackend, opts: BuildOptions): Promise<BuiltKernel> {
  const hit = await lookupKernel(prep.key);
  if (hit) {
    opts.log?.(`${prep.spec.name}: cache hit ${prep.key.slice(0, 12)}`);
    return fromEntry(prep, hit, true);
  }
  const out = await backend.compile(prep, opts);
  const entry = await storeKernel(
    { bsd: out.bsd, bsdGdb: out.bsdGdb, log: out.log },
    {
      key: prep.key,
      name: prep.spec.name,
      commit: prep.source.commit,
      source: prep.source.describe,
      patches: prep.patches.map((p) => basename(p)),
      config: prep.config.name,
      quirks: prep.quirks.map((q) => q.id),
      builder: backend.kind,
      version: out.version,
      treeDir: out.treeDir,
      buildSeconds: out.buildSeconds,
      kernelHash: await kernelHash(out.bsd),
    },
  );
  return fromEntry(prep, entry, false);
}

