import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { CROSS_HOST_SHIMS, renderCrossMkFiles, rewriteKernelMakefile } from '../../src/build/cross-toolchain.ts';
import { parseVersC } from '../../src/build/cross.ts';
import { BUILD_QUIRKS, selectQuirks } from '../../src/build/quirks.ts';

test('Makefile rewrite removes OpenBSD-clang-only flags and respells -nopie (Makefile.amd64 of b4c64bc50)', async () => {
  const text = await readFile(new URL('../fixtures/build/Makefile.amd64-b4c64bc50-excerpt', import.meta.url), 'utf8');
  assert.match(text, /-msave-args/);
  const out = rewriteKernelMakefile(text);
  assert.doesNotMatch(out, /-msave-args|-fret-clean|-fno-ret-protector| -nopie/);
  assert.match(out, /LINKFLAGS=\t-T ld\.script -X --warn-common --no-pie/);
  // flags upstream clang has stay
  assert.match(out, /^CMACHFLAGS\+=\t-mretpoline-external-thunk -fcf-protection=branch$/m);
  assert.match(out, /^NO_INTEGR_AS=\t-no-integrated-as$/m);
  assert.equal(out.split('\n').length, text.split('\n').length);
});

test('mk files: ccache in front of the cross clang, bash as the shell, bsd.own.mk present', () => {
  const files = renderCrossMkFiles('ccache', { EXTRA: '1' });
  assert.match(files['sys.mk']!, /^CC = ccache clang-19 --target=x86_64-unknown-openbsd$/m);
  assert.match(files['sys.mk']!, /^COMPILER_VERSION = clang$/m);
  assert.match(files['sys.mk']!, /^\.SHELL: name=sh path=\/bin\/bash$/m);
  assert.match(files['sys.mk']!, /^EXTRA = 1$/m);
  assert.ok('bsd.own.mk' in files);
  assert.match(renderCrossMkFiles(null)['sys.mk']!, /^CC = clang-19 --target/m);
});

test('host shims answer what makegap.sh asks', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'obsdlab-shim-'));
  try {
    for (const s of CROSS_HOST_SHIMS) {
      await writeFile(join(dir, s.name), s.script + '\n');
      await chmod(join(dir, s.name), 0o755);
    }
    // the two calls in conf/makegap.sh at b4c64bc50
    assert.equal((await execa(join(dir, 'sysctl'), ['-n', 'hw.pagesize'])).stdout, '4096');
    assert.equal((await execa(join(dir, 'jot'), ['-r', '1', '0', '4095'])).stdout, '0');
    assert.notEqual((await execa(join(dir, 'sysctl'), ['-n', 'kern.version'], { reject: false })).exitCode, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('version string from a generated vers.c', () => {
  // the vers.c written by newvers.sh for the first LAB build here
  const versC = [
    '#define STATUS "-current"\t\t/* just after a release */',
    '#if 0',
    '#define STATUS ""\t\t\t/* release */',
    '#endif',
    'const char osversion[] = "LAB#0";',
    'const char version[512] =',
    '    "OpenBSD 7.9" STATUS " (LAB) #0: Wed Nov 25 19:50:21 UTC 2026\\n    @vm:/root/.cache/obsdlab/work/cross/compile/LAB*\\n";',
  ].join('\n');
  assert.equal(parseVersC(versC), 'OpenBSD 7.9-current (LAB) #0: Wed Nov 25 19:50:21 UTC 2026');
  assert.equal(parseVersC('nothing here'), 'unknown');
});

test('quirks: the mirror fix-ups apply by date and only when the tree lacks arch/amd64/isa', async () => {
  const lacks = async () => false;
  const has = async () => true;
  assert.deepEqual((await selectQuirks({ date: '2026-04-23T16:10:05+02:00', has: lacks })).map((q) => q.id), ['bluhm-sys-mirror-fixups']);
  assert.deepEqual(await selectQuirks({ date: '2026-04-23T16:10:05+02:00', has }), []);
  assert.deepEqual(await selectQuirks({ date: '2019-01-01T00:00:00Z', has: lacks }), []);
  const table = [{ id: 'x', from: '2020-01-01', to: '2020-12-31', description: 'd', makeVars: { A: '1' } }];
  assert.deepEqual((await selectQuirks({ date: '2020-06-01', has }, table)).map((q) => q.id), ['x']);
  assert.deepEqual(await selectQuirks({ date: '2021-01-01', has }, table), []);
  assert.ok(BUILD_QUIRKS.every((q) => q.description.length > 20));
});
