/**
 * Executes one planned run: boot its VMs, wire and configure them, run the load
 * phases while watching every console for a crash, collect the debugger's view of a
 * crash or hang, classify the outcome, and tear everything down. Every result is
 * written to the store the moment it is known.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GuestAdapter, GuestContext, KernelProfile } from '../guest/adapter.ts';
import { BootFailure } from '../guest/adapter.ts';
import type { Measurement } from '../load/types.ts';
import type { PlannedLoad, PlannedRun, PlannedStep, PlannedVm } from '../playbook/plan-types.ts';
import type { ResultStore } from '../store/db.ts';
import { classify, emptyEvents, type Classification, type RunEvents } from './classify.ts';
import { KernelBuildFailed, type BootMedia, type RunDeps, type VmHandle } from './deps.ts';
import { foldedStacks } from './profile.ts';
import { PROFILE_GENERATOR } from '../load/registry.ts';
import { pathAnswers, pathsToProbe, stallDetail } from './path-probe.ts';
import { withSpliceRelay } from './relay.ts';

export interface RunContext {
  run: PlannedRun;
  /** The run's directory in the report (what the store records). */
  dir: string;
  /** A short path to the same directory, for unix sockets (sun_path holds ~107 bytes). */
  workDir: string;
  store: ResultStore;
  runPk: number;
  signal: AbortSignal;
  /** One-line progress updates (the listr task's output). */
  progress: (line: string) => void;
}

export interface RunResult extends Classification {
  durationMs: number;
  accel: string;
  kernels: Record<string, string>;
}

interface Guest {
  vm: PlannedVm;
  media: BootMedia;
  handle: VmHandle;
  adapter: GuestAdapter;
  ctx: GuestContext;
  /** Console offset where the crash pattern was first seen. */
  crashAt?: number;
  /** QEMU ended on its own before teardown (an infrastructure error). */
  qemuExited?: boolean;
}

/** Thrown inside the run to stop its current stage; never escapes executeRun. */
class StageStop extends Error {}

