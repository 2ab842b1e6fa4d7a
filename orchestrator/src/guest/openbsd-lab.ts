/**
 * GuestAdapter for the lab image: a real OpenBSD kernel with the project's
 * ramdisk agent (vm-images/openbsd-lab/agent) as init, driven over the serial
 * console only. Agent syntax and output: openbsd-lab-parse.ts.
 *
 * panic(): the LAB kernel has no sysctl that panics. panic() enters ddb with
 * the agent's `ddb` command (ddb.console=1, ddb.trigger=1): the kernel stops
 * in ddb{N}> exactly as after a panic with ddb.panic=1, the crash patterns
 * match, and diagnose() runs the same ddb script. A real panic(9) needs a
 * kernel diff (the playbook's patch), not the agent.
 */
import { execa } from 'execa';
import {
  DDB_PROMPT,
  HALTED,
  KERNEL_BANNER,
  OPENBSD_CRASH_PATTERNS,
  PANIC,
  networkInterfaces,
  parseDmesg,
  typeBootCommands,
} from '../console/openbsd.ts';
import { ConsoleTimeoutError, type ConsoleChannel } from '../console/types.ts';
import { runDdbScript } from '../ddb/driver.ts';
import { parseVmstatM } from '../load/vmstat.ts';
import { enterDdb } from '../ddb/enter.ts';
import type { PlannedVm } from '../playbook/plan-types.ts';
import {
  BootFailure,
  GuestCommandError,
  type BackgroundCommand,
  type BootInfo,
  type CommandResult,
  type CounterSnapshot,
  type Diagnosis,
  type GuestAdapter,
  type GuestContext,
  type GuestShell,
  type KernelProfile,
  type SpliceRelay,
  type SpliceRelaySpec,
} from './adapter.ts';
import {
  AGENT_PROMPT,
  agentCommand,
  parseAgentReply,
  parseNetstat,
  parseNm,
  parseProfile,
  parseSpliceStats,
  symbolizeProfile,
  type AgentProfile,
  type NmSymbol,
} from './openbsd-lab-parse.ts';

/** The status line and the next prompt: the end of every agent command. */
const STATUS_AND_PROMPT = /^(ok|error: [^\n]*)\nlabinit> /;
const READY_AND_PROMPT = /^labinit: ready\nlabinit> /;
const INIT_DIED = /^init died|^init: not found|^panic: no init/;
const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;

/** Exit codes the console shell reports (the agent itself only has ok / error). */
export const EXIT_TIMEOUT = 124;
export const EXIT_CRASHED = 125;

function tail(console: ConsoleChannel): string {
  return console.text().slice(-2000);
}

/**
 * GuestShell over the agent's console: one command at a time (a queue), the
 * command's echo stripped, `ok` → exit 0, `error: …` → exit 1 with the message
 * as stderr. After a timeout the next command first resynchronises with a
 * unique `echo`, so a late `ok` is never taken for its answer.
 */
export class LabConsoleShell implements GuestShell {
  private queue: Promise<unknown> = Promise.resolve();
  private stale = false;
  private syncSeq = 0;

  constructor(
    private readonly console: ConsoleChannel,
    private readonly vmName: string,
    private readonly log: (line: string) => void = () => {},
    private readonly signal?: AbortSignal,
  ) {}

