import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SignifyError,
  checkDigests,
  parsePublicKey,
  parseSha256Listing,
  parseSignature,
  sha256Hex,
  verifyEmbedded,
} from '../../src/images/signify.ts';
import { verifyFiles } from '../../src/images/verify-files.ts';
import { listingLine, makeTestKey } from './signify-keys.ts';

const SIGNIFY = '/usr/bin/signify-openbsd';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'obsdlab-signify-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// A real key pair printed by signify-openbsd -G (Debian 32-1), kept to pin the parser to the real layout.
const REAL_PUB = 'untrusted comment: test key public key\nRWTBB2wnK5G6BkrIH/BaGzkf/l0C/iSbz+OvYO1Bk4qZ22BwOH2GlYDp\n';
const REAL_SIG =
  'untrusted comment: verify with k.pub\n' +
  'RWTBB2wnK5G6BlKGVNqsN99llswHVcCBktZjKZPCE7JKbrh8AheOACXWxYo8wMs8r3RYF80DOLhMz34L0ZcB3E08sNNApdJUAA4=\n' +
  'SHA256 (a) = 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\n';

test('parses a public key and an embedded signature written by signify-openbsd', () => {
  const pub = parsePublicKey(REAL_PUB);
  assert.equal(pub.comment, 'test key public key');
  assert.equal(pub.keynum.toString('hex'), 'c1076c272b91ba06');
  assert.equal(pub.key.length, 32);
  const sig = parseSignature(REAL_SIG);
  assert.equal(sig.keynum.toString('hex'), 'c1076c272b91ba06');
  assert.equal(sig.sig.length, 64);
  // sha256("hello\n") is the well-known 5891b5b5...; the listing signed by signify names it.
  assert.equal(sha256Hex(Buffer.from('hello\n')), '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03');
  const msg = verifyEmbedded(REAL_PUB, REAL_SIG);
  assert.deepEqual([...parseSha256Listing(msg.toString()).keys()], ['a']);
});

test('rejects the real signature when one byte of the embedded listing changes', () => {
  const tampered = REAL_SIG.replace('(a)', '(b)');
  assert.throws(() => verifyEmbedded(REAL_PUB, tampered), /signature verification failed/);
});

test('accepts a Node-made key and SHA256.sig in signify format', () => {
  const key = makeTestKey();
  const listing = listingLine('install78.img', 'ab'.repeat(32)) + listingLine('bsd.rd', 'cd'.repeat(32));
  const msg = verifyEmbedded(key.pubFile, key.signEmbedded(listing));
  assert.equal(msg.toString(), listing);
  assert.equal(parseSha256Listing(msg.toString()).get('bsd.rd'), 'cd'.repeat(32));
});

test('rejects a signature made with another key that has the same keynum', () => {
  const a = makeTestKey(Buffer.alloc(8, 7));
  const b = makeTestKey(Buffer.alloc(8, 7));
  assert.throws(() => verifyEmbedded(a.pubFile, b.signEmbedded('SHA256 (x) = ' + '0'.repeat(64) + '\n')), /verification failed/);
});

test('rejects a signature whose keynum differs from the public key, naming both', () => {
  const a = makeTestKey(Buffer.from('0102030405060708', 'hex'));
  const b = makeTestKey(Buffer.from('1112131415161718', 'hex'));
  assert.throws(
    () => verifyEmbedded(a.pubFile, b.signEmbedded('x\n')),
    (e: Error) => e instanceof SignifyError && /1112131415161718/.test(e.message) && /0102030405060708/.test(e.message),
  );
});

test('rejects malformed files with the line at fault', () => {
  const key = makeTestKey();
  const sig = key.signEmbedded('SHA256 (x) = ' + '0'.repeat(64) + '\n');
  assert.throws(() => parseSignature(sig.subarray(0, 20)), /line 1: missing newline/);
  const [l1, l2] = sig.toString().split('\n');
  assert.throws(() => parseSignature(`${l1}\n${l2!.slice(0, 40)}\n`), /line 2: (not valid base64|signature is \d+ bytes)/);
  assert.throws(() => parseSignature(`${l1}\n${l2}`), /line 2: missing newline/);
  assert.throws(() => parsePublicKey('comment: x\n' + key.pubFile.split('\n')[1] + '\n'), /line 1: expected "untrusted comment:"/);
  // a public key file given where a signature is expected: wrong length
  assert.throws(() => parseSignature(key.pubFile), /signature is 42 bytes, expected 74/);
  const wrongAlg = Buffer.from(l2!, 'base64');
  wrongAlg.write('Xx', 0, 'latin1');
  assert.throws(() => parseSignature(`${l1}\n${wrongAlg.toString('base64')}\n`), /unsupported algorithm "Xx"/);
  // detached signature (no embedded listing) is not a SHA256.sig
  assert.throws(() => verifyEmbedded(key.pubFile, `${l1}\n${l2}\n`), /no embedded message/);
});

