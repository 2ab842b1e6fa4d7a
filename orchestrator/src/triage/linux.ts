/**
 * Crash reports of the Linux stand-in guest (pure): "Kernel panic - not syncing",
 * "BUG:", "Oops:" and "WARNING:" blocks with their Call Trace. The stand-in exists
 * to test the spine (capture, grouping, reports) end to end, so this covers the
 * formats a 6.x kernel prints, not every historical variant.
 */
import { createHash } from 'node:crypto';

export interface LinuxFrame {
  function: string;
  offset: string;
}

export interface LinuxCrash {
  kind: 'panic' | 'bug' | 'oops' | 'warning';
  message: string;
  title: string;
  signature: string;
  cpu: number | null;
  pid: number | null;
  comm: string | null;
  frames: LinuxFrame[];
  start: number;
  end: number;
}

const TIMESTAMP = /^\s*\[\s*\d+\.\d+\]\s?/;
const HEADS: { kind: LinuxCrash['kind']; re: RegExp }[] = [
  { kind: 'bug', re: /^BUG: (.+)$/ },
  { kind: 'oops', re: /^Oops: (.+)$/ },
  { kind: 'warning', re: /^WARNING: (.+)$/ },
  { kind: 'panic', re: /^Kernel panic - not syncing: (.+)$/ },
];
/** A reliable frame; `? func+off` lines are the unwinder's guesses and are skipped. */
const FRAME = /^\s*([A-Za-z_.$][\w.$]*)\+0x([0-9a-f]+)\/0x[0-9a-f]+/;
const CPU_LINE = /^CPU: (\d+) PID: (\d+) Comm: (\S+)/;
const END = /^---\[ end /;
/** Frames that every crash passes through: never part of a title or signature. */
const GENERIC = /^(dump_stack(_lvl)?|show_stack|panic|vpanic|__warn|warn_slowpath_fmt|report_bug|handle_bug|exc_invalid_op|asm_exc_\w+|die|oops_end|do_trap|do_error_trap|__die_body|entry_SYSCALL_64\w*|do_syscall_64|ret_from_fork\w*|kthread|worker_thread|process_one_work)$/;

export function parseLinuxConsole(text: string): LinuxCrash[] {
  const lines = text.split('\n');
  const out: LinuxCrash[] = [];
  let offset = 0;
  let cur: LinuxCrash | null = null;
  const finish = (end: number) => {
    if (!cur) return;
    cur.end = end;
    const top = cur.frames.map((f) => f.function).filter((f) => !GENERIC.test(f));
    cur.title = titleOf(cur.kind, cur.message, top[0]);
    cur.signature = createHash('sha256')
      .update([cur.kind, scrub(cur.message), ...top.slice(0, 3)].join('\n'))
      .digest('hex')
      .slice(0, 16);
    out.push(cur);
    cur = null;
  };
  for (const raw of lines) {
    const start = offset;
    offset += raw.length + 1;
    const line = raw.replace(/\r$/, '').replace(TIMESTAMP, '');
    const head = HEADS.map((h) => ({ kind: h.kind, m: h.re.exec(line) })).find((h) => h.m);
    if (head) {
      // A panic that follows a BUG/Oops in the same block is the same crash ending.
      if (cur && head.kind === 'panic' && cur.kind !== 'panic') continue;
      finish(start);
      cur = { kind: head.kind, message: head.m![1]!.trim(), title: '', signature: '', cpu: null, pid: null, comm: null, frames: [], start, end: start };
      continue;
    }
    if (!cur) continue;
    const c = CPU_LINE.exec(line);
    if (c && cur.cpu === null) {
      cur.cpu = Number(c[1]);
      cur.pid = Number(c[2]);
      cur.comm = c[3]!;
      continue;
    }
    const f = FRAME.exec(line);
    if (f) cur.frames.push({ function: f[1]!, offset: `0x${f[2]}` });
    if (END.test(line)) finish(offset);
  }
  finish(offset);
  return out;
}

function titleOf(kind: LinuxCrash['kind'], message: string, topFrame: string | undefined): string {
  const msg = scrub(message);
  if (kind === 'panic') return `linux: panic: ${msg}${topFrame ? ` in ${topFrame}` : ''}`;
  return `linux: ${kind === 'bug' ? 'BUG' : kind === 'oops' ? 'Oops' : 'WARNING'}: ${msg}${topFrame && !msg.includes(topFrame) ? ` in ${topFrame}` : ''}`;
}

/** Drops addresses and numbers that differ between runs. */
function scrub(s: string): string {
  return s
    .replace(/\b0x[0-9a-f]+\b/gi, 'ADDR')
    .replace(/\b[0-9a-f]{8,16}\b/gi, 'ADDR')
    .replace(/\bPID: \d+/g, 'PID')
    .trim();
}