  exec(command: string, timeoutMs: number): Promise<CommandResult> {
    if (/[\r\n]/.test(command)) return Promise.reject(new Error(`${this.vmName}: agent command contains a newline: ${JSON.stringify(command)}`));
    const run = this.queue.then(() => this.execNow(command, timeoutMs));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The agent runs one command at a time in pid 1: a "background" command holds the console until it ends. */
  async start(command: string): Promise<BackgroundCommand> {
    const startedAt = Date.now();
    let limitMs = DEFAULT_COMMAND_TIMEOUT_MS;
    let settled: Promise<CommandResult> | null = null;
    const begin = (ms: number) => (settled ??= this.exec(command, ms));
    return {
      command,
      wait: (timeoutMs: number) => {
        limitMs = timeoutMs;
        return begin(Math.max(1, limitMs - (Date.now() - startedAt)));
      },
      // The agent cannot be interrupted from the console; stopping means waiting for its end.
      stop: () => begin(limitMs),
    };
  }

  private async resync(): Promise<void> {
    const tag = `obsdlab-sync-${process.pid}-${++this.syncSeq}`;
    await this.console.sendLine(agentCommand.echo(tag));
    await this.console.expect(new RegExp(`^${tag}\\nok\\nlabinit> `), { timeoutMs: 30_000, signal: this.signal });
    this.stale = false;
  }

  private async execNow(command: string, timeoutMs: number): Promise<CommandResult> {
    const started = Date.now();
    const result = (exitCode: number, stdout: string, stderr: string): CommandResult => ({
      vm: this.vmName,
      command,
      exitCode,
      stdout,
      stderr,
      durationMs: Date.now() - started,
    });
    try {
      if (this.stale) await this.resync();
      this.log(`${AGENT_PROMPT}${command}`);
      await this.console.sendLine(command);
      const m = await this.console.expect([STATUS_AND_PROMPT, DDB_PROMPT, PANIC], { timeoutMs, signal: this.signal });
      if (m.index !== 0) {
        this.stale = true;
        return result(EXIT_CRASHED, '', `kernel stopped while "${command}" ran: ${m.match[0].trim()}`);
      }
      const before = m.before;
      const echoAt = before.indexOf(`${command}\n`);
      const reply = parseAgentReply(echoAt >= 0 ? before.slice(echoAt + command.length + 1) : before, command);
      return reply.ok ? result(0, reply.output, '') : result(1, reply.output, `error: ${reply.error}`);
    } catch (e) {
      if (e instanceof ConsoleTimeoutError) {
        this.stale = true;
        return result(EXIT_TIMEOUT, '', `no ok/error from the agent within ${Math.round(timeoutMs / 1000)}s\n${e.tail}`);
      }
      throw e;
    }
  }
}

export interface OpenBsdLabAdapterDeps {
  /** Kernel ELF with symbols for the VM (bsd.gdb, or the bsd it booted), to symbolize profiles. */
  kernelElf?(vm: PlannedVm): string | undefined;
  /** Runs the ddb script after a crash; default: ddb/driver.ts runDdbScript. */
  runDdb?(ctx: GuestContext, opts: { commandTimeoutMs: number }): Promise<Diagnosis>;
  /** `llvm-nm -n` of a kernel; default runs llvm-nm-19. */
  nm?(elf: string): Promise<string>;
  commandTimeoutMs?: number;
}

async function defaultNm(elf: string): Promise<string> {
  const r = await execa('llvm-nm-19', ['-n', elf], { timeout: 120_000, maxBuffer: 256 * 1024 * 1024 });
  return r.stdout;
}

export class OpenBsdLabAdapter implements GuestAdapter {
  readonly kind = 'openbsd-lab' as const;
  readonly transport = 'console' as const;
  readonly crashPatterns = OPENBSD_CRASH_PATTERNS;
  private readonly symbols = new Map<string, Promise<NmSymbol[]>>();

  constructor(private readonly deps: OpenBsdLabAdapterDeps = {}) {}

  interfaceName(nicIndex: number): string {
    if (!Number.isInteger(nicIndex) || nicIndex < 0) throw new Error(`openbsd-lab: bad NIC index ${nicIndex}`);
    return `vio${nicIndex}`;
  }

  /**
   * boot> (types the VM's boot commands, or lets boot.conf boot), the kernel
   * banner, the agent's `labinit: ready` and prompt. A panic, ddb or a dead
   * init before that is a BootFailure with the console tail.
   */
  async waitReady(ctx: GuestContext, timeoutMs: number): Promise<BootInfo> {
    const started = Date.now();
    const { console } = ctx;
    const left = () => Math.max(1, timeoutMs - (Date.now() - started));
    const fail = (reason: string): never => {
      throw new BootFailure(ctx.vm.name, reason, tail(console));
    };
    const wait = async (what: string, patterns: RegExp[]) => {
      try {
        return await console.expect(patterns, { timeoutMs: left(), signal: ctx.signal });
      } catch (e) {
        if (e instanceof ConsoleTimeoutError) fail(`no ${what} within ${Math.round(timeoutMs / 1000)}s`);
        throw e;
      }
    };
    if (ctx.vm.bootCommands.length > 0) {
      for (const c of ctx.vm.bootCommands) ctx.log(`boot> ${c}`);
      try {
        await typeBootCommands(console, ctx.vm.bootCommands, { timeoutMs: left(), signal: ctx.signal });
      } catch (e) {
        if (e instanceof ConsoleTimeoutError) fail(`no boot> prompt within ${Math.round(timeoutMs / 1000)}s`);
        throw e;
      }
    }
    const banner = await wait('kernel banner', [KERNEL_BANNER, PANIC, DDB_PROMPT]);
    if (banner.index !== 0) fail(`kernel stopped before its banner: ${banner.match[0].trim()}`);
    const ready = await wait('"labinit: ready"', [READY_AND_PROMPT, PANIC, DDB_PROMPT, INIT_DIED]);
    if (ready.index !== 0) fail(`kernel stopped before the agent was ready: ${ready.match[0].trim()}`);

    const dmesg = parseDmesg(console.text());
    if (!dmesg) fail('no kernel banner in the console transcript');
    const devices = networkInterfaces(dmesg!).map((d) => d.name);
    for (const nic of ctx.vm.nics) {
      const name = this.interfaceName(nic.index);
      if (!devices.includes(name)) fail(`${name} (NIC ${nic.index}, link ${nic.link}) did not attach; network devices: ${devices.join(', ') || 'none'}`);
    }
    ctx.shell = new LabConsoleShell(console, ctx.vm.name, ctx.log, ctx.signal);
    return { kernelVersion: dmesg!.versionLine, devices, bootMs: Date.now() - started };
  }

