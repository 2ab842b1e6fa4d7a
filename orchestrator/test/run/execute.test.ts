/**
 * The run executor against stand-in VMs, consoles, adapters and generators: how
 * events become outcomes without QEMU (the real thing is in test/integration).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executeRun } from '../../src/run/execute.ts';
import type { RunDeps, VmHandle } from '../../src/run/deps.ts';
import type { ConsoleChannel } from '../../src/console/types.ts';
import type { GuestAdapter, GuestShell } from '../../src/guest/adapter.ts';
import type { PlannedRun, PlannedVm } from '../../src/playbook/plan-types.ts';
import { ResultStore } from '../../src/store/db.ts';

function fakeConsole(vm: string) {
  let text = '';
  const listeners = new Set<(c: string) => void>();
  const ch: ConsoleChannel & { emit(s: string): void } = {
    vm,
    closed: false,
    expect: () => new Promise(() => undefined),
    send: async () => undefined,
    sendLine: async () => undefined,
    sendBreak: async () => undefined,
    text: () => text,
    textSince: (m) => text.slice(m),
    mark: () => text.length,
    idleMs: () => 0,
    onText: (l) => (listeners.add(l), () => listeners.delete(l)),
    emit(s: string) {
      text += s;
      for (const l of [...listeners]) l(s);
    },
  };
  return ch;
}

interface Fake {
  handle: VmHandle & { console: ReturnType<typeof fakeConsole> };
  die(): void;
  alive: boolean;
}

function fakeVm(name: string): Fake {
  let resolveExit!: (x: { code: number | null; signal: string | null; stderr: string }) => void;
  const f: Fake = {
    alive: true,
    handle: {
      name,
      pid: 1,
      accel: 'tcg',
      console: fakeConsole(name),
      exited: new Promise((r) => (resolveExit = r)),
      nmi: async () => undefined,
      reset: async () => undefined,
      stop: async () => {
        f.alive = false;
        resolveExit({ code: 0, signal: null, stderr: '' });
      },
    },
    die: () => {
      f.alive = false;
      resolveExit({ code: null, signal: 'SIGSEGV', stderr: 'qemu: fatal' });
    },
  };
  return f;
}

function shellFor(f: Fake): GuestShell {
  return {
    exec: async (command) => {
      if (!f.alive) throw new Error('connection lost');
      return { vm: f.handle.name, command, exitCode: 0, stdout: command.includes('alive') ? 'alive\n' : '', stderr: '', durationMs: 1 };
    },
    start: async () => {
      throw new Error('not used');
    },
  };
}

function adapterFor(f: Fake): GuestAdapter {
  const noop = async () => undefined;
  return {
    kind: 'testguest',
    transport: 'ssh',
    interfaceName: (i) => `eth${i}`,
    waitReady: async (ctx) => {
      ctx.shell = shellFor(f);
      return { kernelVersion: 'Fake 1.0', devices: [], bootMs: 1 };
    },
    configureInterface: noop,
    addRoute: noop,
    setForwarding: noop,
    setSysctl: noop,
    setPf: noop,
    counters: async () => ({}),
    profile: async () => ({ total: 0, stacks: [] }),
    panic: async () => f.handle.console.emit('Kernel panic - not syncing: fake\n'),
    crashPatterns: [/Kernel panic - not syncing/],
    diagnose: async () => ({ consoleFrom: 0, consoleTo: 0, commands: [], wedged: false }),
    breakIn: async () => false,
    shutdown: noop,
  };
}

const vm = (name: string): PlannedVm => ({
  name,
  guest: 'testguest',
  cpus: 1,
  memoryMiB: 64,
  kernel: { kind: 'prebuilt', name: 'k' },
  bootCommands: [],
  consoleOnly: false,
  nics: [{ index: 0, link: 'l', mac: '52:54:00:00:00:01', addrs: ['192.0.2.1/24'], mtu: 1500 }],
  routes: [],
  forwarding: { inet: false, inet6: false },
  pf: { enabled: false },
  sysctls: {},
});

function plannedRun(steps: PlannedRun['setup']): PlannedRun {
  return {
    id: 'x#1',
    seq: 1,
    cell: {},
    cellId: 'default',
    repetition: 1,
    variant: 'default',
    vms: [vm('dut')],
    links: [],
    setup: steps,
    load: [{ name: 'soak', generator: 'soak', from: 'dut', durationSec: 1, params: {}, group: 0 }],
    timeouts: { bootSec: 5, sshSec: 5, commandSec: 5, loadSec: 5, ddbCommandSec: 1, hangSec: 1, runSec: 30 },
    resources: { cpus: 1, memoryMiB: 64 },
  };
}

async function execute(run: PlannedRun, duringLoad: (f: Fake) => void) {
  const f = fakeVm('dut');
  const deps: RunDeps = {
    launcher: { start: async () => f.handle },
    adapter: () => adapterFor(f),
    generator: () => ({
      name: 'soak',
      guests: ['testguest'],
      run: async (ctx) => {
        duringLoad(f);
        await new Promise((r) => setTimeout(r, 50));
        await ctx.from.shell.exec('soak', 1000);
        return [{ name: 'soak.ok', value: 1, unit: 'runs' }];
      },
    }),
    crashReporter: () => ({
      parse: async (text) => (/Kernel panic/.test(text) ? [{ kind: 'panic', title: 'fake panic', signature: 'f00d', message: 'fake', report: {} }] : []),
    }),
    media: () => ({ kernelId: 'k' }),
  };
  const dir = mkdtempSync(join(tmpdir(), 'obsdlab-exec-'));
  const store = new ResultStore(':memory:');
  const s = store.beginSession({ playbook: 'p', playbookFile: '/p', reportDir: dir, host: 'h' });
  const runPk = store.startRun(s, run, dir);
  const result = await executeRun(deps, { run, dir, workDir: dir, store, runPk, signal: new AbortController().signal, progress: () => undefined });
  return { result, crashes: store.crashes(s), measurements: store.measurements(s) };
}

test('a clean load is a pass, its measurements stored', async () => {
  const { result, measurements } = await execute(plannedRun([]), () => undefined);
  assert.equal(result.outcome, 'pass');
  assert.deepEqual(measurements.map((m) => m.name), ['soak.ok']);
});

test('QEMU dying under the load is an infrastructure error, not a hang', async () => {
  const { result } = await execute(plannedRun([]), (f) => f.die());
  assert.equal(result.outcome, 'infra-error');
  assert.match(result.reason ?? '', /dut: QEMU exited unexpectedly \(code null, signal SIGSEGV\): qemu: fatal/);
});

test('a guest that stops answering with QEMU alive is a hang', async () => {
  const { result } = await execute(plannedRun([]), (f) => {
    // The shell dies but the process stays: what a wedged kernel looks like from outside.
    f.alive = false;
  });
  assert.equal(result.outcome, 'hang');
  assert.equal(result.failedVm, 'dut');
});

test('a panic on the console during the load wins and is triaged into the store', async () => {
  const { result, crashes } = await execute(plannedRun([{ vm: 'dut', op: 'panic', args: {}, atSec: 0 }]), () => undefined);
  assert.equal(result.outcome, 'panic');
  assert.equal(result.reason, 'fake panic');
  assert.deepEqual(crashes.map((c) => [c.vm, c.title, c.signature]), [['dut', 'fake panic', 'f00d']]);
});

/** source ── dut ── sink with stand-ins; the load from source to sink fails, the guests all answer. */
async function executeForwarding(pingStdout: string) {
  const fakes = new Map(['source', 'dut', 'sink'].map((n) => [n, fakeVm(n)]));
  const withAddr = (name: string, addrs: string[], forwarding = false): PlannedVm => ({
    ...vm(name),
    nics: [{ index: 0, link: 'l', mac: '52:54:00:00:00:01', addrs, mtu: 1500 }],
    forwarding: { inet: forwarding, inet6: forwarding },
  });
  const run: PlannedRun = {
    ...plannedRun([]),
    vms: [withAddr('source', ['192.0.2.2/24']), withAddr('dut', ['192.0.2.1/24'], true), withAddr('sink', ['198.51.100.2/24'])],
    load: [
      { name: 'tcp4', generator: 'fails', from: 'source', to: 'sink', durationSec: 1, params: {}, group: 0 },
      { name: 'later', generator: 'fails', from: 'source', to: 'sink', durationSec: 1, params: {}, group: 1 },
    ],
  };
  const commands: string[] = [];
  const breaks: string[] = [];
  const deps: RunDeps = {
    launcher: { start: async ({ vm: v }) => fakes.get(v.name)!.handle },
    adapter: (v) => {
      const f = fakes.get(v.name)!;
      const base = adapterFor(f);
      return {
        ...base,
        waitReady: async (ctx) => {
          const shell = shellFor(f);
          ctx.shell = {
            ...shell,
            exec: async (command, ms) => {
              commands.push(`${v.name}: ${command}`);
              if (command.startsWith('ping ')) return { vm: v.name, command, exitCode: 1, stdout: pingStdout, stderr: '', durationMs: 1 };
              return shell.exec(command, ms);
            },
          };
          return { kernelVersion: 'Fake 1.0', devices: [], bootMs: 1 };
        },
        breakIn: async () => {
          breaks.push(v.name);
          return false;
        },
      };
    },
    generator: () => ({
      name: 'fails',
      guests: ['testguest'],
      run: async (ctx) => {
        await ctx.from.shell.exec(`client ${ctx.load.name}`, 1000);
        throw new Error(`${ctx.load.name}: command timed out after 50s (channel closed)`);
      },
    }),
    crashReporter: () => ({ parse: async () => [] }),
    media: () => ({ kernelId: 'k' }),
  };
  const dir = mkdtempSync(join(tmpdir(), 'obsdlab-exec-'));
  const store = new ResultStore(':memory:');
  const s = store.beginSession({ playbook: 'p', playbookFile: '/p', reportDir: dir, host: 'h' });
  const result = await executeRun(deps, { run, dir, workDir: dir, store, runPk: store.startRun(s, run, dir), signal: new AbortController().signal, progress: () => undefined });
  return { result, commands, breaks };
}

