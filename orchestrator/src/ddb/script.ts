/**
 * The ddb script: which commands the driver types, and the pure helpers that
 * fill in `{pc}` and `{cpu}` from what ddb has already said.
 */

export type DdbFinish = 'reboot' | 'dump' | 'stay';

export interface DdbScript {
  /** Typed first, to turn off the pager and the 80-column wrap. */
  setup: string[];
  /** Run on the CPU that entered ddb. `{pc}` is the faulting PC (or `$rip`). */
  commands: string[];
  /** Run after `machine ddbcpu N` on every other CPU that ddb stopped; `{cpu}` is N. Empty: stay on one CPU. */
  perCpu: string[];
  /** `show all locks` (WITNESS kernels only): 'auto' runs it when the console mentions witness. */
  witness: boolean | 'auto';
  /** What ends the session: `boot reboot`, `boot dump`, or leave the guest in ddb. */
  finish: DdbFinish;
  /** The register `{pc}` falls back to: `$rip` on amd64, `$eip` on i386. */
  pcRegister: string;
}

export const DEFAULT_DDB_SCRIPT: DdbScript = {
  setup: ['set $lines = 0', 'set $maxwidth = 0'],
  commands: ['show panic', 'trace', 'show registers', 'x/i {pc}', 'ps'],
  perCpu: ['trace'],
  witness: 'auto',
  finish: 'reboot',
  pcRegister: '$rip',
};

/** The playbook's form: a flat list (split at `machine ddbcpu {cpu}`) or the fields above. */
export type DdbScriptInput = string[] | Partial<DdbScript>;

const CPU_SWITCH = /^machine\s+ddbcpu\s+\{cpu\}$/;

/**
 * A flat list runs top to bottom on the first CPU; a `machine ddbcpu {cpu}`
 * line starts the block repeated for every other CPU.
 */
export function resolveDdbScript(input: DdbScriptInput | undefined, where = 'ddb script'): DdbScript {
  if (input === undefined) return { ...DEFAULT_DDB_SCRIPT };
  if (Array.isArray(input)) {
    input.forEach((c, i) => checkCommand(c, `${where}[${i}]`));
    const split = input.findIndex((c) => CPU_SWITCH.test(c.trim()));
    const commands = split < 0 ? input : input.slice(0, split);
    const perCpu = split < 0 ? [] : input.slice(split + 1);
    commands.forEach((c, i) => {
      if (c.includes('{cpu}')) throw new Error(`${where}[${i}]: "{cpu}" is only known after "machine ddbcpu {cpu}": ${JSON.stringify(c)}`);
    });
    return { ...DEFAULT_DDB_SCRIPT, commands: commands.map((c) => c.trim()), perCpu: perCpu.map((c) => c.trim()) };
  }
  const script = { ...DEFAULT_DDB_SCRIPT, ...input };
  for (const key of ['setup', 'commands', 'perCpu'] as const) {
    if (!Array.isArray(script[key])) throw new Error(`${where}.${key}: expected a list of commands`);
    script[key].forEach((c, i) => checkCommand(c, `${where}.${key}[${i}]`));
  }
  if (!['reboot', 'dump', 'stay'].includes(script.finish)) {
    throw new Error(`${where}.finish: expected reboot, dump or stay, got ${JSON.stringify(script.finish)}`);
  }
  return script;
}

function checkCommand(c: unknown, where: string): void {
  if (typeof c !== 'string' || c.trim() === '') throw new Error(`${where}: expected a ddb command, got ${JSON.stringify(c)}`);
  // An empty line repeats ddb's last command; a control character would be taken as line editing.
  if (/[\x00-\x1f\x7f]/.test(c)) throw new Error(`${where}: control characters are not allowed in a ddb command: ${JSON.stringify(c)}`);
  const unknown = [...c.matchAll(/\{(\w*)\}/g)].map((m) => m[1]).filter((n) => n !== 'cpu' && n !== 'pc');
  if (unknown.length) throw new Error(`${where}: unknown placeholder {${unknown[0]}} in ${JSON.stringify(c)} (known: {cpu}, {pc})`);
}

export function expandCommand(command: string, values: { cpu?: number; pc: string }): string {
  return command.replace(/\{(cpu|pc)\}/g, (_, name: string) => (name === 'cpu' ? String(values.cpu ?? '') : values.pc));
}

/**
 * Joins lines that ddb wrapped at its width: with the default `$maxwidth` of
 * 80, a line breaks after 79 visible characters, mid-word.
 */
export function unwrapDdbLines(text: string, width = 80): string {
  const out: string[] = [];
  let carry = '';
  for (const line of text.split('\n')) {
    const joined = carry + line;
    if (line.length === width - 1) carry = joined;
    else {
      out.push(joined);
      carry = '';
    }
  }
  if (carry) out.push(carry);
  return out.join('\n');
}

const FRAME = /^(\S+?)\(.*\) at (\S+)$/;
const TRAP_FRAME = /^(?:X?alltraps\w*|calltrap|Xtrap\w*)$/;
const DEBUGGER_ENTRY = /^(?:db_enter|Debugger|x86_ipi_db|db_ktrap)\+/;

/**
 * Where to point `x/i`: the frame a trap interrupted (the frame after
 * `alltraps*`/`calltrap` or a `--- trap` line in the trace), else the
 * `Stopped at` location unless that is ddb's own entry point, else the PC
 * register.
 */
export function faultPc(evidence: { trace?: string; stoppedAt?: string }, pcRegister = '$rip'): string {
  if (evidence.trace) {
    const lines = unwrapDdbLines(evidence.trace)
      .split('\n')
      .map((l) => l.trim());
    for (let i = 0; i < lines.length - 1; i++) {
      const f = FRAME.exec(lines[i]!);
      const isTrap = (f && TRAP_FRAME.test(f[1]!)) || /^--- trap\b/.test(lines[i]!);
      if (!isTrap) continue;
      const next = FRAME.exec(lines[i + 1]!);
      if (next) return next[2]!;
    }
  }
  const loc = evidence.stoppedAt ? /Stopped at\s+(\S+?):?(?:\s|$)/.exec(evidence.stoppedAt)?.[1] : undefined;
  if (loc && !DEBUGGER_ENTRY.test(loc)) return loc;
  return pcRegister;
}

export interface CpuState {
  cpu: number;
  /** The CPU ddb runs on (marked `*`). */
  current: boolean;
  /** `ddb`, `stopped`, `stopping`, `running`, `entering ddb`, … */
  state: string;
}

/**
 * `machine cpuinfo` (arch/amd64/amd64/db_interface.c: `"%c%4d: "` then the
 * state word). Only `stopped` CPUs can be switched to: `machine ddbcpu N`
 * on a CPU that never stopped (not started yet, or wedged) never returns.
 */
export function parseCpuinfo(output: string): CpuState[] {
  const cpus: CpuState[] = [];
  for (const line of output.split('\n')) {
    const m = /^([ *])\s*(\d+): (.+?)\s*$/.exec(line);
    if (m) cpus.push({ cpu: Number(m[2]), current: m[1] === '*', state: m[3]! });
  }
  return cpus;
}

/** CPUs named in `show panic` (ddb/db_command.c: `%scpu%d: %s`, prefix "*" for the panicking CPU, else " "). */
export function panicCpus(showPanic: string): number[] {
  return [...showPanic.matchAll(/^[* ]?cpu(\d+): /gm)].map((m) => Number(m[1]));
}
