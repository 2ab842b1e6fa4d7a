/**
 * Like rdsetroot(8): puts a ramdisk image into a copy of the kernel at
 * `rd_root_image` and its length into `rd_root_size`. Only data bytes change,
 * so the matching bsd.gdb still symbolizes the result.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { parseElf64, readSymbols, vaddrToOffset } from './elf.ts';

export interface RamdiskSlot {
  /** File offset of rd_root_image and its capacity in bytes. */
  imageOffset: number;
  imageCapacity: number;
  /** File offset of the 32-bit rd_root_size. */
  sizeOffset: number;
}

/** Finds the ramdisk symbols of a kernel (pure). */
export function findRamdiskSlot(kernel: Buffer, file = 'kernel'): RamdiskSlot {
  const elf = parseElf64(kernel, file);
  const syms = readSymbols(kernel, elf);
  if (syms.length === 0) throw new Error(`${file}: no symbol table (stripped kernel?): cannot find rd_root_image`);
  const image = syms.find((s) => s.name === 'rd_root_image' && s.shndx !== 0);
  const size = syms.find((s) => s.name === 'rd_root_size' && s.shndx !== 0);
  if (!image || !size) {
    throw new Error(`${file}: no ${!image ? 'rd_root_image' : 'rd_root_size'} symbol: the kernel was not built with a ramdisk root (option RAMDISK_HOOKS, MINIROOTSIZE)`);
  }
  if (image.size === 0) throw new Error(`${file}: rd_root_image has size 0`);
  const imageOffset = vaddrToOffset(elf, image.value, image.size);
  const sizeOffset = vaddrToOffset(elf, size.value, 4);
  if (imageOffset === null) throw new Error(`${file}: rd_root_image (0x${image.value.toString(16)}) has no file bytes`);
  if (sizeOffset === null) throw new Error(`${file}: rd_root_size (0x${size.value.toString(16)}) has no file bytes`);
  return { imageOffset, imageCapacity: image.size, sizeOffset };
}

/** Returns a new kernel buffer with the image inserted (pure). */
export function insertRamdisk(kernel: Buffer, image: Buffer, file = 'kernel'): Buffer {
  const slot = findRamdiskSlot(kernel, file);
  if (image.length > slot.imageCapacity) {
    throw new Error(`${file}: ramdisk image of ${image.length} bytes does not fit rd_root_image (${slot.imageCapacity} bytes)`);
  }
  const out = Buffer.from(kernel);
  out.fill(0, slot.imageOffset, slot.imageOffset + slot.imageCapacity);
  image.copy(out, slot.imageOffset);
  out.writeUInt32LE(image.length, slot.sizeOffset);
  return out;
}

/** Reads `bsd`, writes `out` = bsd with the ramdisk (atomically). */
export async function rdsetroot(bsd: string, imagePath: string, out: string): Promise<RamdiskSlot> {
  const kernel = await readFile(bsd);
  const image = await readFile(imagePath);
  const result = insertRamdisk(kernel, image, bsd);
  const tmp = `${out}.tmp-${process.pid}`;
  await writeFile(tmp, result);
  await rename(tmp, out);
  return findRamdiskSlot(result, out);
}