test('a dead path between answering guests is named as a forwarding stall (an infrastructure error, retried); later phases are skipped', async () => {
  // Real busybox output of a ping nobody answered (fixtures/load/README.md).
  const noReply = readFileSync(new URL('../fixtures/load/busybox-ping4-noreply.txt', import.meta.url), 'utf8');
  const { result, commands, breaks } = await executeForwarding(noReply);
  assert.equal(result.outcome, 'infra-error');
  assert.equal(result.failedVm, 'dut');
  assert.match(result.reason ?? '', /^forwarding stalled: source cannot reach sink \(198\.51\.100\.2\) over IPv4 through dut after load tcp4 failed/);
  assert.deepEqual(breaks, []);
  assert.ok(commands.includes('source: ping -c 5 -s 56 -i 1 -W 2 -w 10 198.51.100.2'));
  assert.ok(!commands.includes('source: client later'), 'no phase after the stall');
});

test('a live path leaves a failed phase to the test setup (infrastructure error)', async () => {
  const replies = readFileSync(new URL('../fixtures/load/busybox-ping4-frag-lo.txt', import.meta.url), 'utf8');
  const { result, breaks } = await executeForwarding(replies);
  assert.equal(result.outcome, 'infra-error');
  assert.match(result.reason ?? '', /tcp4: command timed out/);
  assert.deepEqual(breaks, []);
});
