/** `obsdlab cache ls` and `obsdlab cache gc [--max-size SIZE]`: the content-addressed kernel cache. */
import type { Command } from 'commander';
import { DEFAULT_CACHE_MAX_BYTES, gcKernels, kernelsDir, listKernels, parseSize, type KernelManifest } from '../build/cache.ts';

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export function formatCacheList(entries: KernelManifest[]): string {
  if (entries.length === 0) return `no kernels in ${kernelsDir()}\n`;
  const lines = entries.map((m) => {
    const patches = m.patches.length ? m.patches.join(',') : 'no patches';
    return `${m.key.slice(0, 12)}  ${m.name}  ${m.commit.slice(0, 9)}  ${m.config}  ${patches}  ${mb(m.size)}  last used ${m.lastUsed}`;
  });
  const total = entries.reduce((s, m) => s + m.size, 0);
  return `${lines.join('\n')}\n${entries.length} kernel(s), ${mb(total)} in ${kernelsDir()}\n`;
}

export function register(program: Command): void {
  const cache = program.command('cache').description('the kernel cache');
  cache
    .command('ls')
    .description('list cached kernels, most recently used first')
    .action(async () => {
      process.stdout.write(formatCacheList(await listKernels()));
    });
  cache
    .command('gc')
    .description('evict least recently used kernels until the cache fits')
    .option('--max-size <size>', 'size bound, e.g. 10G, 512M', '10G')
    .action(async (o: { maxSize: string }) => {
      let max = DEFAULT_CACHE_MAX_BYTES;
      try {
        max = parseSize(o.maxSize);
      } catch (e) {
        process.stderr.write(`cache gc: ${(e as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      const removed = await gcKernels(max);
      for (const m of removed) process.stdout.write(`removed ${m.key.slice(0, 12)} ${m.name} (${mb(m.size)}, last used ${m.lastUsed})\n`);
      process.stdout.write(`${removed.length} kernel(s) removed\n`);
    });
}
