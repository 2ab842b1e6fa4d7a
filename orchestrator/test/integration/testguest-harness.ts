/**
 * Integration helper: boots Linux test guests with the real VM layer, console
 * engine, SSH and adapter. Every VM is stopped by `teardown()`.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openConsole } from '../../src/console/connect.ts';
import type { ConsoleSession } from '../../src/console/session.ts';
import type { BootInfo, GuestContext } from '../../src/guest/adapter.ts';
import { TestguestAdapter } from '../../src/guest/testguest.ts';
import type { PlannedLink, PlannedNic, PlannedVm } from '../../src/playbook/plan-types.ts';
import { startPlannedVm, type RunningVm } from '../../src/vm/qemu.ts';
import { buildTestguest, testguestBootMedia, type TestguestImage } from '../../src/vm/testguest-image.ts';
import { managementMac } from '../../src/vm/topology.ts';

export interface BootedGuest {
  vm: PlannedVm;
  running: RunningVm;
  console: ConsoleSession;
  ctx: GuestContext;
  info: BootInfo;
}

export function plannedTestguest(name: string, nics: Omit<PlannedNic, 'mtu'>[], extra: Partial<PlannedVm> = {}): PlannedVm {
  return {
    name,
    guest: 'testguest',
    cpus: 1,
    memoryMiB: 256,
    kernel: { kind: 'prebuilt', name: 'testguest' },
    bootCommands: [],
    consoleOnly: false,
    nics: nics.map((n) => ({ ...n, mtu: 1500 })),
    routes: [],
    forwarding: { inet: false, inet6: false },
    pf: { enabled: false },
    sysctls: {},
    ...extra,
  };
}

export class TestguestLab {
  readonly runDir: string;
  readonly guests: BootedGuest[] = [];
  readonly adapter: TestguestAdapter;
  private readonly abort = new AbortController();

  private constructor(readonly image: TestguestImage, prefix: string) {
    // Short paths: unix socket names are limited to 107 bytes.
    this.runDir = mkdtempSync(join(tmpdir(), `${prefix}-`));
    this.adapter = new TestguestAdapter({ privateKeyPath: image.keyPath });
  }

  static async create(prefix: string): Promise<TestguestLab> {
    return new TestguestLab(await buildTestguest(), prefix);
  }

  async boot(vm: PlannedVm, links: PlannedLink[], bootTimeoutMs = 180_000): Promise<BootedGuest> {
    const dir = join(this.runDir, vm.name);
    mkdirSync(dir, { recursive: true });
    const running = await startPlannedVm(vm, links, {
      dir,
      boot: testguestBootMedia(this.image, vm.name, managementMac(vm.name)),
      log: (l) => appendFileSync(join(this.runDir, 'lab.log'), `${l}\n`),
    });
    let console: ConsoleSession;
    try {
      console = await openConsole({ vm: vm.name, socketPath: running.consoleSocket, dir, chardev: 'mux' });
    } catch (err) {
      await running.stop();
      throw err;
    }
    const ctx: GuestContext = {
      vm,
      console,
      dir,
      log: (line) => appendFileSync(join(dir, 'commands.log'), `${line}\n`),
      signal: this.abort.signal,
      ...(running.sshPort ? { sshPort: running.sshPort } : {}),
    };
    const partial = { vm, running, console, ctx } as BootedGuest;
    this.guests.push(partial);
    partial.info = await this.adapter.waitReady(ctx, bootTimeoutMs);
    return partial;
  }

  async teardown(): Promise<void> {
    this.abort.abort(new Error('lab torn down'));
    await Promise.all(
      this.guests.map(async (g) => {
        (g.ctx.shell as { close?: () => void } | undefined)?.close?.();
        await g.running.stop();
        g.console.close();
      }),
    );
    if (!process.env.OBSDLAB_KEEP_RUNS) rmSync(this.runDir, { recursive: true, force: true });
  }
}