test('listing parser names the bad line', () => {
  assert.throws(() => parseSha256Listing('SHA256 (a) = ' + 'a'.repeat(64) + '\nMD5 (b) = 00\n', 'SHA256.sig'), /SHA256.sig: line 2/);
  const checks = checkDigests(new Map([['a', 'a'.repeat(64)]]), [
    { name: 'a', sha256: 'a'.repeat(64) },
    { name: 'b', sha256: 'a'.repeat(64) },
    { name: 'a', sha256: 'b'.repeat(64) },
  ]);
  assert.deepEqual(
    checks.map((c) => c.status),
    ['ok', 'unlisted', 'mismatch'],
  );
});

test('verifyFiles: good, tampered, unlisted and missing files get one verdict each', async (t) => {
  const dir = tempDir(t);
  const key = makeTestKey();
  writeFileSync(join(dir, 'good.img'), 'good contents');
  writeFileSync(join(dir, 'bad.img'), 'original');
  writeFileSync(join(dir, 'extra.img'), 'not listed');
  const listing = listingLine('good.img', sha256Hex(Buffer.from('good contents'))) + listingLine('bad.img', sha256Hex(Buffer.from('original')));
  writeFileSync(join(dir, 'k.pub'), key.pubFile);
  writeFileSync(join(dir, 'SHA256.sig'), key.signEmbedded(listing));
  writeFileSync(join(dir, 'bad.img'), 'tampered');

  const ok = await verifyFiles(join(dir, 'k.pub'), join(dir, 'SHA256.sig'), [join(dir, 'good.img')]);
  assert.equal(ok.ok, true);
  const res = await verifyFiles(join(dir, 'k.pub'), join(dir, 'SHA256.sig'), [
    join(dir, 'good.img'),
    join(dir, 'bad.img'),
    join(dir, 'extra.img'),
    join(dir, 'gone.img'),
  ]);
  assert.equal(res.ok, false);
  assert.deepEqual(
    res.checks.map((c) => c.status),
    ['ok', 'mismatch', 'unlisted', 'unreadable'],
  );
  assert.match(res.lines[1]!, /bad\.img: FAIL: SHA256 mismatch/);
  assert.match(res.lines[2]!, /extra\.img: FAIL: not listed in .*SHA256\.sig/);
  assert.match(res.lines[3]!, /gone\.img: FAIL: cannot read \(ENOENT\)/);
});

test('real signify-openbsd: its key pair and SHA256.sig verify; a tampered copy does not', { skip: existsSync(SIGNIFY) ? false : `${SIGNIFY} not installed (Debian package signify-openbsd)` }, async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'base78.tgz'), 'pretend base set\n');
  writeFileSync(join(dir, 'bsd.rd'), 'pretend ramdisk kernel\n');
  execFileSync(SIGNIFY, ['-G', '-n', '-c', 'obsdlab test', '-p', join(dir, 'test.pub'), '-s', join(dir, 'test.sec')]);
  // the listing is what OpenBSD's `sha256 -h` writes; sha256sum's digest is an independent check of ours
  const listing = ['base78.tgz', 'bsd.rd']
    .map((n) => listingLine(n, execFileSync('sha256sum', [join(dir, n)]).toString().split(' ')[0]!))
    .join('');
  writeFileSync(join(dir, 'listing'), listing);
  execFileSync(SIGNIFY, ['-S', '-e', '-s', join(dir, 'test.sec'), '-m', join(dir, 'listing'), '-x', join(dir, 'SHA256.sig')]);
  // signify itself accepts the pair (sanity of the fixture)
  execFileSync(SIGNIFY, ['-C', '-p', join(dir, 'test.pub'), '-x', join(dir, 'SHA256.sig'), 'base78.tgz'], { cwd: dir });

  const res = await verifyFiles(join(dir, 'test.pub'), join(dir, 'SHA256.sig'), [join(dir, 'base78.tgz'), join(dir, 'bsd.rd')]);
  assert.equal(res.ok, true, res.lines.join('\n'));

  const sig = readFileSync(join(dir, 'SHA256.sig'), 'utf8');
  writeFileSync(join(dir, 'tampered.sig'), sig.replace(/= ([0-9a-f])/, (_m, c: string) => `= ${c === '0' ? '1' : '0'}`));
  await assert.rejects(verifyFiles(join(dir, 'test.pub'), join(dir, 'tampered.sig'), [join(dir, 'bsd.rd')]), /verification failed/);

  execFileSync(SIGNIFY, ['-G', '-n', '-p', join(dir, 'other.pub'), '-s', join(dir, 'other.sec')]);
  await assert.rejects(verifyFiles(join(dir, 'other.pub'), join(dir, 'SHA256.sig'), [join(dir, 'bsd.rd')]), /signed with key [0-9a-f]{16}, but the public key is/);
});
