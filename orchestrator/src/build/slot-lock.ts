import { open, readFile, rm } from 'node:fs/promises';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Exclusive use of a fixed build directory across processes: a lock file holding
 * the owner's pid; a lock whose owner is gone is taken over.
 */
export async function withSlotLock<T>(lockFile: string, signal: AbortSignal | undefined, onWait: () => void, fn: () => Promise<T>): Promise<T> {
  let announced = false;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const fh = await open(lockFile, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (!owner || !alive(owner)) {
        await rm(lockFile, { force: true });
        continue;
      }
      if (!announced) {
        onWait();
        announced = true;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockFile, { force: true });
  }
}
