import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { findCompileErrors, patchTouching } from '../../src/build/compile-errors.ts';
import { describeCompileFailure } from '../../src/build/cross.ts';

const haveClang = await execa('clang-19', ['--version'], { reject: false }).then((r) => r.exitCode === 0, () => false);

test('real clang-19 errors are found with their tree file and the patch that touched it', { skip: haveClang ? false : 'clang-19 not installed' }, async () => {
  const tree = await mkdtemp(join(tmpdir(), 'obsdlab-cerr-'));
  try {
    await mkdir(join(tree, 'kern'), { recursive: true });
    await writeFile(join(tree, 'kern', 'uipc_mbuf.c'), 'int\nm_extref(int o)\n{\n\treturn o + undeclared_thing;\n}\n');
    // the kernel Makefile compiles $S/... with absolute paths
    const r = await execa('clang-19', ['--target=x86_64-unknown-openbsd', '-c', join(tree, 'kern', 'uipc_mbuf.c'), '-o', '/dev/null'], { reject: false, all: true });
    assert.notEqual(r.exitCode, 0);
    const log = `cc -c ...\n${r.all}\n*** Error code 1\n`;
    const errors = findCompileErrors(log, tree);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.file, 'kern/uipc_mbuf.c');
    assert.equal(errors[0]!.line, 4);
    assert.match(errors[0]!.message, /undeclared_thing/);
    const applied = [
      { patch: '/p/other.diff', touched: ['net/pf.c'] },
      { patch: '/p/dlg-mbuf-ext-refs.git.diff', touched: ['kern/uipc_mbuf.c', 'sys/mbuf.h'] },
    ];
    assert.equal(patchTouching('kern/uipc_mbuf.c', applied), '/p/dlg-mbuf-ext-refs.git.diff');
    assert.equal(patchTouching('kern/kern_fork.c', applied), undefined);
    const msg = describeCompileFailure('LAB-refs', log, tree, applied);
    assert.match(msg, /^LAB-refs: kernel build failed with 1 error\(s\):/);
    assert.match(msg, /kern\/uipc_mbuf\.c:4: .*undeclared_thing.*\[file touched by patch \/p\/dlg-mbuf-ext-refs\.git\.diff\]/);
  } finally {
    await rm(tree, { recursive: true, force: true });
  }
});

test('real ld.lld-19 undefined symbol errors', { skip: haveClang ? false : 'clang-19 not installed' }, async () => {
  const tree = await mkdtemp(join(tmpdir(), 'obsdlab-lerr-'));
  try {
    await mkdir(join(tree, 'kern'), { recursive: true });
    const src = join(tree, 'kern', 'uipc_mbuf.c');
    await writeFile(src, 'extern int m_gone(void);\nint _start(void) { return m_gone(); }\n');
    await execa('clang-19', ['--target=x86_64-unknown-openbsd', '-g', '-c', src, '-o', join(tree, 'uipc_mbuf.o')]);
    const r = await execa('ld.lld-19', ['-o', '/dev/null', join(tree, 'uipc_mbuf.o')], { reject: false, all: true });
    assert.notEqual(r.exitCode, 0);
    const errors = findCompileErrors(r.all, tree);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /undefined symbol: m_gone/);
    assert.equal(errors[0]!.file, 'kern/uipc_mbuf.c');
  } finally {
    await rm(tree, { recursive: true, force: true });
  }
});