export async function executeRun(deps: RunDeps, rc: RunContext): Promise<RunResult> {
  const { run, dir, store, runPk } = rc;
  const t0 = Date.now();
  const elapsed = () => Date.now() - t0;
  const events = emptyEvents();
  const guests = new Map<string, Guest>();
  const kernels: Record<string, string> = {};
  const runLog = join(dir, 'run.log');
  mkdirSync(dir, { recursive: true });
  const log = (line: string) => appendFileSync(runLog, `${new Date().toISOString()} ${line}\n`);
  // Stops the stages (load, setup) when a kernel crashes, the user interrupts, or the run times out.
  const activity = new AbortController();
  const stopActivity = (why: string) => {
    if (!activity.signal.aborted) {
      log(`stopping: ${why}`);
      activity.abort(new StageStop(why));
    }
  };
  const onUserAbort = () => stopActivity('interrupted');
  rc.signal.addEventListener('abort', onUserAbort, { once: true });
  const runTimer = setTimeout(() => stopActivity(`run timeout (${run.timeouts.runSec}s)`), run.timeouts.runSec * 1000);
  let tearingDown = false;

  try {
    for (const vm of run.vms) {
      try {
        kernels[vm.name] = deps.media(run, vm).kernelId;
      } catch (err) {
        if (!(err instanceof KernelBuildFailed)) throw err;
        events.buildFailures.push({ kernel: err.kernel, error: err.detail });
      }
    }
    if (events.buildFailures.length) throw new StageStop('kernel build failed');
    await startVms(deps, rc, guests, log, activity.signal, (g, exit) => {
      // QEMU itself ended while the run still needed it: the host's problem, not the kernel's
      // (unless the kernel had already crashed, e.g. ddb's `boot reboot` under -no-reboot).
      if (tearingDown || g.crashAt !== undefined) return;
      g.qemuExited = true;
      const why = `${g.vm.name}: QEMU exited unexpectedly (code ${exit.code}, signal ${exit.signal})${exit.stderr.trim() ? `: ${exit.stderr.trim().split('\n').pop()}` : ''}`;
      events.infraErrors.push({ vm: g.vm.name, atMs: elapsed(), error: why });
      stopActivity(why);
    });
    watchForCrashes(guests, events, elapsed, stopActivity, log);
    rc.progress(`booting ${[...guests.keys()].join(', ')}`);
    await bootAll(guests, run, events, elapsed, log);
    if (!activity.signal.aborted && events.bootFailures.length === 0 && events.crashes.length === 0) {
      rc.progress('configuring');
      await guarded(events, elapsed, 'setup', () => configureAll(guests, activity.signal));
      await guarded(events, elapsed, 'setup', () => runSteps(guests, run.setup.filter((s) => s.atSec === undefined), store, runPk, dir, log, activity.signal));
      await snapshotCounters(guests, store, runPk, 'before', log);
      await runLoad(deps, rc, guests, events, elapsed, log, activity.signal);
      if (events.crashes.length === 0) await snapshotCounters(guests, store, runPk, 'after', log);
    }
    if (rc.signal.aborted && events.crashes.length === 0) events.infraErrors.push({ atMs: elapsed(), error: 'interrupted by the user' });
    else if (activity.signal.aborted && events.crashes.length === 0 && events.hangs.length === 0 && events.infraErrors.length === 0) {
      events.infraErrors.push({ atMs: elapsed(), error: String((activity.signal.reason as Error)?.message ?? 'stopped') });
    }
    await collectCrashes(deps, guests, events, rc, log);
  } catch (err) {
    if (!(err instanceof StageStop)) {
      events.infraErrors.push({ atMs: elapsed(), error: errorText(err) });
      log(`infra error: ${errorText(err)}`);
    }
  } finally {
    clearTimeout(runTimer);
    rc.signal.removeEventListener('abort', onUserAbort);
    tearingDown = true;
    await Promise.all([...guests.values()].map((g) => g.handle.stop().catch(() => undefined)));
  }
  const result: RunResult = {
    ...classify(events),
    durationMs: elapsed(),
    accel: [...new Set([...guests.values()].map((g) => g.handle.accel))].join(',') || '-',
    kernels,
  };
  writeFileSync(join(dir, 'events.json'), JSON.stringify(events, null, 2) + '\n');
  log(`outcome: ${result.outcome}${result.reason ? ` (${result.reason.split('\n')[0]})` : ''}`);
  return result;
}

async function startVms(
  deps: RunDeps,
  rc: RunContext,
  guests: Map<string, Guest>,
  log: (l: string) => void,
  signal: AbortSignal,
  onExit: (g: Guest, exit: { code: number | null; signal: string | null; stderr: string }) => void,
) {
  for (const vm of rc.run.vms) {
    const media = deps.media(rc.run, vm);
    const vmDir = join(rc.workDir, vm.name);
    mkdirSync(vmDir, { recursive: true });
    const handle = await deps.launcher.start({ vm, media, links: rc.run.links, dir: vmDir, signal, log });
    log(`${vm.name}: qemu pid ${handle.pid}, accel ${handle.accel}`);
    const adapter = deps.adapter(vm);
    const cmdLog = join(vmDir, 'commands.log');
    const ctx: GuestContext = {
      vm,
      console: handle.console,
      dir: vmDir,
      log: (line) => appendFileSync(cmdLog, `${new Date().toISOString()} ${line}\n`),
      signal,
      ...(handle.sshPort !== undefined ? { sshPort: handle.sshPort } : {}),
    };
    const guest: Guest = { vm, media, handle, adapter, ctx };
    guests.set(vm.name, guest);
    handle.exited
      .then((x) => {
        log(`${vm.name}: qemu exited code=${x.code} signal=${x.signal}`);
        onExit(guest, x);
      })
      .catch(() => undefined);
  }
}

function watchForCrashes(
  guests: Map<string, Guest>,
  events: RunEvents,
  elapsed: () => number,
  stopActivity: (why: string) => void,
  log: (l: string) => void,
) {
  for (const g of guests.values()) {
    let tail = '';
    const off = g.handle.console.onText((chunk) => {
      if (g.crashAt !== undefined) return;
      const window = tail + chunk;
      tail = window.slice(-512);
      const hit = g.adapter.crashPatterns.find((p) => p.test(window));
      if (!hit) return;
      g.crashAt = g.handle.console.mark();
      const line = window.split('\n').find((l) => hit.test(l)) ?? hit.source;
      events.crashes.push({ vm: g.vm.name, atMs: elapsed(), summary: line.trim().slice(0, 200) });
      log(`${g.vm.name}: crash seen on console: ${line.trim()}`);
      off();
      stopActivity(`${g.vm.name} crashed`);
    });
  }
}

