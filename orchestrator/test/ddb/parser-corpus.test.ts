// Table-driven: every transcript in test/fixtures/corpus has a NAME.expect.json written by
// reading the transcript; the parser and the triage layer must reproduce it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripCorpusHeader } from '../../src/triage/console-file.ts';
import { meaningfulFrames } from '../../src/triage/frames.ts';
import { triageConsole } from '../../src/triage/triage.ts';

const dir = fileURLToPath(new URL('../fixtures/corpus/', import.meta.url));

interface Expected {
  bug: string;
  kind: string;
  title: string;
  message: string;
  topFrame: string | null;
  cpu: number | null;
  cpusWithTraces: number;
  faultingFrames: number;
  corrupted: boolean;
  faultAddress?: string;
  process?: { pid: number; command: string };
}

const transcripts = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();

test('every corpus transcript has an expectation file', () => {
  assert.ok(transcripts.length >= 19, `only ${transcripts.length} transcripts`);
  const expects = new Set(readdirSync(dir).filter((f) => f.endsWith('.expect.json')));
  for (const t of transcripts) assert.ok(expects.has(t.replace(/\.txt$/, '.expect.json')), `${t} has no .expect.json`);
});

for (const name of transcripts) {
  test(`corpus: ${name}`, () => {
    const text = stripCorpusHeader(readFileSync(join(dir, name), 'utf8'));
    const expected = (JSON.parse(readFileSync(join(dir, name.replace(/\.txt$/, '.expect.json')), 'utf8')) as { reports: Expected[] }).reports;
    const got = triageConsole(text);
    assert.equal(got.length, expected.length, `${name}: ${got.map((g) => g.title).join(' | ')}`);
    expected.forEach((exp, i) => {
      const c = got[i]!;
      const r = c.report;
      const where = `${name} report ${i}`;
      assert.equal(r.kind, exp.kind, `${where}: kind`);
      assert.equal(r.message, exp.message, `${where}: message`);
      assert.equal(c.title, exp.title, `${where}: title`);
      const top = r.faultingTrace ? (meaningfulFrames(r.faultingTrace.frames, r.kind)[0]?.function ?? null) : null;
      assert.equal(top, exp.topFrame, `${where}: top frame`);
      assert.equal(r.cpu, exp.cpu, `${where}: faulting cpu`);
      assert.equal(r.cpus.length, exp.cpusWithTraces, `${where}: cpus with traces`);
      assert.equal(r.faultingTrace?.frames.length ?? 0, exp.faultingFrames, `${where}: frames in faulting trace`);
      assert.equal(r.corrupted, exp.corrupted, `${where}: corrupted (${r.corruptedReasons.join('; ')})`);
      if (exp.faultAddress !== undefined) assert.equal(r.faultAddress, exp.faultAddress, `${where}: fault address`);
      if (exp.process !== undefined) {
        assert.equal(r.process?.pid, exp.process.pid, `${where}: pid`);
        assert.equal(r.process?.command, exp.process.command, `${where}: command`);
      }
      assert.equal(r.raw, text.slice(r.start, r.end), `${where}: raw matches offsets`);
    });
  });
}
