import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseGnuPatchOutput } from '../../src/build/patch/gnu-output.ts';
import { describeRevision, parsePatch, PatchParseError, stripPath } from '../../src/build/patch/parse.ts';
import { sharedDir } from '../../src/util/paths.ts';

const patches = join(sharedDir(), 'patches');
const read = (f: string) => readFileSync(join(patches, f), 'utf8');
const fixture = (f: string) =>
  readFileSync(new URL(`../fixtures/build/${f}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('# '))
    .join('\n');

// File lists and hunk counts counted by reading the diffs (grep '^@@').
const EXPECTED: Record<string, { format: string; files: [string, number][]; revisions: string[] }> = {
  'dlg-mbuf-ext-proxy-2026-04-22.diff': { format: 'cvs', files: [['kern/uipc_mbuf.c', 11], ['sys/mbuf.h', 3]], revisions: ['1.304', '1.269'] },
  'dlg-mbuf-ext-proxy-v1.git.diff': { format: 'git', files: [['b/kern/uipc_mbuf.c', 13], ['b/sys/mbuf.h', 3]], revisions: ['4f27cdd8b', '9fb28a49c'] },
  'dlg-mbuf-ext-proxy-v2.git.diff': { format: 'git', files: [['b/kern/uipc_mbuf.c', 3]], revisions: ['645dac098'] },
  'dlg-mbuf-ext-refs.git.diff': { format: 'git', files: [['b/kern/uipc_mbuf.c', 12], ['b/sys/mbuf.h', 4]], revisions: ['4f27cdd8b', '9fb28a49c'] },
  'bluhm-mbuf-ext-lockless.git.diff': { format: 'git', files: [['b/kern/uipc_mbuf.c', 4]], revisions: ['b7ae82b17'] },
};

for (const [file, exp] of Object.entries(EXPECTED)) {
  test(`parses ${file}: format, files, hunk counts`, () => {
    const p = parsePatch(read(file), file);
    assert.equal(p.format, exp.format);
    assert.deepEqual(
      p.files.map((f) => [f.newPath, f.hunks.length]),
      exp.files,
    );
    p.files.forEach((f, i) => {
      if (exp.revisions[i]) assert.equal(f.revision, exp.revisions[i]);
      // every hunk's line counts match its header
      for (const h of f.hunks) {
        assert.equal(h.before.length, h.oldLines, `${f.newPath} hunk ${h.number} old lines`);
        assert.equal(h.after.length, h.newLines, `${f.newPath} hunk ${h.number} new lines`);
      }
    });
  });
}

test('CVS diff keeps Index:, RCS file and the -r revision', () => {
  const p = parsePatch(read('dlg-mbuf-ext-proxy-2026-04-22.diff'), 'proxy');
  const f = p.files[0]!;
  assert.equal(f.indexPath, 'kern/uipc_mbuf.c');
  assert.equal(f.rcsFile, '/cvs/src/sys/kern/uipc_mbuf.c,v');
  assert.equal(describeRevision(f), 'r1.304');
  assert.equal(f.hunks[0]!.oldStart, 123);
  assert.equal(f.hunks[0]!.newLines, 21);
  assert.equal(f.hunks[0]!.section, 'int max_linkhdr;		/* largest link-level ');
  assert.equal(f.hunks[0]!.line, 7);
  assert.equal(p.files[1]!.hunks[2]!.line, 280);
});

test('git diff revision is the old blob', () => {
  const p = parsePatch(read('dlg-mbuf-ext-proxy-v2.git.diff'), 'v2');
  assert.equal(describeRevision(p.files[0]!), 'blob 645dac098');
  assert.match(p.preamble, /From bluhm\/sys commit 44999a593/);
});

test('the CVS diff at the end of the seed thread parses like the patch file', () => {
  const seed = readFileSync(join(sharedDir(), 'seed-thread.txt'), 'utf8');
  const p = parsePatch(seed, 'seed-thread.txt');
  assert.equal(p.format, 'cvs');
  assert.deepEqual(p.files.map((f) => [f.indexPath, f.hunks.length, f.revision]), [
    ['kern/uipc_mbuf.c', 11, '1.304'],
    ['sys/mbuf.h', 3, '1.269'],
  ]);
  assert.equal(p.files[0]!.hunks[0]!.line, 152);
  const file = parsePatch(read('dlg-mbuf-ext-proxy-2026-04-22.diff'), 'f');
  assert.deepEqual(p.files.map((f) => f.hunks.map((h) => h.after)), file.files.map((f) => f.hunks.map((h) => h.after)));
});

test('a truncated hunk is an error naming file and line', () => {
  const text = read('dlg-mbuf-ext-proxy-v2.git.diff').split('\n').slice(0, 14).join('\n');
  assert.throws(() => parsePatch(text, 'cut.diff'), (e: unknown) => e instanceof PatchParseError && /^cut\.diff:\d+: hunk 1 of b\/kern\/uipc_mbuf\.c/.test(e.message));
});

test('text without a diff is rejected', () => {
  assert.throws(() => parsePatch('hello\nworld\n', 'mail.txt'), /mail\.txt:1: no file changes found/);
});

test('stripPath removes leading components like patch -pN', () => {
  assert.equal(stripPath('a/kern/uipc_mbuf.c', 1), 'kern/uipc_mbuf.c');
  assert.equal(stripPath('kern/uipc_mbuf.c', 0), 'kern/uipc_mbuf.c');
  assert.equal(stripPath('sys/kern/uipc_mbuf.c', 1), 'kern/uipc_mbuf.c');
  assert.equal(stripPath('kern', 1), null);
});

test('GNU patch output: offsets and fuzz (v1 on b4c64bc50)', () => {
  const files = parseGnuPatchOutput(fixture('gnu-patch-v1-on-b4c64bc50.txt'));
  assert.deepEqual(files.map((f) => [f.path, f.status]), [['kern/uipc_mbuf.c', 'applied'], ['sys/mbuf.h', 'applied']]);
  assert.equal(files[0]!.hunks.length, 13);
  assert.deepEqual(files[0]!.hunks[12], { number: 13, status: 'offset', at: 1561, offset: -29 });
  assert.deepEqual(files[1]!.hunks, [{ number: 3, status: 'fuzz', at: 446, fuzz: 2 }]);
});

test('GNU patch output: failed hunks (refs on 14639db46)', () => {
  const files = parseGnuPatchOutput(fixture('gnu-patch-refs-on-14639db46.txt'));
  assert.deepEqual(files.map((f) => f.status), ['failed', 'failed']);
  assert.deepEqual(files[0]!.hunks.filter((h) => h.status === 'failed').map((h) => h.number), [1, 4, 5, 9, 10, 11, 12]);
  assert.deepEqual(files[1]!.hunks.filter((h) => h.status === 'failed').map((h) => [h.number, h.at]), [[2, 146], [3, 283]]);
});

test('GNU patch output: reversed (proxy on 14639db46) and missing file', () => {
  assert.deepEqual(parseGnuPatchOutput(fixture('gnu-patch-proxy-on-14639db46.txt')).map((f) => f.status), ['reversed', 'reversed']);
  const missing = parseGnuPatchOutput(fixture('gnu-patch-missing-file.txt'));
  assert.deepEqual(missing.map((f) => [f.path, f.status]), [[null, 'missing']]);
});