async function bootAll(guests: Map<string, Guest>, run: PlannedRun, events: RunEvents, elapsed: () => number, log: (l: string) => void) {
  await Promise.all(
    [...guests.values()].map(async (g) => {
      try {
        let info = await g.adapter.waitReady(g.ctx, run.timeouts.bootSec * 1000);
        if (g.media.testKernel) {
          if (!g.adapter.bootTestKernel) throw new Error(`${g.vm.name}: a ${g.vm.guest} guest cannot boot a built kernel`);
          log(`${g.vm.name}: installing the built kernel as /bsd.test and rebooting into it`);
          info = await g.adapter.bootTestKernel(g.ctx, g.media.testKernel, g.media.expectedVersion, run.timeouts.bootSec * 1000);
        }
        log(`${g.vm.name}: ready after ${(info.bootMs / 1000).toFixed(1)}s: ${info.kernelVersion}`);
        writeFileSync(join(g.ctx.dir, 'boot.json'), JSON.stringify(info, null, 2) + '\n');
        if (g.media.expectedVersion && !info.kernelVersion.includes(g.media.expectedVersion.trim())) {
          events.infraErrors.push({
            vm: g.vm.name,
            atMs: elapsed(),
            error: `${g.vm.name}: booted kernel "${info.kernelVersion}" is not the built one "${g.media.expectedVersion}"`,
          });
        }
      } catch (err) {
        if (g.crashAt !== undefined) return; // the crash watcher already recorded why
        if (err instanceof BootFailure) events.bootFailures.push({ vm: g.vm.name, atMs: elapsed(), reason: err.message });
        else events.infraErrors.push({ vm: g.vm.name, atMs: elapsed(), error: errorText(err) });
        log(`${g.vm.name}: not ready: ${errorText(err)}`);
      }
    }),
  );
}

async function configureAll(guests: Map<string, Guest>, signal: AbortSignal) {
  await Promise.all(
    [...guests.values()].map(async (g) => {
      const { adapter, ctx, vm } = g;
      for (const nic of vm.nics) {
        throwIfAborted(signal);
        await adapter.configureInterface(ctx, { ifname: adapter.interfaceName(nic.index), addrs: nic.addrs, mtu: nic.mtu });
      }
      for (const [name, value] of Object.entries(vm.sysctls)) await adapter.setSysctl(ctx, name, value);
      if (vm.forwarding.inet || vm.forwarding.inet6) await adapter.setForwarding(ctx, vm.forwarding);
      for (const route of vm.routes) await adapter.addRoute(ctx, route);
      if (vm.pf.enabled) await adapter.setPf(ctx, vm.pf);
    }),
  );
}

async function runSteps(
  guests: Map<string, Guest>,
  steps: PlannedStep[],
  store: ResultStore,
  runPk: number,
  dir: string,
  log: (l: string) => void,
  signal: AbortSignal,
) {
  for (const step of steps) {
    throwIfAborted(signal);
    await runStep(guests, step, store, runPk, dir, log, signal);
  }
}

