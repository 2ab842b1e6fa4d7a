/**
 * The Linux test guest image (vm-images/testguest/build.sh) and the orchestrator's
 * SSH key. The image is key-independent: the public key travels on the kernel
 * command line (obsdlab.sshkey=TYPE:BASE64), read by the guest's rcS at boot.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import ssh2 from 'ssh2';
import { cacheDir, PROJECT_ROOT } from '../util/paths.ts';
import type { BootMedia } from './qemu-args.ts';

export const TESTGUEST_DIR = join(PROJECT_ROOT, 'vm-images', 'testguest');
/** Printed on the console by the guest's rcS once SSH is listening. */
export const TESTGUEST_READY_LINE = 'obsdlab-testguest: ready';

export interface TestguestImage {
  kernel: string;
  initrd: string;
  /** Private key (OpenSSH format) whose public half the guest accepts for root. */
  keyPath: string;
  publicKey: string;
  manifest: { hash: string; kernelRelease: string; modules: string[]; packages: Record<string, string> };
  /** True when the image was already up to date. */
  cached: boolean;
  buildMs: number;
}

export class TestguestBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TestguestBuildError';
  }
}

/** The orchestrator's ed25519 key pair in cacheDir('keys'), created on first use. */
export function ensureSshKey(dir = cacheDir('keys')): { privatePath: string; publicKey: string } {
  const privatePath = join(dir, 'id_ed25519');
  const publicPath = `${privatePath}.pub`;
  if (!existsSync(privatePath) || !existsSync(publicPath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'obsdlab' });
    writeFileSync(privatePath, pair.private, { mode: 0o600 });
    writeFileSync(publicPath, `${pair.public}\n`);
  }
  chmodSync(privatePath, 0o600);
  return { privatePath, publicKey: readFileSync(publicPath, 'utf8').trim() };
}

/** Builds (or finds up to date) the test guest; `outDir` defaults to vm-images/testguest/out. */
export async function buildTestguest(
  opts: { outDir?: string; debCache?: string; onOutput?: (line: string) => void } = {},
): Promise<TestguestImage> {
  const outDir = opts.outDir ?? join(TESTGUEST_DIR, 'out');
  const debCache = opts.debCache ?? cacheDir('testguest', 'debs');
  const t0 = Date.now();
  const sub = execa('bash', [join(TESTGUEST_DIR, 'build.sh'), outDir, debCache], { reject: false, all: true });
  sub.all?.setEncoding('utf8');
  let output = '';
  sub.all?.on('data', (chunk: string) => {
    output += chunk;
    if (opts.onOutput) for (const line of chunk.split('\n')) if (line.trim()) opts.onOutput(line);
  });
  const r = await sub;
  if (r.exitCode !== 0) {
    throw new TestguestBuildError(`vm-images/testguest/build.sh failed (exit ${r.exitCode}):\n${output.trim().split('\n').slice(-15).join('\n')}`);
  }
  const manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')) as TestguestImage['manifest'];
  const key = ensureSshKey();
  return {
    kernel: join(outDir, 'vmlinuz'),
    initrd: join(outDir, 'initramfs.cpio.gz'),
    keyPath: key.privatePath,
    publicKey: key.publicKey,
    manifest,
    cached: /up to date/.test(output),
    buildMs: Date.now() - t0,
  };
}

/** Kernel command line parameter carrying an OpenSSH public key ("ssh-ed25519 AAAA… comment"). */
export function sshKeyParam(publicKey: string): string {
  const [type, blob] = publicKey.trim().split(/\s+/);
  if (!type || !blob || !/^[A-Za-z0-9+/=]+$/.test(blob) || !/^[a-z0-9.@-]+$/.test(type)) {
    throw new TestguestBuildError(`not an OpenSSH public key: ${publicKey.slice(0, 40)}…`);
  }
  return `obsdlab.sshkey=${type}:${blob}`;
}

/** How QEMU boots a test guest named `vmName`. */
export function testguestBootMedia(
  image: Pick<TestguestImage, 'kernel' | 'initrd' | 'publicKey'>,
  vmName: string,
  managementMac?: string,
): BootMedia {
  const append = [
    'console=ttyS0,115200',
    'quiet',
    // TCG guests on a loaded host miss the IO-APIC timer check and panic at boot without this.
    'no_timer_check',
    'panic=0',
    `obsdlab.name=${vmName}`,
    ...(managementMac ? [`obsdlab.mgmt=${managementMac}`] : []),
    sshKeyParam(image.publicKey),
  ].join(' ');
  return { kind: 'kernel', kernel: image.kernel, initrd: image.initrd, append };
}
