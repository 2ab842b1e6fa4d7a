/**
 * A small QMP client over QEMU's unix socket: greeting, capabilities negotiation,
 * commands matched to replies by id, asynchronous events. Every wait has a
 * timeout; a closed socket fails all pending commands.
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';

export class QmpError extends Error {
  constructor(readonly vm: string, readonly command: string, readonly errorClass: string, readonly desc: string) {
    super(`${vm}: QMP ${command} failed: ${errorClass}: ${desc}`);
    this.name = 'QmpError';
  }
}

export class QmpTimeoutError extends Error {
  constructor(readonly vm: string, readonly command: string, readonly timeoutMs: number) {
    super(`${vm}: QMP ${command}: no answer within ${timeoutMs} ms`);
    this.name = 'QmpTimeoutError';
  }
}

export class QmpClosedError extends Error {
  constructor(readonly vm: string, readonly command: string) {
    super(`${vm}: QMP connection closed during ${command}`);
    this.name = 'QmpClosedError';
  }
}

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

export interface QmpStatus {
  running: boolean;
  status: string;
}

interface Pending {
  command: string;
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class QmpClient {
  private readonly events = new EventEmitter();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buf = '';
  private isClosed = false;
  /** Every event received so far, in order. */
  readonly history: QmpEvent[] = [];

  private constructor(readonly vm: string, private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => this.onData(chunk));
    sock.on('close', () => this.onClose());
    sock.on('error', () => undefined);
  }

  /** Connects (retrying while QEMU creates the socket) and negotiates capabilities. */
  static async connect(vm: string, path: string, timeoutMs = 10_000): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    let lastErr: unknown;
    while (Date.now() < deadline) {
      try {
        const sock = await openSocket(path, Math.max(100, deadline - Date.now()));
        const client = new QmpClient(vm, sock);
        await client.handshake(Math.max(100, deadline - Date.now()));
        return client;
      } catch (err) {
        lastErr = err;
        if (err instanceof QmpError) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new QmpTimeoutError(vm, `connect ${path} (${lastErr instanceof Error ? lastErr.message : String(lastErr)})`, timeoutMs);
  }

  private greeting?: (ok: boolean) => void;

  private async handshake(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const greeted = new Promise<boolean>((resolve) => {
      this.greeting = resolve;
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const ok = await greeted;
    clearTimeout(timer);
    if (!ok) {
      this.sock.destroy();
      if (this.isClosed) throw new QmpClosedError(this.vm, 'greeting');
      throw new QmpTimeoutError(this.vm, 'greeting', timeoutMs);
    }
    await this.execute('qmp_capabilities', undefined, timeoutMs);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 5000): Promise<T> {
    if (this.isClosed) return Promise.reject(new QmpClosedError(this.vm, command));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new QmpTimeoutError(this.vm, command, timeoutMs));
      }, timeoutMs);
      this.pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject, timer });
      this.sock.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id }) + '\n');
    });
  }

  async queryStatus(timeoutMs?: number): Promise<QmpStatus> {
    return this.execute<QmpStatus>('query-status', undefined, timeoutMs);
  }
  async powerdown(): Promise<void> {
    await this.execute('system_powerdown');
  }
  async reset(): Promise<void> {
    await this.execute('system_reset');
  }
  async injectNmi(): Promise<void> {
    await this.execute('inject-nmi');
  }
  /** Asks QEMU to exit; the socket closing right after is expected. */
  async quit(timeoutMs = 3000): Promise<void> {
    try {
      await this.execute('quit', undefined, timeoutMs);
    } catch (err) {
      if (!(err instanceof QmpClosedError)) throw err;
    }
  }

  onEvent(listener: (e: QmpEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  /** Resolves with the first event named `name` from now on (or already seen, with `includePast`). */
  waitEvent(name: string, timeoutMs: number, includePast = false): Promise<QmpEvent> {
    const past = includePast ? this.history.find((e) => e.event === name) : undefined;
    if (past) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const off = this.onEvent((e) => {
        if (e.event !== name) return;
        clearTimeout(timer);
        off();
        resolve(e);
      });
      const timer = setTimeout(() => {
        off();
        reject(new QmpTimeoutError(this.vm, `event ${name}`, timeoutMs));
      }, timeoutMs);
    });
  }

  close(): void {
    this.sock.destroy();
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (line) this.onMessage(line);
    }
  }

  private onMessage(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if ('QMP' in msg) {
      this.greeting?.(true);
      return;
    }
    if (typeof msg.event === 'string') {
      const e = msg as unknown as QmpEvent;
      this.history.push(e);
      this.events.emit('event', e);
      return;
    }
    const id = typeof msg.id === 'number' ? msg.id : undefined;
    const p = id !== undefined ? this.pending.get(id) : undefined;
    if (!p || id === undefined) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (msg.error && typeof msg.error === 'object') {
      const e = msg.error as { class?: string; desc?: string };
      p.reject(new QmpError(this.vm, p.command, e.class ?? 'GenericError', e.desc ?? ''));
    } else {
      p.resolve(msg.return);
    }
  }

  private onClose(): void {
    this.isClosed = true;
    this.greeting?.(false);
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new QmpClosedError(this.vm, p.command));
      this.pending.delete(id);
    }
    this.events.emit('close');
  }
}

function openSocket(path: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`connect timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      resolve(sock);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