async function runStep(
  guests: Map<string, Guest>,
  step: PlannedStep,
  store: ResultStore,
  runPk: number,
  dir: string,
  log: (l: string) => void,
  signal: AbortSignal,
) {
  const g = guests.get(step.vm);
  if (!g) throw new Error(`step ${step.op}: no VM named ${step.vm}`);
  const { adapter, ctx } = g;
  log(`${step.vm}: step ${step.op} ${JSON.stringify(step.args)}`);
  switch (step.op) {
    case 'exec': {
      const r = await ctx.shell!.exec(String(step.args.command), Number(step.args.timeout ?? 60) * 1000);
      if (r.exitCode !== 0 && step.args.mayFail !== true) throw new Error(`${step.vm}: "${r.command}" exited ${r.exitCode}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
      return;
    }
    case 'sysctl':
      return adapter.setSysctl(ctx, String(step.args.name), String(step.args.value));
    case 'pf':
      return adapter.setPf(ctx, { enabled: step.args.enabled !== false, ...(step.args.rules ? { rules: String(step.args.rules) } : {}) });
    case 'panic':
      return adapter.panic(ctx);
    case 'sleep':
      return sleep(Number(step.args.seconds ?? 1) * 1000, signal);
    case 'counters':
      return store.addCounters(runPk, step.vm, String(step.args.phase ?? 'step'), await adapter.counters(ctx));
    case 'profile': {
      const p = await adapter.profile(ctx, Number(step.args.seconds ?? 5));
      saveProfile(dir, step.vm, String(step.args.name ?? 'profile'), p);
      return;
    }
  }
}

async function snapshotCounters(guests: Map<string, Guest>, store: ResultStore, runPk: number, phase: string, log: (l: string) => void) {
  await Promise.all(
    [...guests.values()].map(async (g) => {
      if (g.crashAt !== undefined || !g.ctx.shell) return;
      try {
        store.addCounters(runPk, g.vm.name, phase, await g.adapter.counters(g.ctx));
      } catch (err) {
        log(`${g.vm.name}: counters ${phase} failed: ${errorText(err)}`);
      }
    }),
  );
}

async function runLoad(
  deps: RunDeps,
  rc: RunContext,
  guests: Map<string, Guest>,
  events: RunEvents,
  elapsed: () => number,
  log: (l: string) => void,
  signal: AbortSignal,
) {
  const { run, store, runPk, dir } = rc;
  const groups = [...new Set(run.load.map((l) => l.group))].sort((a, b) => a - b);
  const timed = run.setup.filter((s) => s.atSec !== undefined);
  let injected = false;
  for (const group of groups) {
    if (signal.aborted) return;
    const phases = run.load.filter((l) => l.group === group);
    rc.progress(`load ${phases.map((p) => p.name).join(' + ')}`);
    const tasks: Promise<void>[] = phases.map((phase) =>
      guarded(events, elapsed, `load ${phase.name}`, async () => {
        const ms = await runPhase(deps, guests, phase, dir, log, signal);
        store.addMeasurements(runPk, phase.from, phase.name, ms);
        log(`load ${phase.name}: ${ms.map((m) => `${m.name}=${m.value}${m.unit}`).join(' ')}`);
      }),
    );
    // Fault injection steps are timed from the start of the first load group.
    if (!injected) {
      injected = true;
      for (const step of timed) {
        tasks.push(
          guarded(events, elapsed, `step ${step.op}@${step.atSec}s`, async () => {
            await sleep(step.atSec! * 1000, signal);
            await runStep(guests, step, store, runPk, dir, log, signal);
          }),
        );
      }
    }
    // A crash stops the wait at once: commands still running on dead guests end on their own timeouts.
    await Promise.race([Promise.all(tasks), whenAborted(signal)]);
    if (events.commandFailures.length && !signal.aborted) {
      await probeForHangs(guests, run, events, { store, runPk }, elapsed, log, rc.signal);
      // A hung guest or a dead path fails every later phase too: stop here.
      if (events.hangs.length || events.infraErrors.length) return;
    }
  }
  if (!injected) for (const step of timed) await guarded(events, elapsed, `step ${step.op}`, () => runStep(guests, step, store, runPk, dir, log, signal));
}

async function runPhase(
  deps: RunDeps,
  guests: Map<string, Guest>,
  phase: PlannedLoad,
  dir: string,
  log: (l: string) => void,
  signal: AbortSignal,
): Promise<Measurement[]> {
  const from = guests.get(phase.from);
  if (!from) throw new Error(`load ${phase.name}: no VM named ${phase.from}`);
  if (phase.generator === PROFILE_GENERATOR) {
    const p = await from.adapter.profile(from.ctx, phase.durationSec);
    saveProfile(dir, phase.from, phase.name, p);
    return [{ name: `${phase.name}.samples`, value: p.total, unit: 'samples' }];
  }
  const to = phase.to ? guests.get(phase.to) : undefined;
  if (phase.to && !to) throw new Error(`load ${phase.name}: no VM named ${phase.to}`);
  const family = addressFamily(phase.params.family);
  const gen = deps.generator(phase.generator);
  if (!gen.guests.includes(from.vm.guest)) throw new Error(`load ${phase.name}: generator ${gen.name} cannot run on a ${from.vm.guest} guest`);
  const target = to ? { vm: to.vm, shell: to.ctx.shell!, ...addressOf(to.vm, family) } : undefined;
  const runGenerator = (relay?: { vm: string; address: string }) =>
    gen.run({
      load: phase,
      from: { vm: from.vm, shell: from.ctx.shell!, ...addressOf(from.vm, family) },
      ...(target ? { to: target } : {}),
      ...(relay ? { relay } : {}),
      saveArtifact: async (name, content) => writeFileSync(join(dir, `${phase.name}.${name}`), content),
      signal,
    });
  if (!phase.via) return runGenerator();
  const via = guests.get(phase.via);
  if (!via) throw new Error(`load ${phase.name}: no VM named ${phase.via}`);
  return withSpliceRelay(phase, gen, via, from.vm, target?.address, family, runGenerator, log, signal);
}

/** A load's `family` parameter: 4/inet (default) or 6/inet6. */
export function addressFamily(value: unknown): 4 | 6 {
  if (value === undefined || value === 4 || value === '4' || value === 'inet') return 4;
  if (value === 6 || value === '6' || value === 'inet6') return 6;
  throw new Error(`load family must be 4 (inet) or 6 (inet6), got ${JSON.stringify(value)}`);
}

/** The VM's first test address of the family (without the prefix length). */
export function addressOf(vm: PlannedVm, family: 4 | 6): { address?: string } {
  const want6 = family === 6;
  for (const nic of vm.nics) for (const a of nic.addrs) if (a.includes(':') === want6) return { address: a.split('/')[0]! };
  return {};
}

/**
 * A command failed: find out whether a guest stopped answering. A guest whose shell
 * cannot run a trivial command is hung; try to break into its debugger for the record.
 */
async function probeForHangs(
  guests: Map<string, Guest>,
  run: PlannedRun,
  events: RunEvents,
  counters: { store: ResultStore; runPk: number },
  elapsed: () => number,
  log: (l: string) => void,
  userSignal: AbortSignal,
) {
  for (const g of guests.values()) {
    if (g.crashAt !== undefined || g.qemuExited || !g.ctx.shell) continue;
    const alive = await g.ctx.shell
      .exec('echo alive', Math.min(run.timeouts.hangSec, 30) * 1000)
      .then((r) => r.stdout.includes('alive'))
      .catch(() => false);
    if (alive || g.crashAt !== undefined || g.qemuExited) continue;
    log(`${g.vm.name}: not answering; trying to break into the debugger`);
    const idleSec = Math.round(g.handle.console.idleMs() / 1000);
    const inDdb = await breakInForTheRecord(g, userSignal);
    events.hangs.push({ vm: g.vm.name, atMs: elapsed(), detail: `${g.vm.name} stopped answering (console idle ${idleSec}s)${inDdb ? '; entered ddb' : ''}` });
  }
  if (events.hangs.length) return;
  await probePaths(guests, run, events, counters, elapsed, log);
}

/**
 * Every guest answers, yet load phases failed: ping across each failed phase's
 * path. A dead path is named as such, with the routers' counters kept (phase
 * "stall"), but stays an infrastructure error (run again): the same stall has
 * been seen through a Linux router, so the VM links (QEMU's dgram netdev) are
 * as suspect as the router's kernel.
 */
async function probePaths(
  guests: Map<string, Guest>,
  run: PlannedRun,
  events: RunEvents,
  counters: { store: ResultStore; runPk: number },
  elapsed: () => number,
  log: (l: string) => void,
) {
  const failed = events.commandFailures.map((f) => /^load (\S+)$/.exec(f.vm)?.[1]).filter((n): n is string => n !== undefined);
  const paths = pathsToProbe(run, failed, (phase) => addressFamily(phase.params.family), (vm, family) => addressOf(vm, family).address);
  for (const path of paths) {
    const shell = guests.get(path.from.name)?.ctx.shell;
    if (!shell) continue;
    const answers = await pathAnswers(path, shell);
    log(`path probe ${path.from.name} -> ${path.to.name} (${path.address}): ${answers === undefined ? 'cannot tell' : answers ? 'answers' : 'dead'}`);
    if (answers !== false) continue;
    events.infraErrors.push({ vm: (path.routers[0] ?? path.to).name, atMs: elapsed(), error: stallDetail(path) });
    for (const router of path.routers) {
      const g = guests.get(router.name);
      if (!g || g.crashAt !== undefined || g.qemuExited) continue;
      try {
        counters.store.addCounters(counters.runPk, router.name, 'stall', await g.adapter.counters(g.ctx));
      } catch (err) {
        log(`${router.name}: counters at the stall failed: ${errorText(err)}`);
      }
    }
    return;
  }
}

/**
 * BREAK into the debugger of a hung guest so the ddb script records where it is
 * stuck. The crash mark is set first: the ddb prompt this causes is not a crash
 * of its own (the crash watcher ignores a guest that has a mark). No ddb, no mark.
 */
async function breakInForTheRecord(g: Guest, userSignal: AbortSignal): Promise<boolean> {
  g.crashAt = g.handle.console.mark();
  const inDdb = await g.adapter.breakIn({ ...g.ctx, signal: userSignal }, 30_000).catch(() => false);
  if (!inDdb) delete g.crashAt;
  return inDdb;
}

async function collectCrashes(deps: RunDeps, guests: Map<string, Guest>, events: RunEvents, rc: RunContext, log: (l: string) => void) {
  const { run, store, runPk, progress } = rc;
  for (const g of guests.values()) {
    if (g.crashAt === undefined) continue;
    progress(`${g.vm.name}: collecting crash`);
    try {
      // The crash itself stopped the activity signal: the debugger session answers only to the user's interrupt.
      const d = await g.adapter.diagnose({ ...g.ctx, signal: rc.signal }, { commandTimeoutMs: run.timeouts.ddbCommandSec * 1000 });
      writeFileSync(join(g.ctx.dir, 'diagnosis.json'), JSON.stringify(d, null, 2) + '\n');
      if (d.wedged) {
        log(`${g.vm.name}: debugger wedged; resetting`);
        await g.handle.reset().catch(() => undefined);
      }
    } catch (err) {
      log(`${g.vm.name}: diagnose failed: ${errorText(err)}`);
    }
    const text = g.handle.console.text();
    const consolePath = join(rc.dir, g.vm.name, 'console.txt');
    writeFileSync(consolePath, text);
    const found = await deps
      .crashReporter(g.vm.guest)
      .parse(text, { ...(g.media.debugKernel ? { debugKernel: g.media.debugKernel } : {}) })
      .catch((err) => (log(`${g.vm.name}: crash parsing failed: ${errorText(err)}`), []));
    for (const c of found) store.addCrash(runPk, { vm: g.vm.name, ...c, console: consolePath });
    const ev = events.crashes.find((c) => c.vm === g.vm.name);
    if (ev && found[0]) ev.summary = found[0].title;
    log(`${g.vm.name}: ${found.length} crash report(s): ${found.map((c) => c.title).join('; ')}`);
  }
  // Console transcripts of every VM are kept, crashed or not.
  for (const g of guests.values()) {
    if (g.crashAt === undefined) writeFileSync(join(rc.dir, g.vm.name, 'console.txt'), g.handle.console.text());
  }
}

function saveProfile(dir: string, vm: string, name: string, p: KernelProfile) {
  writeFileSync(join(dir, `${vm}.${name}.folded`), foldedStacks(p));
  writeFileSync(join(dir, `${vm}.${name}.profile.json`), JSON.stringify(p) + '\n');
}

/** Runs a stage; its failure becomes a command failure unless the stage was stopped on purpose. */
async function guarded(events: RunEvents, elapsed: () => number, what: string, fn: () => Promise<void>) {
  try {
    await fn();
  } catch (err) {
    if (err instanceof StageStop || (err as Error)?.name === 'AbortError') return;
    events.commandFailures.push({ vm: what, atMs: elapsed(), error: `${what}: ${errorText(err)}` });
  }
}

function whenAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

function throwIfAborted(signal: AbortSignal) {
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new StageStop('stopped');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
