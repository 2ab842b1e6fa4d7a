/**
 * What an OpenBSD serial console says, as patterns over normalised console
 * text (LF line ends, spinner redraws resolved, no escapes), and small pure
 * helpers around them. The shapes come from the real transcripts in
 * ../shared/corpus/real and from the kernel sources (ddb/db_command.c prints
 * `ddb{%d}> ` on MULTIPROCESSOR kernels, `ddb> ` otherwise).
 */
import type { ConsoleChannel } from './types.ts';

/** The boot loader's prompt (cdboot/boot), after the spinner has been drawn over. */
export const BOOT_PROMPT = /^boot> /m;
/** The kernel's version line: `OpenBSD 7.9-current (LAB) #0: Wed Nov 25 17:28:22 UTC 2026`. */
export const KERNEL_BANNER = /^OpenBSD (\d+\.\d+)(?:-(\w+))? \(([^)\s]+)\) #(\d+): (.+)$/m;
export const LOGIN_PROMPT = /^(?:\S+ )?login: /m;
/** ddb's prompt; group 1 is the CPU on multiprocessor kernels. */
export const DDB_PROMPT = /^ddb(?:\{(\d+)\})?> /m;
export const DDB_MORE = /--db_more--/;
/**
 * `Stopped at      db_enter+0x9:   popq    %rbp`: group 1 location, group 2 instruction.
 * It (and `panic:`) may follow a prompt on the same line: a BREAK at `labinit> ` prints
 * `labinit> Stopped at …` (seen on the lab kernel).
 */
export const STOPPED_AT = /^(?:.*> )?Stopped at\s+(\S+?):?\s+(.*)$/m;
export const PANIC = /^(?:.*> )?panic: (.*)$/m;
export const UVM_FAULT = /uvm_fault\(/;
export const KERNEL_ASSERTION = /kernel diagnostic assertion "/;
/** `kernel: page fault trap, code=0` (older amd64/i386) and `fatal page fault in supervisor mode`. */
export const KERNEL_TRAP = /^(?:kernel: [a-z ]+ trap, code=|fatal [a-z ]+ in supervisor mode)/m;
export const CANNOT_OPEN_DISK = /cannot open disk/;
export const HALTED = /The operating system has halted\./;
export const REBOOTING = /^rebooting\.\.\./m;

/** Any of these on the console means the kernel crashed or stopped in ddb. */
export const OPENBSD_CRASH_PATTERNS: RegExp[] = [PANIC, UVM_FAULT, KERNEL_ASSERTION, KERNEL_TRAP, STOPPED_AT, DDB_PROMPT];

export interface DmesgDevice {
  /** `vio0` */
  name: string;
  /** `virtio1`, or `root` for mainbus0 */
  parent: string;
  /** The rest of the attach line after the parent (`: 1 queue, address 52:54:00:00:00:10`). */
  detail: string;
  line: string;
}

export interface Dmesg {
  /** `OpenBSD 7.9-current (LAB) #0: Wed Nov 25 17:28:22 UTC 2026` */
  versionLine: string;
  /** `7.9` */
  release: string;
  /** `current`, `beta`, … or '' for a release */
  flavour: string;
  /** Kernel config name: `LAB`, `GENERIC.MP` */
  config: string;
  devices: DmesgDevice[];
  /** CPU numbers from `cpuN at mainbus0` lines. */
  cpus: number[];
}

const ATTACH = /^([a-z][a-z0-9_]*?[0-9]+) at ([a-z][a-z0-9_]*?[0-9]+|root)\b(.*)$/;

/**
 * The last boot's dmesg in a console transcript: from the last kernel banner
 * on. Returns null when no banner has been printed yet.
 */
export function parseDmesg(text: string): Dmesg | null {
  const banners = [...text.matchAll(new RegExp(KERNEL_BANNER.source, 'gm'))];
  const last = banners.at(-1);
  if (!last) return null;
  const body = text.slice(last.index);
  const devices: DmesgDevice[] = [];
  const cpus: number[] = [];
  for (const line of body.split('\n')) {
    const m = ATTACH.exec(line);
    if (!m) continue;
    devices.push({ name: m[1]!, parent: m[2]!, detail: m[3]!.trim(), line });
    const cpu = /^cpu(\d+)$/.exec(m[1]!);
    if (cpu && m[2] === 'mainbus0') cpus.push(Number(cpu[1]));
  }
  return {
    versionLine: last[0],
    release: last[1]!,
    flavour: last[2] ?? '',
    config: last[3]!,
    devices,
    cpus,
  };
}

/** Network interfaces among the devices (`vio0`, `em1`): what a forwarding test needs to see. */
export function networkInterfaces(dmesg: Dmesg): DmesgDevice[] {
  return dmesg.devices.filter((d) => / address [0-9a-f]{2}(?::[0-9a-f]{2}){5}\b/.test(d.detail));
}

/** The CPU number in a matched ddb prompt, or null on a uniprocessor kernel (`ddb> `). */
export function promptCpu(prompt: RegExpExecArray | string): number | null {
  const m = typeof prompt === 'string' ? DDB_PROMPT.exec(prompt) : prompt;
  return m?.[1] !== undefined ? Number(m[1]) : null;
}

/** A boot loader line that starts the kernel: nothing answers at `boot>` after it. */
export function isBootCommand(line: string): boolean {
  return /^\s*(?:boot|b)(?:\s|$)/.test(line);
}

/**
 * Types boot loader commands (the playbook's `boot:` list), each after its
 * `boot>` prompt. `set tty com0` makes the loader print its banner and
 * prompt again on the serial line, which is the prompt the next command
 * waits for. The loader boots on its own a few seconds after a prompt with
 * no input, so the commands are typed as soon as each prompt appears.
 */
export async function typeBootCommands(
  console: ConsoleChannel,
  commands: string[],
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<void> {
  const early = commands.findIndex((c, i) => isBootCommand(c) && i < commands.length - 1);
  if (early >= 0) {
    throw new Error(`${console.vm}: boot command ${early + 1} ("${commands[early]}") starts the kernel, but ${commands.length - early - 1} more follow it`);
  }
  for (const cmd of commands) {
    await console.expect(BOOT_PROMPT, { timeoutMs: opts.timeoutMs, signal: opts.signal });
    await console.sendLine(cmd);
  }
}
