/**
 * Triage output: plain text for mail (72–80 columns, no colours) and JSON for machines.
 * Exported for the reporter, which embeds the same crash blocks in run reports.
 */
import type { Frame, Trace } from '../ddb/report-types.ts';
import { frameKey, type Symbolization } from './symbolize.ts';
import type { TriagedCrash } from './triage.ts';

export const TEXT_WIDTH = 78;

export interface TriagedFile {
  file: string;
  crashes: TriagedCrash[];
  /** Per crash (same index), when a debug kernel was given. */
  symbolization?: (Symbolization | undefined)[];
}

/** Word-wraps `text` after a `label` column; continuation lines are indented to the value. */
export function wrapField(label: string, text: string, width = TEXT_WIDTH): string[] {
  const indent = ' '.repeat(label.length);
  const out: string[] = [];
  let line = label;
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > width) {
      out.push(line);
      line = indent;
      empty = true;
    }
    // A single word longer than the line (a path, an address list) is cut hard.
    let w = word;
    while (line.length + (empty ? 0 : 1) + w.length > width && w.length > width - indent.length) {
      const room = width - line.length - (empty ? 0 : 1);
      line += (empty ? '' : ' ') + w.slice(0, room);
      out.push(line);
      line = indent;
      w = w.slice(room);
      empty = true;
    }
    line += (empty ? '' : ' ') + w;
    empty = false;
  }
  out.push(line);
  return out;
}

function frameText(f: Frame): string {
  if (f.offset !== null) return `${f.function}+${f.offset}`;
  if (f.address !== undefined && f.address !== f.function) return `${f.function} at ${f.address}`;
  return f.truncated ? `${f.function} (cut off)` : f.function;
}

function frameSource(f: Frame, sym: Symbolization | undefined): string | undefined {
  const locs = f.offset !== null ? sym?.locations[frameKey(f)] : undefined;
  if (locs && locs.length > 0) {
    return locs
      .map((l, i) => (i < locs.length - 1 ? `${l.function} ${shortPath(l.file)}:${l.line ?? '?'} [inline]` : `${shortPath(l.file)}:${l.line ?? '?'}`))
      .join(', ');
  }
  return f.source;
}

/** Paths below the kernel tree's sys/ are what developers recognise; build prefixes are not. */
function shortPath(file: string): string {
  const i = file.lastIndexOf('/sys/');
  return i >= 0 ? file.slice(i + 1) : file;
}

function traceLines(tr: { frames: Frame[]; markers?: Trace['markers'] }, sym: Symbolization | undefined): string[] {
  const out: string[] = [];
  const markers = tr.markers ?? [];
  tr.frames.forEach((f, i) => {
    for (const m of markers) if (m.index === i) out.push(`    ${m.text}`);
    const name = `    ${frameText(f)}`;
    const src = frameSource(f, sym);
    if (src === undefined) out.push(name);
    else if (name.length + 2 + src.length <= TEXT_WIDTH) out.push(`${name.padEnd(Math.min(40, TEXT_WIDTH - src.length - 1))} ${src}`);
    else {
      out.push(name);
      out.push(...wrapField('        ', src));
    }
  });
  for (const m of markers) if (m.index === tr.frames.length) out.push(`    ${m.text}`);
  return out;
}

export function renderCrashText(crash: TriagedCrash, sym?: Symbolization): string {
  const r = crash.report;
  const out: string[] = [];
  out.push(...wrapField('', crash.title));
  const field = (label: string, value: string | null | undefined): void => {
    if (value === null || value === undefined || value === '') return;
    out.push(...wrapField(`  ${label.padEnd(11)}`, value));
  };
  field('kind', r.kind);
  field('signature', crash.signature);
  field('message', r.message);
  field('fault addr', r.faultAddress);
  field('pc', r.pc);
  field('cpu', r.cpu === null ? null : String(r.cpu));
  if (r.process) field('process', `${r.process.command} (pid ${r.process.pid}${r.process.tid !== null ? `, tid ${r.process.tid}` : ''})`);
  if (r.witness?.orders.length) {
    for (const o of r.witness.orders) field('lock order', `"${o.from}"(${o.fromClass}) -> "${o.to}"(${o.toClass})`);
  }
  if (crash.altTitles.length) field('also', crash.altTitles.join('; '));
  if (r.corrupted) field('incomplete', r.corruptedReasons.join('; '));
  if (sym && sym.status !== 'ok') field('symbols', sym.reason);

  const ft = r.faultingTrace;
  if (ft) {
    out.push('');
    const stopped = r.kind === 'ddb-entered' || r.kind === 'unknown' ? 'stopped' : 'crashed';
    const label = ft.source === 'witness' ? 'lock order first seen at' : `${ft.cpu === null ? 'trace' : `cpu${ft.cpu}`} (${stopped})`;
    out.push(`  ${label}:`);
    out.push(...traceLines(ft, sym));
  }
  for (const c of r.cpus) {
    if (ft && c.frames === ft.frames) continue;
    out.push('');
    out.push(`  ${c.cpu === null ? 'other trace' : `cpu${c.cpu}`}:`);
    const tr = r.traces.find((t) => t.frames === c.frames);
    out.push(...traceLines(tr ?? { frames: c.frames }, sym));
  }
  return out.join('\n');
}

export function renderTriageText(files: TriagedFile[]): string {
  const blocks: string[] = [];
  for (const f of files) {
    const n = f.crashes.length;
    // The file name stays whole (it is copied into shells); only it may pass the column limit.
    blocks.push(`== ${f.file}\n${n === 0 ? 'no crash found' : n === 1 ? '1 crash' : `${n} crashes`}`);
    f.crashes.forEach((c, i) => blocks.push(renderCrashText(c, f.symbolization?.[i])));
  }
  return blocks.join('\n\n') + '\n';
}

function frameJson(f: Frame, sym: Symbolization | undefined): Record<string, unknown> {
  const o: Record<string, unknown> = { function: f.function, offset: f.offset };
  if (f.args !== null) o.args = f.args;
  if (f.address !== undefined) o.address = f.address;
  if (f.truncated) o.truncated = true;
  const locs = f.offset !== null ? sym?.locations[frameKey(f)] : undefined;
  if (locs) o.locations = locs;
  else if (f.source !== undefined) o.source = f.source;
  if (f.inlined) o.inlined = f.inlined;
  return o;
}

export function crashToJson(crash: TriagedCrash, sym?: Symbolization): Record<string, unknown> {
  const r = crash.report;
  return {
    kind: r.kind,
    title: crash.title,
    altTitles: crash.altTitles,
    signature: crash.signature,
    message: r.message,
    faultAddress: r.faultAddress,
    pc: r.pc,
    cpu: r.cpu,
    process: r.process,
    frames: (r.faultingTrace?.frames ?? []).map((f) => frameJson(f, sym)),
    cpus: r.cpus.map((c) => ({ cpu: c.cpu, frames: c.frames.map((f) => frameJson(f, sym)) })),
    witness: r.witness,
    didNotPanic: r.didNotPanic,
    stoppedAt: r.stoppedAt,
    registers: r.registers,
    corrupted: r.corrupted,
    corruptedReasons: r.corruptedReasons,
    start: r.start,
    end: r.end,
    ...(sym ? { symbolization: { status: sym.status, tool: sym.tool, reason: sym.reason } } : {}),
  };
}

export function renderTriageJson(files: TriagedFile[]): string {
  return (
    JSON.stringify(
      files.map((f) => ({ file: f.file, crashes: f.crashes.map((c, i) => crashToJson(c, f.symbolization?.[i])) })),
      null,
      2,
    ) + '\n'
  );
}
