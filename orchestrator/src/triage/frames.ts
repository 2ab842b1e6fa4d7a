/**
 * Which frames of a trace say something about the bug. ddb's own frames, the trap and
 * IPI entry paths, console output and panic()/assert() plumbing are the same in every
 * crash, so titles and signatures skip them.
 */
import type { CrashKind, Frame } from '../ddb/report-types.ts';

const GENERIC_FRAMES: RegExp[] = [
  /^db_/,
  /^Debugger$/,
  /^kerntrap$/,
  /^k?pageflttrap$/,
  /^trap$/,
  /^alltraps/,
  /^Xtrap/,
  /^calltrap$/,
  /^x86_ipi_/,
  /^i386_ipi_/,
  /^Xresume_/,
  /^Xintripi$/,
  /^Xipi/,
  /^panic$/,
  /^vpanic$/,
  /^kprintf$/,
  /^v?printf$/,
  /^splassert_fail$/,
  /^splassert_check$/,
  /^assertion_fail$/,
  /^__assert$/,
  /^uvm_fault$/,
  /^comcnputc$/,
  /^cnputc$/,
  /^savectx$/,
  /^witness_/,
  /^x86_bus_space_io_(?:read|write)_\d$/,
];

/** Entry points of a trap taken in the kernel: what lies above them is the reaction to the fault. */
const TRAP_ENTRY = /^(?:alltraps|Xtrap|calltrap)/;
/** Frames that show the part above a trap entry is ddb or panic handling, not the bug. */
const REACTION = /^(?:db_|Debugger$|panic$|kerntrap$|x86_ipi_db$|i386_ipi_db$)/;

export function isGenericFrame(name: string): boolean {
  return GENERIC_FRAMES.some((re) => re.test(name));
}

/** A frame printed as a bare address (`0(…) at 0`): a jump to nowhere, no function to name. */
export function isAddressFrame(frame: Frame): boolean {
  return /^(?:0x)?[0-9a-fA-F]+$/.test(frame.function) && !/[g-zG-Z_]/.test(frame.function);
}

/**
 * The frames that describe the bug, innermost first. When the stack holds a trap entry
 * below ddb/panic frames (a fault, or an IPI into ddb while the CPU handled its own fault,
 * as in the 2026 refcnt_rele report), everything above the entry is skipped.
 */
export function meaningfulFrames(frames: Frame[], kind: CrashKind): Frame[] {
  let from = 0;
  if (kind !== 'witness-lor') {
    let sawReaction = false;
    for (let i = 0; i < frames.length; i++) {
      const name = frames[i]!.function;
      if (REACTION.test(name)) sawReaction = true;
      if (TRAP_ENTRY.test(name) && sawReaction) from = i + 1;
    }
  }
  return frames.slice(from).filter((f) => !isGenericFrame(f.function) && !isAddressFrame(f));
}
