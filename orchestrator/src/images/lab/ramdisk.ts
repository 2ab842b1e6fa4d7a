/**
 * The ramdisk root: an FFS image made by makefs from an mtree spec (agent as
 * /sbin/init, device nodes, /etc), with an OpenBSD disklabel in sector 1.
 */
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { insertLabel, ramdiskLabel } from './disklabel.ts';
import { runTool } from './run-tool.ts';

export interface DeviceNode {
  path: string;
  type: 'char' | 'block';
  major: number;
  minor: number;
  mode: string;
}

/** Majors from arch/amd64/amd64/conf.c; the agent recreates them if they are missing. */
export const RAMDISK_DEVICES: DeviceNode[] = [
  { path: 'dev/console', type: 'char', major: 0, minor: 0, mode: '0600' },
  { path: 'dev/null', type: 'char', major: 2, minor: 2, mode: '0666' },
  { path: 'dev/bpf', type: 'char', major: 23, minor: 0, mode: '0600' },
  { path: 'dev/dt', type: 'char', major: 30, minor: 0, mode: '0600' },
  { path: 'dev/ksyms', type: 'char', major: 50, minor: 0, mode: '0640' },
  { path: 'dev/pf', type: 'char', major: 73, minor: 0, mode: '0600' },
  { path: 'dev/rd0a', type: 'block', major: 17, minor: 0, mode: '0600' },
];

/** FFS parameters that fit a tiny root (NOTES-kernel.md sec. 10). */
export const FFS = { bsize: 4096, fsize: 512, density: 8192 } as const;

/** The mtree spec for makefs -F (pure). Debian has no group "wheel", hence uid/gid numbers. */
export function renderMtreeSpec(devices: DeviceNode[] = RAMDISK_DEVICES, extraFiles: string[] = []): string {
  const lines = [
    '#mtree',
    '/set uid=0 gid=0',
    '.               type=dir mode=0755',
    './dev           type=dir mode=0755',
    './etc           type=dir mode=0755',
    './sbin          type=dir mode=0755',
    './sbin/init     type=file mode=0555',
    './tmp           type=dir mode=1777',
  ];
  for (const f of extraFiles) lines.push(`./${f} type=file mode=0644`);
  for (const d of devices) {
    lines.push(`./${d.path} type=${d.type} mode=${d.mode} device=native,${d.major},${d.minor}`);
  }
  return lines.join('\n') + '\n';
}

export function makefsArgs(image: string, spec: string, dir: string, bytes: number): string[] {
  return [
    '-t',
    'ffs',
    '-B',
    'le',
    '-s',
    String(bytes),
    '-o',
    `version=1,bsize=${FFS.bsize},fsize=${FFS.fsize},minfree=0,optimization=space,density=${FFS.density}`,
    '-F',
    spec,
    image,
    dir,
  ];
}

export interface RamdiskOptions {
  /** The agent binary, installed as /sbin/init. */
  init: string;
  /** Image size in bytes: the kernel's rd_root_image capacity (MINIROOTSIZE × 512). */
  bytes: number;
  /** Extra files for /etc: name → content. */
  etc?: Record<string, string>;
  /** Where to write the image. */
  out: string;
  /** Scratch directory parent. */
  workParent: string;
}

export async function buildRamdisk(opts: RamdiskOptions): Promise<{ path: string; bytes: number }> {
  if (opts.bytes % 512 !== 0 || opts.bytes < 1024 * 1024) throw new Error(`ramdisk size ${opts.bytes}: want a multiple of 512, at least 1 MiB`);
  const work = await mkdtemp(join(opts.workParent, 'ramdisk-'));
  try {
    const root = join(work, 'root');
    for (const d of ['dev', 'etc', 'sbin', 'tmp']) await mkdir(join(root, d), { recursive: true });
    await copyFile(opts.init, join(root, 'sbin', 'init'));
    await chmod(join(root, 'sbin', 'init'), 0o555);
    const etcFiles: string[] = [];
    for (const [name, content] of Object.entries(opts.etc ?? {})) {
      if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`ramdisk: bad /etc file name "${name}"`);
      await writeFile(join(root, 'etc', name), content);
      etcFiles.push(`etc/${name}`);
    }
    const spec = join(work, 'rd.spec');
    await writeFile(spec, renderMtreeSpec(RAMDISK_DEVICES, etcFiles));
    const image = join(work, 'rd.img');
    await runTool('makefs', 'makefs', makefsArgs(image, spec, root, opts.bytes), { timeoutMs: 120_000 });
    const buf = await readFile(image);
    if (buf.length !== opts.bytes) throw new Error(`makefs wrote ${buf.length} bytes, asked for ${opts.bytes}`);
    insertLabel(buf, ramdiskLabel(buf.length, FFS));
    await writeFile(opts.out, buf);
    return { path: opts.out, bytes: buf.length };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
