/**
 * The `openbsd` guest adapter: an installed OpenBSD reached over SSH (vio0 is the
 * management NIC), its serial console on com0 for boot, crashes and ddb.
 *
 * Dependencies the adapter does not own are injected: the SSH shell factory (ssh/)
 * and the scripted ddb session (ddb/driver.ts).
 */
import type { BootInfo, CommandResult, CounterSnapshot, Diagnosis, GuestAdapter, GuestContext, GuestShell, KernelProfile, SpliceRelay, SpliceRelaySpec } from './adapter.ts';
import { startRelaydRelay } from './openbsd-relayd.ts';
import { BootFailure, GuestCommandError } from './adapter.ts';
import { join } from 'node:path';
import { ReconnectingShell, sshConnect } from '../ssh/client.ts';
import { runDdbScript } from '../ddb/driver.ts';
import { enterDdb } from '../ddb/enter.ts';
import { ConsoleTimeoutError } from '../console/types.ts';
import { BOOT_PROMPT, KERNEL_BANNER, LOGIN_PROMPT, OPENBSD_CRASH_PATTERNS, PANIC } from '../console/openbsd.ts';
import { btraceProfileCommand, parseKstackMap } from '../load/btrace.ts';
import { parseNetstatM, parseNetstatS } from '../load/netstat.ts';
import { parseVmstatM } from '../load/vmstat.ts';
import { checkInterface, parseIfconfig } from '../load/ifconfig.ts';
import {
  bootConfWithImage,
  forwardingCommands,
  ifconfigCommands,
  kernelVersionLine,
  openbsdInterfaceName,
  pfCommands,
  renderHostnameIf,
  routeAddCommand,
  shQuote,
  sysctlCommand,
  vioDevices,
  writeFileCommand,
} from './openbsd-render.ts';

export interface OpenBsdAdapterDeps {
  /** Opens an SSH shell to the guest, retrying until `deadlineMs` has passed. */
  connectShell(ctx: GuestContext, deadlineMs: number): Promise<GuestShell>;
  /** Runs the ddb script on the console after a crash (ddb/driver.ts). */
  runDdb(ctx: GuestContext, opts: { commandTimeoutMs: number }): Promise<Diagnosis>;
}

/** The adapter wired to the project's SSH client and ddb driver. */
export function createOpenBsdAdapter(opts: { privateKeyPath: string }): OpenBsdAdapter {
  return new OpenBsdAdapter({
    connectShell: async (ctx, deadlineMs) => {
      if (ctx.sshPort === undefined) throw new Error('the openbsd guest needs a management NIC for SSH, and has none');
      const target = { vm: ctx.vm.name, port: ctx.sshPort, privateKeyPath: ctx.vm.sshKey ?? opts.privateKeyPath, knownHostsFile: join(ctx.dir, 'known_hosts') };
      const session = await sshConnect(target, { deadlineMs, signal: ctx.signal });
      return new ReconnectingShell(session, target, 20_000, ctx.signal);
    },
    runDdb: (ctx, o) => runDdbScript(ctx.console, { commandTimeoutMs: o.commandTimeoutMs, signal: ctx.signal, log: (l) => ctx.log(l) }),
  });
}

const COMMAND_TIMEOUT_MS = 60_000;

function tail(ctx: GuestContext): string {
  return ctx.console.text().slice(-2000);
}

export class OpenBsdAdapter implements GuestAdapter {
  readonly kind = 'openbsd' as const;
  readonly transport = 'ssh' as const;
  readonly crashPatterns = OPENBSD_CRASH_PATTERNS;

  constructor(private readonly deps: OpenBsdAdapterDeps) {}

  interfaceName(nicIndex: number): string {
    return openbsdInterfaceName(nicIndex);
  }

