import { access, cp, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheDir, sharedDir } from '../util/paths.ts';
import { dirContentHash } from './hash.ts';
import { runToolOk } from './run-tool.ts';
import { BuildError } from './types.ts';

/** OpenBSD's config(8) sources with Linux compat edits (../shared/openbsd-lab/src/config). */
export function configSourceDir(): string {
  return process.env.OBSDLAB_CONFIG_SRC ?? join(sharedDir(), 'openbsd-lab', 'src', 'config');
}

/**
 * Builds config(8) for the host once per source content and returns the binary
 * path: byacc -d gram.y; flex scan.l; cc -D_GNU_SOURCE -I. -o config *.c
 * (-D_GNU_SOURCE declares asprintf).
 */
export async function hostConfigTool(signal?: AbortSignal): Promise<string> {
  const src = configSourceDir();
  try {
    await access(join(src, 'gram.y'));
  } catch {
    throw new BuildError('toolchain', `config(8) sources not found at ${src} (expected gram.y, scan.l, *.c); set OBSDLAB_CONFIG_SRC`);
  }
  const hash = (await dirContentHash(src)).slice(0, 16);
  const dir = cacheDir('tools', `config-${hash}`);
  const bin = join(dir, 'config');
  try {
    await access(bin);
    return bin;
  } catch {
    // not built yet
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await cp(src, tmp, { recursive: true });
  try {
    await runToolOk('byacc', ['-d', 'gram.y'], { cwd: tmp, signal });
    await runToolOk('flex', ['scan.l'], { cwd: tmp, signal });
    const cfiles = (await readdir(tmp)).filter((f) => f.endsWith('.c')).sort();
    await runToolOk('cc', ['-D_GNU_SOURCE', '-I.', '-o', 'config', ...cfiles], { cwd: tmp, signal });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw new BuildError('toolchain', `building config(8) from ${src} failed: ${(e as Error).message}`);
  }
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  return bin;
}
