/**
 * OpenBSD console text → crash reports.
 *
 * Works on raw console output (serial captures, mail excerpts, a ddb driver's log): zero or
 * more reports in order, each with its start/end offsets in the text and a `corrupted` flag
 * with reasons instead of exceptions. One pass over the lines, a bounded look-ahead for
 * ddb's line wrapping, so the cost is linear in the input.
 */
import { classifyCrashLine, classifyMessage, confirmsCrash, panicIndex, parseShowPanicLine, type CrashStart } from './parser-classify.ts';
import {
  DDB_WRAP_COLUMN,
  isInlineRepeat,
  isMarker,
  isStructuralLine,
  looksLikeFrameStart,
  mergeInlineRepeat,
  parseEndTrace,
  parseFrameLine,
  parseWitnessFrame,
} from './parser-frames.ts';
import { splitConsoleLines, type ConsoleLine } from './parser-lines.ts';
import type { CrashKind, CrashReport, Disassembly, Frame, PsRow, ThreadRow, Trace, WitnessInfo } from './report-types.ts';

/** Longer lines are console noise (spinners, binary garbage): only their head is examined. */
const MAX_EXAMINED = 4096;
const MAX_WRAP_JOINS = 6;
/** A panic message is a line or two; more is console noise glued on by the wrap rule. */
const MAX_MESSAGE = 2048;

type Context = 'pre' | 'auto' | 'trace' | 'show-panic' | 'registers' | 'ps' | 'x' | 'machine' | 'other';
/** Placeholder CPU for traces printed for "the CPU that crashed", resolved when the report is complete. */
const FAULTING = -1;

interface Builder {
  kind: CrashKind | null;
  message: string;
  faultAddress: string | null;
  pc: string | null;
  start: number;
  end: number;
  inDdb: boolean;
  context: Context;
  /** CPU of the last prompt; null for `ddb>`. */
  promptCpu: number | null;
  firstPromptCpu: number | null;
  sawPlainPrompt: boolean;
  machineCpu: number | null;
  /** CPU the next automatic trace belongs to. */
  autoCpu: number;
  threadTrace: boolean;
  showPanicCpu: number | null;
  showPanicMessage: string | null;
  didNotPanic: boolean;
  openTrace: Trace | null;
  traces: Trace[];
  regs: { cpu: number | null; values: Record<string, string>; complete: boolean } | null;
  cpuRegisters: { cpu: number | null; values: Record<string, string>; complete: boolean }[];
  disassembly: Disassembly[];
  threads: ThreadRow[];
  ps: PsRow[];
  table: 'threads' | 'ps' | null;
  psHasPflags: boolean;
  stoppedAt: { location: string; instruction: string; cpu: number | null }[];
  /** Location of the first `Stopped at` that was not the answer to `machine ddbcpu`. */
  entryStop: string | null;
  witness: WitnessInfo | null;
  commands: { cpu: number | null; command: string }[];
  corruptedReasons: string[];
}

function newBuilder(start: number): Builder {
  return {
    kind: null,
    message: '',
    faultAddress: null,
    pc: null,
    start,
    end: start,
    inDdb: false,
    context: 'pre',
    promptCpu: null,
    firstPromptCpu: null,
    sawPlainPrompt: false,
    machineCpu: null,
    autoCpu: FAULTING,
    threadTrace: false,
    showPanicCpu: null,
    showPanicMessage: null,
    didNotPanic: false,
    openTrace: null,
    traces: [],
    regs: null,
    cpuRegisters: [],
    disassembly: [],
    threads: [],
    ps: [],
    table: null,
    psHasPflags: false,
    stoppedAt: [],
    entryStop: null,
    witness: null,
    commands: [],
    corruptedReasons: [],
  };
}

