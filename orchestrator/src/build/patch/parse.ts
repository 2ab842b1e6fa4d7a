/**
 * Unified diff parser for the two formats kernel diffs arrive in: CVS
 * (`Index:` + `RCS file:` + `diff -u -p -r1.304 ...`, paths relative to src/sys
 * or src) and git (`diff --git a/... b/...`). Pure: text in, structure out.
 */

export interface PatchHunk {
  /** 1-based position among its file's hunks, as GNU patch numbers them. */
  number: number;
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** Text after the closing @@ (usually the enclosing function). */
  section: string;
  /** The hunk as it appears in the diff, header included. */
  text: string;
  /** 1-based line of the @@ header in the diff. */
  line: number;
  /** Context and removed lines without their prefix: what the hunk expects to find. */
  before: string[];
  /** Context and added lines without their prefix: what the hunk leaves behind. */
  after: string[];
}

export interface FilePatch {
  /** Path on the --- line (null for /dev/null: a created file). */
  oldPath: string | null;
  /** Path on the +++ line (null for /dev/null: a deleted file). */
  newPath: string | null;
  /** CVS `Index:` path, when present. */
  indexPath?: string;
  /** CVS RCS file, e.g. /cvs/src/sys/kern/uipc_mbuf.c,v */
  rcsFile?: string;
  /** Revision the diff was made against: CVS "1.304" or a git blob prefix. */
  revision?: string;
  hunks: PatchHunk[];
  /** 1-based line where this file's section starts in the diff. */
  line: number;
}

export type PatchFormat = 'cvs' | 'git' | 'unified';

export interface ParsedPatch {
  /** File name used in messages. */
  name: string;
  format: PatchFormat;
  files: FilePatch[];
  /** Free text before the first file (mail headers, commit message). */
  preamble: string;
}

export class PatchParseError extends Error {
  constructor(name: string, line: number, what: string) {
    super(`${name}:${line}: ${what}`);
    this.name = 'PatchParseError';
  }
}

const HUNK_RE = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$/;

function pathOf(headerRest: string): string | null {
  // "--- kern/uipc_mbuf.c\t5 Feb 2026 03:26:00 -0000\t1.304" or "--- a/kern/x.c"
  const p = headerRest.split('\t')[0]!.trim();
  if (p === '/dev/null') return null;
  return p.replace(/^"(.*)"$/, '$1');
}

