/**
 * Finding the first of several patterns in console text. Regular expressions
 * always run with the `m` flag (console text is lines: `^`/`$` are line
 * anchors) and with `g` so a search can start at the read cursor while
 * lookbehinds and `^` still see the text before it.
 */

export type ConsolePattern = RegExp | string;

export interface CompiledPattern {
  source: ConsolePattern;
  regex?: RegExp;
  literal?: string;
}

export interface PatternHit {
  index: number;
  start: number;
  end: number;
  match: RegExpExecArray;
}

export function compilePatterns(patterns: ConsolePattern[] | ConsolePattern): CompiledPattern[] {
  const list = Array.isArray(patterns) ? patterns : [patterns];
  if (list.length === 0) throw new Error('expect: no patterns given');
  return list.map((p, i) => {
    if (typeof p === 'string') {
      if (p.length === 0) throw new Error(`expect: pattern ${i} is an empty string`);
      return { source: p, literal: p };
    }
    let flags = p.flags.replace(/[gm]/g, '');
    flags += 'gm';
    return { source: p, regex: new RegExp(p.source, flags) };
  });
}

export function describePatterns(patterns: ConsolePattern[] | ConsolePattern): string {
  const list = Array.isArray(patterns) ? patterns : [patterns];
  return list.map((p) => (typeof p === 'string' ? JSON.stringify(p) : String(p))).join(' or ');
}

/**
 * The hit that starts first at or after `from` in `text`; ties go to the
 * earlier pattern. Sticky (`y`) patterns must match exactly at `from`.
 */
export function findFirst(text: string, from: number, patterns: CompiledPattern[]): PatternHit | null {
  let best: PatternHit | null = null;
  patterns.forEach((p, index) => {
    let hit: PatternHit | null = null;
    if (p.literal !== undefined) {
      const at = text.indexOf(p.literal, from);
      if (at >= 0) {
        const match = [p.literal] as unknown as RegExpExecArray;
        match.index = at;
        match.input = text;
        hit = { index, start: at, end: at + p.literal.length, match };
      }
    } else if (p.regex) {
      p.regex.lastIndex = from;
      const m = p.regex.exec(text);
      if (m) hit = { index, start: m.index, end: m.index + m[0].length, match: m };
    }
    if (hit && (best === null || hit.start < best.start)) best = hit;
  });
  return best;
}
