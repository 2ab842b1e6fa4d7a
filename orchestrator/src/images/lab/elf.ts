/**
 * A small ELF64 little-endian reader: headers, sections, symbols, and the
 * mapping of a virtual address to its file offset. Pure: works on a Buffer.
 */

export interface ElfSection {
  name: string;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

export interface ElfSegment {
  type: number;
  flags: number;
  offset: number;
  vaddr: bigint;
  filesz: number;
  memsz: number;
}

export interface ElfSymbol {
  name: string;
  value: bigint;
  size: number;
  /** Index of the section the symbol is defined in (0 = undefined, 0xfff1 = absolute). */
  shndx: number;
}

export interface Elf64 {
  type: number;
  machine: number;
  osabi: number;
  entry: bigint;
  sections: ElfSection[];
  segments: ElfSegment[];
}

export const SHT_SYMTAB = 2;
export const SHT_NOBITS = 8;
export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const PT_OPENBSD_NOBTCFI = 0x65a3dbe8;
export const PT_OPENBSD_SYSCALLS = 0x65a3dbe9;

export class ElfError extends Error {
  constructor(file: string, detail: string) {
    super(`${file}: not a usable ELF64 file: ${detail}`);
    this.name = 'ElfError';
  }
}

function cstring(buf: Buffer, at: number): string {
  const end = buf.indexOf(0, at);
  return buf.toString('latin1', at, end < 0 ? buf.length : end);
}

export function parseElf64(buf: Buffer, file = 'ELF'): Elf64 {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw new ElfError(file, 'bad magic');
  if (buf[4] !== 2) throw new ElfError(file, 'not ELFCLASS64');
  if (buf[5] !== 1) throw new ElfError(file, 'not little-endian');
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const shstrndx = buf.readUInt16LE(0x3e);
  if (phnum && phoff + phnum * phentsize > buf.length) throw new ElfError(file, 'program headers beyond end of file');
  if (shnum && shoff + shnum * shentsize > buf.length) throw new ElfError(file, 'section headers beyond end of file');

  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    segments.push({
      type: buf.readUInt32LE(o),
      flags: buf.readUInt32LE(o + 4),
      offset: Number(buf.readBigUInt64LE(o + 8)),
      vaddr: buf.readBigUInt64LE(o + 16),
      filesz: Number(buf.readBigUInt64LE(o + 32)),
      memsz: Number(buf.readBigUInt64LE(o + 40)),
    });
  }
  const raw: (Omit<ElfSection, 'name'> & { nameOff: number })[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    raw.push({
      nameOff: buf.readUInt32LE(o),
      type: buf.readUInt32LE(o + 4),
      flags: buf.readBigUInt64LE(o + 8),
      addr: buf.readBigUInt64LE(o + 16),
      offset: Number(buf.readBigUInt64LE(o + 24)),
      size: Number(buf.readBigUInt64LE(o + 32)),
      link: buf.readUInt32LE(o + 40),
      entsize: Number(buf.readBigUInt64LE(o + 56)),
    });
  }
  const strtab = raw[shstrndx];
  const sections: ElfSection[] = raw.map(({ nameOff, ...s }) => ({
    ...s,
    name: strtab ? cstring(buf, strtab.offset + nameOff) : '',
  }));
  for (const s of sections) {
    if (s.type !== SHT_NOBITS && s.offset + s.size > buf.length) {
      throw new ElfError(file, `section ${s.name || '?'} extends beyond end of file`);
    }
  }
  return {
    type: buf.readUInt16LE(0x10),
    machine: buf.readUInt16LE(0x12),
    osabi: buf[7]!,
    entry: buf.readBigUInt64LE(0x18),
    sections,
    segments,
  };
}

/** All symbols of the SHT_SYMTAB section (empty when the file is stripped). */
export function readSymbols(buf: Buffer, elf: Elf64): ElfSymbol[] {
  const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB);
  if (!symtab) return [];
  const strtab = elf.sections[symtab.link];
  if (!strtab) return [];
  const ent = symtab.entsize || 24;
  const out: ElfSymbol[] = [];
  for (let o = symtab.offset; o + ent <= symtab.offset + symtab.size; o += ent) {
    out.push({
      name: cstring(buf, strtab.offset + buf.readUInt32LE(o)),
      shndx: buf.readUInt16LE(o + 6),
      value: buf.readBigUInt64LE(o + 8),
      size: Number(buf.readBigUInt64LE(o + 16)),
    });
  }
  return out;
}

/**
 * The file offset holding virtual address `vaddr`, found through the section
 * that contains it (falling back to the PT_LOAD segments). Null when the
 * address has no file bytes (bss) or lies outside every section and segment.
 */
export function vaddrToOffset(elf: Elf64, vaddr: bigint, length = 1): number | null {
  const len = BigInt(length);
  for (const s of elf.sections) {
    if (s.addr === 0n || s.type === SHT_NOBITS) continue;
    if (vaddr >= s.addr && vaddr + len <= s.addr + BigInt(s.size)) return s.offset + Number(vaddr - s.addr);
  }
  for (const p of elf.segments) {
    if (p.type !== PT_LOAD) continue;
    if (vaddr >= p.vaddr && vaddr + len <= p.vaddr + BigInt(p.filesz)) return p.offset + Number(vaddr - p.vaddr);
  }
  return null;
}

export function sectionBytes(buf: Buffer, elf: Elf64, name: string): Buffer | null {
  const s = elf.sections.find((x) => x.name === name);
  if (!s || s.type === SHT_NOBITS) return null;
  return buf.subarray(s.offset, s.offset + s.size);
}
