import { CrossBackend } from './cross.ts';
import type { KernelBackend } from './backend.ts';
import { buildPrepared, prepareBuild } from './prepare.ts';
import { SshBackend, type SshBuilderOptions } from './ssh-builder.ts';
import { BuildError, type BuildOptions, type BuildSpec, type BuiltKernel } from './types.ts';

export interface KernelBuilder {
  build(spec: BuildSpec, opts: BuildOptions): Promise<BuiltKernel>;
}

/**
 * The backend a spec names. A `vm` builder is the SSH builder pointed at a
 * builder VM: whoever boots that VM (from the image the spec names) passes its
 * SSH endpoint here.
 */
export function backendFor(builder: BuildSpec['builder'], vmEndpoint?: SshBuilderOptions): KernelBackend {
  switch (builder.type) {
    case 'cross':
      return new CrossBackend();
    case 'ssh':
      return new SshBackend({ host: builder.host, port: builder.port, user: builder.user, key: builder.key });
    case 'vm':
      if (!vmEndpoint) {
        throw new BuildError(
          'builder',
          `builder "vm" (image ${builder.image}) needs a running builder VM: boot it and pass its SSH endpoint (host, port, user, key)`,
        );
      }
      return new SshBackend(vmEndpoint, `vm:${builder.image}`);
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
