/**
 * `obsdlab image build [--release 7.8] [--arch amd64] [--mirror URL|DIR] --pubkey FILE`:
 * fetch → signify verify → typed install in QEMU → base qcow2 in vm-images/openbsd/.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { openConsole } from '../console/connect.ts';
import { buildBaseImage } from '../images/base-image.ts';
import { DEFAULT_MIRROR, MediaError } from '../images/media.ts';
import { SignifyError } from '../images/signify.ts';
import type { CommandOutcome } from './media.ts';

export interface ImageBuildCliOptions {
  release: string;
  arch: string;
  mirror: string;
  pubkey?: string;
  debugSysctls?: boolean;
  connectTimeout: number;
}

export async function runImageBuild(opts: ImageBuildCliOptions): Promise<CommandOutcome> {
  if (!opts.pubkey) {
    return { exitCode: 2, lines: ['image build: --pubkey is required (the release\'s signify key from a trusted place, e.g. /etc/signify/openbsd-78-base.pub)'] };
  }
  try {
    const img = await buildBaseImage({
      media: { release: opts.release, arch: opts.arch, mirror: opts.mirror, pubkey: opts.pubkey },
      debugSysctls: opts.debugSysctls ?? false,
      fetch: { connectTimeoutMs: opts.connectTimeout * 1000 },
      openConsole: (vm) => openConsole({ vm: vm.name, socketPath: vm.consoleSocket, dir: join(vm.paths.console, '..'), chardev: 'mux' }),
    });
    return { exitCode: 0, lines: [`image   ${img.path}${img.cached ? ' (up to date)' : ''}`, `key     ${img.sshKey}`, `console ${img.installConsole}`] };
  } catch (e) {
    if (e instanceof MediaError || e instanceof SignifyError) return { exitCode: 1, lines: [`image build: ${e.message}`] };
    throw e;
  }
}

export function register(program: Command): void {
  let image = program.commands.find((c) => c.name() === 'image');
  image ??= program.command('image').description('build and inspect guest images');
  image
    .command('build')
    .description('install OpenBSD from verified media into a cached base image')
    .option('--release <release>', 'release like 7.8, or "snapshots"', '7.8')
    .option('--arch <arch>', 'amd64 (arm64, i386: media only)', 'amd64')
    .option('--mirror <url|dir>', 'mirror URL, file:// URL or local directory', DEFAULT_MIRROR)
    .option('--pubkey <file>', 'trusted signify public key of the release')
    .option('--debug-sysctls', 'kern.pool_debug=1, kern.splassert=3, kern.witness.watch=3 in the image')
    .option('--connect-timeout <sec>', 'seconds to wait for the mirror to answer', (v) => Number(v), 10)
    .action(async (opts: ImageBuildCliOptions) => {
      const o = await runImageBuild(opts);
      (o.exitCode === 0 ? process.stdout : process.stderr).write(o.lines.join('\n') + '\n');
      process.exitCode = o.exitCode;
    });
}
