import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hash of named parts, order-sensitive, unambiguous. */
export function hashParts(parts: Record<string, string>): string {
  const h = createHash('sha256');
  for (const [k, v] of Object.entries(parts)) h.update(`${k.length}:${k}${v.length}:${v}`);
  return h.digest('hex');
}

/** Hash of the contents of `files` (labelled by their path relative to `base`). */
export async function hashFiles(base: string, files: string[]): Promise<string> {
  const h = createHash('sha256');
  for (const f of [...new Set(files)].sort()) {
    const data = await readFile(f);
    const name = relative(base, f);
    h.update(`${name.length}:${name}${data.length}:`);
    h.update(data);
  }
  return h.digest('hex');
}

/** Every regular file under `dir` (recursively, symlinks not followed), sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string): Promise<void> {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(p);
    }
  }
  await walk(dir);
  return out.sort();
}

/** Hash of the files under the given subdirectories (and single files) of `root`. */
export async function hashTreeParts(root: string, parts: string[]): Promise<string> {
  const files: string[] = [];
  for (const p of parts) {
    const full = join(root, p);
    const st = await stat(full).catch(() => null);
    if (!st) continue;
    if (st.isDirectory()) files.push(...(await listFiles(full)));
    else files.push(full);
  }
  return hashFiles(root, files);
}
