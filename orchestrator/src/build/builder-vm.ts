/**
 * The `vm` builder: an OpenBSD base image booted in QEMU only when a kernel is not
 * in the cache, then driven as an SSH builder through its 127.0.0.1 port forward,
 * and torn down after the build. The image (path, size, mtime) stands for the
 * toolchain in the cache key, so a cache hit never boots anything.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sshConnect } from '../ssh/client.ts';
import { startVm } from '../vm/qemu.ts';
import { ensureSshKey } from '../vm/testguest-image.ts';
import type { CompiledKernel, KernelBackend, PreparedBuild } from './backend.ts';
import { SshBackend } from './ssh-builder.ts';
import { BuildError, type BuildOptions } from './types.ts';

export interface BuilderVmOptions {
  image: string;
  cpus?: number;
  memoryMiB?: number;
  /** How long the builder may take to boot to SSH. */
  bootTimeoutMs?: number;
  /** Private key the image accepts for root (default: obsdlab's own key, which `obsdlab image build` installs). */
  key?: string;
}

export class BuilderVmBackend implements KernelBackend {
  readonly kind: string;

  constructor(private readonly opts: BuilderVmOptions) {
    this.kind = `vm:${resolve(opts.image)}`;
  }

  /** A missing image is not an error here (the kernel may be cached); compile() says it. */
  async toolchainIdentity(): Promise<string> {
    const st = statSync(this.opts.image, { throwIfNoEntry: false });
    return `vm-image:${resolve(this.opts.image)}:${st ? `${st.size}:${st.mtimeMs}` : 'missing'}`;
  }

  async compile(prep: PreparedBuild, opts: BuildOptions): Promise<CompiledKernel> {
    if (!statSync(this.opts.image, { throwIfNoEntry: false })) {
      throw new BuildError('builder', `builder image ${this.opts.image} does not exist (build one with "obsdlab image build")`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'obsdlab-builder-'));
    const key = this.opts.key ?? ensureSshKey().privatePath;
    opts.log?.(`booting builder VM from ${this.opts.image}`);
    const vm = await startVm({
      name: 'builder',
      dir,
      cpus: this.opts.cpus ?? 2,
      memoryMiB: this.opts.memoryMiB ?? 2048,
      boot: { kind: 'disk' },
      disk: this.opts.image,
      management: true,
      ...(opts.log ? { log: opts.log } : {}),
    });
    try {
      if (vm.sshPort === undefined) throw new BuildError('builder', 'builder VM has no SSH port forward');
      const session = await sshConnect(
        { vm: 'builder', port: vm.sshPort, privateKeyPath: key, knownHostsFile: join(dir, 'known_hosts') },
        { deadlineMs: this.opts.bootTimeoutMs ?? 10 * 60_000, ...(opts.signal ? { signal: opts.signal } : {}) },
      ).catch((err: Error) => {
        throw new BuildError('builder', `builder VM (${this.opts.image}) did not answer on SSH: ${err.message}`);
      });
      session.close();
      const ssh = new SshBackend({ host: '127.0.0.1', port: vm.sshPort, user: 'root', key }, this.kind);
      return await ssh.compile(prep, opts);
    } finally {
      await vm.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
