import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConsoleReader } from '../../src/console/reader.ts';
import { MAX_LINE_CELLS } from '../../src/console/transcript.ts';
import { DDB_PROMPT } from '../../src/console/openbsd.ts';
import { sharedDir } from '../../src/util/paths.ts';

const real = join(sharedDir(), 'corpus', 'real');
const noInitPath = join(real, 'openbsd-lab-mp-no-init-ddb-all-cpus.txt');
const upPath = join(real, 'openbsd-8.0-beta-amd64-up-cannot-open-disk.txt');
const haveCorpus = existsSync(noInitPath) && existsSync(upPath);
const skipCorpus = haveCorpus ? false : `the real transcripts are not at ${real}`;

function readAll(bytes: Uint8Array | string, windowChars?: number): ConsoleReader {
  const r = new ConsoleReader({ windowChars });
  r.feed(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  return r;
}

test('CR/LF mixes become LF; a CR before a LF does not erase the line', () => {
  const r = readAll('a\r\nb\nc\r\r\nd\n\re\r\n');
  assert.equal(r.text(), 'a\nb\nc\nd\ne\n');
});

test('a lone CR returns to the line start and the next text overwrites', () => {
  assert.equal(readAll('12345\rab\n').text(), 'ab345\n');
});

test('NULs, BEL and DEL print nothing; tabs stay', () => {
  assert.equal(readAll('a\x00b\x07c\x7fd\te\n').text(), 'abcd\te\n');
});

test('UTF-8 split across chunks decodes to one character', () => {
  const r = new ConsoleReader();
  const bytes = Buffer.from('café ✓ 𝄞\n', 'utf8');
  for (const b of bytes) r.feed(Uint8Array.of(b));
  assert.equal(r.text(), 'café ✓ 𝄞\n');
});

test('invalid UTF-8 bytes become U+FFFD, one per bad sequence', () => {
  assert.equal(readAll(Uint8Array.of(0x61, 0xff, 0x62, 0xc3, 0x63, 0x0a)).text(), 'a\uFFFDb\uFFFDc\n');
});

test('escape sequences split across chunks are stripped', () => {
  const r = new ConsoleReader();
  const bytes = Buffer.from('\x1b[10;02H\x1b]0;title\x07ok\x1b(B!\n', 'latin1');
  for (const b of bytes) r.feed(Uint8Array.of(b));
  assert.equal(r.text(), 'ok!\n');
});

test('SeaBIOS escapes and the iPXE line that erases itself (real 8.0-beta transcript)', { skip: skipCorpus }, () => {
  const r = readAll(readFileSync(upPath));
  const lines = r.text().split('\n');
  // Raw: ESC c ESC [?7l ESC [2J ESC [0m SeaBIOS (version 1.16.2-debian-1.16.2-1) CR CR LF
  assert.equal(lines[0], 'SeaBIOS (version 1.16.2-debian-1.16.2-1)');
  // Raw: "Press Ctrl-B to configure iPXE (PCI 00:03.0)..." CR, 79 spaces, CR CR LF: the line is blanked.
  assert.ok(!r.text().includes('Press Ctrl-B'), 'the iPXE hint was drawn over with spaces');
  assert.ok(lines.includes('Loading /CDBOOT'), 'cursor-positioning escapes before "Loading /CDBOOT" are gone');
  assert.ok(lines.includes('boot> set tty com0'), 'spinner before the prompt is drawn over');
  assert.ok(lines.includes('ddb> show panic'));
});

test('the boot loader spinner resolves to the line a terminal shows (real lab transcript)', { skip: skipCorpus }, () => {
  const lines = readAll(readFileSync(noInitPath)).text().split('\n');
  // Read off the raw bytes: each spinner character is followed by BS and drawn over by the next.
  assert.ok(lines.includes('booting cd0a:/bsd: 2111139+304144+4281536+0+638976 [209208+118+129672]=0x753ff8'), lines.slice(0, 8).join('\n'));
  assert.ok(lines.includes('cannot open cd0a:/etc/random.seed: No such file or directory'));
  assert.ok(lines.includes('ddb{1}> x/i $rip'));
});

test('a prompt without a newline is matched (partial line)', () => {
  const r = new ConsoleReader();
  r.feed(Buffer.from('panic: no init\r\n\rddb{0}', 'latin1'));
  assert.equal(r.search(DDB_PROMPT), null);
  r.feed(Buffer.from('> ', 'latin1'));
  const m = r.search(DDB_PROMPT);
  assert.ok(m);
  assert.equal(m.match[1], '0');
  assert.equal(m.before, 'panic: no init\nddb{0}> ');
  assert.equal(m.offset, 'panic: no init\r\n\rddb{0}> '.length);
});

test('matches come in order after the cursor; the earliest start wins over pattern order', () => {
  const r = readAll('one two three\n');
  const a = r.search([/three/, /two/]);
  assert.equal(a?.index, 1);
  assert.equal(a?.before, 'one two');
  const b = r.search([/two/, /three/]);
  assert.equal(b?.index, 1);
  assert.equal(b?.before, ' three');
  assert.equal(r.search([/one/, /two/]), null);
});

test('string patterns are literal', () => {
  const r = readAll('x/i $rip\n');
  const m = r.search('$rip');
  assert.equal(m?.match[0], '$rip');
  assert.equal(m?.before, 'x/i $rip');
});

test('ddb pager: text that redraws the line under the cursor is read again, not lost', () => {
  const r = new ConsoleReader();
  r.feed(Buffer.from('\rr15   0x7\r\n\r--db_more--', 'latin1'));
  assert.ok(r.search(/--db_more--/));
  // ddb/db_output.c db_more(): after the key, 11 BS, 11 spaces, 11 BS, then the next line.
  r.feed(Buffer.from('\b'.repeat(11) + ' '.repeat(11) + '\b'.repeat(11) + 'rip   0xffffffff8119baf9    db_enter+0x9\r\n\rok\r\n\rddb{0}> ', 'latin1'));
  const m = r.search(DDB_PROMPT);
  assert.equal(m?.before, 'rip   0xffffffff8119baf9    db_enter+0x9\nok\nddb{0}> ');
  assert.ok(r.text().endsWith('r15   0x7\nrip   0xffffffff8119baf9    db_enter+0x9\nok\nddb{0}> '));
});

test('eraser spaces left after a short redraw are trimmed from the finished line', () => {
  const r = readAll('--db_more--' + '\b'.repeat(11) + ' '.repeat(11) + '\b'.repeat(11) + 'ss 0x10\r\n');
  assert.equal(r.text(), 'ss 0x10\n');
});

test('memory window: old text leaves memory, offsets stay right, unread loss is counted', () => {
  const r = new ConsoleReader({ windowChars: 1024 });
  let raw = '';
  for (let i = 0; i < 5000; i++) raw += `\rline ${i}\r\n`;
  r.feed(Buffer.from(raw, 'latin1'));
  assert.ok(r.text().length <= 1024 * 1.5 + 20, `kept ${r.text().length} chars`);
  assert.ok(r.droppedUnread > 0);
  const m = r.search('line 4998');
  assert.ok(m);
  assert.equal(m.offset, raw.indexOf('line 4998') + 'line 4998'.length);
  assert.equal(r.text().split('\n').at(-2), 'line 4999');
});

test('a line that never ends is broken at MAX_LINE_CELLS so memory stays bounded', () => {
  const r = new ConsoleReader({ windowChars: 1024 * 1024 });
  r.feed(Buffer.alloc(MAX_LINE_CELLS + 10, 'x'));
  const text = r.text();
  assert.equal(text.indexOf('\n'), MAX_LINE_CELLS);
  assert.equal(text.length, MAX_LINE_CELLS + 11);
  const m = r.search(/x\n/);
  assert.equal(m?.offset, MAX_LINE_CELLS);
});

/** Expected prompt ends, read straight from the raw bytes: every "ddb{N}> " in the file. */
function rawPromptEnds(raw: string): number[] {
  return [...raw.matchAll(/ddb\{\d\}> /g)].map((m) => m.index + m[0].length);
}

function promptSequence(reader: ConsoleReader, out: { before: string; offset: number }[]): void {
  for (let m = reader.search(DDB_PROMPT); m; m = reader.search(DDB_PROMPT)) out.push({ before: m.before, offset: m.offset });
}

function splitEverywhere(bytes: Uint8Array, collect: (r: ConsoleReader, out: { before: string; offset: number }[]) => void) {
  const wholeReader = readAll(bytes);
  const whole: { before: string; offset: number }[] = [];
  collect(wholeReader, whole);
  for (let p = 1; p < bytes.length; p++) {
    const r = new ConsoleReader();
    const got: { before: string; offset: number }[] = [];
    r.feed(bytes.subarray(0, p));
    collect(r, got);
    r.feed(bytes.subarray(p));
    collect(r, got);
    if (got.length !== whole.length || got.some((g, i) => g.offset !== whole[i]!.offset || g.before !== whole[i]!.before)) {
      assert.fail(`split at byte ${p}: got ${got.length} matches, offsets ${got.map((g) => g.offset).join(',')}`);
    }
    if (r.text() !== wholeReader.text()) assert.fail(`split at byte ${p}: normalised text differs`);
  }
  return whole;
}

test('every split position of the ddb part of a real transcript finds the same prompts at the raw offsets', { skip: skipCorpus }, () => {
  const file = readFileSync(noInitPath);
  const from = file.indexOf('root on rd0a');
  const bytes = file.subarray(from);
  const expectedOffsets = rawPromptEnds(bytes.toString('latin1'));
  assert.equal(expectedOffsets.length, 11);
  const whole = splitEverywhere(bytes, promptSequence);
  assert.deepEqual(
    whole.map((m) => m.offset),
    expectedOffsets,
  );
  assert.ok(whole[0]!.before.includes('\npanic: no init\nStopped at      db_enter+0x9:   popq    %rbp\n'));
  assert.equal(whole[1]!.before, 'show panic\n*cpu0: no init\nddb{0}> ');
});

test('every split position of the boot loader part (spinner, boot>) gives the same text and prompt', { skip: skipCorpus }, () => {
  const bytes = readFileSync(noInitPath).subarray(0, 2600);
  const whole = splitEverywhere(bytes, (r, out) => {
    for (let m = r.search(/^boot> /); m; m = r.search(/^boot> /)) out.push({ before: m.before, offset: m.offset });
  });
  assert.equal(whole.length, 1);
  assert.equal(whole[0]!.offset, bytes.indexOf('boot> ') + 'boot> '.length);
});

test('random many-way chunkings of a real transcript give the same text and prompts', { skip: skipCorpus }, () => {
  const bytes = readFileSync(upPath);
  const wholeReader = readAll(bytes);
  const whole: { before: string; offset: number }[] = [];
  promptSequence(wholeReader, whole);
  assert.equal(whole.length, 5);
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let round = 0; round < 50; round++) {
    const r = new ConsoleReader();
    const got: { before: string; offset: number }[] = [];
    for (let i = 0; i < bytes.length; ) {
      const n = 1 + Math.floor(rnd() * 40);
      r.feed(bytes.subarray(i, i + n));
      promptSequence(r, got);
      i += n;
    }
    assert.deepEqual(got, whole, `round ${round}`);
    assert.equal(r.text(), wholeReader.text());
  }
});
