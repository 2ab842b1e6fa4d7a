/**
 * Recognises the console lines that start or describe a crash and maps a crash message
 * to its kind. Pure string work, used by parser.ts.
 */
import type { CrashKind } from './report-types.ts';

export interface CrashStart {
  kind: CrashKind;
  message: string;
  /** The panic() line can wrap onto the following line. */
  fromPanic: boolean;
  /** A trap description that belongs to a fault announced by the lines before it. */
  faultDetail: boolean;
  faultAddress?: string;
  pc?: string;
  cpu?: number;
}

const TRAP_NAMES: [RegExp, CrashKind][] = [
  [/^page fault/, 'page-fault'],
  [/^protection fault/, 'protection-fault'],
  [/^integer divide/, 'integer-divide'],
];

function trapKind(name: string): CrashKind {
  for (const [re, kind] of TRAP_NAMES) if (re.test(name)) return kind;
  return 'trap';
}

const ASSERTION_RE = /^kernel diagnostic assertion "(.*)" failed/;
const LOCK_ERROR_RE =
  /locking against myself|lock (?:not held|not locked|already held)|not (?:locked|held|owned)|(?:^|\s)(?:mtx|rw|rrw|mp|kernel_lock|__mp_lock)\w*: .*(?:held|owned|locked|recursion)/;
const UVM_FAULT_RE = /^uvm_fault\(([^,()]*),\s*([^,()]*)(?:,[^()]*)?\)\s*->\s*(\w+)/;
const USER_ADDRESS_RE = /^attempt to execute user address (\S+) in supervisor mode/;

/** The kind a panic (or `show panic`) message announces. */
export function classifyMessage(message: string): { kind: CrashKind; faultAddress?: string } {
  if (ASSERTION_RE.test(message)) return { kind: 'assertion' };
  if (/^spl assertion failure in /.test(message) || /^splassert: /.test(message)) return { kind: 'splassert' };
  if (/^pool_\w+(?:\([^)]*\))?: /.test(message)) return { kind: 'pool-corruption' };
  const uvm = UVM_FAULT_RE.exec(message);
  if (uvm) return { kind: 'uvm_fault', faultAddress: uvm[2]!.trim() };
  const user = USER_ADDRESS_RE.exec(message);
  if (user) return { kind: 'attempt-to-execute-user-address', faultAddress: user[1]! };
  if (/^trap type \d+/.test(message)) return { kind: 'trap' };
  if (LOCK_ERROR_RE.test(message)) return { kind: 'lock-error' };
  return { kind: 'panic' };
}

const PANIC_TOKEN = 'panic: ';

/**
 * Where `panic: ` starts in a line, or -1. Interleaved console output can put text in
 * front of it (`login: panic: …`, `load: 7.95  cmd: llpanic: …`); `confirmed` says whether
 * the following lines show ddb or the kernel's panic path, which is required then.
 */
export function panicIndex(line: string, confirmed: boolean): number {
  const idx = line.indexOf(PANIC_TOKEN);
  if (idx < 0) return -1;
  if (idx === 0) return 0;
  if (/(?:^|\s)login:\s*$/.test(line.slice(Math.max(0, idx - 16), idx))) return idx;
  return confirmed ? idx : -1;
}

/** Lines the kernel prints right after panic()/a fatal trap. */
export function confirmsCrash(line: string): boolean {
  return /^(?:Stopped at|Starting stack trace|syncing disks|    TID\s+PID|dumping to dev|rebooting)/.test(line);
}

/** Crash-start lines other than `panic:` (which needs panicIndex). */
export function classifyCrashLine(line: string): CrashStart | null {
  let m = UVM_FAULT_RE.exec(line);
  if (m) return { kind: 'uvm_fault', message: line.trim(), fromPanic: false, faultDetail: false, faultAddress: m[2]!.trim() };
  m = /^kernel: (.+?) trap, code=(\S+)/.exec(line);
  if (m) return { kind: trapKind(m[1]!), message: line.slice('kernel: '.length).trim(), fromPanic: false, faultDetail: true };
  m = /^fatal (.+?) in (?:supervisor|user) mode\s*$/.exec(line);
  if (m) return { kind: trapKind(m[1]!), message: line.trim(), fromPanic: false, faultDetail: true };
  m = /^trap type (\d+) code (\S+) rip (\S+)(?: .*? cr2 (\S+))?/.exec(line);
  if (m) {
    const start: CrashStart = { kind: 'trap', message: line.trim(), fromPanic: false, faultDetail: true, pc: withHex(m[3]!) };
    if (m[4] !== undefined) start.faultAddress = withHex(m[4]);
    return start;
  }
  if (/^(?:witness: )?lock order reversal:?\s*$/.test(line)) {
    return { kind: 'witness-lor', message: 'lock order reversal', fromPanic: false, faultDetail: false };
  }
  m = /^witness: (.+)$/.exec(line);
  if (m) return { kind: 'lock-error', message: m[1]!.trim(), fromPanic: false, faultDetail: false };
  m = /^splassert: (\S+): want (\d+) have (\d+)/.exec(line);
  if (m) return { kind: 'splassert', message: line.trim(), fromPanic: false, faultDetail: false };
  return null;
}

function withHex(v: string): string {
  return v.startsWith('0x') ? v : '0x' + v;
}

/** `*cpu1: uvm_fault(…) -> e` — the answer of `show panic`, also quoted on its own in mail. */
export function parseShowPanicLine(line: string): { current: boolean; cpu: number; message: string } | null {
  const m = /^([* ]?)cpu(\d+): (.*)$/.exec(line);
  if (!m) return null;
  return { current: m[1] === '*', cpu: Number(m[2]), message: m[3]!.trim() };
}
