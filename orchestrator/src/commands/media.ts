/**
 * `obsdlab media verify --pubkey KEY --sig SHA256.sig FILE...` — signify -C semantics.
 * `obsdlab media fetch [--release R] [--arch A] [--mirror URL|DIR] --pubkey KEY` — download,
 * verify and cache the install media.
 */
import type { Command } from 'commander';
import { SignifyError } from '../images/signify.ts';
import { verifyFiles } from '../images/verify-files.ts';
import { DEFAULT_MIRROR, MediaError, fetchInstallMedia, type InstallFormat } from '../images/media.ts';

export interface CommandOutcome {
  exitCode: number;
  lines: string[];
}

export async function runMediaVerify(opts: { pubkey: string; sig: string; files: string[] }): Promise<CommandOutcome> {
  if (opts.files.length === 0) return { exitCode: 2, lines: ['media verify: name at least one FILE to check'] };
  try {
    const res = await verifyFiles(opts.pubkey, opts.sig, opts.files);
    return { exitCode: res.ok ? 0 : 1, lines: [`Signature Verified (${opts.sig})`, ...res.lines] };
  } catch (e) {
    if (e instanceof SignifyError) return { exitCode: 1, lines: [`${e.message}`, ...opts.files.map((f) => `${f}: FAIL: not checked, the signature is not good`)] };
    return { exitCode: 1, lines: [(e as Error).message] };
  }
}

export interface MediaFetchCliOptions {
  release: string;
  arch: string;
  mirror: string;
  pubkey?: string;
  format: InstallFormat;
  connectTimeout: number;
}

export async function runMediaFetch(opts: MediaFetchCliOptions, progress?: (line: string) => void): Promise<CommandOutcome> {
  if (!opts.pubkey) {
    return {
      exitCode: 2,
      lines: [
        `media fetch: --pubkey is required: the release's signify key from a trusted place, never from the mirror`,
        `  (on an OpenBSD machine: /etc/signify/openbsd-${opts.release.replace('.', '')}-base.pub)`,
      ],
    };
  }
  let lastPct = -1;
  try {
    const got = await fetchInstallMedia(
      { release: opts.release, arch: opts.arch, mirror: opts.mirror, pubkey: opts.pubkey },
      {
        format: opts.format,
        connectTimeoutMs: opts.connectTimeout * 1000,
        onProgress: ({ file, bytes, total }) => {
          if (!progress || !total) return;
          const pct = Math.floor((bytes * 100) / total);
          if (pct >= lastPct + 10 || bytes === total) {
            lastPct = pct;
            progress(`${file}: ${pct}% (${Math.round(bytes / 1048576)} of ${Math.round(total / 1048576)} MiB)`);
          }
        },
      },
    );
    return { exitCode: 0, lines: [`${got.name}: OK (SHA256 ${got.sha256}${got.cached ? ', cached' : ''})`, got.path] };
  } catch (e) {
    if (e instanceof MediaError || e instanceof SignifyError) return { exitCode: 1, lines: [`media fetch: ${e.message}`] };
    throw e;
  }
}

function print(o: CommandOutcome): void {
  const out = o.exitCode === 0 ? process.stdout : process.stderr;
  out.write(o.lines.join('\n') + '\n');
  process.exitCode = o.exitCode;
}

export function register(program: Command): void {
  let media = program.commands.find((c) => c.name() === 'media');
  media ??= program.command('media').description('OpenBSD install media: fetch and signify verification');
  media
    .command('verify')
    .description('check files against a signed SHA256.sig (like signify -C)')
    .requiredOption('--pubkey <file>', 'trusted signify public key (e.g. /etc/signify/openbsd-78-base.pub)')
    .requiredOption('--sig <file>', 'SHA256.sig of the release directory')
    .argument('<file...>', 'files to check (matched by base name)')
    .action(async (files: string[], opts: { pubkey: string; sig: string }) => print(await runMediaVerify({ ...opts, files })));
  media
    .command('fetch')
    .description('download, verify and cache the install media of a release')
    .option('--release <release>', 'release like 7.8, or "snapshots"', '7.8')
    .option('--arch <arch>', 'amd64, arm64 or i386', 'amd64')
    .option('--mirror <url|dir>', 'mirror URL, file:// URL or local directory laid out like a mirror', DEFAULT_MIRROR)
    .option('--pubkey <file>', 'trusted signify public key of the release')
    .option('--format <iso|img>', 'installNN.iso or installNN.img', 'iso')
    .option('--connect-timeout <sec>', 'seconds to wait for the mirror to answer', (v) => Number(v), 10)
    .action(async (opts: MediaFetchCliOptions) => print(await runMediaFetch(opts, (l) => process.stderr.write(`${l}\n`))));
}
