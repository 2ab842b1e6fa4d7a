/**
 * GuestAdapter for the Linux test guest (vm-images/testguest): busybox userland,
 * dropbear SSH as root, iperf3. It stands in for OpenBSD as a router in the
 * project's own tests and serves as traffic source and sink around an OpenBSD DUT.
 */
import { join } from 'node:path';
import { ReconnectingShell, sshConnect, type SshSession } from '../ssh/client.ts';

/** How long a lost SSH connection may take to come back before the guest counts as not answering. */
const RECONNECT_MS = 20_000;
import { TESTGUEST_READY_LINE } from '../vm/testguest-image.ts';
import {
  BootFailure,
  GuestCommandError,
  type BootInfo,
  type CommandResult,
  type CounterSnapshot,
  type Diagnosis,
  type GuestAdapter,
  type GuestContext,
  type KernelProfile,
} from './adapter.ts';
import { parseInterfaceMacs, parseProcNetDev, parseProcNetSnmp, parseProcNetSnmp6 } from './testguest-parse.ts';

export const LINUX_CRASH_PATTERNS: RegExp[] = [/Kernel panic - not syncing/, /\bOops: /, /\bBUG: /];
const PANIC_END = /---\[ end Kernel panic[^\n]*\]---/;

export class UnsupportedOnTestguest extends Error {
  constructor(vm: string, what: string) {
    super(`${vm}: ${what} is not supported on the Linux test guest`);
    this.name = 'UnsupportedOnTestguest';
  }
}

export interface TestguestAdapterOptions {
  /** Private key whose public half was put on the guest's kernel command line. */
  privateKeyPath: string;
  commandTimeoutMs?: number;
}

export class TestguestAdapter implements GuestAdapter {
  readonly kind = 'testguest' as const;
  readonly transport = 'ssh' as const;
  readonly crashPatterns = LINUX_CRASH_PATTERNS;
  private readonly commandTimeoutMs: number;

  constructor(private readonly opts: TestguestAdapterOptions) {
    this.commandTimeoutMs = opts.commandTimeoutMs ?? 30_000;
  }

  /** Test NIC i is eth<i>: test NICs come first on the PCI bus, the management NIC last. */
  interfaceName(nicIndex: number): string {
    return `eth${nicIndex}`;
  }

  async waitReady(ctx: GuestContext, timeoutMs: number): Promise<BootInfo> {
    const t0 = Date.now();
    const name = ctx.vm.name;
    if (ctx.sshPort === undefined) throw new BootFailure(name, 'the test guest needs a management NIC for SSH, and has none', '');
    let hit;
    try {
      hit = await ctx.console.expect([TESTGUEST_READY_LINE, ...LINUX_CRASH_PATTERNS], { timeoutMs, signal: ctx.signal });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      throw new BootFailure(name, `no "${TESTGUEST_READY_LINE}" on the console: ${(err as Error).message.split('\n')[0]}`, consoleTail(ctx));
    }
    if (hit.index !== 0) throw new BootFailure(name, `kernel crashed while booting: ${hit.match[0]}`, consoleTail(ctx));
    const remaining = Math.max(5000, timeoutMs - (Date.now() - t0));
    const target = { vm: name, port: ctx.sshPort, privateKeyPath: this.opts.privateKeyPath, knownHostsFile: join(ctx.dir, 'known_hosts') };
    let session: SshSession;
    try {
      session = await sshConnect(target, { deadlineMs: remaining, signal: ctx.signal });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      throw new BootFailure(name, `ready on the console but SSH failed: ${(err as Error).message}`, consoleTail(ctx));
    }
    ctx.shell = new ReconnectingShell(session, target, RECONNECT_MS, ctx.signal);
    const info = await this.run(ctx, 'cat /proc/version; for d in /sys/class/net/*; do echo "${d##*/} $(cat $d/address) $(basename $(readlink $d/device/driver) 2>/dev/null)"; done');
    const [version, ...nets] = info.stdout.trim().split('\n');
    return {
      kernelVersion: (version ?? '').trim(),
      devices: nets.map((l) => l.trim().split(/\s+/)).filter((w) => w.length >= 3).map((w) => `${w[0]} (${w[2]}, ${w[1]})`),
      bootMs: Date.now() - t0,
    };
  }

  private async run(ctx: GuestContext, command: string, timeoutMs = this.commandTimeoutMs): Promise<CommandResult> {
    if (!ctx.shell) throw new Error(`${ctx.vm.name}: no shell yet (waitReady has not succeeded)`);
    ctx.log(`$ ${command}`);
    const r = await ctx.shell.exec(command, timeoutMs);
    ctx.log(`exit ${r.exitCode} (${r.durationMs} ms)`);
    if (r.exitCode !== 0) throw new GuestCommandError(r);
    return r;
  }

  /** The guest's name for the NIC the plan calls `ifname`, found by the plan's MAC. */
  private async resolveInterface(ctx: GuestContext, ifname: string): Promise<string> {
    const nic = ctx.vm.nics.find((n) => this.interfaceName(n.index) === ifname);
    if (!nic) return ifname;
    const r = await this.run(ctx, 'for d in /sys/class/net/*; do echo "${d##*/} $(cat $d/address)"; done');
    const actual = parseInterfaceMacs(r.stdout).get(nic.mac.toLowerCase());
    if (!actual) throw new Error(`${ctx.vm.name}: no interface has the MAC ${nic.mac} of test NIC ${nic.index} (link ${nic.link})`);
    return actual;
  }

