/**
 * Writes everything the console says, byte for byte, as it arrives:
 *   <vm>.console.log    raw bytes from the guest
 *   <vm>.console.times  one line per received chunk: `<ms since start> <byte offset> <length>`
 *   <vm>.console.input  one line per write to the guest: `<ms> <console byte offset at that time> <data>`
 *                       where data is a JSON string whose code points are the bytes sent, or BREAK
 * Writes are synchronous appends, so nothing already received is lost if the
 * orchestrator dies. The files are appended to: a second session for the same
 * VM continues the byte offsets and starts with a new `#` header line.
 */
import { closeSync, fstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface ConsoleFiles {
  log: string;
  times: string;
  input: string;
}

export function consoleFiles(dir: string, vm: string): ConsoleFiles {
  return {
    log: join(dir, `${vm}.console.log`),
    times: join(dir, `${vm}.console.times`),
    input: join(dir, `${vm}.console.input`),
  };
}

export class ConsoleRecorder {
  readonly files: ConsoleFiles;
  private logFd: number | null;
  private timesFd: number | null;
  private inputFd: number | null;
  private offset: number;
  private readonly t0 = performance.now();

  constructor(dir: string, readonly vm: string) {
    mkdirSync(dir, { recursive: true });
    this.files = consoleFiles(dir, vm);
    this.logFd = openSync(this.files.log, 'a');
    this.timesFd = openSync(this.files.times, 'a');
    this.inputFd = openSync(this.files.input, 'a');
    this.offset = fstatSync(this.logFd).size;
    const header = `# ${vm} console session started ${new Date().toISOString()} at byte ${this.offset}\n`;
    writeSync(this.timesFd, header);
    writeSync(this.inputFd, header);
  }

  /** Byte offset in <vm>.console.log where the next received byte goes. */
  get startOffset(): number {
    return this.offset;
  }

  output(bytes: Uint8Array): void {
    if (this.logFd === null || this.timesFd === null || bytes.length === 0) return;
    writeAll(this.logFd, bytes);
    writeSync(this.timesFd, `${this.elapsed()} ${this.offset} ${bytes.length}\n`);
    this.offset += bytes.length;
  }

  input(data: Uint8Array | 'break'): void {
    if (this.inputFd === null) return;
    const text = data === 'break' ? 'BREAK' : JSON.stringify(Buffer.from(data).toString('latin1'));
    writeSync(this.inputFd, `${this.elapsed()} ${this.offset} ${text}\n`);
  }

  close(): void {
    for (const fd of [this.logFd, this.timesFd, this.inputFd]) if (fd !== null) closeSync(fd);
    this.logFd = this.timesFd = this.inputFd = null;
  }

  private elapsed(): number {
    return Math.round(performance.now() - this.t0);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}
