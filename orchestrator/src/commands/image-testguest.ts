/**
 * `obsdlab image testguest` (alias `build-testguest`): builds the Linux test guest
 * from Debian packages into vm-images/testguest/out (skipped when up to date).
 */
import type { Command } from 'commander';
import { buildTestguest } from '../vm/testguest-image.ts';

export async function runImageTestguest(opts: { out?: string; quiet?: boolean }): Promise<void> {
  const img = await buildTestguest({
    ...(opts.out ? { outDir: opts.out } : {}),
    ...(opts.quiet ? {} : { onOutput: (line: string) => process.stderr.write(`${line}\n`) }),
  });
  process.stdout.write(
    [
      `kernel   ${img.kernel}`,
      `initrd   ${img.initrd}`,
      `key      ${img.keyPath}`,
      `hash     ${img.manifest.hash} (${img.cached ? 'up to date' : `built in ${(img.buildMs / 1000).toFixed(1)}s`})`,
      `linux    ${img.manifest.kernelRelease}`,
    ].join('\n') + '\n',
  );
}

export function register(program: Command): void {
  let image = program.commands.find((c) => c.name() === 'image');
  image ??= program.command('image').description('build and inspect guest images');
  image
    .command('testguest')
    .alias('build-testguest')
    .description('build the Linux test guest (kernel + initramfs) from Debian packages')
    .option('--out <dir>', 'output directory (default: vm-images/testguest/out)')
    .option('-q, --quiet', 'do not echo the build script output')
    .action(async (opts: { out?: string; quiet?: boolean }) => runImageTestguest(opts));
}
