/**
 * ConsoleChannel over any Duplex (the QEMU serial chardev socket, or a socket
 * pair in tests): records every byte (ConsoleRecorder), keeps the normalised
 * text (ConsoleReader) and serves expect() with timeouts and abort.
 *
 * Patterns: regular expressions run with the `m` flag (`^`/`$` are line
 * anchors) and see up to 256 characters before the cursor (lookbehinds).
 * The text of the current line may still change (CR/BS redraws); if it
 * changes before the cursor, the cursor moves back so the redrawn text is
 * read again rather than lost.
 */
import type { Duplex } from 'node:stream';
import { compilePatterns, describePatterns, type ConsolePattern } from './matcher.ts';
import { ConsoleReader } from './reader.ts';
import type { ConsoleRecorder } from './recorder.ts';
import { ConsoleClosedError, ConsoleTimeoutError, type ConsoleChannel, type ExpectMatch, type ExpectOptions } from './types.ts';

/**
 * How the serial line is multiplexed by QEMU:
 * - 'mux': `-chardev socket,...,mux=on` with `-serial chardev:ID`; BREAK is
 *   the mux escape Ctrl-a b, and a 0x01 byte meant for the guest is sent twice.
 * - 'plain': bytes pass through untouched; BREAK needs `breakHook`.
 */
export type ChardevMode = 'mux' | 'plain';

export interface ConsoleSessionOptions {
  vm: string;
  stream: Duplex;
  recorder?: ConsoleRecorder;
  chardev?: ChardevMode;
  /** Sends a BREAK some other way (for 'plain' chardevs). */
  breakHook?: () => Promise<void>;
  /** Characters of normalised text kept in memory (default 4 Mi). */
  windowChars?: number;
}

const CTRL_A = 0x01;

interface Waiter {
  patterns: ReturnType<typeof compilePatterns>;
  waitingFor: string;
  resolve: (m: ExpectMatch) => void;
  reject: (e: unknown) => void;
}

export class ConsoleSession implements ConsoleChannel {
  readonly vm: string;
  private readonly stream: Duplex;
  private readonly recorder: ConsoleRecorder | undefined;
  private readonly chardev: ChardevMode;
  private readonly breakHook: (() => Promise<void>) | undefined;
  private readonly reader: ConsoleReader;
  private readonly listeners = new Set<(chunk: string) => void>();
  private readonly closeListeners = new Set<() => void>();
  private waiter: Waiter | null = null;
  private emitted = 0;
  private lastDataAt = Date.now();
  private isClosed = false;
  /** Why the stream ended, when it ended with an error. */
  closeError: Error | undefined;

  constructor(opts: ConsoleSessionOptions) {
    this.vm = opts.vm;
    this.stream = opts.stream;
    this.recorder = opts.recorder;
    this.chardev = opts.chardev ?? 'plain';
    this.breakHook = opts.breakHook;
    this.reader = new ConsoleReader({ windowChars: opts.windowChars, startRawOffset: opts.recorder?.startOffset ?? 0 });
    this.stream.on('data', (chunk: Buffer | string) => this.onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    this.stream.on('error', (err: Error) => {
      this.closeError = err;
      this.onClose();
    });
    this.stream.on('end', () => this.onClose());
    this.stream.on('close', () => this.onClose());
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Raw byte offset (in <vm>.console.log) of everything received so far. */
  get rawOffset(): number {
    return this.reader.rawOffset;
  }

  /** Characters that left the memory window before expect() read them (still in the log file). */
  get droppedUnread(): number {
    return this.reader.droppedUnread;
  }

  expect(patterns: ConsolePattern[] | ConsolePattern, opts: ExpectOptions): Promise<ExpectMatch> {
    const compiled = compilePatterns(patterns);
    const waitingFor = describePatterns(patterns);
    if (this.waiter) {
      return Promise.reject(new Error(`${this.vm}: console: expect(${waitingFor}) while expect(${this.waiter.waitingFor}) is still waiting`));
    }
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
    const now = this.reader.search(compiled);
    if (now) return Promise.resolve(now);
    if (this.isClosed) return Promise.reject(new ConsoleClosedError(this.vm, waitingFor));

    return new Promise<ExpectMatch>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        this.waiter = null;
      };
      const onAbort = () => {
        cleanup();
        reject(opts.signal!.reason);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new ConsoleTimeoutError(this.vm, waitingFor, opts.timeoutMs, this.reader.tail()));
      }, Math.max(0, opts.timeoutMs));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = {
        patterns: compiled,
        waitingFor,
        resolve: (m) => {
          cleanup();
          resolve(m);
        },
        reject: (e) => {
          cleanup();
          reject(e);
        },
      };
    });
  }

  async send(text: string | Uint8Array): Promise<void> {
    const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text);
    this.recorder?.input(bytes);
    await this.write(this.chardev === 'mux' ? escapeMux(bytes) : bytes, 'sending input');
  }

  sendLine(line: string): Promise<void> {
    return this.send(`${line}\r`);
  }

  async sendBreak(): Promise<void> {
    this.recorder?.input('break');
    if (this.chardev === 'mux') {
      await this.write(Buffer.from([CTRL_A, 0x62]), 'sending BREAK');
    } else if (this.breakHook) {
      await this.breakHook();
    } else {
      throw new Error(`${this.vm}: console: cannot send BREAK: the serial chardev is not a QEMU mux (mux=on) and no break hook was given`);
    }
  }

  text(): string {
    return this.reader.text();
  }

  textSince(mark: number): string {
    return this.reader.text(mark);
  }

  mark(): number {
    return this.reader.mark;
  }

  idleMs(): number {
    return Date.now() - this.lastDataAt;
  }

  /**
   * Each listener gets the normalised text as it appears. When the guest
   * redraws the current line (spinner, pager eraser), the redrawn part is
   * delivered again.
   */
  onText(listener: (chunk: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called once when the console stream ends. */
  onClosed(listener: () => void): () => void {
    if (this.isClosed) queueMicrotask(listener);
    else this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Closes the connection and the recording files. */
  close(): void {
    this.stream.destroy();
    this.onClose();
  }

  private onData(chunk: Buffer): void {
    this.lastDataAt = Date.now();
    this.recorder?.output(chunk);
    const changed = this.reader.feed(chunk);
    const from = Math.min(this.emitted, changed);
    const end = this.reader.end;
    this.emitted = end;
    if (this.listeners.size > 0 && from < end) {
      const text = this.reader.text(from);
      for (const l of this.listeners) l(text);
    }
    if (this.waiter) {
      const m = this.reader.search(this.waiter.patterns);
      if (m) this.waiter.resolve(m);
    }
  }

  private onClose(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.recorder?.close();
    if (this.waiter) {
      const m = this.reader.search(this.waiter.patterns);
      if (m) this.waiter.resolve(m);
      else this.waiter.reject(new ConsoleClosedError(this.vm, this.waiter.waitingFor));
    }
    for (const l of this.closeListeners) l();
    this.closeListeners.clear();
  }

  private write(bytes: Buffer, what: string): Promise<void> {
    if (this.isClosed) return Promise.reject(new ConsoleClosedError(this.vm, what));
    return new Promise((resolve, reject) => {
      this.stream.write(bytes, (err) => (err ? reject(err) : resolve()));
    });
  }
}

function escapeMux(bytes: Buffer): Buffer {
  if (!bytes.includes(CTRL_A)) return bytes;
  const out: number[] = [];
  for (const b of bytes) {
    out.push(b);
    if (b === CTRL_A) out.push(CTRL_A);
  }
  return Buffer.from(out);
}