  private timeout(): number {
    return this.deps.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  }

  /** Runs one agent command; anything but `ok` throws GuestCommandError. */
  async run(ctx: GuestContext, command: string, timeoutMs = this.timeout()): Promise<CommandResult> {
    if (!ctx.shell) throw new Error(`${ctx.vm.name}: no shell yet (waitReady has not succeeded)`);
    const res = await ctx.shell.exec(command, timeoutMs);
    if (res.exitCode !== 0) throw new GuestCommandError(res);
    return res;
  }

  async configureInterface(ctx: GuestContext, nic: { ifname: string; addrs: string[]; mtu: number }): Promise<void> {
    if (nic.mtu !== 1500) await this.run(ctx, agentCommand.ifconfigMtu(nic.ifname, nic.mtu));
    for (const a of nic.addrs) await this.run(ctx, agentCommand.ifconfigAddr(nic.ifname, a));
    await this.run(ctx, agentCommand.ifconfigUp(nic.ifname));
  }

  async addRoute(ctx: GuestContext, route: { dest: string; gateway: string }): Promise<void> {
    await this.run(ctx, agentCommand.routeAdd(route.dest, route.gateway));
  }

  async setForwarding(ctx: GuestContext, on: { inet: boolean; inet6: boolean }): Promise<void> {
    await this.run(ctx, agentCommand.sysctlSet('net.inet.ip.forwarding', on.inet ? 1 : 0));
    await this.run(ctx, agentCommand.sysctlSet('net.inet6.ip6.forwarding', on.inet6 ? 1 : 0));
  }

  async setSysctl(ctx: GuestContext, name: string, value: string): Promise<void> {
    await this.run(ctx, agentCommand.sysctlSet(name, value));
  }

  /** pf on/off with the kernel's default pass rule; the agent cannot load a ruleset. */
  async setPf(ctx: GuestContext, pf: { enabled: boolean; rules?: string }): Promise<void> {
    if (pf.rules !== undefined && pf.rules.trim() !== '') {
      throw new Error(
        `${ctx.vm.name}: openbsd-lab cannot load a pf ruleset (the agent only does "pf on|off" with the default pass rule and reassembly); remove pf.rules for this VM or use the openbsd guest`,
      );
    }
    if (!ctx.shell) throw new Error(`${ctx.vm.name}: no shell yet (waitReady has not succeeded)`);
    const res = await ctx.shell.exec(agentCommand.pf(pf.enabled), this.timeout());
    // Already in the wanted state: DIOCSTART EEXIST / DIOCSTOP ENOENT.
    const already = pf.enabled ? /^error: DIOCSTART: EEXIST / : /^error: DIOCSTOP: ENOENT /;
    if (res.exitCode !== 0 && !already.test(res.stderr)) throw new GuestCommandError(res);
  }

  /** Interface, mbstat, ip and ip6 counters (`netstat`) and pool statistics (`pools`). */
  async counters(ctx: GuestContext): Promise<CounterSnapshot> {
    const net = parseNetstat((await this.run(ctx, agentCommand.netstat())).stdout);
    return { ...net, ...parseVmstatM((await this.run(ctx, agentCommand.pools())).stdout) };
  }

  async profile(ctx: GuestContext, seconds: number): Promise<KernelProfile> {
    await this.run(ctx, agentCommand.sysctlSet('kern.allowdt', 1));
    const res = await this.run(ctx, agentCommand.profile(seconds), (seconds + 60) * 1000);
    const profile: AgentProfile = parseProfile(res.stdout);
    const elf = this.deps.kernelElf?.(ctx.vm);
    if (!elf) return profile;
    return symbolizeProfile(profile, await this.kernelSymbols(elf));
  }

