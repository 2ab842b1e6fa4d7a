/**
 * The contract every guest adapter and the ddb driver program against.
 * Implemented by console/session.ts over a QEMU serial chardev socket (or any Duplex in tests).
 */
export interface ExpectMatch {
  /** Index into the patterns array that matched. */
  index: number;
  /** The regex match (or a synthetic one for string patterns). */
  match: RegExpExecArray;
  /** Text consumed since the previous cursor position, up to and including the match. */
  before: string;
  /** Byte offset in the recorded console stream where the match ended. */
  offset: number;
}

export interface ExpectOptions {
  timeoutMs: number;
  /** Aborts the wait (e.g. run cancelled); rejects with the signal's reason. */
  signal?: AbortSignal;
}

export class ConsoleTimeoutError extends Error {
  constructor(
    readonly vm: string,
    readonly waitingFor: string,
    readonly timeoutMs: number,
    /** The last part of the console (a few hundred bytes), for the error message. */
    readonly tail: string,
  ) {
    super(`${vm}: console: no ${waitingFor} within ${Math.round(timeoutMs / 1000)}s; last output:\n${tail}`);
    this.name = 'ConsoleTimeoutError';
  }
}

export class ConsoleClosedError extends Error {
  constructor(readonly vm: string, readonly waitingFor: string) {
    super(`${vm}: console closed while waiting for ${waitingFor}`);
    this.name = 'ConsoleClosedError';
  }
}

export interface ConsoleChannel {
  readonly vm: string;
  /**
   * Waits until one of the patterns matches text after the read cursor; the cursor then moves past the match.
   * Text is the decoded console with ANSI escapes stripped and CR/LF normalised to LF.
   */
  expect(patterns: (RegExp | string)[] | RegExp | string, opts: ExpectOptions): Promise<ExpectMatch>;
  /** Sends raw bytes/text to the guest's serial port. */
  send(text: string | Uint8Array): Promise<void>;
  /** Sends text followed by a carriage return (what a terminal's Enter sends). */
  sendLine(line: string): Promise<void>;
  /** Sends a serial BREAK (OpenBSD with ddb.console=1 enters ddb). */
  sendBreak(): Promise<void>;
  /** Whole normalised transcript so far. */
  text(): string;
  /** Normalised text from `fromOffset` (a cursor value from mark()) to now. */
  textSince(mark: number): string;
  /** Current cursor, usable with textSince(). */
  mark(): number;
  /** Milliseconds since the last byte arrived from the guest. */
  idleMs(): number;
  /** Registers a listener for each normalised chunk; returns an unsubscribe function. */
  onText(listener: (chunk: string) => void): () => void;
  readonly closed: boolean;
  /** Raw byte offset in the recorded console log of everything received so far (ExpectMatch.offset's scale). */
  readonly rawOffset?: number;
}
