import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Content hash of a directory: relative path, type, executable bit and content of
 * every entry, in sorted order. Timestamps and owners do not count.
 */
export async function dirContentHash(dir: string, ignore: (rel: string) => boolean = () => false): Promise<string> {
  const h = createHash('sha256');
  async function walk(rel: string): Promise<void> {
    const names = (await readdir(join(dir, rel))).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      if (ignore(r)) continue;
      const p = join(dir, r);
      const st = await lstat(p);
      if (st.isDirectory()) {
        h.update(`d ${r}\0`);
        await walk(r);
      } else if (st.isSymbolicLink()) {
        h.update(`l ${r}\0${await readlink(p)}\0`);
      } else if (st.isFile()) {
        h.update(`f ${r} ${st.mode & 0o111 ? 'x' : '-'}\0`);
        h.update(await readFile(p));
        h.update('\0');
      }
    }
  }
  await walk('');
  return h.digest('hex');
}
