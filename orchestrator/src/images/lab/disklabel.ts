/**
 * An OpenBSD disklabel (sys/sys/disklabel.h, 2026 layout: a 148-byte header
 * followed by the partitions, d_version 1, xor checksum), written into sector 1
 * of the ramdisk image so that rd0a exists. Pure.
 */

export const DISKMAGIC = 0x82564557;
export const DTYPE_RDROOT = 15;
export const FS_UNUSED = 0;
export const FS_BSDFFS = 7;
export const MAXPARTITIONS = 16;
export const RAW_PART = 2;
export const LABELSECTOR = 1;
export const SECTOR_SIZE = 512;

/** Byte offsets of struct disklabel's fields (checked against sys/sys/disklabel.h in the tests). */
export const DL = {
  magic: 0,
  type: 4,
  subtype: 6,
  typename: 8,
  packname: 24,
  secsize: 40,
  nsectors: 44,
  ntracks: 48,
  ncylinders: 52,
  secpercyl: 56,
  secperunit: 60,
  uid: 64,
  acylinders: 72,
  bstarth: 76,
  bendh: 78,
  bstart: 80,
  bend: 84,
  flags: 88,
  spare4: 92,
  secperunith: 112,
  version: 114,
  spare: 116,
  magic2: 132,
  checksum: 136,
  npartitions: 138,
  spare2: 140,
  spare3: 144,
  partitions: 148,
} as const;

/** struct partition: 16 bytes. */
export const PART = { size: 0, offset: 4, offseth: 8, sizeh: 10, fstype: 12, fragblock: 13, cpg: 14, length: 16 } as const;

export interface LabelPartition {
  /** Partition letter index: 0 = a, 2 = c. */
  index: number;
  offset: number;
  size: number;
  fstype: number;
  /** FFS block and fragment size, for p_fragblock. */
  bsize?: number;
  fsize?: number;
}

export interface LabelSpec {
  /** Total sectors (512 bytes each). */
  sectors: number;
  typename?: string;
  packname?: string;
  partitions: LabelPartition[];
  npartitions?: number;
}

/** ffs(3): 1-based index of the lowest set bit, 0 for 0. */
function ffs(x: number): number {
  if (x === 0) return 0;
  let i = 1;
  while ((x & 1) === 0) {
    x >>>= 1;
    i++;
  }
  return i;
}

/** DISKLABELV1_FFS_FRAGBLOCK(fsize, frag). */
export function ffsFragblock(bsize: number, fsize: number): number {
  const frag = bsize / fsize;
  if (!Number.isInteger(frag) || frag < 1) throw new Error(`FFS block size ${bsize} is not a multiple of fragment size ${fsize}`);
  if (fsize * frag === 0) return 0;
  return ((ffs(fsize * frag) - 13) << 3) | ffs(frag);
}

/** dkcksum(): xor of the 16-bit words from the start to the end of the last used partition. */
export function dkcksum(label: Buffer): number {
  const npart = label.readUInt16LE(DL.npartitions);
  const end = DL.partitions + npart * PART.length;
  let sum = 0;
  for (let o = 0; o < end; o += 2) sum ^= label.readUInt16LE(o);
  return sum;
}

function putName(buf: Buffer, at: number, name: string): void {
  if (Buffer.byteLength(name, 'latin1') > 16) throw new Error(`disklabel name "${name}" longer than 16 bytes`);
  buf.write(name, at, 16, 'latin1');
}

/** Encodes the label (little-endian, amd64). */
export function encodeDisklabel(spec: LabelSpec): Buffer {
  const npart = spec.npartitions ?? MAXPARTITIONS;
  if (npart > MAXPARTITIONS) throw new Error(`disklabel: ${npart} partitions, at most ${MAXPARTITIONS}`);
  if (!Number.isInteger(spec.sectors) || spec.sectors <= 0 || spec.sectors > 0xffffffff) {
    throw new Error(`disklabel: bad sector count ${spec.sectors}`);
  }
  const buf = Buffer.alloc(DL.partitions + npart * PART.length);
  buf.writeUInt32LE(DISKMAGIC, DL.magic);
  buf.writeUInt16LE(DTYPE_RDROOT, DL.type);
  putName(buf, DL.typename, spec.typename ?? 'rdroot');
  putName(buf, DL.packname, spec.packname ?? 'obsdlab');
  buf.writeUInt32LE(SECTOR_SIZE, DL.secsize);
  // A flat geometry: one track of `sectors` sectors; only secpercyl != 0 is required.
  buf.writeUInt32LE(spec.sectors, DL.nsectors);
  buf.writeUInt32LE(1, DL.ntracks);
  buf.writeUInt32LE(1, DL.ncylinders);
  buf.writeUInt32LE(spec.sectors, DL.secpercyl);
  buf.writeUInt32LE(spec.sectors, DL.secperunit);
  buf.writeUInt32LE(0, DL.bstart);
  buf.writeUInt32LE(spec.sectors, DL.bend);
  buf.writeUInt16LE(1, DL.version);
  buf.writeUInt32LE(DISKMAGIC, DL.magic2);
  buf.writeUInt16LE(npart, DL.npartitions);
  for (const p of spec.partitions) {
    if (p.index < 0 || p.index >= npart) throw new Error(`disklabel: partition index ${p.index} outside 0..${npart - 1}`);
    if (p.offset + p.size > spec.sectors) {
      throw new Error(`disklabel: partition ${String.fromCharCode(97 + p.index)} ends at ${p.offset + p.size}, beyond ${spec.sectors} sectors`);
    }
    const o = DL.partitions + p.index * PART.length;
    buf.writeUInt32LE(p.size, o + PART.size);
    buf.writeUInt32LE(p.offset, o + PART.offset);
    buf.writeUInt8(p.fstype, o + PART.fstype);
    if (p.bsize && p.fsize) buf.writeUInt8(ffsFragblock(p.bsize, p.fsize), o + PART.fragblock);
  }
  buf.writeUInt16LE(dkcksum(buf), DL.checksum);
  return buf;
}

/** The ramdisk label: a = 4.2BSD over the whole image, c = the raw disk. */
export function ramdiskLabel(imageBytes: number, ffs: { bsize: number; fsize: number }): Buffer {
  if (imageBytes % SECTOR_SIZE !== 0) throw new Error(`ramdisk image size ${imageBytes} is not a multiple of ${SECTOR_SIZE}`);
  const sectors = imageBytes / SECTOR_SIZE;
  return encodeDisklabel({
    sectors,
    partitions: [
      { index: 0, offset: 0, size: sectors, fstype: FS_BSDFFS, bsize: ffs.bsize, fsize: ffs.fsize },
      { index: RAW_PART, offset: 0, size: sectors, fstype: FS_UNUSED },
    ],
  });
}

/** Writes the label into sector 1 of the image (FFS leaves its first 8 KiB unused). */
export function insertLabel(image: Buffer, label: Buffer): void {
  const at = LABELSECTOR * SECTOR_SIZE;
  if (label.length > SECTOR_SIZE) throw new Error(`disklabel of ${label.length} bytes does not fit a sector`);
  if (image.length < at + SECTOR_SIZE) throw new Error('ramdisk image smaller than two sectors');
  image.fill(0, at, at + SECTOR_SIZE);
  label.copy(image, at);
}
