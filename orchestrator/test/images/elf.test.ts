import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { labKernel, labReferenceMissing } from '../lab-reference.ts';
import { parseElf64, readSymbols, vaddrToOffset } from '../../src/images/lab/elf.ts';
import { findRamdiskSlot, insertRamdisk } from '../../src/images/lab/rdsetroot.ts';

// The reference LAB kernel (test/lab-reference.ts): built by the project's cross builder, or a cache hit.
const missingKernel = labReferenceMissing();
const REF_KERNEL = missingKernel ? '' : (await labKernel()).bsd;

describe('ELF64 reader and rdsetroot on an ELF built by cc', () => {
  let dir = '';
  let exe = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'elf-'));
    writeFileSync(
      join(dir, 't.c'),
      [
        'unsigned int rd_root_size = 0x1234abcd;',
        'char rd_root_image[4096] = "OBSDLAB-MARKER";',
        'int main(void) { return rd_root_image[0] + (int)rd_root_size; }',
        '',
      ].join('\n'),
    );
    exe = join(dir, 't');
    execFileSync('cc', ['-O0', '-no-pie', '-o', exe, join(dir, 't.c')]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the symbols and maps them to the initialised bytes', () => {
    const buf = readFileSync(exe);
    const elf = parseElf64(buf, exe);
    assert.equal(elf.machine, 62);
    const syms = readSymbols(buf, elf);
    const img = syms.find((s) => s.name === 'rd_root_image')!;
    assert.equal(img.size, 4096);
    // nm agrees on the address
    const nm = execFileSync('nm', [exe], { encoding: 'utf8' });
    const nmAddr = /^([0-9a-f]+) D rd_root_image$/m.exec(nm)![1]!;
    assert.equal(img.value, BigInt(`0x${nmAddr}`));
    const slot = findRamdiskSlot(buf, exe);
    assert.equal(slot.imageCapacity, 4096);
    assert.equal(buf.toString('latin1', slot.imageOffset, slot.imageOffset + 14), 'OBSDLAB-MARKER');
    assert.equal(buf.readUInt32LE(slot.sizeOffset), 0x1234abcd);
    assert.equal(vaddrToOffset(elf, 0n), null);
  });

  it('inserts an image and its size, changing nothing else', () => {
    const buf = readFileSync(exe);
    const slot = findRamdiskSlot(buf, exe);
    const image = Buffer.from('FFS-IMAGE-'.repeat(10));
    const out = insertRamdisk(buf, image, exe);
    assert.equal(out.length, buf.length);
    assert.deepEqual(out.subarray(slot.imageOffset, slot.imageOffset + image.length), image);
    assert.ok(out.subarray(slot.imageOffset + image.length, slot.imageOffset + 4096).every((b) => b === 0));
    assert.equal(out.readUInt32LE(slot.sizeOffset), image.length);
    let changedOutside = 0;
    for (let i = 0; i < buf.length; i++) {
      const inImage = i >= slot.imageOffset && i < slot.imageOffset + 4096;
      const inSize = i >= slot.sizeOffset && i < slot.sizeOffset + 4;
      if (!inImage && !inSize && buf[i] !== out[i]) changedOutside++;
    }
    assert.equal(changedOutside, 0);
    assert.throws(() => insertRamdisk(buf, Buffer.alloc(4097), exe), /does not fit rd_root_image \(4096 bytes\)/);
  });

  it('explains a stripped kernel and a non-ELF file', () => {
    const stripped = join(dir, 't.stripped');
    execFileSync('strip', ['-o', stripped, exe]);
    assert.throws(() => findRamdiskSlot(readFileSync(stripped), stripped), /no symbol table/);
    assert.throws(() => parseElf64(Buffer.from('#!/bin/sh\n'), 'script'), /script: not a usable ELF64 file: bad magic/);
    const noRd = join(dir, 'true');
    writeFileSync(join(dir, 'n.c'), 'int main(void) { return 0; }\n');
    execFileSync('cc', ['-o', noRd, join(dir, 'n.c')]);
    assert.throws(() => findRamdiskSlot(readFileSync(noRd), noRd), /no rd_root_image symbol/);
  });
});

describe('rdsetroot on the reference LAB kernel', { skip: missingKernel }, () => {
  it('finds the 4 MiB rd_root_image (MINIROOTSIZE 8192 sectors) where llvm-nm puts it', () => {
    const buf = readFileSync(REF_KERNEL);
    const slot = findRamdiskSlot(buf, REF_KERNEL);
    assert.equal(slot.imageCapacity, 8192 * 512);
    const nm = execFileSync('llvm-nm-19', [REF_KERNEL], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const addr = BigInt(`0x${/^([0-9a-f]+) [dDbB] rd_root_image$/m.exec(nm)![1]}`);
    const elf = parseElf64(buf, REF_KERNEL);
    assert.equal(vaddrToOffset(elf, addr), slot.imageOffset);
    // dev/rd.c: u_int32_t rd_root_size = ROOTBYTES; char rd_root_image[ROOTBYTES] = "|This is the root ramdisk!\n";
    assert.equal(buf.readUInt32LE(slot.sizeOffset), slot.imageCapacity);
    assert.equal(buf.toString('latin1', slot.imageOffset, slot.imageOffset + 27), '|This is the root ramdisk!\n');
  });
});
