import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project checkout (two levels above orchestrator/src/util). */
export const PROJECT_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

/** ../shared beside the checkout (corpus, patches, openbsd-lab), overridable with OBSDLAB_SHARED. */
export function sharedDir(): string {
  return process.env.OBSDLAB_SHARED ? resolve(process.env.OBSDLAB_SHARED) : resolve(PROJECT_ROOT, '..', 'shared');
}

/** Where built artifacts are cached (kernels, trees, images, ccache), overridable with OBSDLAB_CACHE. */
export function cacheDir(...parts: string[]): string {
  const base = process.env.OBSDLAB_CACHE
    ? resolve(process.env.OBSDLAB_CACHE)
    : join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'obsdlab');
  return join(base, ...parts);
}