const PROMPT_RE = /^ddb(?:\{(\d+)\})?>\s?(.*)$/;
const STOPPED_RE = /^Stopped at\s+(\S+?):?\s+(.*)$/;
const DISASM_RE = /^([A-Za-z_.$][\w.$]*(?:\+0x[0-9a-fA-F]+)?|0x[0-9a-fA-F]+):\s+(\S.*)$/;
const REGISTER_RE = /^([a-z][a-z0-9]{1,7})\s+(0x[0-9a-fA-F]+|-?\d+)(?:\s+(\S.*))?$/;
const REGISTER_NAME_ONLY_RE = /^([a-z][a-z0-9]{1,7})$/;
const THREADS_HEADER_RE = /^\s*TID\s+PID\s+UID\s+PRFLAGS\s+PFLAGS\s+CPU\s+COMMAND/;
const PS_HEADER_RE = /^\s*PID\s+TID\s+PPID\s+UID\s+S\s+/;
/** Output that means the machine left ddb and is going down or booting again. */
const SESSION_OVER_RE = /^(?:rebooting\.\.\.|syncing disks|The operating system has halted|dumping to dev|>> OpenBSD\/|Copyright \(c\) 1982)/;
/** A panic without ddb syncs disks first; a later stop (on another CPU, `Stopped at savectx`) still belongs to it. */
const SYNCING_RE = /^syncing disks/;
const WITNESS_LOCK_RE = /^\s*(1st|2nd)\s+(0x[0-9a-fA-F]+)\s+(\S+)\s+\((.*)\)\s*$/;
const WITNESS_ORDER_RE = /^lock order "(.*)"\((\w+)\) -> "(.*)"\((\w+)\) first seen at:/;

/** Parses console text into crash reports, in the order they appear. Never throws. */
export function parseConsole(text: string): CrashReport[] {
  const lines = splitConsoleLines(text);
  const reports: CrashReport[] = [];
  let b: Builder | null = null;

  const finish = (atEof: boolean): void => {
    if (b) reports.push(finalize(b, text, atEof));
    b = null;
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const t = examined(line.text);
    if (t.trim() === '') continue;

    // A crash announced by panic() or a trap.
    const start = crashStartAt(lines, i, t);
    if (start && !(b && (b.context === 'show-panic' || b.context === 'registers'))) {
      if (b && !b.inDdb && b.kind !== null && start.faultDetail && isFault(b.kind)) {
        mergeFaultDetail(b, start);
        b.end = line.end;
        continue;
      }
      // The panic() that follows a fault or splassert report describes the same event.
      const samePanic =
        (isFault(b?.kind ?? 'unknown') && /^trap type /.test(start.message)) ||
        (b?.kind === 'splassert' && start.kind === 'splassert');
      if (b && !b.inDdb && b.kind !== null && start.fromPanic && samePanic) {
        b.end = line.end;
        continue;
      }
      finish(false);
      const nb = newBuilder(line.start);
      b = nb;
      nb.kind = start.kind;
      nb.message = start.message.slice(0, MAX_MESSAGE);
      nb.faultAddress = start.faultAddress ?? null;
      nb.pc = start.pc ?? null;
      nb.end = line.end;
      if (start.kind === 'witness-lor') nb.witness = { orders: [], notes: [] };
      if (start.fromPanic) i = joinWrappedMessage(lines, i, nb);
      continue;
    }

    // `*cpu1: …` quoted without its `show panic` command.
    if (!b || b.context !== 'show-panic') {
      const sp = t.startsWith('*') ? parseShowPanicLine(t) : null;
      if (sp) {
        if (!b) b = newBuilder(line.start);
        if (b.showPanicMessage === null) {
          b.showPanicMessage = sp.message;
          b.showPanicCpu = sp.cpu;
        }
        b.end = line.end;
        continue;
      }
    }

    const prompt = PROMPT_RE.exec(t);
    if (prompt) {
      if (!b) b = newBuilder(line.start);
      handlePrompt(b, prompt[1], prompt[2]!.trim(), line);
      const cmd = prompt[2]!.trim();
      if (/^(?:c|cont|continue)$/.test(cmd) || /^boot\b/.test(cmd)) finish(false);
      continue;
    }

    const stopped = STOPPED_RE.exec(t);
    if (stopped) {
      if (!b) b = newBuilder(line.start);
      closeTrace(b, false);
      closeRegisters(b);
      b.inDdb = true;
      const cpu = b.machineCpu ?? (b.context === 'machine' ? b.promptCpu : null);
      b.stoppedAt.push({ location: stopped[1]!, instruction: stopped[2]!.trim(), cpu: cpu ?? null });
      if (b.machineCpu === null && b.entryStop === null) b.entryStop = stopped[1]!;
      b.autoCpu = cpu ?? FAULTING;
      b.threadTrace = false;
      b.machineCpu = null;
      b.context = 'auto';
      b.table = null;
      b.end = line.end;
      continue;
    }

    if (!b) {
      if (/^Starting stack trace/.test(t)) {
        b = newBuilder(line.start);
        openTrace(b, 'stack-dump', line.start);
        b.end = line.end;
      }
      continue;
    }

    if (SESSION_OVER_RE.test(t) && !(SYNCING_RE.test(t) && !b.inDdb)) {
      finish(false);
      continue;
    }

    i = handleSessionLine(b, lines, i, t);
  }
  finish(true);
  return reports;
}

