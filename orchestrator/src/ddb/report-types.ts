/**
 * What the crash parser (ddb/parser.ts) extracts from OpenBSD console text.
 * Offsets are indices into the exact string given to the parser, so the raw text behind
 * every report can always be cut out again (`text.slice(start, end)`).
 */

export const CRASH_KINDS = [
  'panic',
  'uvm_fault',
  'page-fault',
  'protection-fault',
  'trap',
  'assertion',
  'splassert',
  'pool-corruption',
  'witness-lor',
  'lock-error',
  'attempt-to-execute-user-address',
  'integer-divide',
  'ddb-entered',
  'unknown',
] as const;
export type CrashKind = (typeof CRASH_KINDS)[number];

export interface Frame {
  /** Function name as printed (`refcnt_rele`), or the bare address for unnamed frames (`0`). */
  function: string;
  /** Offset into the function (`0x78`), null when the line printed none or was cut. */
  offset: string | null;
  /** Arguments as printed (hex without 0x on amd64); null when the format prints no list (witness, `sym+off:`). */
  args: string[] | null;
  /** A bare address printed instead of `func+off`. */
  address?: string;
  /** Source location printed after the frame (syzbot's symbolized kernels, witness traces). */
  source?: string;
  /** Functions an already-symbolized trace reported as inlined into this frame. */
  inlined?: string[];
  /** The line was cut off (truncated transcript); function comes from the part that survived. */
  truncated?: boolean;
  /** The frame's text with ddb's 80-column wraps joined. */
  raw: string;
}

export interface Trace {
  /** CPU this trace belongs to; null for thread traces (`trace /t`) or when unknowable. */
  cpu: number | null;
  /** How the trace was produced. */
  source: 'auto' | 'command' | 'stack-dump' | 'witness';
  /** The ddb command that printed it, when one did. */
  command?: string;
  frames: Frame[];
  /** `--- syscall (number 21) ---`-style markers; `index` is the number of frames above the marker. */
  markers: { index: number; text: string }[];
  /** From `end trace frame: 0x…, count: N` (N may be negative). */
  endOfTrace?: { frame: string; count: number };
  /** The trace was still open when the transcript ended, or its last frame was cut. */
  truncated: boolean;
  start: number;
  end: number;
}

export interface ThreadRow {
  current: boolean;
  tid: number;
  pid: number;
  uid: number;
  prflags: string;
  pflags: string;
  cpu: number;
  /** The `K` after the CPU number: this CPU holds the kernel lock. */
  kernelLock: boolean;
  command: string;
}

export interface PsRow {
  current: boolean;
  pid: number;
  tid: number;
  ppid: number;
  uid: number;
  state: number;
  flags: string;
  pflags?: string;
  wait?: string;
  command: string;
}

export interface Disassembly {
  /** `refcnt_rele+0x78` or an address. */
  location: string;
  instruction: string;
  /** Where it was seen: an `x/i` command, the end of `show registers`, or a `Stopped at` line. */
  from: 'x' | 'registers' | 'stopped-at';
  cpu: number | null;
}

export interface WitnessLock {
  address: string;
  name: string;
  /** The lock's expression in parentheses, e.g. `&map->lock`. */
  description: string;
}

export interface WitnessInfo {
  first?: WitnessLock;
  second?: WitnessLock;
  /** `lock order "&ip->i_lock"(rrwlock) -> "&map->lock"(rwlock) first seen at:` lines, in order. */
  orders: { from: string; fromClass: string; to: string; toClass: string }[];
  /** Other witness lines (`lock order data w1 -> w2 missing`). */
  notes: string[];
}

export interface CrashReport {
  kind: CrashKind;
  /** The panic/fault text, wrapped lines re-joined; '' when the kernel printed none (ddb entered on purpose). */
  message: string;
  faultAddress: string | null;
  pc: string | null;
  /** The faulting CPU, null when the transcript does not say. */
  cpu: number | null;
  process: { pid: number; tid: number | null; command: string } | null;
  /** Every trace in order of appearance. */
  traces: Trace[];
  /** One trace per CPU (the first seen for it), in CPU order; thread traces are not included. */
  cpus: { cpu: number | null; frames: Frame[] }[];
  /** The trace the title is built from (the faulting CPU's first trace, or the witness trace). */
  faultingTrace: Trace | null;
  disassembly: Disassembly[];
  /** Registers of the faulting CPU (first `show registers` on it). */
  registers: Record<string, string>;
  /** Every `show registers` output, per CPU. */
  cpuRegisters: { cpu: number | null; values: Record<string, string> }[];
  threads: ThreadRow[];
  ps: PsRow[];
  /** `Stopped at` lines: kept for the reader, never used for titles (they name savectx or the IPI path). */
  stoppedAt: { location: string; instruction: string; cpu: number | null }[];
  witness: WitnessInfo | null;
  /** `show panic` answered "the kernel did not panic". */
  didNotPanic: boolean;
  /** ddb commands typed in this session, in order. */
  commands: { cpu: number | null; command: string }[];
  start: number;
  end: number;
  raw: string;
  corrupted: boolean;
  corruptedReasons: string[];
}
