/**
 * Recognises single lines of ddb output: stack frames (amd64, i386, sparc, witness),
 * trace markers and terminators, and ddb's 80-column line wrapping.
 */
import type { Frame } from './report-types.ts';

/** ddb breaks output at its max width (80): the broken line holds 79 characters. */
export const DDB_WRAP_COLUMN = 79;

const NAME = String.raw`[A-Za-z_.$][\w.$]*`;
/** `name(args) at loc[ source]` — args may be empty (OpenBSD 6.1) or cut off. */
const FRAME_RE = new RegExp(String.raw`^(${NAME}|[0-9a-fA-F]+)\(([^()]*)\)\s+at\s+(\S+)(?:\s+(\S.*))?$`);
/** Start of a frame line whose remainder was cut or wrapped: `pf_test(2,1f4ad,e28cb7e`. */
const FRAME_START_RE = new RegExp(String.raw`^(${NAME}|[0-9a-fA-F]+)\(`);
/** Witness: `#3  uvm_fault+0x102 sys/uvm/uvm_fault.c:602` */
const WITNESS_FRAME_RE = new RegExp(String.raw`^#(\d+)\s+(${NAME})(?:\+(0x[0-9a-fA-F]+))?(?:\s+(\S.*))?$`);
/** Last line of an old-style trace: the pc where unwinding stopped, `idle_loop+0x21:`. */
const PC_LINE_RE = new RegExp(String.raw`^(${NAME})\+(0x[0-9a-fA-F]+):$`);
const LOCATION_RE = new RegExp(String.raw`^(${NAME})\+(0x[0-9a-fA-F]+)$`);
const MARKER_RE = /^--- (?:syscall|interrupt|trap)\b.*---$/;
const END_TRACE_RE = /^end trace frame:\s*(0x[0-9a-fA-F]+),\s*count:\s*(-?\d+)/;

export function isMarker(line: string): boolean {
  return MARKER_RE.test(line);
}

export function parseEndTrace(line: string): { frame: string; count: number } | null {
  const m = END_TRACE_RE.exec(line);
  return m ? { frame: m[1]!, count: Number(m[2]) } : null;
}

export function looksLikeFrameStart(line: string): boolean {
  return FRAME_START_RE.test(line) && !line.startsWith('#');
}

/** A line that begins a new structure, so it can never be the tail of a wrapped line. */
export function isStructuralLine(line: string): boolean {
  return (
    looksLikeFrameStart(line) ||
    isMarker(line) ||
    END_TRACE_RE.test(line) ||
    line.startsWith('end of kernel') ||
    line.startsWith('Stopped at') ||
    /^ddb(?:\{\d+\})?>/.test(line)
  );
}

/** Parses one (already unwrapped) ddb frame line. */
export function parseFrameLine(line: string): Frame | null {
  const m = FRAME_RE.exec(line);
  if (m) {
    const [, name, argText, loc, rest] = m as unknown as [string, string, string, string, string | undefined];
    const args = argText === '' ? [] : argText.split(',');
    const frame: Frame = { function: name, offset: null, args, raw: line };
    const lm = LOCATION_RE.exec(loc);
    if (lm) {
      frame.function = lm[1]!;
      frame.offset = lm[2]!;
    } else if (loc !== name) {
      // `at r`: the location was cut; the name before the argument list survived.
      if (/^[0-9a-fA-Fx]+$/.test(loc) && /^[0-9a-fA-F]+$/.test(name)) frame.address = loc;
      else frame.truncated = true;
    } else if (/^(?:0x)?[0-9a-fA-F]+$/.test(loc)) {
      frame.address = loc;
    }
    if (rest !== undefined) addSource(frame, rest);
    return frame;
  }
  const pc = PC_LINE_RE.exec(line);
  if (pc) return { function: pc[1]!, offset: pc[2]!, args: null, raw: line };
  const start = FRAME_START_RE.exec(line);
  if (start && !line.includes(' at ')) {
    const argText = line.slice(start[0].length);
    return { function: start[1]!, offset: null, args: argText === '' ? [] : argText.split(','), truncated: true, raw: line };
  }
  return null;
}

/** syzbot prints `file:line` and, for inlined code, `inner file:line [inline]` after a frame. */
function addSource(frame: Frame, rest: string): void {
  const inline = /^(\S+)\s+(\S+:\d+)\s+\[inline\]$/.exec(rest);
  if (inline) {
    frame.inlined = [inline[1]!];
    frame.source = inline[2]!;
    return;
  }
  frame.source = rest;
}

export function parseWitnessFrame(line: string): { index: number; frame: Frame } | null {
  const m = WITNESS_FRAME_RE.exec(line);
  if (!m) return null;
  const frame: Frame = { function: m[2]!, offset: m[3] ?? null, args: null, raw: line };
  if (m[4] !== undefined) addSource(frame, m[4]);
  return { index: Number(m[1]), frame };
}

/** A frame that repeats the previous one's function and offset: a symbolizer's inline expansion. */
export function isInlineRepeat(prev: Frame | undefined, frame: Frame): boolean {
  return (
    prev !== undefined &&
    prev.inlined !== undefined &&
    prev.function === frame.function &&
    prev.offset === frame.offset &&
    frame.offset !== null
  );
}

/** Folds an inline repeat into the frame above it, keeping the outer source location. */
export function mergeInlineRepeat(prev: Frame, frame: Frame): void {
  if (frame.source !== undefined) prev.source = frame.source;
  if (frame.inlined) prev.inlined = [...(prev.inlined ?? []), ...frame.inlined];
  prev.raw += '\n' + frame.raw;
}