  /**
   * boot> (types the VM's bootCommands, e.g. `boot /bsd.test`), kernel banner,
   * login:, then SSH. Any console wait that times out is a BootFailure with the tail.
   */
  async waitReady(ctx: GuestContext, timeoutMs: number): Promise<BootInfo> {
    const started = Date.now();
    const left = () => Math.max(1, timeoutMs - (Date.now() - started));
    const step = async (what: string, pattern: RegExp | RegExp[]) => {
      try {
        return await ctx.console.expect(pattern, { timeoutMs: left(), signal: ctx.signal });
      } catch (e) {
        if (e instanceof ConsoleTimeoutError) throw new BootFailure(ctx.vm.name, `no ${what} within ${Math.round(timeoutMs / 1000)}s`, tail(ctx));
        throw e;
      }
    };
    if (ctx.vm.bootCommands.length > 0) {
      for (const cmd of ctx.vm.bootCommands) {
        await step('boot> prompt', BOOT_PROMPT);
        ctx.log(`boot> ${cmd}`);
        await ctx.console.sendLine(cmd);
      }
    }
    await step('kernel banner', KERNEL_BANNER);
    const after = await step('login: prompt or panic', [LOGIN_PROMPT, PANIC]);
    if (after.index === 1) throw new BootFailure(ctx.vm.name, `kernel panicked during boot: ${after.match[0]}`, tail(ctx));

    try {
      ctx.shell = await this.deps.connectShell(ctx, Math.max(5000, left()));
    } catch (e) {
      if (ctx.signal.aborted) throw e;
      throw new BootFailure(ctx.vm.name, `login: prompt seen but SSH failed: ${(e as Error).message}`, tail(ctx));
    }
    const version = kernelVersionLine((await this.run(ctx, 'sysctl -n kern.version')).stdout);
    const dmesg = (await this.run(ctx, 'dmesg')).stdout;
    return { kernelVersion: version, devices: vioDevices(dmesg), bootMs: Date.now() - started };
  }

  /** Fallback: a later boot uses /bsd again (boot.conf restored, /bsd.test left in place). */
  async fallbackToBsd(ctx: GuestContext): Promise<void> {
    await this.restoreBootConf(ctx);
  }

  private async run(ctx: GuestContext, command: string, timeoutMs = COMMAND_TIMEOUT_MS): Promise<CommandResult> {
    if (!ctx.shell) throw new Error(`${ctx.vm.name}: no shell yet (waitReady has not succeeded)`);
    ctx.log(`$ ${command}`);
    const res = await ctx.shell.exec(command, timeoutMs);
    if (res.exitCode !== 0) throw new GuestCommandError(res);
    return res;
  }

  /**
   * Copies a built kernel to /bsd.test and makes the next boot use it (boot.conf(5)
   * `set image /bsd.test`). The previous boot.conf is saved and comes back with
   * restoreBootConf() once the test kernel is confirmed up, so a later plain reboot
   * (or a `--fallback`) boots /bsd again.
   */
  async installTestKernel(ctx: GuestContext, localKernel: string): Promise<void> {
    if (!ctx.shell?.put) throw new Error(`${ctx.vm.name}: the shell cannot copy files (no SFTP)`);
    await ctx.shell.put(localKernel, '/bsd.test.new');
    await this.run(ctx, 'mv /bsd.test.new /bsd.test && chmod 644 /bsd.test');
    const current = (await this.run(ctx, 'cat /etc/boot.conf 2>/dev/null; true')).stdout;
    await this.run(ctx, writeFileCommand('/etc/boot.conf.obsdlab-saved', current));
    await this.run(ctx, writeFileCommand('/etc/boot.conf', bootConfWithImage(current, '/bsd.test')));
  }

  /** /bsd.test installed, one reboot into it (QEMU started with allowReboot), version confirmed, boot.conf restored. */
  async bootTestKernel(ctx: GuestContext, kernel: string, expectedVersion: string | undefined, timeoutMs: number): Promise<BootInfo> {
    await this.installTestKernel(ctx, kernel);
    // The SSH session ends with the reboot; its error is expected.
    await ctx.shell!.exec('reboot', 15_000).catch(() => undefined);
    delete ctx.shell;
    const info = await this.waitReady(ctx, timeoutMs);
    if (expectedVersion) await this.confirmKernel(ctx, expectedVersion);
    await this.restoreBootConf(ctx);
    return info;
  }

  async restoreBootConf(ctx: GuestContext): Promise<void> {
    await this.run(ctx, 'if [ -f /etc/boot.conf.obsdlab-saved ]; then mv /etc/boot.conf.obsdlab-saved /etc/boot.conf; fi');
  }