function examined(s: string): string {
  // ddb's pager prompt; answering it erases the prompt with CR + spaces on the same line.
  if (s.startsWith('--db_more--')) s = s.replace(/^--db_more--\s*/, '');
  return s.length > MAX_EXAMINED ? s.slice(0, MAX_EXAMINED) : s;
}

function isFault(kind: CrashKind): boolean {
  return (
    kind === 'uvm_fault' ||
    kind === 'page-fault' ||
    kind === 'protection-fault' ||
    kind === 'integer-divide' ||
    kind === 'trap' ||
    kind === 'attempt-to-execute-user-address'
  );
}

function crashStartAt(lines: ConsoleLine[], i: number, t: string): CrashStart | null {
  const direct = classifyCrashLine(t);
  if (direct) return direct;
  let idx = panicIndex(t, false);
  if (idx < 0 && t.includes('panic: ')) idx = panicIndex(t, nextLinesConfirm(lines, i));
  if (idx < 0) return null;
  const message = t.slice(idx + 'panic: '.length).trim();
  const c = classifyMessage(message);
  const start: CrashStart = { kind: c.kind, message, fromPanic: true, faultDetail: false };
  if (c.faultAddress !== undefined) start.faultAddress = c.faultAddress;
  return start;
}

function nextLinesConfirm(lines: ConsoleLine[], i: number): boolean {
  for (let j = i + 1, seen = 0; j < lines.length && seen < 3; j++) {
    const t = lines[j]!.text;
    if (t.trim() === '') continue;
    seen++;
    if (confirmsCrash(t)) return true;
  }
  return false;
}

function mergeFaultDetail(b: Builder, start: CrashStart): void {
  if (b.kind === 'trap' && start.kind !== 'trap') b.kind = start.kind;
  if (start.pc && !b.pc) b.pc = start.pc;
  if (start.faultAddress && !b.faultAddress) b.faultAddress = start.faultAddress;
}

/** panic() messages are wrapped at 80 columns like other output, or continued with indentation. */
function joinWrappedMessage(lines: ConsoleLine[], i: number, b: Builder): number {
  let current = lines[i]!.text;
  for (let joins = 0; joins < MAX_WRAP_JOINS && i + 1 < lines.length; joins++) {
    const next = lines[i + 1]!.text;
    if (next.trim() === '' || isStructuralLine(next) || confirmsCrash(next)) break;
    const wrapped = current.length >= DDB_WRAP_COLUMN;
    const indented = /^\s+\S/.test(next) && !WITNESS_LOCK_RE.test(next);
    if (!wrapped && !indented) break;
    if (b.message.length >= MAX_MESSAGE) break;
    b.message = (b.message + examined(next).trimEnd()).slice(0, MAX_MESSAGE);
    b.end = lines[i + 1]!.end;
    current = next;
    i++;
  }
  return i;
}

