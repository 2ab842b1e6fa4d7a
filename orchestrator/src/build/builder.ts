import { readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheDir } from '../util/paths.ts';
import { CrossBackend, materializeTree } from './cross.ts';
import { BuilderVmBackend } from './builder-vm.ts';
import type { KernelBackend } from './backend.ts';
import { buildPrepared, prepareBuild } from './prepare.ts';
import { SshBackend, type SshBuilderOptions } from './ssh-builder.ts';
import type { BuildOptions, BuildSpec, BuiltKernel } from './types.ts';

export interface KernelBuilder {
  build(spec: BuildSpec, opts: BuildOptions): Promise<BuiltKernel>;
  /**
   * The sys/ tree exactly as that kernel was compiled (source, fix-ups, patches),
   * for what must match it (the lab agent's ABI check, the boot blocks): the
   * builder's own work tree holds whatever it built last, which a cache hit does
   * not change.
   */
  sourceTree(spec: BuildSpec, signal?: AbortSignal): Promise<string>;
}

/** Source trees kept for lab images (69 MB each for sys/); the least recently used go first. */
const KEEP_SOURCE_TREES = 6;

async function pruneSourceTrees(root: string, keep: string): Promise<void> {
  const entries = await readdir(root).catch(() => [] as string[]);
  const aged = await Promise.all(entries.map(async (e) => ({ e, t: (await stat(join(root, e)).catch(() => null))?.mtimeMs ?? 0 })));
  aged.sort((a, b) => b.t - a.t);
  for (const { e } of aged.slice(KEEP_SOURCE_TREES)) if (join(root, e) !== keep) await rm(join(root, e), { recursive: true, force: true });
}

/**
 * The backend a spec names. A `vm` builder is the SSH builder pointed at a builder
 * VM: a running one whose SSH endpoint is passed here, or else one booted from the
 * spec's image when a kernel is not cached (build/builder-vm.ts).
 */
export function backendFor(builder: BuildSpec['builder'], vmEndpoint?: SshBuilderOptions): KernelBackend {
  switch (builder.type) {
    case 'cross':
      return new CrossBackend();
    case 'ssh':
      return new SshBackend({ host: builder.host, port: builder.port, user: builder.user, key: builder.key });
    case 'vm':
      // An already running builder VM, or one booted from the image on a cache miss.
      return vmEndpoint ? new SshBackend(vmEndpoint, `vm:${builder.image}`) : new BuilderVmBackend({ image: builder.image });
  }
}

/** The builder a spec names, with the kernel cache in front of it. */
export function createKernelBuilder(builder: BuildSpec['builder'], vmEndpoint?: SshBuilderOptions): KernelBuilder {
  const backend = backendFor(builder, vmEndpoint);
  return {
    async build(spec, opts) {
      const prep = await prepareBuild(spec, backend, opts.signal);
      return buildPrepared(prep, backend, opts);
    },
    async sourceTree(spec, signal) {
      const prep = await prepareBuild(spec, backend, signal);
      const root = cacheDir('trees');
      const tree = join(root, prep.key.slice(0, 16));
      const complete = await stat(tree).then(() => true, () => false);
      if (!complete) {
        const part = `${tree}.part-${process.pid}`;
        await materializeTree(prep, part, { signal });
        await rename(part, tree);
      }
      // Touch it: pruning keeps the most recently used trees.
      const now = new Date();
      await utimes(tree, now, now);
      await pruneSourceTrees(root, tree);
      return tree;
    },
  };
}
