import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Command } from 'commander';
import { register as registerMedia, runMediaFetch, runMediaVerify } from '../../src/commands/media.ts';
import { register as registerImage, runImageBuild } from '../../src/commands/image.ts';
import { listingLine, makeTestKey } from './signify-keys.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function closedPort(): Promise<number> {
  return new Promise((res) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => res(p));
    });
  });
}

test('media verify: exit 0 when all files match; exit 1 with one line per bad file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'obsdlab-cmd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const key = makeTestKey();
  writeFileSync(join(dir, 'k.pub'), key.pubFile);
  writeFileSync(join(dir, 'a.tgz'), 'aaa');
  writeFileSync(join(dir, 'b.tgz'), 'bbb-tampered');
  writeFileSync(join(dir, 'SHA256.sig'), key.signEmbedded(listingLine('a.tgz', sha('aaa')) + listingLine('b.tgz', sha('bbb'))));
  const good = await runMediaVerify({ pubkey: join(dir, 'k.pub'), sig: join(dir, 'SHA256.sig'), files: [join(dir, 'a.tgz')] });
  assert.equal(good.exitCode, 0);
  assert.deepEqual(good.lines.slice(1), [`${join(dir, 'a.tgz')}: OK`]);
  const bad = await runMediaVerify({ pubkey: join(dir, 'k.pub'), sig: join(dir, 'SHA256.sig'), files: [join(dir, 'a.tgz'), join(dir, 'b.tgz')] });
  assert.equal(bad.exitCode, 1);
  assert.match(bad.lines[2]!, /b\.tgz: FAIL: SHA256 mismatch/);
  writeFileSync(join(dir, 'other.pub'), makeTestKey().pubFile);
  const wrongKey = await runMediaVerify({ pubkey: join(dir, 'other.pub'), sig: join(dir, 'SHA256.sig'), files: [join(dir, 'a.tgz')] });
  assert.equal(wrongKey.exitCode, 1);
  assert.match(wrongKey.lines[0]!, /signed with key/);
  assert.match(wrongKey.lines[1]!, /a\.tgz: FAIL: not checked/);
});

test('media verify through commander: exit code set, subcommand registered once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'obsdlab-cmd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const key = makeTestKey();
  writeFileSync(join(dir, 'k.pub'), key.pubFile);
  writeFileSync(join(dir, 'a.tgz'), 'aaa');
  writeFileSync(join(dir, 'SHA256.sig'), key.signEmbedded(listingLine('a.tgz', sha('zzz'))));
  const program = new Command().exitOverride();
  registerMedia(program);
  registerImage(program);
  const written: string[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (written.push(s), true)) as typeof process.stderr.write;
  const prevExit = process.exitCode;
  try {
    await program.parseAsync(['node', 'obsdlab', 'media', 'verify', '--pubkey', join(dir, 'k.pub'), '--sig', join(dir, 'SHA256.sig'), join(dir, 'a.tgz')]);
    assert.equal(process.exitCode, 1);
  } finally {
    process.stderr.write = orig;
    process.exitCode = prevExit;
  }
  assert.match(written.join(''), /a\.tgz: FAIL: SHA256 mismatch/);
  assert.deepEqual(program.commands.map((c) => c.name()), ['media', 'image']);
});

test('media fetch and image build fail fast and clearly when the mirror is unreachable', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'obsdlab-cmd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'k.pub'), makeTestKey().pubFile);
  const port = await closedPort();
  const mirror = `http://127.0.0.1:${port}/pub/OpenBSD`;
  const start = Date.now();
  const fetched = await runMediaFetch({ release: '7.8', arch: 'amd64', mirror, pubkey: join(dir, 'k.pub'), format: 'iso', connectTimeout: 5 });
  assert.equal(fetched.exitCode, 1);
  assert.match(fetched.lines[0]!, new RegExp(`^media fetch: cannot reach mirror ${mirror.replace(/\./g, '\\.')}/7\\.8/amd64/SHA256\\.sig: ECONNREFUSED$`));
  const built = await runImageBuild({ release: '7.8', arch: 'amd64', mirror, pubkey: join(dir, 'k.pub'), connectTimeout: 5 });
  assert.equal(built.exitCode, 1);
  assert.match(built.lines[0]!, /^image build: cannot reach mirror .*ECONNREFUSED$/);
  assert.ok(Date.now() - start < 5000, `took ${Date.now() - start} ms`);
});

test('media fetch / image build without --pubkey explain where the key comes from', async () => {
  const f = await runMediaFetch({ release: '7.8', arch: 'amd64', mirror: '/nowhere', format: 'iso', connectTimeout: 1 });
  assert.equal(f.exitCode, 2);
  assert.match(f.lines.join('\n'), /\/etc\/signify\/openbsd-78-base\.pub/);
  const b = await runImageBuild({ release: '7.8', arch: 'amd64', mirror: '/nowhere', connectTimeout: 1 });
  assert.equal(b.exitCode, 2);
  const arm = await runImageBuild({ release: '7.8', arch: 'arm64', mirror: '/nowhere', pubkey: '/x.pub', connectTimeout: 1 });
  assert.equal(arm.exitCode, 1);
  assert.match(arm.lines[0]!, /arm64 installs need a non-x86 QEMU/);
});