function handlePrompt(b: Builder, cpuText: string | undefined, cmd: string, line: ConsoleLine): void {
  closeTrace(b, false);
  closeRegisters(b);
  b.inDdb = true;
  b.table = null;
  const cpu = cpuText === undefined ? null : Number(cpuText);
  if (cpu === null) b.sawPlainPrompt = true;
  else if (b.firstPromptCpu === null) b.firstPromptCpu = cpu;
  b.promptCpu = cpu;
  b.end = line.end;
  if (cmd === '') {
    b.context = 'other';
    return;
  }
  b.commands.push({ cpu, command: cmd });
  b.threadTrace = false;
  if (/^(?:trace|bt|where)\b/.test(cmd)) {
    b.context = 'trace';
    b.threadTrace = /\/[a-z]*[tp]/.test(cmd);
  } else if (/^show\s+panic\b/.test(cmd)) b.context = 'show-panic';
  else if (/^show\s+reg/.test(cmd)) {
    b.context = 'registers';
    b.regs = { cpu, values: {}, complete: false };
  } else if (/^ps\b/.test(cmd)) b.context = 'ps';
  else if (/^x\b/.test(cmd) || /^x\//.test(cmd)) b.context = 'x';
  else if (/^machine\s+ddbcpu\s+(\d+)/.test(cmd)) {
    b.context = 'machine';
    b.machineCpu = Number(/(\d+)/.exec(cmd.slice('machine'.length))![1]);
  } else b.context = 'other';
}

function handleSessionLine(b: Builder, lines: ConsoleLine[], i: number, t: string): number {
  const line = lines[i]!;

  if (b.witness && (b.kind === 'witness-lor' || b.kind === 'lock-error') && !b.inDdb) {
    if (handleWitnessLine(b, t, line)) return i;
  }

  if (b.context === 'show-panic') {
    const sp = parseShowPanicLine(t);
    if (sp) {
      if (sp.current || b.showPanicMessage === null) {
        b.showPanicMessage = sp.message;
        b.showPanicCpu = sp.cpu;
      }
      b.end = line.end;
      return i;
    }
    if (/^the kernel did not panic/.test(t)) {
      b.didNotPanic = true;
      b.end = line.end;
      return i;
    }
    if (b.showPanicMessage === null) b.showPanicMessage = t.trim();
    b.end = line.end;
    return i;
  }

  if (b.context === 'registers' && b.regs) {
    const r = REGISTER_RE.exec(t.trim());
    if (r) {
      b.regs.values[r[1]!] = r[2]!;
      b.end = line.end;
      return i;
    }
    if (REGISTER_NAME_ONLY_RE.test(t.trim())) {
      addReason(b, `show registers output cut off at "${t.trim()}"`);
      b.end = line.end;
      return i;
    }
    const d = DISASM_RE.exec(t);
    if (d) {
      b.disassembly.push({ location: d[1]!, instruction: d[2]!.trim(), from: 'registers', cpu: b.regs.cpu });
      b.regs.complete = true;
      closeRegisters(b);
      b.end = line.end;
      return i;
    }
  }

  if (THREADS_HEADER_RE.test(t)) {
    b.table = 'threads';
    b.end = line.end;
    return i;
  }
  if (PS_HEADER_RE.test(t)) {
    b.table = 'ps';
    b.psHasPflags = /\bPFLAGS\b/.test(t) && /\b(?:PRFLAGS|PRLAGS)\b/.test(t);
    b.end = line.end;
    return i;
  }
  if (b.table === 'threads') {
    const row = parseThreadRow(t);
    if (row) {
      b.threads.push(row);
      b.end = line.end;
      return i;
    }
    b.table = null;
  }
  if (b.table === 'ps' || (t.startsWith('*') && b.context !== 'trace')) {
    const row = parsePsRow(t, b.psHasPflags);
    if (row) {
      b.ps.push(row);
      b.end = line.end;
      return i;
    }
    b.table = null;
  }

  if (b.context === 'x') {
    const d = DISASM_RE.exec(t);
    if (d) {
      b.disassembly.push({ location: d[1]!, instruction: d[2]!.trim(), from: 'x', cpu: b.promptCpu });
      b.end = line.end;
      return i;
    }
  }

  if (/^Starting stack trace/.test(t)) {
    closeTrace(b, false);
    openTrace(b, 'stack-dump', line.start);
    b.end = line.end;
    return i;
  }
  if (/^End of stack trace/.test(t)) {
    closeTrace(b, false);
    b.end = line.end;
    return i;
  }

  const endTrace = parseEndTrace(t);
  if (endTrace) {
    if (b.openTrace) b.openTrace.endOfTrace = endTrace;
    closeTrace(b, false);
    b.end = line.end;
    return i;
  }
  if (/^end of kernel\s*$/.test(t)) {
    b.end = line.end;
    return i;
  }
  if (isMarker(t.trim())) {
    const tr = b.openTrace ?? openTrace(b, traceSource(b), line.start);
    tr.markers.push({ index: tr.frames.length, text: t.trim() });
    tr.end = line.end;
    b.end = line.end;
    return i;
  }

  const witnessFrame = /^#\d/.test(t) ? parseWitnessFrame(t.trim()) : null;
  if (witnessFrame) {
    const open = b.openTrace;
    if (!open || open.source !== 'witness' || (witnessFrame.index === 0 && open.frames.length > 0)) {
      closeTrace(b, false);
      openTrace(b, 'witness', line.start);
    }
    appendFrame(b.openTrace!, witnessFrame.frame, line.end);
    b.end = line.end;
    return i;
  }

  if (looksLikeFrameStart(t) || (b.openTrace && /^[A-Za-z_.$][\w.$]*\+0x[0-9a-fA-F]+:$/.test(t))) {
    let joined = t;
    let last = line;
    for (let joins = 0; joins < MAX_WRAP_JOINS && last.text.length >= DDB_WRAP_COLUMN && i + 1 < lines.length; joins++) {
      const next = lines[i + 1]!;
      if (next.text.trim() === '' || isStructuralLine(next.text)) break;
      joined += examined(next.text);
      last = next;
      i++;
    }
    const frame = parseFrameLine(joined.trimEnd());
    if (frame) {
      const tr = b.openTrace ?? openTrace(b, traceSource(b), line.start);
      appendFrame(tr, frame, last.end);
      b.end = last.end;
    }
    return i;
  }

  // Anything else inside a report is interleaved console output: kept in raw, not parsed.
  return i;
}

function handleWitnessLine(b: Builder, t: string, line: ConsoleLine): boolean {
  const w = b.witness!;
  const lock = WITNESS_LOCK_RE.exec(t);
  if (lock) {
    const entry = { address: lock[2]!, name: lock[3]!, description: lock[4]! };
    if (lock[1] === '1st') w.first = entry;
    else w.second = entry;
    b.message += `${b.message.endsWith('reversal') ? ': ' : ', '}${lock[1]} ${entry.address} ${entry.name} (${entry.description})`;
    b.end = line.end;
    return true;
  }
  const order = WITNESS_ORDER_RE.exec(t);
  if (order) {
    w.orders.push({ from: order[1]!, fromClass: order[2]!, to: order[3]!, toClass: order[4]! });
    closeTrace(b, false);
    openTrace(b, 'witness', line.start);
    b.end = line.end;
    return true;
  }
  if (/^lock order /.test(t)) {
    w.notes.push(t.trim());
    closeTrace(b, false);
    b.end = line.end;
    return true;
  }
  return false;
}

function traceSource(b: Builder): Trace['source'] {
  if (b.context === 'trace') return 'command';
  return 'auto';
}

function openTrace(b: Builder, source: Trace['source'], start: number): Trace {
  let cpu: number | null;
  if (source === 'witness') cpu = null;
  else if (source === 'command') cpu = b.threadTrace ? null : b.promptCpu;
  else if (source === 'stack-dump') cpu = FAULTING;
  else cpu = b.inDdb && b.context !== 'auto' && b.context !== 'pre' ? b.promptCpu : b.autoCpu;
  const trace: Trace = { cpu, source, frames: [], markers: [], truncated: false, start, end: start };
  if (source === 'command') {
    const cmd = b.commands[b.commands.length - 1];
    if (cmd) trace.command = cmd.command;
  }
  b.traces.push(trace);
  b.openTrace = trace;
  return trace;
}

function appendFrame(trace: Trace, frame: Frame, end: number): void {
  const prev = trace.frames[trace.frames.length - 1];
  if (isInlineRepeat(prev, frame)) mergeInlineRepeat(prev!, frame);
  else trace.frames.push(frame);
  if (frame.truncated) trace.truncated = true;
  trace.end = end;
}

function closeTrace(b: Builder, atEof: boolean): void {
  const tr = b.openTrace;
  if (!tr) return;
  if (atEof && tr.source !== 'witness' && tr.endOfTrace === undefined) tr.truncated = true;
  b.openTrace = null;
}

function closeRegisters(b: Builder): void {
  if (!b.regs) return;
  if (Object.keys(b.regs.values).length > 0) b.cpuRegisters.push({ cpu: b.regs.cpu, values: b.regs.values, complete: b.regs.complete });
  b.regs = null;
}

function addReason(b: Builder, reason: string): void {
  if (!b.corruptedReasons.includes(reason)) b.corruptedReasons.push(reason);
}

function parseThreadRow(t: string): ThreadRow | null {
  const current = t.startsWith('*');
  const tok = (current ? t.slice(1) : t).trim().split(/\s+/);
  if (tok.length < 7) return null;
  const [tid, pid, uid, prflags, pflags, cpu, ...rest] = tok as [string, string, string, string, string, string, ...string[]];
  if (!isInt(tid) || !isInt(pid) || !isInt(uid) || !isFlags(prflags) || !isFlags(pflags)) return null;
  const cm = /^(\d+)(K?)$/.exec(cpu);
  if (!cm) return null;
  return {
    current,
    tid: Number(tid),
    pid: Number(pid),
    uid: Number(uid),
    prflags,
    pflags,
    cpu: Number(cm[1]),
    kernelLock: cm[2] === 'K',
    command: rest.join(' '),
  };
}

function parsePsRow(t: string, hasPflags: boolean): PsRow | null {
  const current = t.startsWith('*');
  const tok = (current ? t.slice(1) : t).trim().split(/\s+/);
  if (tok.length < 7) return null;
  const [pid, tid, ppid, uid, state, flags] = tok as [string, string, string, string, string, string];
  if (!isInt(pid) || !isInt(tid) || !/^-?\d+$/.test(ppid) || !isInt(uid) || !isInt(state) || !isFlags(flags)) return null;
  let rest = tok.slice(6);
  const row: PsRow = { current, pid: Number(pid), tid: Number(tid), ppid: Number(ppid), uid: Number(uid), state: Number(state), flags, command: '' };
  if (hasPflags && rest.length >= 2 && isFlags(rest[0]!)) {
    row.pflags = rest[0]!;
    rest = rest.slice(1);
  }
  if (rest.length === 0 || rest.length > 2) return null;
  if (rest.length === 2) row.wait = rest[0]!;
  row.command = rest[rest.length - 1]!;
  return row;
}

function isInt(s: string): boolean {
  return /^\d+$/.test(s);
}

function isFlags(s: string): boolean {
  return /^(?:0x[0-9a-fA-F]+|0)$/.test(s);
}

function finalize(b: Builder, text: string, atEof: boolean): CrashReport {
  if (b.openTrace && atEof) addReasonForOpenTrace(b);
  closeTrace(b, atEof);
  if (b.regs && !b.regs.complete && atEof) addReason(b, 'transcript ends inside show registers output');
  closeRegisters(b);

  const threadCurrent = b.threads.find((r) => r.current);
  const cpu = b.showPanicCpu ?? threadCurrent?.cpu ?? b.firstPromptCpu ?? null;

  let kind = b.kind;
  let message = b.message;
  let faultAddress = b.faultAddress;
  if (kind === null) {
    if (b.showPanicMessage !== null) {
      const c = classifyMessage(b.showPanicMessage);
      kind = c.kind;
      message = b.showPanicMessage;
      faultAddress = c.faultAddress ?? null;
    } else if (b.didNotPanic || /^(?:db_enter|Debugger)\b/.test(b.entryStop ?? '')) {
      kind = 'ddb-entered';
    } else kind = 'unknown';
  }

  const onlyPlainPrompts = b.sawPlainPrompt && b.firstPromptCpu === null;
  for (const tr of b.traces) {
    if (tr.cpu === FAULTING) tr.cpu = cpu;
    else if (tr.cpu === null && tr.source !== 'witness' && onlyPlainPrompts && !(tr.command && /\/[a-z]*[tp]/.test(tr.command))) tr.cpu = cpu;
  }
  for (const r of b.cpuRegisters) if (r.cpu === null && onlyPlainPrompts) r.cpu = cpu;
  for (const d of b.disassembly) if (d.cpu === null && onlyPlainPrompts) d.cpu = cpu;
  for (const s of b.stoppedAt) if (s.cpu === null) s.cpu = cpu;

  const cpuTraces = b.traces.filter((tr) => tr.source !== 'witness' && !(tr.command && /\/[a-z]*[tp]/.test(tr.command)));
  let faultingTrace: Trace | null = null;
  if (kind === 'witness-lor' || (kind === 'lock-error' && b.traces.some((tr) => tr.source === 'witness'))) {
    faultingTrace = b.traces.find((tr) => tr.source === 'witness') ?? null;
  }
  faultingTrace ??= cpuTraces.find((tr) => tr.cpu === cpu && tr.frames.length > 0) ?? cpuTraces.find((tr) => tr.frames.length > 0) ?? null;

  const seen = new Set<number | null>();
  const cpus: CrashReport['cpus'] = [];
  for (const tr of cpuTraces) {
    if (tr.frames.length === 0 || seen.has(tr.cpu)) continue;
    seen.add(tr.cpu);
    cpus.push({ cpu: tr.cpu, frames: tr.frames });
  }
  cpus.sort((a, c) => (a.cpu ?? -1) - (c.cpu ?? -1));

  const regSet = b.cpuRegisters.find((r) => r.cpu === cpu) ?? b.cpuRegisters[0];
  const registers = regSet?.values ?? {};
  // A register dump cut off mid-value would give a wrong pc.
  const pc = b.pc ?? (regSet?.complete ? (registers.rip ?? registers.eip ?? registers.pc ?? null) : null);

  const current = threadCurrent
    ? { pid: threadCurrent.pid, tid: threadCurrent.tid, command: threadCurrent.command }
    : (() => {
        const row = b.ps.find((r) => r.current);
        return row ? { pid: row.pid, tid: row.tid, command: row.command } : null;
      })();

  if (!faultingTrace) addReason(b, 'no stack trace in the transcript');
  else if (faultingTrace.truncated) addReason(b, 'stack trace cut off');
  if (b.traces.some((tr) => tr !== faultingTrace && tr.truncated)) addReason(b, 'a stack trace is cut off');

  return {
    kind,
    message,
    faultAddress,
    pc,
    cpu,
    process: current,
    traces: b.traces,
    cpus,
    faultingTrace,
    disassembly: b.disassembly,
    registers,
    cpuRegisters: b.cpuRegisters.map((r) => ({ cpu: r.cpu, values: r.values })),
    threads: b.threads,
    ps: b.ps,
    stoppedAt: b.stoppedAt,
    witness: b.witness,
    didNotPanic: b.didNotPanic,
    commands: b.commands,
    start: b.start,
    end: b.end,
    raw: text.slice(b.start, b.end),
    corrupted: b.corruptedReasons.length > 0,
    corruptedReasons: b.corruptedReasons,
  };
}

function addReasonForOpenTrace(b: Builder): void {
  const tr = b.openTrace!;
  if (tr.source !== 'witness' && tr.endOfTrace === undefined) addReason(b, 'transcript ends inside a stack trace');
}
