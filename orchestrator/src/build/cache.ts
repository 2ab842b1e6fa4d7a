import { copyFile, mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheDir } from '../util/paths.ts';
import { sha256 } from './hash.ts';

/** Everything that determines a kernel's bytes (apart from the build date). */
export interface KernelKeyInputs {
  /** git tree hash of the commit, or a content hash of a directory tree. */
  treeHash: string;
  /** sha256 of each patch file's content, in apply order. */
  patchHashes: string[];
  /** sha256 of the kernel config file. */
  configHash: string;
  /** Content hash over the fix-up overlays, in order. */
  fixupsHash: string;
  /** Ids of the build quirks applied. */
  quirks: string[];
  /** Compiler/linker versions and the builder's own recipe identity. */
  toolchain: string;
  /** cross, ssh:<host>, vm:<image>. */
  builder: string;
}

export function kernelCacheKey(k: KernelKeyInputs): string {
  const canonical = JSON.stringify([
    'obsdlab-kernel-v1',
    k.treeHash,
    k.patchHashes,
    k.configHash,
    k.fixupsHash,
    k.quirks,
    k.toolchain,
    k.builder,
  ]);
  return sha256(canonical);
}

export interface KernelManifest {
  key: string;
  name: string;
  commit: string;
  source: string;
  patches: string[];
  config: string;
  quirks: string[];
  builder: string;
  version: string;
  treeDir: string;
  buildSeconds: number;
  builtAt: string;
  lastUsed: string;
  /** Total bytes of the entry (bsd + bsd.gdb + log). */
  size: number;
  /** kernelHash(bsd): content hash without the build date. */
  kernelHash: string;
}

export interface CacheEntry {
  dir: string;
  bsd: string;
  bsdGdb: string;
  log: string;
  manifest: KernelManifest;
}

export function kernelsDir(): string {
  return cacheDir('kernels');
}

function entryPaths(dir: string) {
  return { bsd: join(dir, 'bsd'), bsdGdb: join(dir, 'bsd.gdb'), log: join(dir, 'build.log'), manifest: join(dir, 'manifest.json') };
}

async function readManifest(dir: string): Promise<KernelManifest | null> {
  try {
    return JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as KernelManifest;
  } catch {
    return null;
  }
}

/** Returns the cached kernel for a key and records the use (LRU), or null. */
export async function lookupKernel(key: string, now = new Date()): Promise<CacheEntry | null> {
  const dir = join(kernelsDir(), key);
  const manifest = await readManifest(dir);
  if (!manifest) return null;
  const p = entryPaths(dir);
  try {
    await Promise.all([stat(p.bsd), stat(p.bsdGdb)]);
  } catch {
    return null;
  }
  manifest.lastUsed = now.toISOString();
  await writeFile(p.manifest, JSON.stringify(manifest, null, 2) + '\n');
  await utimes(p.manifest, now, now);
  return { dir, bsd: p.bsd, bsdGdb: p.bsdGdb, log: p.log, manifest };
}

/** Copies a fresh build into the cache (atomically: a half-written entry is never visible). */
export async function storeKernel(
  files: { bsd: string; bsdGdb: string; log: string },
  manifest: Omit<KernelManifest, 'size' | 'lastUsed' | 'builtAt'>,
  now = new Date(),
): Promise<CacheEntry> {
  const dir = join(kernelsDir(), manifest.key);
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true });
  const p = entryPaths(tmp);
  await copyFile(files.bsd, p.bsd);
  await copyFile(files.bsdGdb, p.bsdGdb);
  await copyFile(files.log, p.log);
  let size = 0;
  for (const f of [p.bsd, p.bsdGdb, p.log]) size += (await stat(f)).size;
  const full: KernelManifest = { ...manifest, size, builtAt: now.toISOString(), lastUsed: now.toISOString() };
  await writeFile(p.manifest, JSON.stringify(full, null, 2) + '\n');
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  const q = entryPaths(dir);
  return { dir, bsd: q.bsd, bsdGdb: q.bsdGdb, log: q.log, manifest: full };
}

export async function listKernels(): Promise<KernelManifest[]> {
  let names: string[];
  try {
    names = await readdir(kernelsDir());
  } catch {
    return [];
  }
  const out: KernelManifest[] = [];
  for (const n of names) {
    if (!/^[0-9a-f]{64}$/.test(n)) continue;
    const m = await readManifest(join(kernelsDir(), n));
    if (m) out.push(m);
  }
  return out.sort((a, b) => b.lastUsed.localeCompare(a.lastUsed));
}

/** Which entries to delete so the rest fit in maxBytes: least recently used first. Pure. */
export function planEviction(entries: { key: string; size: number; lastUsed: string }[], maxBytes: number, keep: ReadonlySet<string> = new Set()): string[] {
  let total = entries.reduce((s, e) => s + e.size, 0);
  const victims: string[] = [];
  const oldestFirst = [...entries].sort((a, b) => a.lastUsed.localeCompare(b.lastUsed) || a.key.localeCompare(b.key));
  for (const e of oldestFirst) {
    if (total <= maxBytes) break;
    if (keep.has(e.key)) continue;
    victims.push(e.key);
    total -= e.size;
  }
  return victims;
}

export const DEFAULT_CACHE_MAX_BYTES = 10 * 1024 ** 3;

/** Evicts least recently used kernels until the cache fits; returns the removed manifests. */
export async function gcKernels(maxBytes = DEFAULT_CACHE_MAX_BYTES, keep: ReadonlySet<string> = new Set()): Promise<KernelManifest[]> {
  const all = await listKernels();
  const victims = new Set(planEviction(all, maxBytes, keep));
  const removed: KernelManifest[] = [];
  for (const m of all) {
    if (!victims.has(m.key)) continue;
    await rm(join(kernelsDir(), m.key), { recursive: true, force: true });
    removed.push(m);
  }
  return removed;
}

/** "10G", "512M", "1.5GiB", "4096" → bytes. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  if (!m) throw new Error(`invalid size "${text}" (expected e.g. 10G, 512M, 4096)`);
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  return Math.round(Number(m[1]) * mult);
}

/**
 * The build date and time in the version strings vers.c puts into the kernel,
 * e.g. "#0: Wed Nov 25 19:38:23 UTC 2026". Masked by kernelHash.
 */
const BUILD_DATE_RE = /#\d+: (?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d [A-Z]{2,5} \d{4}/g;

/**
 * Content hash of a built kernel with the build date blanked out, so two builds
 * of the same source at the same path compare equal (bisect lets byte-identical
 * kernels share evidence).
 */
export function kernelHashOfBytes(bytes: Buffer): string {
  const text = bytes.toString('latin1');
  const copy = Buffer.from(bytes);
  for (const m of text.matchAll(BUILD_DATE_RE)) copy.fill(0, m.index!, m.index! + m[0].length);
  return sha256(copy);
}

export async function kernelHash(bsd: string): Promise<string> {
  return kernelHashOfBytes(await readFile(bsd));
}
