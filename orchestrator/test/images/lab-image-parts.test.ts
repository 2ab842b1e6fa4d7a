import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { labReferenceMissing, labTree } from '../lab-reference.ts';
import { parseOsRelease, parseStandMakefile } from '../../src/images/lab/bootblocks.ts';
import { renderBootConf, xorrisoArgs } from '../../src/images/lab/iso.ts';
import { makefsArgs, renderMtreeSpec } from '../../src/images/lab/ramdisk.ts';

// The reference tree (test/lab-reference.ts): made by the project's builder, not by hand.
const missingTree = labReferenceMissing();
const TREE = missingTree ? '' : await labTree();
const noTree = missingTree;

describe('cdboot Makefile', () => {
  it('parses SRCS and .PATH with continuation lines and variables', () => {
    const mk = [
      'S=\t${.CURDIR}/../../../..',
      'SRCS=\tsrt0.S boot.c',
      '.PATH:\t${SADIR}/libsa',
      'SRCS+=\tmachdep.c \\',
      '\tgidt.S',
      '.PATH:\t${S}/lib/libkern/arch/i386 ${S}/lib/libkern # comment',
      '',
    ].join('\n');
    const r = parseStandMakefile(mk, { S: '/t', SADIR: '/t/sa', '.CURDIR': '/t/cd' });
    assert.deepEqual(r.srcs, ['srt0.S', 'boot.c', 'machdep.c', 'gidt.S']);
    assert.deepEqual(r.paths, ['/t/sa/libsa', '/t/lib/libkern/arch/i386', '/t/lib/libkern']);
    assert.throws(() => parseStandMakefile('.PATH: ${NOPE}\nSRCS=a.c\n', {}, 'M'), /M:1: unknown variable \$\{NOPE\}/);
  });

  it('reads the real cdboot Makefile of the tree', { skip: noTree }, () => {
    const dir = join(TREE, 'arch/amd64/stand/cdboot');
    const r = parseStandMakefile(readFileSync(join(dir, 'Makefile'), 'utf8'), {
      S: TREE,
      SADIR: join(TREE, 'arch/amd64/stand'),
      '.CURDIR': dir,
    });
    // The order of NOTES-kernel.md sec. 6: libsa of amd64, stand/boot, lib/libsa, libkern (i386, generic), libz
    assert.deepEqual(r.paths, [
      join(TREE, 'arch/amd64/stand/libsa'),
      join(TREE, 'stand/boot'),
      join(TREE, 'lib/libsa'),
      join(TREE, 'lib/libkern/arch/i386'),
      join(TREE, 'lib/libkern'),
      join(TREE, 'lib/libz'),
    ]);
    assert.deepEqual(r.srcs.slice(0, 3), ['srt0.S', 'boot.c', 'conf.c']);
    assert.ok(r.srcs.includes('cd9660.c'));
    assert.ok(r.srcs.includes('inflate.c'));
    assert.equal(new Set(r.srcs).size, r.srcs.length);
    assert.equal(parseOsRelease(readFileSync(join(TREE, 'conf/newvers.sh'), 'utf8')), '7.9');
  });
});

describe('boot.conf, mtree spec, makefs and xorriso arguments', () => {
  it('renders boot.conf for a serial console and /bsd', () => {
    assert.equal(renderBootConf(), 'stty com0 115200\nset tty com0\nset image /bsd\n');
    assert.equal(renderBootConf({ extraLines: ['boot -d'] }), 'stty com0 115200\nset tty com0\nset image /bsd\nboot -d\n');
    assert.throws(() => renderBootConf({ extraLines: ['a\nb'] }), /newline/);
  });

  it('renders the mtree spec with numeric owners and native device numbers', () => {
    const spec = renderMtreeSpec();
    assert.match(spec, /^\/set uid=0 gid=0$/m);
    assert.match(spec, /^\.\/sbin\/init +type=file mode=0555$/m);
    assert.match(spec, /^\.\/dev\/console type=char mode=0600 device=native,0,0$/m);
    assert.match(spec, /^\.\/dev\/rd0a type=block mode=0600 device=native,17,0$/m);
    assert.match(spec, /^\.\/dev\/pf type=char mode=0600 device=native,73,0$/m);
    assert.match(spec, /^\.\/dev\/dt type=char mode=0600 device=native,30,0$/m);
    assert.doesNotMatch(spec, /wheel/);
  });

  it('uses the makefs and xorriso options of NOTES-kernel.md', () => {
    assert.deepEqual(makefsArgs('rd.img', 'rd.spec', 'root', 4194304), [
      '-t', 'ffs', '-B', 'le', '-s', '4194304',
      '-o', 'version=1,bsize=4096,fsize=512,minfree=0,optimization=space,density=8192',
      '-F', 'rd.spec', 'rd.img', 'root',
    ]);
    assert.deepEqual(xorrisoArgs('lab.iso', 'dir'), [
      '-as', 'mkisofs', '-l', '-d', '-N', '-b', 'cdbr', '-no-emul-boot', '-boot-load-size', '4', '-c', 'boot.catalog', '-o', 'lab.iso', 'dir',
    ]);
  });
});
