// Robustness: the parser never throws, keeps its offsets consistent and stays linear,
// whatever the console delivers. Seeded PRNG, so failures reproduce.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConsole } from '../../src/ddb/parser.ts';
import type { CrashReport } from '../../src/ddb/report-types.ts';
import { triageReport } from '../../src/triage/triage.ts';
import { consoleNoise, mulberry32 } from './parser-console-noise.ts';

const dir = fileURLToPath(new URL('../fixtures/corpus/', import.meta.url));
const corpus = readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .sort()
  .map((f) => ({ name: f, text: readFileSync(join(dir, f), 'utf8') }));

function checkInvariants(text: string, reports: CrashReport[], what: string): void {
  let prevEnd = 0;
  for (const r of reports) {
    assert.ok(r.start >= prevEnd && r.start <= r.end && r.end <= text.length, `${what}: offsets ${r.start}-${r.end}`);
    assert.equal(r.raw, text.slice(r.start, r.end), `${what}: raw`);
    assert.equal(r.corrupted, r.corruptedReasons.length > 0, `${what}: corrupted flag`);
    const t = triageReport(r);
    assert.match(t.signature, /^[0-9a-f]{16}$/, what);
    assert.ok(t.title.length > 0, what);
    prevEnd = r.end;
  }
}

test('random bytes never throw', () => {
  const rnd = mulberry32(0x5eed);
  for (let round = 0; round < 200; round++) {
    const len = Math.floor(rnd() * 4000);
    let s = '';
    for (let i = 0; i < len; i++) s += String.fromCharCode(Math.floor(rnd() * 256));
    checkInvariants(s, parseConsole(s), `random round ${round}`);
  }
});

test('every truncation prefix of every transcript parses', () => {
  for (const { name, text } of corpus) {
    if (text.length <= 8000) {
      for (let n = 0; n <= text.length; n++) checkInvariants(text.slice(0, n), parseConsole(text.slice(0, n)), `${name}[0,${n})`);
      continue;
    }
    // Long serial logs: every line boundary, and every character inside the crash reports.
    const cuts = new Set<number>([text.length]);
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) cuts.add(i + 1);
    for (const r of parseConsole(text)) for (let n = r.start; n <= r.end; n += 7) cuts.add(n);
    for (const n of cuts) checkInvariants(text.slice(0, n), parseConsole(text.slice(0, n)), `${name}[0,${n})`);
  }
});

test('random interleavings of transcript lines never throw', () => {
  const rnd = mulberry32(42);
  for (let round = 0; round < 150; round++) {
    const a = corpus[Math.floor(rnd() * corpus.length)]!.text.split('\n');
    const b = corpus[Math.floor(rnd() * corpus.length)]!.text.split('\n');
    const out: string[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      if (j >= b.length || (i < a.length && rnd() < 0.5)) out.push(a[i++]!);
      else out.push(b[j++]!);
    }
    const text = out.join(rnd() < 0.5 ? '\n' : '\r\n');
    checkInvariants(text, parseConsole(text), `interleaving round ${round}`);
  }
});

test('a few MB of console noise complete (linear-time smoke test; timing is in bench/)', () => {
  const text = consoleNoise(mulberry32(7), 3_000_000, corpus.map((c) => c.text));
  const reports = parseConsole(text);
  checkInvariants(text, reports, 'noise');
  // the noise embeds whole corpus transcripts, so crashes must be found in it
  assert.ok(reports.length > 0);
});

test('a single 2 MB line without newline', () => {
  const text = 'x'.repeat(1_000_000) + 'panic: ' + 'y'.repeat(1_000_000);
  checkInvariants(text, parseConsole(text), 'long line');
});

test('adversarial lines: long hex runs and repeated keywords in one message', () => {
  const hexRun = 'panic: ' + 'abcdef'.repeat(5000) + '\nStopped at      db_enter+0x9:   popq    %rbp\n';
  const [r] = parseConsole(hexRun);
  assert.ok(r!.message.length <= 2048);
  checkInvariants(hexRun, [r!], 'hex run');
  const locks = 'panic: ' + 'mtx_enter: '.repeat(400) + '\nStopped at      db_enter+0x9:   popq    %rbp\n';
  checkInvariants(locks, parseConsole(locks), 'lock words');
  const frames = 'ddb{0}> trace\n' + 'f('.repeat(3000) + ' at ' + 'g'.repeat(3000) + '\n';
  checkInvariants(frames, parseConsole(frames), 'parens');
});
