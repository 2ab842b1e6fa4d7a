import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { labReferenceMissing, labTree } from '../lab-reference.ts';
import { DISKMAGIC, DL, PART, dkcksum, encodeDisklabel, ffsFragblock, insertLabel, ramdiskLabel } from '../../src/images/lab/disklabel.ts';

// The reference tree (test/lab-reference.ts): made by the project's builder, not by hand.
const missingTree = labReferenceMissing();
const TREE = missingTree ? '' : await labTree();

describe('disklabel encoding', () => {
  // Offsets read off struct disklabel in sys/sys/disklabel.h (b4c64bc50): u_int32_t d_magic; u_int16_t
  // d_type, d_subtype; char d_typename[16], d_packname[16]; six u_int32_t geometry fields; u_char d_uid[8];
  // u_int32_t d_acylinders; u_int16_t d_bstarth, d_bendh; u_int32_t d_bstart, d_bend, d_flags,
  // d_spare4[5]; u_int16_t d_secperunith, d_version; u_int32_t d_spare[4], d_magic2; u_int16_t
  // d_checksum, d_npartitions; u_int32_t d_spare2, d_spare3; then 16-byte struct partition entries.
  it('uses the header layout of sys/sys/disklabel.h', () => {
    assert.deepEqual(
      [DL.magic, DL.type, DL.typename, DL.packname, DL.secsize, DL.secpercyl, DL.secperunit, DL.uid, DL.acylinders],
      [0, 4, 8, 24, 40, 56, 60, 64, 72],
    );
    assert.deepEqual([DL.bstart, DL.bend, DL.flags, DL.secperunith, DL.version, DL.magic2], [80, 84, 88, 112, 114, 132]);
    assert.deepEqual([DL.checksum, DL.npartitions, DL.partitions], [136, 138, 148]);
    assert.deepEqual([PART.size, PART.offset, PART.offseth, PART.sizeh, PART.fstype, PART.fragblock, PART.cpg, PART.length], [0, 4, 8, 10, 12, 13, 14, 16]);
  });

  it('matches the tree header when compiled against it', { skip: missingTree }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-'));
    try {
      const fields = Object.entries(DL)
        .filter(([k]) => k !== 'partitions')
        .map(([k, v]) => `_Static_assert(__builtin_offsetof(struct disklabel, d_${k}) == ${v}, "d_${k}");`);
      const parts = Object.entries(PART)
        .filter(([k]) => k !== 'length')
        .map(([k, v]) => `_Static_assert(__builtin_offsetof(struct partition, p_${k}) == ${v}, "p_${k}");`);
      writeFileSync(
        join(dir, 'c.c'),
        [
          '#include <sys/types.h>',
          '#include <sys/disklabel.h>',
          ...fields,
          ...parts,
          `_Static_assert(__builtin_offsetof(struct disklabel, d_partitions) == ${DL.partitions}, "d_partitions");`,
          `_Static_assert(sizeof(struct partition) == ${PART.length}, "partition size");`,
          `_Static_assert(DISKMAGIC == ${DISKMAGIC}U, "magic");`,
          '',
        ].join('\n'),
      );
      execFileSync('mkdir', ['-p', join(dir, 'inc')]);
      execFileSync('ln', ['-s', join(TREE, 'arch/amd64/include'), join(dir, 'inc/machine')]);
      execFileSync('clang-19', ['--target=x86_64-unknown-openbsd', '-nostdinc', '-I', join(dir, 'inc'), '-I', TREE, '-fsyntax-only', join(dir, 'c.c')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('encodes the ramdisk label field by field with a hand-computed checksum', () => {
    const label = ramdiskLabel(8192 * 512, { bsize: 4096, fsize: 512 });
    assert.equal(label.length, 148 + 16 * 16);
    assert.equal(label.readUInt32LE(0), 0x82564557);
    assert.equal(label.readUInt32LE(132), 0x82564557);
    assert.equal(label.readUInt16LE(4), 15, 'DTYPE_RDROOT');
    assert.equal(label.toString('latin1', 8, 14), 'rdroot');
    assert.equal(label.toString('latin1', 24, 31), 'obsdlab');
    assert.equal(label.readUInt32LE(40), 512);
    assert.equal(label.readUInt32LE(56), 8192, 'd_secpercyl must be nonzero');
    assert.equal(label.readUInt32LE(60), 8192);
    assert.equal(label.readUInt16LE(114), 1, 'd_version 1');
    assert.equal(label.readUInt16LE(138), 16);
    // a: 4.2BSD over the image; fragblock = ((ffs(4096) - 13) << 3) | ffs(8) = 4
    assert.equal(label.readUInt32LE(148), 8192);
    assert.equal(label.readUInt32LE(152), 0);
    assert.equal(label[160], 7);
    assert.equal(label[161], 4);
    // c: raw, whole disk, fstype unused
    assert.equal(label.readUInt32LE(148 + 32), 8192);
    assert.equal(label[148 + 32 + 12], 0);
    // The xor of every 16-bit word except the checksum. Pairs that cancel: magic/magic2,
    // ntracks/ncylinders, nsectors/secpercyl, secperunit/bend, a.size/c.size. Left:
    const expected =
      0x000f /* d_type */ ^
      0x6472 ^ 0x6f72 ^ 0x746f /* "rdroot" */ ^
      0x626f ^ 0x6473 ^ 0x616c ^ 0x0062 /* "obsdlab" */ ^
      0x0200 /* secsize */ ^
      0x0001 /* version */ ^
      0x0010 /* npartitions */ ^
      0x0407; /* a: fstype 7, fragblock 4 */
    assert.equal(label.readUInt16LE(136), expected);
    assert.equal(dkcksum(label), 0, 'the kernel accepts a label whose words xor to 0');
  });

  it('computes DISKLABELV1_FFS_FRAGBLOCK and rejects bad input', () => {
    assert.equal(ffsFragblock(16384, 2048), ((15 - 13) << 3) | 4);
    assert.throws(() => ffsFragblock(4096, 3000), /not a multiple/);
    assert.throws(() => ramdiskLabel(1000, { bsize: 4096, fsize: 512 }), /multiple of 512/);
    assert.throws(
      () => encodeDisklabel({ sectors: 10, partitions: [{ index: 0, offset: 5, size: 10, fstype: 7 }] }),
      /beyond 10 sectors/,
    );
  });

  it('writes the label into sector 1 only', () => {
    const image = Buffer.alloc(8192, 0xaa);
    const label = ramdiskLabel(8192 * 512, { bsize: 4096, fsize: 512 });
    insertLabel(image, label);
    assert.ok(image.subarray(0, 512).every((b) => b === 0xaa));
    assert.deepEqual(image.subarray(512, 512 + label.length), label);
    assert.ok(image.subarray(512 + label.length, 1024).every((b) => b === 0));
    assert.ok(image.subarray(1024).every((b) => b === 0xaa));
  });
});