  async configureInterface(ctx: GuestContext, nic: { ifname: string; addrs: string[]; mtu: number }): Promise<void> {
    const ifname = await this.resolveInterface(ctx, nic.ifname);
    // No duplicate address detection: under TCG it delays IPv6 by seconds, and these wires have two ends.
    const cmds = [
      `sysctl -w net.ipv6.conf.${ifname}.accept_dad=0 >/dev/null`,
      `sysctl -w net.ipv6.conf.${ifname}.accept_ra=0 >/dev/null`,
      `ip link set ${ifname} mtu ${nic.mtu}`,
      `ip link set ${ifname} up`,
      ...nic.addrs.map((a) => `ip ${a.includes(':') ? '-6 ' : ''}addr add ${a} dev ${ifname}`),
    ];
    await this.run(ctx, cmds.join(' && '));
  }

  async addRoute(ctx: GuestContext, route: { dest: string; gateway: string }): Promise<void> {
    const v6 = route.gateway.includes(':') || route.dest.includes(':');
    await this.run(ctx, `ip ${v6 ? '-6 ' : ''}route add ${route.dest} via ${route.gateway}`);
  }

  async setForwarding(ctx: GuestContext, on: { inet: boolean; inet6: boolean }): Promise<void> {
    await this.run(ctx, `sysctl -w net.ipv4.ip_forward=${on.inet ? 1 : 0} net.ipv6.conf.all.forwarding=${on.inet6 ? 1 : 0}`);
  }

  async setSysctl(ctx: GuestContext, name: string, value: string): Promise<void> {
    if (!/^[A-Za-z0-9_.\-/]+$/.test(name) || /[\s'"`$;&|<>]/.test(value)) {
      throw new Error(`${ctx.vm.name}: refusing sysctl with unusual characters: ${name}=${value}`);
    }
    await this.run(ctx, `sysctl -w ${name}=${value}`);
  }

  async setPf(ctx: GuestContext, pf: { enabled: boolean; rules?: string }): Promise<void> {
    if (pf.enabled) throw new UnsupportedOnTestguest(ctx.vm.name, 'pf (it is OpenBSD\'s packet filter)');
  }

  async counters(ctx: GuestContext): Promise<CounterSnapshot> {
    const sep = '@@obsdlab@@';
    const r = await this.run(ctx, `cat /proc/net/snmp; echo ${sep}; cat /proc/net/snmp6; echo ${sep}; cat /proc/net/dev`);
    const [snmp = '', snmp6 = '', dev = ''] = r.stdout.split(`${sep}\n`);
    return { ...parseProcNetSnmp(snmp), ...parseProcNetSnmp6(snmp6), ...parseProcNetDev(dev) };
  }

  async profile(ctx: GuestContext): Promise<KernelProfile> {
    throw new UnsupportedOnTestguest(ctx.vm.name, 'kernel profiling');
  }

  /** sysrq c, from a detached shell so the SSH command returns before the kernel dies. */
  async panic(ctx: GuestContext): Promise<void> {
    const trigger = 'echo 1 > /proc/sys/kernel/sysrq; echo c > /proc/sysrq-trigger';
    if (ctx.shell) {
      await this.run(ctx, `setsid sh -c 'sleep 0.5; ${trigger}' </dev/null >/dev/null 2>&1 &`);
    } else {
      // The guest keeps a root shell on its serial console.
      await ctx.console.sendLine(trigger);
    }
  }

  async diagnose(ctx: GuestContext, opts: { commandTimeoutMs: number }): Promise<Diagnosis> {
    // Linux has no debugger to drive: the panic text is the diagnosis. Wait for its end
    // marker, or for the console to fall silent.
    const deadline = Date.now() + Math.max(opts.commandTimeoutMs, 5000);
    const seenEnd = () => PANIC_END.test(ctx.console.text());
    while (Date.now() < deadline && !seenEnd() && !(ctx.console.idleMs() > 2000 && crashStart(ctx.console.text()) >= 0)) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const full = ctx.console.text();
    const cursorIndex = full.length - ctx.console.textSince(ctx.console.mark()).length;
    const windowStart = ctx.console.mark() - cursorIndex;
    const from = crashStart(full);
    return {
      consoleFrom: windowStart + (from >= 0 ? lineStart(full, from) : full.length),
      consoleTo: windowStart + full.length,
      commands: [],
      wedged: false,
    };
  }

  async breakIn(): Promise<boolean> {
    return false;
  }

  async shutdown(ctx: GuestContext): Promise<void> {
    if (!ctx.shell) return;
    await ctx.shell.exec('setsid sh -c "sleep 0.2; poweroff -f" </dev/null >/dev/null 2>&1 &', 5000).catch(() => undefined);
    (ctx.shell as Partial<SshSession>).close?.();
  }
}

/** Index of the first crash line in the text, or -1. */
function crashStart(text: string): number {
  let first = -1;
  for (const p of LINUX_CRASH_PATTERNS) {
    const m = new RegExp(p.source, p.flags.replace('g', '')).exec(text);
    if (m && (first < 0 || m.index < first)) first = m.index;
  }
  return first;
}

function lineStart(text: string, i: number): number {
  return text.lastIndexOf('\n', i - 1) + 1;
}

function consoleTail(ctx: GuestContext): string {
  return ctx.console.text().slice(-1500);
}
