/**
 * Binds the run executor's narrow interfaces (run/deps.ts) to the real layers: QEMU
 * (vm/), the console engine, the guest adapters, load generators, kernel builders,
 * image builders and crash reporters. Kernels and images are prepared once per
 * session, before the first run, in plan order.
 */
import { dirname } from 'node:path';
import type { KernelSpec, Plan, PlannedRun, PlannedVm } from '../playbook/plan-types.ts';
import type { GuestAdapter } from '../guest/adapter.ts';
import type { LoadGenerator } from '../load/types.ts';
import { openConsole } from '../console/connect.ts';
import { startVm } from '../vm/qemu.ts';
import { wireVm, managementMac } from '../vm/topology.ts';
import type { BootMedia as QemuBootMedia } from '../vm/qemu-args.ts';
import { buildTestguest, testguestBootMedia, type TestguestImage } from '../vm/testguest-image.ts';
import { createKernelBuilder } from '../build/builder.ts';
import { BuildError, type BuildSpec, type BuiltKernel } from '../build/types.ts';
import { buildLabImage } from '../images/lab/build.ts';
import { TestguestAdapter } from '../guest/testguest.ts';
import { OpenBsdLabAdapter } from '../guest/openbsd-lab.ts';
import { createOpenBsdAdapter } from '../guest/openbsd.ts';
import { ensureSshKey } from '../vm/testguest-image.ts';
import { getGenerator } from '../load/registry.ts';
import { linuxCrashReporter, openbsdCrashReporter } from './crash-reporters.ts';
import { KernelBuildFailed, type BootMedia, type RunDeps, type VmHandle, type VmLauncher } from './deps.ts';

export interface PrepareOptions {
  log: (line: string) => void;
  signal: AbortSignal;
  jobs?: number;
}

/** Everything a VM of the plan can boot, keyed by kernel name. */
interface Prepared {
  testguest?: TestguestImage;
  built: Map<string, BuiltKernel | BuildError>;
  labIsos: Map<string, { iso: string; kernel: string }>;
}

export async function prepareRunDeps(plan: Plan, opts: PrepareOptions): Promise<RunDeps> {
  const prepared = await prepareArtifacts(plan, opts);
  return {
    launcher: qemuLauncher,
    adapter: (vm) => adapterFor(prepared, vm),
    generator: (name) => getGenerator(name) as LoadGenerator,
    crashReporter: (kind) => (kind === 'testguest' ? linuxCrashReporter : openbsdCrashReporter),
    media: (run, vm) => mediaFor(prepared, run, vm),
  };
}

async function prepareArtifacts(plan: Plan, opts: PrepareOptions): Promise<Prepared> {
  const prepared: Prepared = { built: new Map(), labIsos: new Map() };
  const vms = plan.runs.flatMap((r) => r.vms);
  if (vms.some((v) => v.guest === 'testguest')) {
    opts.log('test guest image');
    prepared.testguest = await buildTestguest({ onOutput: opts.log });
  }
  // Each distinct kernel once, in plan order; a lab image from the kernel and the
  // tree it was compiled from.
  const seen = new Set<string>();
  for (const vm of vms) {
    const spec = vm.kernel;
    if (spec.kind !== 'build' || seen.has(spec.name)) continue;
    seen.add(spec.name);
    opts.signal.throwIfAborted();
    opts.log(`kernel ${spec.name}: building`);
    try {
      const builder = createKernelBuilder(spec.builder);
      const built = await builder.build(spec as BuildSpec, {
        signal: opts.signal,
        log: (l) => opts.log(`kernel ${spec.name}: ${l}`),
        ...(opts.jobs ? { jobs: opts.jobs } : {}),
      });
      prepared.built.set(spec.name, built);
      opts.log(`kernel ${spec.name}: ${built.cached ? 'cached' : `built in ${built.buildSeconds.toFixed(0)}s`}`);
      if (vms.some((v) => v.guest === 'openbsd-lab' && v.kernel.name === spec.name)) {
        opts.log(`kernel ${spec.name}: lab image`);
        const img = await buildLabImage({ bsd: built.bsd, tree: await builder.sourceTree(spec as BuildSpec, opts.signal) });
        prepared.labIsos.set(spec.name, { iso: img.iso, kernel: img.kernel });
      }
    } catch (err) {
      if (!(err instanceof BuildError)) throw err;
      opts.log(`kernel ${spec.name}: FAILED: ${err.message.split('\n')[0]}`);
      prepared.built.set(spec.name, err);
    }
  }
  return prepared;
}

