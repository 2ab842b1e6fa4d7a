/** The bootable El Torito image: the tree's cdbr/cdboot, the kernel and etc/boot.conf. */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool } from './run-tool.ts';

export interface BootConfOptions {
  /** Serial console speed (com0). */
  speed?: number;
  /** Lines appended after the defaults, e.g. "boot -d" to stop in ddb early. */
  extraLines?: string[];
}

/**
 * etc/boot.conf (pure). cdboot's default image is /<rel>/amd64/bsd.rd, so
 * `set image /bsd` is required; the stty/tty lines give a serial console.
 */
export function renderBootConf(opts: BootConfOptions = {}): string {
  const speed = opts.speed ?? 115200;
  const lines = [`stty com0 ${speed}`, 'set tty com0', 'set image /bsd'];
  for (const l of opts.extraLines ?? []) {
    if (/[\r\n]/.test(l)) throw new Error(`boot.conf line contains a newline: ${JSON.stringify(l)}`);
    lines.push(l);
  }
  return lines.join('\n') + '\n';
}

/** ISO9660 names stay plain upper case (-l -d -N, no Rock Ridge): cdbr and libsa's cd9660 look them up that way. */
export function xorrisoArgs(iso: string, dir: string): string[] {
  return ['-as', 'mkisofs', '-l', '-d', '-N', '-b', 'cdbr', '-no-emul-boot', '-boot-load-size', '4', '-c', 'boot.catalog', '-o', iso, dir];
}

export async function buildIso(opts: {
  cdbr: string;
  cdboot: string;
  kernel: string;
  bootConf: string;
  out: string;
  workParent: string;
}): Promise<string> {
  const work = await mkdtemp(join(opts.workParent, 'iso-'));
  try {
    const root = join(work, 'root');
    await mkdir(join(root, 'etc'), { recursive: true });
    await copyFile(opts.cdbr, join(root, 'cdbr'));
    await copyFile(opts.cdboot, join(root, 'cdboot'));
    await copyFile(opts.kernel, join(root, 'bsd'));
    await writeFile(join(root, 'etc', 'boot.conf'), opts.bootConf);
    await runTool('xorriso', 'xorriso', xorrisoArgs(opts.out, root), { timeoutMs: 120_000 });
    return opts.out;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
