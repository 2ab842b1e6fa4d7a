/**
 * The pure core of a console session: raw bytes in, normalised text with a
 * read cursor out. No timers, streams or files, so the matching rules can be
 * tested against every possible chunking of a real transcript.
 */
import { ConsoleDecoder } from './decoder.ts';
import { compilePatterns, findFirst, type CompiledPattern, type ConsolePattern } from './matcher.ts';
import { Transcript } from './transcript.ts';
import type { ExpectMatch } from './types.ts';

/** How much text before the cursor a search sees (for lookbehinds and `^`). */
const SEARCH_CONTEXT = 256;

export class ConsoleReader {
  private readonly decoder: ConsoleDecoder;
  readonly transcript: Transcript;
  private cursor = 0;
  /** Characters that scrolled out of the memory window before anyone read them. */
  droppedUnread = 0;

  constructor(opts: { windowChars?: number; startRawOffset?: number } = {}) {
    this.decoder = new ConsoleDecoder(opts.startRawOffset ?? 0);
    this.transcript = new Transcript(opts.windowChars, opts.startRawOffset ?? 0);
  }

  /**
   * Adds raw console bytes. Returns the lowest position whose text appeared
   * or changed (Infinity when the bytes printed nothing), so listeners can be
   * given exactly the new text.
   */
  feed(bytes: Uint8Array): number {
    this.decoder.feed(bytes, this.transcript);
    const changed = this.transcript.takeChangedFrom();
    // Text rewritten under the cursor (a line redrawn after CR/BS) was never read in its new form.
    if (changed < this.cursor) this.cursor = changed;
    if (this.cursor < this.transcript.start) {
      this.droppedUnread += this.transcript.start - this.cursor;
      this.cursor = this.transcript.start;
    }
    return changed;
  }

  /** Raw byte offset of everything fed so far. */
  get rawOffset(): number {
    return this.decoder.rawOffset;
  }

  get mark(): number {
    return this.cursor;
  }

  get end(): number {
    return this.transcript.end;
  }

  text(from?: number, to?: number): string {
    return this.transcript.text(from, to);
  }

  /** The last `chars` characters, for error messages. */
  tail(chars = 600): string {
    return this.transcript.text(this.transcript.end - chars);
  }

  /** Looks for the first pattern after the cursor; on a hit the cursor moves past it. */
  search(patterns: CompiledPattern[] | ConsolePattern[] | ConsolePattern): ExpectMatch | null {
    const compiled = isCompiled(patterns) ? patterns : compilePatterns(patterns);
    const ctxStart = Math.max(this.transcript.start, this.cursor - SEARCH_CONTEXT);
    const text = this.transcript.text(ctxStart);
    const hit = findFirst(text, this.cursor - ctxStart, compiled);
    if (!hit) return null;
    const endAbs = ctxStart + hit.end;
    const before = text.slice(this.cursor - ctxStart, hit.end);
    this.cursor = endAbs;
    const offset = endAbs > ctxStart ? this.transcript.rawEndAt(endAbs - 1) : this.transcript.rawEndAt(endAbs);
    return { index: hit.index, match: hit.match, before, offset };
  }
}

function isCompiled(p: CompiledPattern[] | ConsolePattern[] | ConsolePattern): p is CompiledPattern[] {
  return Array.isArray(p) && p.length > 0 && typeof p[0] === 'object' && p[0] !== null && 'source' in p[0] && !(p[0] instanceof RegExp);
}
