import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { applyPatchToTree, chooseStrip, checkPatchSeries, formatPatchResult } from '../../src/build/patch/check.ts';
import { parsePatch, stripPath, type ParsedPatch } from '../../src/build/patch/parse.ts';
import { resolveDirSource, resolveGitSource } from '../../src/build/source.ts';
import { sharedDir } from '../../src/util/paths.ts';

const P = join(sharedDir(), 'patches');
const bundle = join(sharedDir(), 'openbsd-lab', 'src', 'sys.bundle');
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'obsdlab-patch-test-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

/**
 * A tree built from a diff's own hunks: each file holds every hunk's expected
 * lines ("before", or "after" for an already-applied tree) at the hunk's line,
 * with filler lines in between.
 */
async function synthesise(dir: string, parsed: ParsedPatch, strip: number, side: 'before' | 'after'): Promise<void> {
  for (const f of parsed.files) {
    const rel = stripPath((f.oldPath ?? f.newPath)!, strip)!;
    const lines: string[] = [];
    for (const h of f.hunks) {
      const start = side === 'before' ? h.oldStart : h.newStart;
      while (lines.length < start - 1) lines.push(`/* filler ${lines.length + 1} */`);
      lines.push(...h[side]);
    }
    for (let i = 0; i < 5; i++) lines.push(`/* tail ${i} */`);
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), lines.join('\n') + '\n');
  }
}

test('a diff applies cleanly to a tree made from its own context and removed lines', async () => {
  const file = join(P, 'dlg-mbuf-ext-proxy-2026-04-22.diff');
  const parsed = parsePatch(await readFile(file, 'utf8'), file);
  const dir = join(work, 'clean');
  await synthesise(dir, parsed, 0, 'before');
  const src = await resolveDirSource(dir);
  const [r] = await checkPatchSeries(src, [file]);
  assert.equal(r!.verdict, 'clean');
  assert.equal(r!.strip, 0);
  assert.deepEqual(r!.touched, ['kern/uipc_mbuf.c', 'sys/mbuf.h']);
  // the check never writes to the tree
  assert.doesNotMatch(await readFile(join(dir, 'kern/uipc_mbuf.c'), 'utf8'), /m_ext_refs_pool/);
});

