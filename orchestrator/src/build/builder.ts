import { CrossBackend } from './cross.ts';
import { BuilderVmBackend } from './builder-vm.ts';
import type { KernelBackend } from './backend.ts';
import { buildPrepared, prepareBuild } from './prepare.ts';
import { SshBackend, type SshBuilderOptions } from './ssh-builder.ts';
import type { BuildOptions, BuildSpec, BuiltKernel } from './types.ts';

export interface KernelBuilder {
  build(spec: BuildSpec, opts: BuildOptions): Promise<BuiltKernel>;
}

/**
 * The backend a spec names. A `vm` builder is the SSH builder pointed at a builder
 * VM: a running one whose SSH endpoint is passed here, or else one booted from the
 * spec's image when a kernel is not cached (build/builder-vm.ts).
 */
export function backendFor(builder: BuildSpec['builder'], vmEndpoint?: SshBuilderOptions): KernelBackend {
  switch (builder.type) {
    case 'cross':
      return new CrossBackend();
    case 'ssh':
      return new SshBackend({ host: builder.host, port: builder.port, user: builder.user, key: builder.key });
    case 'vm':
      // An already running builder VM, or one booted from the image on a cache miss.
      return vmEndpoint ? new SshBackend(vmEndpoint, `vm:${builder.image}`) : new BuilderVmBackend({ image: builder.image });
  }
}

/** The builder a spec names, with the kernel cache in front of it. */
export function createKernelBuilder(builder: BuildSpec['builder'], vmEndpoint?: SshBuilderOptions): KernelBuilder {
  const backend = backendFor(builder, vmEndpoint);
  return {
    async build(spec, opts) {
      const prep = await prepareBuild(spec, backend, opts.signal);
      return buildPrepared(prep, backend, opts);
    },
  };
}
