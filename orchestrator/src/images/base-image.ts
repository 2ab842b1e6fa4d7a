/**
 * `obsdlab image build`: fetch → signify verify → typed install in QEMU → cached base
 * qcow2 in vm-images/openbsd/, keyed by what went into it, with the install console kept.
 */
import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import type { ConsoleChannel } from '../console/types.ts';
import { PROJECT_ROOT, cacheDir } from '../util/paths.ts';
import { startVm, type RunningVm } from '../vm/qemu.ts';
import { ensureSshKey } from '../vm/testguest-image.ts';
import { DEFAULT_ANSWERS, baseImageKey, renderResponseFile, renderSiteFiles } from './autoinstall.ts';
import { driveInstall, parseResponseFile } from './install.ts';
import { MediaError, fetchInstallMedia, type FetchOptions, type MediaSpec } from './media.ts';

export interface BaseImageOptions {
  media: MediaSpec;
  hostname?: string;
  setSelection?: string;
  debugSysctls?: boolean;
  diskGiB?: number;
  cpus?: number;
  memoryMiB?: number;
  fetch?: FetchOptions;
  log?: (line: string) => void;
  /** Opens the VM's serial console as a ConsoleChannel (console/ session over RunningVm.consoleSocket). */
  openConsole(vm: RunningVm): Promise<ConsoleChannel>;
}

export interface BaseImage {
  path: string;
  /** Private key whose public half is in /root/.ssh/authorized_keys. */
  sshKey: string;
  installConsole: string;
  cached: boolean;
}

export function baseImageDir(release: string, arch: string, key: string): string {
  return join(PROJECT_ROOT, 'vm-images', 'openbsd', `${release}-${arch}-${key}`);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

export async function buildBaseImage(o: BaseImageOptions): Promise<BaseImage> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  if (o.media.arch !== 'amd64' && o.media.arch !== 'i386') {
    throw new MediaError(`image build: ${o.media.arch} installs need a non-x86 QEMU, which vm/ does not start; fetch/verify its media with "obsdlab media fetch"`);
  }
  const media = await fetchInstallMedia(o.media, { ...o.fetch, format: 'iso' });
  log(`image: ${media.name} ${media.cached ? 'from the cache' : 'downloaded'}, SHA256 ${media.sha256} verified with ${o.media.pubkey}`);

  const key = ensureSshKey();
  const answers = { ...DEFAULT_ANSWERS, hostname: o.hostname ?? 'obsdlab', rootSshKey: key.publicKey, setSelection: o.setSelection ?? DEFAULT_ANSWERS.setSelection };
  const responseFile = renderResponseFile(answers);
  const siteFiles = renderSiteFiles({ debugSysctls: o.debugSysctls ?? false, rootSshKey: key.publicKey });
  const id = baseImageKey({ release: o.media.release, arch: o.media.arch, setSelection: answers.setSelection, responseFile: responseFile + media.sha256, siteFiles });
  const dir = baseImageDir(o.media.release, o.media.arch, id);
  const path = join(dir, 'base.qcow2');
  const installConsole = join(dir, 'install-console.txt');
  if (await exists(path)) return { path, sshKey: key.privatePath, installConsole, cached: true };

  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'install.conf'), responseFile);
  const work = cacheDir('install-work', id);
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const empty = join(work, 'empty.qcow2');
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', empty, `${o.diskGiB ?? 12}G`]);

  const vm = await startVm({
    name: 'obsdlab-install',
    dir: work,
    cpus: o.cpus ?? 2,
    memoryMiB: o.memoryMiB ?? 1024,
    boot: { kind: 'cdrom', iso: media.path },
    disk: empty,
    management: true,
    log,
  });
  try {
    const console = await o.openConsole(vm);
    await driveInstall(console, { answers: parseResponseFile(responseFile), siteFiles, log });
    await vm.exited;
  } finally {
    await vm.stop();
    await copyFile(vm.paths.consoleLog, installConsole).catch(() => undefined);
  }
  if (!vm.overlay) throw new Error('install VM had no overlay disk');
  const tmp = `${path}.part`;
  await execa('qemu-img', ['convert', '-O', 'qcow2', vm.overlay, tmp]);
  await rename(tmp, path);
  await rm(work, { recursive: true, force: true });
  log(`image: base image ${path} (install console: ${installConsole})`);
  return { path, sshKey: key.privatePath, installConsole, cached: false };
}