test('a conflicting tree names the rejected hunk, the patch and the revision', async () => {
  const file = join(P, 'dlg-mbuf-ext-proxy-2026-04-22.diff');
  const parsed = parsePatch(await readFile(file, 'utf8'), file);
  const dir = join(work, 'conflict');
  await synthesise(dir, parsed, 0, 'before');
  const path = join(dir, 'sys/mbuf.h');
  const text = await readFile(path, 'utf8');
  // hunk #2 of sys/mbuf.h (struct mbuf) removes lines; change them in the tree
  const removed = parsed.files[1]!.hunks[1]!.before.filter((l) => l.trim()).slice(3, 6);
  let changed = text;
  for (const l of removed) changed = changed.replace(l, `${l} /* local change */`);
  assert.notEqual(changed, text);
  await writeFile(path, changed);
  const [r] = await checkPatchSeries(await resolveDirSource(dir), [file]);
  assert.equal(r!.verdict, 'fails');
  assert.deepEqual(r!.rejected.map((x) => [x.file, x.hunk.number, x.revision]), [['sys/mbuf.h', 2, 'r1.269']]);
  const report = formatPatchResult(r!, 'the test tree');
  assert.match(report, /^dlg-mbuf-ext-proxy-2026-04-22\.diff: FAILS/);
  assert.match(report, /sys\/mbuf\.h: hunk #2 rejected at line \d+ \(diff made against r1\.269; dlg-mbuf-ext-proxy-2026-04-22\.diff line 253\)/);
  assert.match(report, /@@ -282,13 \+280,22 @@ struct mbuf \{/);
});

test('a tree that already has the change reports "already applied"', async () => {
  const file = join(P, 'dlg-mbuf-ext-refs.git.diff');
  const parsed = parsePatch(await readFile(file, 'utf8'), file);
  const dir = join(work, 'applied');
  await synthesise(dir, parsed, 1, 'after');
  const [r] = await checkPatchSeries(await resolveDirSource(dir), [file]);
  assert.equal(r!.verdict, 'already-applied');
  assert.equal(r!.strip, 1);
});

test('strip level follows the tree: Index: sys/kern/... against a sys/ tree needs -p1', async () => {
  const text = (await readFile(join(P, 'dlg-mbuf-ext-proxy-2026-04-22.diff'), 'utf8')).replace(/^(Index: |--- |\+\+\+ )(kern|sys)\//gm, '$1sys/$2/');
  const parsed = parsePatch(text, 'src-relative.diff');
  const dir = join(work, 'clean');
  const has = async (rel: string) => (await resolveDirSource(dir)).has(rel);
  assert.equal(await chooseStrip(parsed, has), 1);
  assert.equal(await chooseStrip(parsePatch(await readFile(join(P, 'dlg-mbuf-ext-proxy-2026-04-22.diff'), 'utf8'), 'p'), has), 0);
});

test('applyPatchToTree changes the tree for real', async () => {
  const file = join(P, 'dlg-mbuf-ext-proxy-v2.git.diff');
  const parsed = parsePatch(await readFile(file, 'utf8'), file);
  const dir = join(work, 'real-apply');
  await synthesise(dir, parsed, 1, 'before');
  const r = await applyPatchToTree(dir, file);
  assert.equal(r.verdict, 'clean');
  const again = await applyPatchToTree(dir, file);
  assert.equal(again.verdict, 'already-applied');
});

// The real trees from the bundle, through the product's git source code.
const rev = (r: string) => resolveGitSource(bundle, r);

test('b4c64bc50: the 2026-04-22 proxy diff and the refs diff each apply', { timeout: 300_000 }, async () => {
  const src = await rev('b4c64bc50');
  const [proxy] = await checkPatchSeries(src, [join(P, 'dlg-mbuf-ext-proxy-2026-04-22.diff')]);
  assert.equal(proxy!.verdict, 'clean');
  assert.equal(proxy!.strip, 0);
  const [refs] = await checkPatchSeries(src, [join(P, 'dlg-mbuf-ext-refs.git.diff')]);
  assert.ok(refs!.verdict === 'clean' || refs!.verdict === 'offset' || refs!.verdict === 'fuzz', refs!.verdict);
  assert.equal(refs!.strip, 1);
});

test('b4c64bc50: v2 applies on top of v1, not alone', { timeout: 300_000 }, async () => {
  const src = await rev('b4c64bc50');
  const series = await checkPatchSeries(src, [join(P, 'dlg-mbuf-ext-proxy-v1.git.diff'), join(P, 'dlg-mbuf-ext-proxy-v2.git.diff')]);
  assert.deepEqual(series.map((r) => r.verdict === 'fails' || r.verdict === 'already-applied'), [false, false]);
  const [alone] = await checkPatchSeries(src, [join(P, 'dlg-mbuf-ext-proxy-v2.git.diff')]);
  assert.equal(alone!.verdict, 'fails');
});

test('14639db46: the proxy diff is already applied, the refs diff does not apply', { timeout: 300_000 }, async () => {
  const src = await rev('14639db46');
  const [proxy] = await checkPatchSeries(src, [join(P, 'dlg-mbuf-ext-proxy-2026-04-22.diff')]);
  assert.equal(proxy!.verdict, 'already-applied');
  const [refs] = await checkPatchSeries(src, [join(P, 'dlg-mbuf-ext-refs.git.diff')]);
  assert.equal(refs!.verdict, 'fails');
  assert.ok(refs!.rejected.length > 0);
  assert.ok(refs!.rejected.every((x) => x.revision === 'blob 4f27cdd8b' || x.revision === 'blob 9fb28a49c'));
});
