import type { KernelSpec } from '../playbook/plan-types.ts';

/** A kernel the project builds itself (as opposed to a prebuilt one). */
export type BuildSpec = Extract<KernelSpec, { kind: 'build' }>;

export interface BuildOptions {
  signal?: AbortSignal;
  /** Progress lines for the user (not the full build log, which goes to a file). */
  log?: (line: string) => void;
  /** Parallel make jobs. */
  jobs?: number;
}

export interface BuiltKernel {
  name: string;
  /** Stripped kernel (symbols kept, debug info removed). */
  bsd: string;
  /** Kernel with full debug info, for symbolising traces. */
  bsdGdb: string;
  /** Complete build log. */
  log: string;
  /** Content-addressed cache key (see build/cache.ts). */
  key: string;
  buildSeconds: number;
  /** True when the kernel came from the cache and no builder ran. */
  cached: boolean;
  /** Where the tree was built: kernel messages (KASSERT paths) carry this prefix. */
  treeDir: string;
  /** Source commit (git), or a content hash for directory/CVS trees. */
  commit: string;
  /** First line of the kernel's version string ("OpenBSD 7.9 (LAB) #0: ..."). */
  version: string;
}

export type BuildFailureKind = 'source' | 'patch' | 'config' | 'compile' | 'toolchain' | 'builder';

/** A build that could not produce a kernel; `message` is written for the user. */
export class BuildError extends Error {
  readonly kind: BuildFailureKind;
  readonly logFile: string | undefined;
  constructor(kind: BuildFailureKind, message: string, logFile?: string) {
    super(message);
    this.name = 'BuildError';
    this.kind = kind;
    this.logFile = logFile;
  }
}
