/**
 * Reads GNU patch's (2.7) messages into per-file, per-hunk results. Pure.
 * Hunks patch does not mention applied exactly.
 */

export type HunkStatus = 'exact' | 'offset' | 'fuzz' | 'failed' | 'ignored';

export interface HunkOutcome {
  number: number;
  status: HunkStatus;
  /** Line where patch placed (or tried to place) it. */
  at?: number;
  offset?: number;
  fuzz?: number;
}

export type FileStatus = 'applied' | 'reversed' | 'failed' | 'missing';

export interface FileOutcome {
  /** Path as patch printed it (relative to -d, after -p stripping). */
  path: string | null;
  status: FileStatus;
  hunks: HunkOutcome[];
  messages: string[];
}

export function parseGnuPatchOutput(output: string): FileOutcome[] {
  const files: FileOutcome[] = [];
  let cur: FileOutcome | null = null;
  const open = (path: string | null): FileOutcome => {
    cur = { path, status: 'applied', hunks: [], messages: [] };
    files.push(cur);
    return cur;
  };
  for (const raw of output.split('\n')) {
    const l = raw.trimEnd();
    if (!l) continue;
    let m: RegExpExecArray | null;
    if ((m = /^(?:checking|patching) file (.+?)(?: using Plan \w+\.{3})?$/i.exec(l))) {
      open(m[1]!.replace(/^'(.*)'$/, '$1'));
      continue;
    }
    if (/^can't find file to patch at input line \d+/.test(l)) {
      const f = open(null);
      f.status = 'missing';
      f.messages.push(l);
      continue;
    }
    const f: FileOutcome = cur ?? open(null);
    if ((m = /^Hunk #(\d+) succeeded at (\d+)(?: with fuzz (\d+))?(?: \(offset (-?\d+) lines?\))?\.$/.exec(l))) {
      const h: HunkOutcome = { number: Number(m[1]), status: m[3] ? 'fuzz' : m[4] ? 'offset' : 'exact', at: Number(m[2]) };
      if (m[3]) h.fuzz = Number(m[3]);
      if (m[4]) h.offset = Number(m[4]);
      f.hunks.push(h);
    } else if ((m = /^Hunk #(\d+) FAILED at (\d+)/i.exec(l))) {
      f.hunks.push({ number: Number(m[1]), status: 'failed', at: Number(m[2]) });
      if (f.status === 'applied') f.status = 'failed';
    } else if ((m = /^Hunk #(\d+) ignored at (\d+)/.exec(l))) {
      f.hunks.push({ number: Number(m[1]), status: 'ignored', at: Number(m[2]) });
    } else if (/^Reversed \(or previously applied\) patch detected!/.test(l)) {
      f.status = 'reversed';
      f.messages.push(l);
    } else if (/^No file to patch\./.test(l)) {
      f.status = 'missing';
      f.messages.push(l);
    } else if (/out of \d+ hunks? (FAILED|ignored)/.test(l) || /^Perhaps you|^The text leading up|^-{10}|^\|/.test(l)) {
      // summary and context lines add nothing to the per-hunk results
    } else {
      f.messages.push(l);
    }
  }
  return files;
}
