/**
 * buildLabImage: agent + ramdisk + kernel-with-ramdisk + bootable ISO for one
 * kernel (`bsd`) of one tree, cached by all inputs.
 */
import { access, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { cacheDir } from '../../util/paths.ts';
import { buildAgent, type AgentBuildOptions } from './agent.ts';
import { buildBootBlocks } from './bootblocks.ts';
import { hashParts, sha256 } from './hash.ts';
import { buildIso, renderBootConf, type BootConfOptions } from './iso.ts';
import { buildRamdisk } from './ramdisk.ts';
import { findRamdiskSlot, insertRamdisk } from './rdsetroot.ts';

export interface LabImageOptions {
  /** The kernel (ELF with symbols, e.g. compile/LAB/obj/bsd). */
  bsd: string;
  /** The sys/ tree it was built from (agent ABI, boot blocks). */
  tree: string;
  agentOptions?: Omit<AgentBuildOptions, 'tree'>;
  bootConf?: BootConfOptions;
  /** Extra files for the ramdisk's /etc. */
  etc?: Record<string, string>;
  cacheRoot?: string;
}

export interface LabImageManifest {
  key: string;
  createdAt: string;
  bsd: { path: string; sha256: string; gdb: string | null };
  tree: string;
  agent: { path: string; size: number; sha256: string; key: string; pinned: number };
  bootBlocks: { cdbr: string; cdboot: string };
  ramdisk: { bytes: number; capacity: number; imageOffset: number };
  kernel: { path: string; sha256: string };
  iso: { path: string; sha256: string; bytes: number };
  bootConf: string;
  buildMs: number;
}

export interface LabImage {
  iso: string;
  /** The kernel with the ramdisk inserted (symbols unchanged: the original bsd.gdb symbolizes it). */
  kernel: string;
  manifest: LabImageManifest;
  cached: boolean;
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

export async function buildLabImage(opts: LabImageOptions): Promise<LabImage> {
  const t0 = Date.now();
  const bsd = resolve(opts.bsd);
  const tree = resolve(opts.tree);
  if (!(await exists(bsd))) throw new Error(`kernel ${bsd} does not exist`);
  const root = opts.cacheRoot ?? cacheDir('lab');
  const kernelBytes = await readFile(bsd);
  const slot = findRamdiskSlot(kernelBytes, bsd);
  const agent = await buildAgent({ ...opts.agentOptions, tree, cacheRoot: opts.agentOptions?.cacheRoot ?? join(root, 'agent') });
  const boot = await buildBootBlocks(tree, { cacheRoot: join(root, 'bootblocks') });
  const bootConf = renderBootConf(opts.bootConf);
  const key = hashParts({
    bsd: sha256(kernelBytes),
    agent: agent.sha256,
    cdbr: sha256(await readFile(boot.cdbr)),
    cdboot: sha256(await readFile(boot.cdboot)),
    bootConf,
    etc: JSON.stringify(Object.entries(opts.etc ?? {}).sort()),
    layout: 'v1',
  }).slice(0, 24);
  const outDir = join(root, 'images', key);
  const manifestPath = join(outDir, 'manifest.json');
  if (await exists(manifestPath)) {
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as LabImageManifest;
    if ((await exists(manifest.iso.path)) && (await exists(manifest.kernel.path))) {
      return { iso: manifest.iso.path, kernel: manifest.kernel.path, manifest, cached: true };
    }
  }

  await mkdir(join(root, 'images'), { recursive: true });
  const work = await mkdtemp(join(root, 'images', 'work-'));
  try {
    const rdImage = join(work, 'rd.img');
    const rd = await buildRamdisk({ init: agent.path, bytes: slot.imageCapacity, etc: opts.etc, out: rdImage, workParent: work });
    const kernelWithRd = insertRamdisk(kernelBytes, await readFile(rdImage), bsd);
    const kernelPath = join(work, 'bsd');
    await writeFile(kernelPath, kernelWithRd);
    const isoPath = join(work, 'lab.iso');
    await buildIso({ cdbr: boot.cdbr, cdboot: boot.cdboot, kernel: kernelPath, bootConf, out: isoPath, workParent: work });
    const isoBytes = await readFile(isoPath);
    const gdb = join(dirname(bsd), 'bsd.gdb');
    const final = join(root, 'images', key);
    const manifest: LabImageManifest = {
      key,
      createdAt: new Date().toISOString(),
      bsd: { path: bsd, sha256: sha256(kernelBytes), gdb: (await exists(gdb)) ? gdb : null },
      tree,
      agent: { path: agent.path, size: agent.size, sha256: agent.sha256, key: agent.key, pinned: agent.pinned },
      bootBlocks: { cdbr: boot.cdbr, cdboot: boot.cdboot },
      ramdisk: { bytes: rd.bytes, capacity: slot.imageCapacity, imageOffset: slot.imageOffset },
      kernel: { path: join(final, 'bsd'), sha256: sha256(kernelWithRd) },
      iso: { path: join(final, 'lab.iso'), sha256: sha256(isoBytes), bytes: isoBytes.length },
      bootConf,
      buildMs: Date.now() - t0,
    };
    await writeFile(join(work, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    await rm(join(work, 'rd.img'));
    await rm(final, { recursive: true, force: true });
    await rename(work, final);
    return { iso: manifest.iso.path, kernel: manifest.kernel.path, manifest, cached: false };
  } catch (e) {
    await rm(work, { recursive: true, force: true });
    throw e;
  }
}
