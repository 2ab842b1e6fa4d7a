/**
 * Function symbols from an ELF file's .symtab (a kernel's bsd.gdb, or any ELF with symbols).
 * Reads only the section headers, the symbol table and its string table, so a large
 * debug kernel is not loaded whole.
 */
import { open } from 'node:fs/promises';

const SHT_SYMTAB = 2;
const STT_NOTYPE = 0;
const STT_FUNC = 2;

export class ElfError extends Error {
  constructor(readonly file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'ElfError';
  }
}

/** name → address (of the first definition seen). */
export async function readFunctionSymbols(file: string): Promise<Map<string, bigint>> {
  const fh = await open(file, 'r');
  try {
    const read = async (offset: bigint | number, length: number): Promise<Buffer> => {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, Number(offset));
      if (bytesRead !== length) throw new ElfError(file, `truncated: wanted ${length} bytes at offset ${offset}`);
      return buf;
    };
    const ident = await read(0, 64);
    if (ident.readUInt32BE(0) !== 0x7f454c46) throw new ElfError(file, 'not an ELF file');
    const is64 = ident[4] === 2;
    const le = ident[5] === 1;
    const u16 = (b: Buffer, o: number): number => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const addr = (b: Buffer, o: number): bigint => (is64 ? (le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : BigInt(u32(b, o)));

    const shoff = addr(ident, is64 ? 0x28 : 0x20);
    const shentsize = u16(ident, is64 ? 0x3a : 0x2e);
    const shnum = u16(ident, is64 ? 0x3c : 0x30);
    if (shoff === 0n || shnum === 0) throw new ElfError(file, 'no section headers');
    const shdrs = await read(shoff, shentsize * shnum);
    const section = (i: number): { type: number; offset: bigint; size: bigint; link: number; entsize: bigint } => {
      const o = i * shentsize;
      return is64
        ? { type: u32(shdrs, o + 4), offset: addr(shdrs, o + 0x18), size: addr(shdrs, o + 0x20), link: u32(shdrs, o + 0x28), entsize: addr(shdrs, o + 0x38) }
        : { type: u32(shdrs, o + 4), offset: BigInt(u32(shdrs, o + 0x10)), size: BigInt(u32(shdrs, o + 0x14)), link: u32(shdrs, o + 0x18), entsize: BigInt(u32(shdrs, o + 0x24)) };
    };

    const symbols = new Map<string, bigint>();
    for (let i = 0; i < shnum; i++) {
      const sh = section(i);
      if (sh.type !== SHT_SYMTAB) continue;
      const strtab = section(sh.link);
      const syms = await read(sh.offset, Number(sh.size));
      const strs = await read(strtab.offset, Number(strtab.size));
      const entsize = Number(sh.entsize) || (is64 ? 24 : 16);
      for (let o = 0; o + entsize <= syms.length; o += entsize) {
        const nameOff = u32(syms, o);
        const info = is64 ? syms[o + 4]! : syms[o + 12]!;
        const shndx = is64 ? u16(syms, o + 6) : u16(syms, o + 14);
        const value = is64 ? addr(syms, o + 8) : BigInt(u32(syms, o + 4));
        const type = info & 0xf;
        if ((type !== STT_FUNC && type !== STT_NOTYPE) || shndx === 0 || nameOff === 0) continue;
        const end = strs.indexOf(0, nameOff);
        const name = strs.toString('latin1', nameOff, end === -1 ? strs.length : end);
        if (name && !symbols.has(name)) symbols.set(name, value);
      }
    }
    if (symbols.size === 0) throw new ElfError(file, 'no symbol table (.symtab)');
    return symbols;
  } finally {
    await fh.close();
  }
}
