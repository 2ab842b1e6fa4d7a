// Same bug → same signature or intersecting titles; different bugs → neither.
// The `bug` labels in the corpus .expect.json files were assigned by reading the transcripts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConsole } from '../../src/ddb/parser.ts';
import { stripCorpusHeader } from '../../src/triage/console-file.ts';
import { crashSignature, normaliseMessage, scrub, signatureFrames } from '../../src/triage/signature.ts';
import { groupCrashes, sameBug, triageConsole, type TriagedCrash } from '../../src/triage/triage.ts';

const dir = fileURLToPath(new URL('../fixtures/corpus/', import.meta.url));
const load = (name: string): TriagedCrash[] => triageConsole(stripCorpusHeader(readFileSync(join(dir, name), 'utf8')));

const labelled: { bug: string; file: string; crash: TriagedCrash }[] = [];
for (const f of readdirSync(dir).filter((n) => n.endsWith('.txt')).sort()) {
  const exp = JSON.parse(readFileSync(join(dir, f.replace(/\.txt$/, '.expect.json')), 'utf8')) as { reports: { bug: string }[] };
  load(f).forEach((crash, i) => labelled.push({ bug: exp.reports[i]!.bug, file: f, crash }));
}

test('the two syzbot arptfree reports (one interleaved, other build) share a signature', () => {
  const [a] = load('syzbot-108d7f10e00000-assert-ifp-arptfree.txt');
  const [b] = load('syzbot-14216cba680000-assert-ifp-arptfree-interleaved.txt');
  assert.equal(a!.signature, b!.signature);
  // their messages differ in line number (716 vs 758) and their frames in offsets
  assert.notEqual(a!.report.message, b!.report.message);
});

test('the refcnt_rele fault: full seed session and the cut-off tech@ quote are the same bug by title', () => {
  const [seed] = load('seed-thread-ddb-session.txt');
  const [tech] = load('tech-2026-03-mbuf-extrefs-refcnt_rele-uaf.txt');
  assert.equal(seed!.title, tech!.title);
  assert.ok(sameBug(seed!, tech!));
});

test('reports of one bug match, reports of different bugs never do (all pairs)', () => {
  assert.equal(labelled.length, 18, 'crashes in the corpus: 14 files with one, 2 with two, 3 with none');
  const bugs = new Set(labelled.map((l) => l.bug));
  assert.ok(bugs.size >= 14, `only ${bugs.size} distinct bugs`);
  for (let i = 0; i < labelled.length; i++) {
    for (let j = i + 1; j < labelled.length; j++) {
      const a = labelled[i]!;
      const b = labelled[j]!;
      const pair = `${a.file} (${a.crash.title}) vs ${b.file} (${b.crash.title})`;
      if (a.bug === b.bug) assert.ok(sameBug(a.crash, b.crash), `should match: ${pair}`);
      else {
        assert.notEqual(a.crash.signature, b.crash.signature, `signature collision: ${pair}`);
        assert.ok(!sameBug(a.crash, b.crash), `should differ: ${pair}`);
      }
    }
  }
  const groups = groupCrashes(labelled.map((l) => ({ ...l.crash, bug: l.bug })));
  assert.equal(groups.length, bugs.size);
  for (const g of groups) assert.equal(new Set(g.map((c) => c.bug)).size, 1, g.map((c) => c.title).join(' / '));
});

test('assertion signatures ignore the build path and the line number', () => {
  const [a] = load('syzbot-108d7f10e00000-assert-ifp-arptfree.txt');
  assert.equal(normaliseMessage(a!.report), 'kernel diagnostic assertion "ifp != NULL" failed');
  assert.deepEqual(signatureFrames(a!.report), ['arptfree', 'arptimer', 'timeout_run']);
});

test('scrub removes addresses, numbers and paths but keeps pool names', () => {
  assert.equal(scrub('pool_do_get: mcl2k free list modified: page 0xffff800012345000; item addr 0xffff800012345678'), 'pool_do_get: mcl2k free list modified: page ADDR; item addr ADDR');
  assert.equal(scrub('cannot open disk, 0x1100/0x2f02, error 22'), 'cannot open disk, ADDR/ADDR, error N');
  assert.equal(scrub('file "/obsd-lab/build/sys/net/pf_norm.c", line 1055'), 'file "PATH", line N');
});

test('the signature does not depend on offsets, addresses or the faulting CPU number', () => {
  const text = stripCorpusHeader(readFileSync(join(dir, 'openbsd-lab-mp-no-init-ddb-all-cpus.txt'), 'utf8'));
  const [, original] = parseConsole(text);
  const shifted = text.replace(/start_init\+0x2ee/g, 'start_init+0x31a').replace(/ffff80000e8eab/g, 'ffff80000f00ab');
  const [, moved] = parseConsole(shifted);
  assert.equal(crashSignature(moved!), crashSignature(original!));
  assert.notEqual(crashSignature({ ...original!, message: 'no root' }), crashSignature(original!));
});
