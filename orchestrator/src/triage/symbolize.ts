/**
 * Turns `func+0xNN` frames into file:line with the kernel's debug file (bsd.gdb): the
 * function's address comes from the ELF symbol table, the line from addr2line (LLVM's or
 * binutils'), run once per report for all addresses. Missing tools or files leave the
 * report unsymbolized with the reason; nothing here throws for those.
 */
import { execa } from 'execa';
import type { CrashReport, Frame, Trace } from '../ddb/report-types.ts';
import { readFunctionSymbols } from './elf-symbols.ts';

export interface SourceLocation {
  function: string;
  file: string;
  line: number | null;
}

export interface Symbolization {
  status: 'ok' | 'unavailable';
  reason?: string;
  /** The addr2line program that answered. */
  tool?: string;
  /** `func+0xoff` → locations, innermost inlined function first. */
  locations: Record<string, SourceLocation[]>;
}

export const DEFAULT_ADDR2LINE = ['llvm-addr2line-19', 'llvm-addr2line', 'addr2line'];

export function frameKey(frame: Pick<Frame, 'function' | 'offset'>): string {
  return `${frame.function}+${frame.offset}`;
}

const EXACT_AFTER = /^(?:alltraps|Xtrap|calltrap|Xintr|Xresume_|Xsyscall)/;

/**
 * The address to look up for each frame. Every frame but the innermost holds a return
 * address, which points after the call; one byte back lands on the call's line. The frame
 * right below a trap or interrupt entry holds the interrupted pc itself.
 */
export function lookupAddresses(report: CrashReport, symbols: Map<string, bigint>): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const traces: Trace[] = report.traces;
  for (const tr of traces) {
    tr.frames.forEach((f, i) => {
      if (f.offset === null || f.truncated) return;
      const key = frameKey(f);
      const base = symbols.get(f.function);
      if (base === undefined || out.has(key)) return;
      const prev = tr.frames[i - 1];
      const afterMarker = tr.markers.some((m) => m.index === i);
      const exact = i === 0 || afterMarker || (prev !== undefined && EXACT_AFTER.test(prev.function));
      out.set(key, base + BigInt(f.offset) - (exact ? 0n : 1n));
    });
  }
  return out;
}

/** Parses `addr2line -a -f -i` output: an address line, then function/location pairs. */
export function parseAddr2lineOutput(text: string): Map<string, SourceLocation[]> {
  const out = new Map<string, SourceLocation[]>();
  const lines = text.split('\n').map((l) => l.trimEnd());
  let current: SourceLocation[] | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^0x[0-9a-fA-F]+$/.test(line)) {
      current = [];
      out.set(BigInt(line).toString(16), current);
      continue;
    }
    if (!current || line === '') continue;
    const loc = lines[i + 1] ?? '';
    i++;
    const m = /^(.*?):(\d+|\?)(?::\d+)?(?: \(discriminator \d+\))?$/.exec(loc);
    const file = m ? m[1]! : loc;
    const lineNo = m && m[2] !== '?' ? Number(m[2]) : null;
    if (line === '??' && (file === '??' || file === '')) continue;
    current.push({ function: line, file, line: lineNo === 0 ? null : lineNo });
  }
  return out;
}

export async function symbolizeReport(
  report: CrashReport,
  debugFile: string,
  opts: { tools?: string[]; timeoutMs?: number } = {},
): Promise<Symbolization> {
  let symbols: Map<string, bigint>;
  try {
    symbols = await readFunctionSymbols(debugFile);
  } catch (err) {
    return { status: 'unavailable', reason: `cannot read symbols: ${(err as Error).message}`, locations: {} };
  }
  const addresses = lookupAddresses(report, symbols);
  if (addresses.size === 0) return { status: 'unavailable', reason: 'no frame names a function in the symbol table', locations: {} };

  const hex = [...new Set([...addresses.values()].map((a) => '0x' + a.toString(16)))];
  const tried: string[] = [];
  for (const tool of opts.tools ?? DEFAULT_ADDR2LINE) {
    const res = await execa(tool, ['-a', '-f', '-i', '-e', debugFile, ...hex], {
      reject: false,
      timeout: opts.timeoutMs ?? 60_000,
      stdin: 'ignore',
    });
    if (res.failed || res.exitCode !== 0) {
      const detail = String(res.stderr || res.shortMessage || `exit ${res.exitCode}`).trim().split('\n')[0];
      tried.push(`${tool}: ${res.code === 'ENOENT' ? 'not installed' : res.timedOut ? 'timed out' : detail}`);
      continue;
    }
    const parsed = parseAddr2lineOutput(res.stdout);
    const locations: Record<string, SourceLocation[]> = {};
    for (const [key, address] of addresses) {
      const locs = parsed.get(address.toString(16));
      if (locs && locs.length > 0) locations[key] = locs;
    }
    return { status: 'ok', tool, locations };
  }
  return { status: 'unavailable', reason: `no addr2line worked (${tried.join('; ')})`, locations: {} };
}
