/**
 * Post-link checks of the agent binary, on the outputs of llvm-objdump -d and
 * the ELF headers: every `syscall` instruction is in the PT_OPENBSD_SYSCALLS
 * pin table with the number loaded into %eax just before it, and the segments
 * are what OpenBSD's execve and execute-only text need. Pure.
 */
import {
  PT_LOAD,
  PT_NOTE,
  PT_OPENBSD_NOBTCFI,
  PT_OPENBSD_SYSCALLS,
  type Elf64,
} from './elf.ts';

export interface Pin {
  addr: number;
  sysno: number;
}

export interface SyscallSite {
  addr: number;
  /** The immediate of the `mov $N, %eax` right before, or null if the previous instruction is something else. */
  eax: number | null;
}

/** {u32 address, u32 sysno} pairs, as in .openbsd.syscalls. */
export function parsePinTable(bytes: Buffer): Pin[] {
  if (bytes.length % 8 !== 0) throw new Error(`pin table size ${bytes.length} is not a multiple of 8`);
  const out: Pin[] = [];
  for (let o = 0; o < bytes.length; o += 8) out.push({ addr: bytes.readUInt32LE(o), sysno: bytes.readUInt32LE(o + 4) });
  return out;
}

const INSN = /^\s*([0-9a-f]+):\s+(\S+)(?:\s+(.*))?$/;

/** Finds the `syscall` instructions in `llvm-objdump -d --no-show-raw-insn` output. */
export function findSyscallSites(disassembly: string): SyscallSite[] {
  const out: SyscallSite[] = [];
  let prev: { mnemonic: string; operands: string } | null = null;
  for (const line of disassembly.split('\n')) {
    const m = INSN.exec(line);
    if (!m) {
      if (/^\S/.test(line)) prev = null; // a new symbol or section starts
      continue;
    }
    const [, addr, mnemonic, operands = ''] = m as unknown as [string, string, string, string | undefined];
    if (mnemonic === 'syscall') {
      let eax: number | null = null;
      const mov = prev && /^movl?$/.test(prev.mnemonic) ? /^\$(0x[0-9a-f]+|\d+),\s*%eax$/.exec(prev.operands.trim()) : null;
      if (mov) eax = Number(mov[1]);
      out.push({ addr: parseInt(addr, 16), eax });
    }
    prev = { mnemonic, operands };
  }
  return out;
}

export interface VerifyReport {
  ok: boolean;
  problems: string[];
  pinned: number;
}

export function verifyPins(sites: SyscallSite[], pins: Pin[]): VerifyReport {
  const problems: string[] = [];
  const byAddr = new Map(pins.map((p) => [p.addr, p]));
  const seenSysno = new Map<number, number>();
  for (const p of pins) {
    const other = seenSysno.get(p.sysno);
    if (other !== undefined) {
      problems.push(`sysno ${p.sysno} pinned twice (0x${other.toString(16)} and 0x${p.addr.toString(16)}): the kernel would allow it anywhere`);
    }
    seenSysno.set(p.sysno, p.addr);
  }
  for (const s of sites) {
    const pin = byAddr.get(s.addr);
    const at = `syscall at 0x${s.addr.toString(16)}`;
    if (!pin) problems.push(`${at} is not in the pin table`);
    else if (s.eax === null) problems.push(`${at}: no "mov $N, %eax" right before it`);
    else if (s.eax !== pin.sysno) problems.push(`${at}: %eax is ${s.eax} but the pin table says ${pin.sysno}`);
  }
  const siteAddrs = new Set(sites.map((s) => s.addr));
  for (const p of pins) {
    if (!siteAddrs.has(p.addr)) problems.push(`pin for sysno ${p.sysno} at 0x${p.addr.toString(16)} is not a syscall instruction`);
  }
  if (sites.length === 0) problems.push('no syscall instructions found');
  return { ok: problems.length === 0, problems, pinned: sites.length };
}

const PF_X = 1;
const PF_W = 2;

/** Segment and header rules for a static OpenBSD/amd64 binary with execute-only text. */
export function verifyLayout(elf: Elf64): string[] {
  const problems: string[] = [];
  if (elf.type !== 2) problems.push(`ELF type ${elf.type}, want ET_EXEC (2)`);
  if (elf.machine !== 62) problems.push(`machine ${elf.machine}, want x86-64 (62)`);
  if (elf.osabi !== 12) problems.push(`OS/ABI ${elf.osabi}, want OpenBSD (12)`);
  const has = (t: number) => elf.segments.some((p) => p.type === t);
  if (!has(PT_NOTE)) problems.push('no PT_NOTE (OpenBSD ident note)');
  if (!has(PT_OPENBSD_SYSCALLS)) problems.push('no PT_OPENBSD_SYSCALLS');
  if (!has(PT_OPENBSD_NOBTCFI)) problems.push('no PT_OPENBSD_NOBTCFI');
  const loads = elf.segments.filter((p) => p.type === PT_LOAD);
  const exec = loads.filter((p) => p.flags & PF_X);
  if (exec.length !== 1) problems.push(`${exec.length} executable PT_LOADs, want 1`);
  for (const p of exec) {
    if (p.flags & PF_W) problems.push('the executable PT_LOAD is writable');
    const inside = elf.sections.filter(
      (s) => s.addr !== 0n && s.size > 0 && s.addr >= p.vaddr && s.addr < p.vaddr + BigInt(p.memsz),
    );
    const names = inside.map((s) => s.name);
    if (names.length !== 1 || names[0] !== '.text') {
      problems.push(`the executable PT_LOAD holds ${names.join(', ') || 'nothing'}; want only .text (execute-only)`);
    }
  }
  const note = elf.sections.find((s) => s.name === '.note.openbsd.ident');
  if (!note) problems.push('no .note.openbsd.ident section');
  const entryInText = exec.some((p) => elf.entry >= p.vaddr && elf.entry < p.vaddr + BigInt(p.memsz));
  if (!entryInText) problems.push(`entry 0x${elf.entry.toString(16)} is not in the text segment`);
  return problems;
}
