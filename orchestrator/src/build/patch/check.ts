import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { runTool } from '../run-tool.ts';
import { parseGnuPatchOutput, type FileOutcome } from './gnu-output.ts';
import { describeRevision, filePatchPath, parsePatch, stripPath, type FilePatch, type ParsedPatch, type PatchHunk } from './parse.ts';

/** The tree a patch is checked against: probed and read file by file. */
export interface PatchTarget {
  describe: string;
  has(rel: string): Promise<boolean>;
  read(rel: string): Promise<Buffer | null>;
}

export type PatchVerdict = 'clean' | 'offset' | 'fuzz' | 'already-applied' | 'fails';

export interface RejectedHunk {
  /** Tree-relative path. */
  file: string;
  revision: string;
  hunk: PatchHunk;
  /** Where patch tried it, if it said. */
  at?: number;
}

export interface PatchResult {
  /** Patch file path as given. */
  patch: string;
  parsed: ParsedPatch;
  /** -p level that makes the diff's paths exist in the tree. */
  strip: number;
  /** Tree-relative paths the patch touches. */
  touched: string[];
  verdict: PatchVerdict;
  files: FileOutcome[];
  rejected: RejectedHunk[];
  /** Problems that are not hunk rejections (missing files, partly applied). */
  problems: string[];
  /** GNU patch's own output. */
  output: string;
}

/**
 * The -p level for a diff: the smallest strip that makes every path the diff
 * modifies exist in the tree (CVS `Index: sys/kern/x.c` against a sys/ tree
 * needs 1, `Index: kern/x.c` 0, git `a/kern/x.c` 1). Falls back to the strip that
 * finds the most files, then to the format's convention.
 */
export async function chooseStrip(parsed: ParsedPatch, has: (rel: string) => Promise<boolean>): Promise<number> {
  const existing = parsed.files.filter((f) => f.oldPath !== null).map((f) => f.oldPath!);
  const fallback = parsed.format === 'git' ? 1 : 0;
  if (existing.length === 0) return fallback;
  let best = { strip: fallback, found: -1 };
  for (let p = 0; p <= 4; p++) {
    let found = 0;
    for (const path of existing) {
      const rel = stripPath(path, p);
      if (rel !== null && (await has(rel))) found++;
    }
    if (found === existing.length) return p;
    if (found > best.found) best = { strip: p, found };
  }
  return best.strip;
}

export function touchedPaths(parsed: ParsedPatch, strip: number): string[] {
  const out = new Set<string>();
  for (const f of parsed.files) {
    for (const p of [f.oldPath, f.newPath]) {
      if (p === null) continue;
      const rel = stripPath(p, strip);
      if (rel !== null) out.add(rel);
    }
  }
  return [...out];
}

function findFilePatch(parsed: ParsedPatch, strip: number, printed: string | null, index: number): FilePatch | undefined {
  if (printed !== null) {
    const byPath = parsed.files.find((f) => [f.newPath, f.oldPath].some((p) => p !== null && stripPath(p, strip) === printed));
    if (byPath) return byPath;
  }
  return parsed.files[index];
}

/** Turns patch's output for one diff into a verdict with the rejected hunks' text. */
export function judgePatchOutput(parsed: ParsedPatch, strip: number, output: string, exitCode: number): Omit<PatchResult, 'patch' | 'parsed' | 'strip' | 'touched'> {
  const files = parseGnuPatchOutput(output);
  const rejected: RejectedHunk[] = [];
  const problems: string[] = [];
  files.forEach((fo, idx) => {
    const fp = findFilePatch(parsed, strip, fo.path, idx);
    const path = fo.path ?? (fp ? filePatchPath(fp) : '?');
    if (fo.status === 'missing') problems.push(`${path}: file to patch not found in the tree (${fo.messages.join(' ')})`);
    for (const h of fo.hunks) {
      if (h.status !== 'failed') continue;
      const hunk = fp?.hunks.find((x) => x.number === h.number);
      if (hunk) {
        const r: RejectedHunk = { file: path, revision: fp ? describeRevision(fp) : 'unknown revision', hunk };
        if (h.at !== undefined) r.at = h.at;
        rejected.push(r);
      } else problems.push(`${path}: hunk #${h.number} failed`);
    }
  });
  const reversed = files.filter((f) => f.status === 'reversed').length;
  let verdict: PatchVerdict;
  if (rejected.length || problems.length || files.some((f) => f.status === 'failed' || f.status === 'missing')) verdict = 'fails';
  else if (reversed > 0 && reversed === files.length) verdict = 'already-applied';
  else if (reversed > 0) {
    verdict = 'fails';
    problems.push(`partly applied already: ${files.filter((f) => f.status === 'reversed').map((f) => f.path).join(', ')} carry the change, the other files do not`);
  } else if (exitCode !== 0) {
    verdict = 'fails';
    problems.push(`patch exited ${exitCode}: ${output.trim().split('\n').slice(-3).join(' / ')}`);
  } else if (files.some((f) => f.hunks.some((h) => h.status === 'fuzz'))) verdict = 'fuzz';
  else if (files.some((f) => f.hunks.some((h) => h.status === 'offset'))) verdict = 'offset';
  else verdict = 'clean';
  return { verdict, files, rejected, problems, output };
}

function patchArgs(dir: string, strip: number, file: string, extra: string[]): string[] {
  return ['--batch', '--forward', '--no-backup-if-mismatch', '--reject-file=-', `-p${strip}`, '-d', dir, '-i', file, ...extra];
}

