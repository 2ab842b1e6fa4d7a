import type { BuildQuirk } from './quirks.ts';
import type { PatchResult } from './patch/check.ts';
import type { ResolvedSource } from './source.ts';
import type { BuildOptions, BuildSpec } from './types.ts';

/** A kernel build fully resolved before any builder runs (and before the cache is asked). */
export interface PreparedBuild {
  spec: BuildSpec;
  source: ResolvedSource;
  quirks: BuildQuirk[];
  /** Overlay directories (absolute), quirk overlays first, then the spec's. */
  fixupDirs: string[];
  /** Patch files required by quirks, applied before the spec's patches. */
  quirkPatches: string[];
  /** The spec's patches (absolute), in order. */
  patches: string[];
  /** Result of checking the patches (quirk patches + spec patches) against the source. */
  patchCheck: PatchResult[];
  /** Config: a file on the host, or null for the tree's own arch/amd64/conf/<name>. */
  config: { name: string; file: string | null };
  makeVars: Record<string, string>;
  key: string;
}

/** What a backend leaves behind (in its own work area; the cache copies it). */
export interface CompiledKernel {
  bsd: string;
  bsdGdb: string;
  log: string;
  version: string;
  treeDir: string;
  buildSeconds: number;
}

export interface KernelBackend {
  /** "cross", "ssh:user@host:port", "vm:<image>" — part of the cache key. */
  readonly kind: string;
  /** Compiler/linker identity for the cache key. */
  toolchainIdentity(signal?: AbortSignal): Promise<string>;
  compile(prep: PreparedBuild, opts: BuildOptions): Promise<CompiledKernel>;
}
