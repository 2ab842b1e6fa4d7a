import { CrossBackend } from './cross.ts';
import type { KernelBackend } from './backend.ts';
import { buildPrepared, prepareBuild } from './prepare.ts';
import { SshBackend } from './ssh-builder.ts';
import { BuildError, type BuildOptions, type BuildSpec, type BuiltKernel } from './types.ts';

export interface KernelBuilder {
  build(spec: BuildSpec, opts: BuildOptions): Promise<BuiltKernel>;
}

export function backendFor(builder: BuildSpec['builder']): KernelBackend {
  switch (builder.type) {
    case 'cross':
      return new CrossBackend();
    case 'ssh':
      return new SshBackend({ host: builder.host, port: builder.port, user: builder.user, key: builder.key });
    case 'vm':
      throw new BuildError(
        'builder',
        `builder "vm" (image ${builder.image}) needs a running builder VM: boot it and pass its SSH endpoint as builder {type: ssh, host, port, user, key}`,
      );
  }
}

/** The builder a spec names, with the kernel cache in front of it. */
export function createKernelBuilder(builder: BuildSpec['builder']): KernelBuilder {
  const backend = backendFor(builder);
  return {
    async build(spec, opts) {
      const prep = await prepareBuild(spec, backend, opts.signal);
      return buildPrepared(prep, backend, opts);
    },
  };
}