  /** The agent's splice relay (splice.c): a child of pid 1, so the console stays free for counters and profiles. */
  async startSpliceRelay(ctx: GuestContext, spec: SpliceRelaySpec): Promise<SpliceRelay> {
    await this.run(ctx, agentCommand.spliceStart(spec.listenPort, spec.target.address, spec.target.port, spec.seconds));
    return {
      stop: async () => {
        const res = await this.run(ctx, agentCommand.spliceStop());
        const { state: _state, ...stats } = parseSpliceStats(res.stdout);
        return stats;
      },
    };
  }

  private kernelSymbols(elf: string): Promise<NmSymbol[]> {
    let p = this.symbols.get(elf);
    if (!p) {
      p = (this.deps.nm ?? defaultNm)(elf).then(parseNm);
      this.symbols.set(elf, p);
    }
    return p;
  }

  /** Enters ddb (see the module comment: no panic sysctl exists); resolves at the ddb prompt. */
  async panic(ctx: GuestContext): Promise<void> {
    await this.enterDdb(ctx, this.timeout());
  }

  /** The agent's `ddb` command: ddb.console=1, ddb.trigger=1. Resolves at `ddb{N}> `. */
  async enterDdb(ctx: GuestContext, timeoutMs: number): Promise<void> {
    ctx.log(`${AGENT_PROMPT}ddb`);
    await ctx.console.sendLine(agentCommand.ddb());
    await ctx.console.expect(DDB_PROMPT, { timeoutMs, signal: ctx.signal });
  }

  /**
   * `c` at the ddb prompt entered by enterDdb(): the agent's sysctl returns and
   * it prints `ok`. Seen under QEMU TCG: another CPU can take the stop IPI late
   * and stop on its own (`Stopped at x86_ipi_db+0x9`, `ddb{1}> `) right after;
   * such late stops within `settleMs` are continued as well.
   */
  async continueFromDdb(ctx: GuestContext, timeoutMs: number, settleMs = 3000): Promise<number> {
    ctx.log('ddb> c');
    await ctx.console.sendLine('c');
    await ctx.console.expect(STATUS_AND_PROMPT, { timeoutMs, signal: ctx.signal });
    let lateStops = 0;
    for (; lateStops < 8; lateStops++) {
      try {
        const m = await ctx.console.expect(DDB_PROMPT, { timeoutMs: settleMs, signal: ctx.signal });
        ctx.log(`late ddb stop at ${m.match[0].trim()}: continuing`);
      } catch (e) {
        if (e instanceof ConsoleTimeoutError) break;
        throw e;
      }
      await ctx.console.sendLine('c');
    }
    if (lateStops > 0) {
      // The agent's prompt was printed before the late stop; ask for a fresh one.
      await ctx.console.sendLine('');
      await ctx.console.expect(/^labinit> /, { timeoutMs, signal: ctx.signal });
    }
    return lateStops;
  }

  async diagnose(ctx: GuestContext, opts: { commandTimeoutMs: number }): Promise<Diagnosis> {
    if (this.deps.runDdb) return this.deps.runDdb(ctx, opts);
    return runDdbScript(ctx.console, { commandTimeoutMs: opts.commandTimeoutMs, signal: ctx.signal, log: ctx.log });
  }

  async breakIn(ctx: GuestContext, timeoutMs: number): Promise<boolean> {
    return (await enterDdb(ctx.console, { via: 'break', timeoutMs, signal: ctx.signal })).entered;
  }

  /** `halt`: the agent syncs and the kernel prints "The operating system has halted." (best effort). */
  async shutdown(ctx: GuestContext): Promise<void> {
    if (ctx.console.closed) return;
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        ctx.log(`${AGENT_PROMPT}halt`);
        await ctx.console.sendLine(agentCommand.halt());
        const m = await ctx.console.expect([HALTED, DDB_PROMPT], { timeoutMs: 30_000, signal: ctx.signal });
        if (m.index === 0) return;
        // A CPU stopped in ddb (late stop IPI) swallowed the line: continue it and ask again.
        ctx.log(`shutdown: ${m.match[0].trim()} instead of halting; continuing`);
        await ctx.console.sendLine('c');
      }
    } catch (e) {
      ctx.log(`shutdown: ${(e as Error).message.split('\n')[0]}`);
    }
  }
}