function mediaFor(p: Prepared, run: PlannedRun, vm: PlannedVm): BootMedia {
  const spec: KernelSpec = vm.kernel;
  if (vm.guest === 'testguest') {
    if (!p.testguest) throw new Error(`${vm.name}: the test guest image was not prepared`);
    const tg = testguestBootMedia(p.testguest, vm.name, managementMac(vm.name));
    if (tg.kind !== 'kernel') throw new Error('unexpected test guest boot media');
    return { kernel: tg.kernel, initrd: tg.initrd!, append: tg.append!, kernelId: `testguest:${p.testguest.manifest.hash ?? 'local'}` };
  }
  if (spec.kind === 'prebuilt') {
    return {
      ...(spec.kernel ? { kernel: spec.kernel } : {}),
      ...(spec.initrd ? { initrd: spec.initrd } : {}),
      ...(spec.append ? { append: spec.append } : {}),
      ...(vm.iso ? { iso: vm.iso } : {}),
      ...(spec.image || vm.disk ? { disk: (spec.image ?? vm.disk)! } : {}),
      kernelId: `prebuilt:${spec.name}`,
    };
  }
  const built = p.built.get(spec.name);
  if (!built) throw new Error(`${vm.name}: kernel ${spec.name} was not prepared (run ${run.id})`);
  if (built instanceof BuildError) throw new KernelBuildFailed(spec.name, built.message);
  const common = { debugKernel: built.bsdGdb, kernelId: built.key, expectedVersion: built.version };
  if (vm.guest === 'openbsd-lab') {
    const lab = p.labIsos.get(spec.name);
    if (!lab) throw new Error(`${vm.name}: no lab image for kernel ${spec.name}`);
    return { ...common, iso: lab.iso };
  }
  return { ...common, ...(vm.disk ? { disk: vm.disk } : {}), ...(vm.iso ? { iso: vm.iso } : {}), testKernel: built.bsd };
}

function adapterFor(p: Prepared, vm: PlannedVm): GuestAdapter {
  switch (vm.guest) {
    case 'testguest':
      return new TestguestAdapter({ privateKeyPath: p.testguest?.keyPath ?? ensureSshKey().privatePath });
    case 'openbsd-lab':
      return new OpenBsdLabAdapter({ kernelElf: (v) => debugKernelOf(p, v) });
    case 'openbsd':
      return createOpenBsdAdapter({ privateKeyPath: vm.sshKey ?? ensureSshKey().privatePath });
  }
}

function debugKernelOf(p: Prepared, vm: PlannedVm): string | undefined {
  const built = p.built.get(vm.kernel.name);
  return built && !(built instanceof BuildError) ? built.bsdGdb : undefined;
}

function qemuBoot(media: BootMedia): QemuBootMedia {
  if (media.kernel) return { kind: 'kernel', kernel: media.kernel, ...(media.initrd ? { initrd: media.initrd } : {}), ...(media.append ? { append: media.append } : {}) };
  if (media.iso) return { kind: 'cdrom', iso: media.iso };
  return { kind: 'disk' };
}

const qemuLauncher: VmLauncher = {
  async start({ vm, media, links, dir, signal, log }): Promise<VmHandle> {
    const running = await startVm({
      name: vm.name,
      dir,
      cpus: vm.cpus,
      memoryMiB: vm.memoryMiB,
      boot: qemuBoot(media),
      ...(media.disk ? { disk: media.disk } : {}),
      nics: wireVm(vm, links, dirname(dir)),
      management: !vm.consoleOnly,
      allowReboot: media.testKernel !== undefined,
      log,
    });
    let console;
    try {
      console = await openConsole({
        vm: vm.name,
        socketPath: running.consoleSocket,
        dir,
        chardev: 'mux',
        signal,
      });
    } catch (err) {
      await running.stop();
      throw err;
    }
    log(`${vm.name}: accelerator ${running.accel} (${running.accelReason})`);
    return {
      name: vm.name,
      pid: running.pid,
      accel: running.accel,
      console,
      ...(running.sshPort !== undefined ? { sshPort: running.sshPort } : {}),
      exited: running.exited.then((x) => ({ code: x.code, signal: x.signal, stderr: running.stderrTail() })),
      nmi: () => running.qmp.injectNmi(),
      reset: () => running.qmp.reset(),
      stop: async () => {
        console.close();
        await running.stop();
      },
    };
  },
};