export function parsePatch(text: string, name: string): ParsedPatch {
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const files: FilePatch[] = [];
  let format: PatchFormat | null = null;
  let preambleEnd = -1;
  // header facts seen since the last file section
  let pending: { start: number; indexPath?: string; rcsFile?: string; revision?: string; git?: boolean } | null = null;
  let current: FilePatch | null = null;
  let i = 0;
  const begin = (start: number) => {
    if (preambleEnd < 0) preambleEnd = start;
    pending = pending ?? { start };
    return pending;
  };
  while (i < lines.length) {
    const l = lines[i]!;
    let m: RegExpExecArray | null;
    if (l.startsWith('Index: ')) {
      current = null;
      pending = { start: i, indexPath: l.slice(7).trim() };
      if (preambleEnd < 0) preambleEnd = i;
      format = format ?? 'cvs';
    } else if (l.startsWith('RCS file: ') && pending) {
      pending.rcsFile = l.slice(10).trim();
    } else if ((m = /^diff -.*-r(\d+(?:\.\d+)+)\s/.exec(l)) && pending) {
      pending.revision = m[1];
    } else if ((m = /^diff --git (\S+) (\S+)/.exec(l))) {
      current = null;
      pending = { start: i, git: true };
      if (preambleEnd < 0) preambleEnd = i;
      format = format ?? 'git';
    } else if ((m = /^index ([0-9a-f]+)\.\.([0-9a-f]+)/.exec(l)) && pending) {
      pending.revision = m[1];
    } else if (l.startsWith('--- ') && i + 1 < lines.length && lines[i + 1]!.startsWith('+++ ')) {
      const p = begin(i);
      const oldPath = pathOf(l.slice(4));
      const newPath = pathOf(lines[i + 1]!.slice(4));
      const rev = p.revision ?? /\t(\d+(?:\.\d+)+)\s*$/.exec(l)?.[1];
      current = { oldPath, newPath, hunks: [], line: p.start + 1 };
      if (p.indexPath) current.indexPath = p.indexPath;
      if (p.rcsFile) current.rcsFile = p.rcsFile;
      if (rev) current.revision = rev;
      files.push(current);
      format = format ?? 'unified';
      pending = null;
      i += 2;
      continue;
    } else if ((m = HUNK_RE.exec(l))) {
      if (!current) throw new PatchParseError(name, i + 1, 'hunk header without a preceding ---/+++ file header');
      const oldLines = m[2] === undefined ? 1 : Number(m[2]);
      const newLines = m[4] === undefined ? 1 : Number(m[4]);
      const hunk: PatchHunk = {
        number: current.hunks.length + 1,
        oldStart: Number(m[1]),
        oldLines,
        newStart: Number(m[3]),
        newLines,
        section: m[5] ?? '',
        text: '',
        line: i + 1,
        before: [],
        after: [],
      };
      const body: string[] = [l];
      let o = 0;
      let n = 0;
      i++;
      while (i < lines.length && (o < oldLines || n < newLines)) {
        const b = lines[i]!;
        const tag = b[0];
        if (b === '' || tag === ' ') {
          // an empty line is context whose single space a mailer stripped
          const s = b.slice(1);
          hunk.before.push(s);
          hunk.after.push(s);
          o++;
          n++;
        } else if (tag === '-') {
          hunk.before.push(b.slice(1));
          o++;
        } else if (tag === '+') {
          hunk.after.push(b.slice(1));
          n++;
        } else if (tag === '\\') {
          // "\ No newline at end of file"
        } else {
          throw new PatchParseError(name, i + 1, `hunk ${hunk.number} of ${current.newPath ?? current.oldPath} ends early (expected -${oldLines} +${newLines} lines, got -${o} +${n})`);
        }
        body.push(b);
        i++;
      }
      if (o < oldLines || n < newLines) {
        throw new PatchParseError(name, i, `hunk ${hunk.number} of ${current.newPath ?? current.oldPath} is truncated (expected -${oldLines} +${newLines} lines, got -${o} +${n})`);
      }
      if (i < lines.length && lines[i]!.startsWith('\\')) body.push(lines[i++]!);
      hunk.text = body.join('\n');
      current.hunks.push(hunk);
      continue;
    }
    i++;
  }
  if (files.length === 0) throw new PatchParseError(name, 1, 'no file changes found (not a unified diff?)');
  for (const f of files) {
    if (f.hunks.length === 0) {
      throw new PatchParseError(name, f.line, `file ${f.newPath ?? f.oldPath} has a header but no hunks`);
    }
  }
  return { name, format: format ?? 'unified', files, preamble: lines.slice(0, Math.max(0, preambleEnd)).join('\n') };
}

/** The path a file section names (new path, or old path for a deletion). */
export function filePatchPath(f: FilePatch): string {
  return (f.newPath ?? f.oldPath)!;
}

/** Removes `n` leading components, as `patch -pN` does; null when there are too few. */
export function stripPath(path: string, n: number): string | null {
  const parts = path.split('/').filter((p, idx) => !(p === '' && idx === 0));
  if (parts.length <= n) return null;
  return parts.slice(n).join('/');
}

/** Names the revision a file section was made against, for messages. */
export function describeRevision(f: FilePatch): string {
  if (!f.revision) return 'unknown revision';
  return /^\d+(\.\d+)+$/.test(f.revision) ? `r${f.revision}` : `blob ${f.revision}`;
}
