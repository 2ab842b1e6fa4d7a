/**
 * The normalised console text, as a one-line terminal would show it: CR
 * returns to the start of the current line, BS moves one column left, and
 * characters overwrite what is under the cursor (the boot loader's `|/-\`
 * spinner and ddb's `--db_more--` eraser rewrite the line in place); LF ends
 * the line. Finished lines are immutable; only the current line changes.
 *
 * Positions are absolute UTF-16 offsets into the normalised text since the
 * start; only the last `windowChars` characters of finished lines are kept,
 * each with the raw byte offset just after the byte that produced it.
 */
import type { DecodedSink } from './decoder.ts';

export const DEFAULT_WINDOW_CHARS = 4 * 1024 * 1024;

/** A line longer than this is broken (a guest printing without newlines must not grow memory without bound). */
export const MAX_LINE_CELLS = 64 * 1024;

export class Transcript implements DecodedSink {
  private committed = '';
  /** Raw end offset (minus rawBase) of every committed character. */
  private ends = new Uint32Array(1024);
  private base = 0;
  private rawBase = 0;

  private cells: string[] = [];
  private cellEnds: number[] = [];
  private col = 0;
  private lineRewound = false;
  private lineHasAstral = false;
  private lastRawEnd = 0;

  /** Lowest absolute position whose text changed or appeared since the last takeChangedFrom(). */
  private changedFrom = Infinity;

  constructor(readonly windowChars = DEFAULT_WINDOW_CHARS, startRawOffset = 0) {
    if (!(windowChars >= 1024)) throw new Error(`console window must be at least 1024 characters, got ${windowChars}`);
    this.rawBase = startRawOffset;
    this.lastRawEnd = startRawOffset;
  }

  /** Absolute position of the first character still in memory. */
  get start(): number {
    return this.base;
  }

  /** Absolute position of the start of the current (unfinished) line. */
  get lineStart(): number {
    return this.base + this.committed.length;
  }

  /** Absolute position just after the last visible character. */
  get end(): number {
    return this.lineStart + this.lineLength();
  }

  /** Raw byte offset just after the last byte that produced text or a control. */
  get rawEnd(): number {
    return this.lastRawEnd;
  }

  takeChangedFrom(): number {
    const c = this.changedFrom;
    this.changedFrom = Infinity;
    return c;
  }

  print(ch: string, rawEnd: number): void {
    this.lastRawEnd = rawEnd;
    if (ch.length > 1) this.lineHasAstral = true;
    if (this.col < this.cells.length) {
      if (this.cells[this.col] !== ch) {
        this.noteChange(this.lineStart + this.cellOffset(this.col));
        this.cells[this.col] = ch;
      }
      this.cellEnds[this.col] = rawEnd;
    } else {
      if (this.cells.length >= MAX_LINE_CELLS) {
        this.lineFeed(this.cellEnds[this.cellEnds.length - 1] ?? rawEnd);
        this.lastRawEnd = rawEnd;
      }
      this.noteChange(this.lineStart + this.cellOffset(this.cells.length));
      this.cells.push(ch);
      this.cellEnds.push(rawEnd);
    }
    this.col++;
  }

  carriageReturn(rawEnd: number): void {
    this.lastRawEnd = rawEnd;
    if (this.col > 0) this.lineRewound = true;
    this.col = 0;
  }

  backspace(rawEnd: number): void {
    this.lastRawEnd = rawEnd;
    if (this.col > 0) {
      this.col--;
      this.lineRewound = true;
    }
  }

  lineFeed(rawEnd: number): void {
    this.lastRawEnd = rawEnd;
    let n = this.cells.length;
    // Spaces left behind by an eraser (`--db_more--`, BIOS progress) are not output.
    if (this.lineRewound) while (n > 0 && this.cells[n - 1] === ' ') n--;
    const lineStart = this.lineStart;
    if (n < this.cells.length) this.noteChange(lineStart + this.cellOffset(n));
    const text = this.cells.slice(0, n).join('');
    this.noteChange(lineStart + text.length);
    this.ensureCapacity(this.committed.length + text.length + 1);
    let k = this.committed.length;
    for (let i = 0; i < n; i++) {
      const cell = this.cells[i]!;
      const rel = this.relRaw(this.cellEnds[i]!);
      for (let j = 0; j < cell.length; j++) this.ends[k++] = rel;
    }
    this.ends[k] = this.relRaw(rawEnd);
    this.committed += text + '\n';
    this.cells = [];
    this.cellEnds = [];
    this.col = 0;
    this.lineRewound = false;
    this.lineHasAstral = false;
    if (this.committed.length > this.windowChars + (this.windowChars >> 1)) this.compact();
  }

  /** Visible text from absolute position `from` (clamped to what is in memory) to the end. */
  text(from = this.base, to = this.end): string {
    const s = Math.max(from, this.base) - this.base;
    const e = Math.max(Math.min(to, this.end), this.base) - this.base;
    if (e <= s) return '';
    const c = this.committed.length;
    if (e <= c) return this.committed.slice(s, e);
    const line = this.lineText();
    if (s >= c) return line.slice(s - c, e - c);
    return this.committed.slice(s) + line.slice(0, e - c);
  }

  lineText(): string {
    return this.cells.join('');
  }

  /** Raw byte offset just after the byte that produced the character at absolute position `pos`. */
  rawEndAt(pos: number): number {
    if (pos < this.base) return this.rawBase;
    const rel = pos - this.base;
    if (rel < this.committed.length) return this.rawBase + this.ends[rel]!;
    const inLine = rel - this.committed.length;
    if (!this.lineHasAstral) return this.cellEnds[inLine] ?? this.lastRawEnd;
    let off = 0;
    for (let i = 0; i < this.cells.length; i++) {
      off += this.cells[i]!.length;
      if (inLine < off) return this.cellEnds[i]!;
    }
    return this.lastRawEnd;
  }

  private lineLength(): number {
    return this.lineHasAstral ? this.cellOffset(this.cells.length) : this.cells.length;
  }

  /** UTF-16 offset of a cell within the current line. */
  private cellOffset(cell: number): number {
    if (!this.lineHasAstral) return cell;
    let off = 0;
    for (let i = 0; i < cell && i < this.cells.length; i++) off += this.cells[i]!.length;
    return off;
  }

  private noteChange(pos: number): void {
    if (pos < this.changedFrom) this.changedFrom = pos;
  }

  private relRaw(raw: number): number {
    return Math.min(raw - this.rawBase, 0xffffffff);
  }

  private ensureCapacity(n: number): void {
    if (n <= this.ends.length) return;
    let size = this.ends.length;
    while (size < n) size *= 2;
    const next = new Uint32Array(size);
    next.set(this.ends.subarray(0, this.committed.length));
    this.ends = next;
  }

  private compact(): void {
    const drop = this.committed.length - this.windowChars;
    const newRawBase = this.rawBase + this.ends[drop - 1]!;
    const shift = newRawBase - this.rawBase;
    const kept = this.committed.length - drop;
    const next = new Uint32Array(Math.max(1024, kept * 2));
    for (let i = 0; i < kept; i++) next[i] = this.ends[drop + i]! - shift;
    this.ends = next;
    // Copy into a fresh string: a slice would keep the dropped prefix alive.
    this.committed = Buffer.from(this.committed.slice(drop), 'utf16le').toString('utf16le');
    this.base += drop;
    this.rawBase = newRawBase;
  }
}