  /** The running kernel must be the one that was built (same kern.version first line). */
  async confirmKernel(ctx: GuestContext, expectedVersion: string): Promise<void> {
    const running = kernelVersionLine((await this.run(ctx, 'sysctl -n kern.version')).stdout);
    if (running !== expectedVersion.trim()) {
      throw new Error(`${ctx.vm.name}: running kernel is not the built one:\n  running: ${running}\n  built:   ${expectedVersion.trim()}`);
    }
  }

  /** Applies the addresses and MTU, checks them with `ifconfig IFNAME`, then persists them in hostname.if(5). */
  async configureInterface(ctx: GuestContext, nic: { ifname: string; addrs: string[]; mtu: number }): Promise<void> {
    for (const cmd of ifconfigCommands(nic)) await this.run(ctx, cmd);
    const shown = parseIfconfig((await this.run(ctx, `ifconfig ${nic.ifname}`)).stdout).find((i) => i.name === nic.ifname);
    const problems = checkInterface(shown, nic);
    if (problems.length > 0) throw new Error(`${ctx.vm.name}: ${nic.ifname} is not as configured: ${problems.join('; ')}`);
    await this.run(ctx, writeFileCommand(`/etc/hostname.${nic.ifname}`, renderHostnameIf(nic)));
  }

  async addRoute(ctx: GuestContext, route: { dest: string; gateway: string }): Promise<void> {
    await this.run(ctx, routeAddCommand(route));
  }

  async setForwarding(ctx: GuestContext, on: { inet: boolean; inet6: boolean }): Promise<void> {
    for (const cmd of forwardingCommands(on)) await this.run(ctx, cmd);
  }

  async setSysctl(ctx: GuestContext, name: string, value: string): Promise<void> {
    await this.run(ctx, sysctlCommand(name, value));
  }

  async setPf(ctx: GuestContext, pf: { enabled: boolean; rules?: string }): Promise<void> {
    for (const cmd of pfCommands(pf)) await this.run(ctx, cmd);
  }

  async counters(ctx: GuestContext): Promise<CounterSnapshot> {
    const s = (await this.run(ctx, 'netstat -s')).stdout;
    const m = (await this.run(ctx, 'netstat -m')).stdout;
    const pools = (await this.run(ctx, 'vmstat -m')).stdout;
    return { ...parseNetstatS(s), ...parseNetstatM(m), ...parseVmstatM(pools) };
  }

  /** relayd(8) from base as the socket-splicing relay (guest/openbsd-relayd.ts). */
  async startSpliceRelay(ctx: GuestContext, spec: SpliceRelaySpec): Promise<SpliceRelay> {
    if (!ctx.shell) throw new Error(`${ctx.vm.name}: no shell yet`);
    return startRelaydRelay(ctx.shell, spec, COMMAND_TIMEOUT_MS);
  }

  async profile(ctx: GuestContext, seconds: number): Promise<KernelProfile> {
    const res = await this.run(ctx, btraceProfileCommand(seconds), (seconds + 60) * 1000);
    return parseKstackMap(res.stdout);
  }

  /**
   * `sysctl ddb.trigger=1` drops the kernel into ddb at once (ddb(4)); it is what a
   * developer uses to test crash capture without corrupting anything. The SSH
   * command itself never returns, so its failure is expected.
   */
  async panic(ctx: GuestContext): Promise<void> {
    if (!ctx.shell) throw new Error(`${ctx.vm.name}: no shell yet`);
    ctx.log('$ sysctl ddb.trigger=1');
    await ctx.shell.exec('sysctl ddb.trigger=1', 5_000).catch(() => undefined);
  }

  diagnose(ctx: GuestContext, opts: { commandTimeoutMs: number }): Promise<Diagnosis> {
    return this.deps.runDdb(ctx, opts);
  }

  /** With ddb.console=1 a serial BREAK enters ddb; true when a ddb prompt answers. */
  async breakIn(ctx: GuestContext, timeoutMs: number): Promise<boolean> {
    return (await enterDdb(ctx.console, { via: 'break', timeoutMs, signal: ctx.signal })).entered;
  }

  async shutdown(ctx: GuestContext): Promise<void> {
    if (!ctx.shell) return;
    ctx.log('$ halt -p');
    await ctx.shell.exec(`${shQuote('halt')} -p`, 10_000).catch(() => undefined);
  }
}