/**
 * Runs GNU patch on a real directory. dryRun leaves it untouched. A diff patch
 * calls reversed is confirmed with `-R --dry-run` before it counts as already applied.
 */
export async function runPatch(dir: string, patchFile: string, parsed: ParsedPatch, strip: number, dryRun: boolean, signal?: AbortSignal): Promise<Omit<PatchResult, 'patch' | 'parsed' | 'strip' | 'touched'>> {
  const r = await runTool('patch', patchArgs(dir, strip, patchFile, dryRun ? ['--dry-run'] : []), { signal });
  const out = r.stdout + r.stderr;
  const judged = judgePatchOutput(parsed, strip, out, r.exitCode);
  if (judged.verdict === 'already-applied') {
    const rev = await runTool('patch', ['--batch', '-R', '--dry-run', `-p${strip}`, '-d', dir, '-i', patchFile], { signal });
    if (rev.exitCode !== 0) {
      const back = judgePatchOutput(parsed, strip, rev.stdout + rev.stderr, rev.exitCode);
      return {
        ...judged,
        verdict: 'fails',
        problems: [`patch sees it as reversed, but it does not reverse-apply cleanly either (${back.rejected.length} hunk(s) fail in reverse): the tree has a different version of this change`],
      };
    }
  }
  return judged;
}

/**
 * Checks patches in order against a tree without touching it: the files they
 * touch are copied into a scratch directory and each patch that applies is
 * applied there, so a later patch sees the earlier ones (v2 on top of v1).
 */
export async function checkPatchSeries(target: PatchTarget, patchFiles: string[], signal?: AbortSignal): Promise<PatchResult[]> {
  const parsedAll: { file: string; parsed: ParsedPatch; strip: number; touched: string[] }[] = [];
  for (const file of patchFiles) {
    const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new Error(`patch ${file}: cannot read it (${e.code ?? e.message})`);
    });
    const parsed = parsePatch(text, file);
    const strip = await chooseStrip(parsed, (rel) => target.has(rel));
    parsedAll.push({ file, parsed, strip, touched: touchedPaths(parsed, strip) });
  }
  const scratch = await mkdtemp(join(tmpdir(), 'obsdlab-patch-'));
  try {
    const copied = new Set<string>();
    for (const p of parsedAll) {
      for (const rel of p.touched) {
        if (copied.has(rel)) continue;
        copied.add(rel);
        const data = await target.read(rel);
        if (data === null) continue;
        await mkdir(dirname(join(scratch, rel)), { recursive: true });
        await writeFile(join(scratch, rel), data);
      }
    }
    const results: PatchResult[] = [];
    for (const p of parsedAll) {
      const dry = await runPatch(scratch, p.file, p.parsed, p.strip, true, signal);
      if (dry.verdict === 'clean' || dry.verdict === 'offset' || dry.verdict === 'fuzz') {
        await runPatch(scratch, p.file, p.parsed, p.strip, false, signal);
      }
      results.push({ patch: p.file, parsed: p.parsed, strip: p.strip, touched: p.touched, ...dry });
    }
    return results;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Applies one patch for real into a build tree; returns what happened (the caller decides about 'fails'). */
export async function applyPatchToTree(treeDir: string, patchFile: string, signal?: AbortSignal): Promise<PatchResult> {
  const parsed = parsePatch(await readFile(patchFile, 'utf8'), patchFile);
  const strip = await chooseStrip(parsed, async (rel) => access(join(treeDir, rel)).then(() => true, () => false));
  const dry = await runPatch(treeDir, patchFile, parsed, strip, true, signal);
  if (dry.verdict === 'clean' || dry.verdict === 'offset' || dry.verdict === 'fuzz') {
    const real = await runPatch(treeDir, patchFile, parsed, strip, false, signal);
    return { patch: patchFile, parsed, strip, touched: touchedPaths(parsed, strip), ...real };
  }
  return { patch: patchFile, parsed, strip, touched: touchedPaths(parsed, strip), ...dry };
}

const VERDICT_TEXT: Record<PatchVerdict, string> = {
  clean: 'applies cleanly',
  offset: 'applies with offsets',
  fuzz: 'applies with fuzz',
  'already-applied': 'already applied',
  fails: 'FAILS',
};

/** Plain-text report for one patch (mail-friendly, no colour). */
export function formatPatchResult(r: PatchResult, treeDescription: string): string {
  const out = [`${basename(r.patch)}: ${VERDICT_TEXT[r.verdict]} (-p${r.strip}, ${r.parsed.format} diff, ${r.touched.length} file(s))`];
  if (r.verdict === 'offset' || r.verdict === 'fuzz') {
    for (const f of r.files) {
      for (const h of f.hunks) {
        if (h.status === 'offset' || h.status === 'fuzz') {
          out.push(`  ${f.path} hunk #${h.number} at ${h.at}${h.offset !== undefined ? ` (offset ${h.offset})` : ''}${h.fuzz !== undefined ? ` fuzz ${h.fuzz}` : ''}`);
        }
      }
    }
  }
  if (r.verdict === 'fails') {
    out.push(`  against ${treeDescription}`);
    for (const p of r.problems) out.push(`  ${p}`);
    for (const rej of r.rejected) {
      out.push(`  ${rej.file}: hunk #${rej.hunk.number} rejected${rej.at !== undefined ? ` at line ${rej.at}` : ''} (diff made against ${rej.revision}; ${basename(r.patch)} line ${rej.hunk.line}):`);
      for (const l of rej.hunk.text.split('\n')) out.push(`    ${l}`);
    }
  }
  return out.join('\n');
}
