import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cvsCheckoutCommand, resolveCvsSource, resolveDirSource, resolveGitSource } from '../../src/build/source.ts';
import { BuildError } from '../../src/build/types.ts';
import { sharedDir } from '../../src/util/paths.ts';

const bundle = join(sharedDir(), 'openbsd-lab', 'src', 'sys.bundle');

test('git bundle source: short rev to full commit, commit date, tree hash, file access', { timeout: 300_000 }, async () => {
  const s = await resolveGitSource(bundle, 'b4c64bc50');
  // values from `git log -1 --format='%H %ci' b4c64bc50` and `git rev-parse b4c64bc50^{tree}` in a clone of the bundle
  assert.equal(s.commit, 'b4c64bc50b5f719509b34d750f22ee1cd1a58379');
  assert.equal(s.date, '2026-04-23T16:10:05+02:00');
  assert.equal(s.treeHash, '6b25bf4bcadc9e19cd166d460558594857e841be');
  assert.equal(await s.has('kern/uipc_mbuf.c'), true);
  assert.equal(await s.has('arch/amd64/isa/clock.c'), false);
  assert.match((await s.read('kern/uipc_mbuf.c'))!.toString('utf8'), /\$OpenBSD: uipc_mbuf\.c,v 1\.305 /);
  assert.equal(await s.read('no/such/file.c'), null);
});

test('an unknown revision and a missing repository are clear source errors', { timeout: 300_000 }, async () => {
  await assert.rejects(resolveGitSource(bundle, 'no-such-branch'), (e: unknown) => e instanceof BuildError && e.kind === 'source' && /revision no-such-branch not found in git source .*sys\.bundle/.test(e.message));
  await assert.rejects(resolveGitSource('/nonexistent/sys.bundle', 'deadbeef'), /git source \/nonexistent\/sys\.bundle does not exist/);
});

test('directory source: content hash changes with content, not with time', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'obsdlab-src-'));
  try {
    await mkdir(join(dir, 'kern'));
    await writeFile(join(dir, 'kern', 'a.c'), 'int a;\n');
    const h1 = (await resolveDirSource(dir)).treeHash;
    await writeFile(join(dir, 'kern', 'a.c'), 'int a;\n');
    assert.equal((await resolveDirSource(dir)).treeHash, h1);
    await writeFile(join(dir, 'kern', 'a.c'), 'int b;\n');
    assert.notEqual((await resolveDirSource(dir)).treeHash, h1);
    await assert.rejects(resolveDirSource(join(dir, 'nope')), /kernel source tree .*nope is not a directory/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('CVS: checkout command, and a clear error when cvs or the root is unavailable', async () => {
  assert.deepEqual(cvsCheckoutCommand('anoncvs@anoncvs.example.org:/cvs', '2026-04-23 00:00 UTC'), {
    cmd: 'cvs',
    args: ['-q', '-d', 'anoncvs@anoncvs.example.org:/cvs', 'checkout', '-P', '-D', '2026-04-23 00:00 UTC', 'src/sys'],
  });
  const cache = await mkdtemp(join(tmpdir(), 'obsdlab-cvs-'));
  const saved = process.env.OBSDLAB_CACHE;
  process.env.OBSDLAB_CACHE = cache;
  try {
    await assert.rejects(resolveCvsSource('/nonexistent/cvsroot', '2026-04-23'), (e: unknown) =>
      e instanceof BuildError && e.kind === 'source' && /CVS source \/nonexistent\/cvsroot at 2026-04-23: cvs\(1\) is not installed|cvs checkout of src\/sys from \/nonexistent\/cvsroot at 2026-04-23 failed/.test(e.message),
    );
  } finally {
    if (saved === undefined) delete process.env.OBSDLAB_CACHE;
    else process.env.OBSDLAB_CACHE = saved;
    await rm(cache, { recursive: true, force: true });
  }
});
