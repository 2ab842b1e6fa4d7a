/**
 * Connects to a VM's serial console: QEMU's `-chardev socket,...,server=on,wait=off`
 * unix socket, which appears a moment after QEMU starts. Retries until it
 * accepts, bounded in time, then records everything into the run directory.
 */
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConsoleRecorder } from './recorder.ts';
import { ConsoleSession, type ChardevMode } from './session.ts';

export interface OpenConsoleOptions {
  vm: string;
  socketPath: string;
  /** Run directory: <vm>.console.log, .times and .input go here. */
  dir: string;
  chardev?: ChardevMode;
  breakHook?: () => Promise<void>;
  connectTimeoutMs?: number;
  signal?: AbortSignal;
  windowChars?: number;
}

export async function openConsole(opts: OpenConsoleOptions): Promise<ConsoleSession> {
  const socket = await connectWithRetry(opts.vm, opts.socketPath, opts.connectTimeoutMs ?? 30_000, opts.signal);
  // A socket without a 'data' listener buffers what arrives, so nothing is missed before the session attaches.
  let recorder: ConsoleRecorder;
  try {
    recorder = new ConsoleRecorder(opts.dir, opts.vm);
  } catch (e) {
    socket.destroy();
    throw e;
  }
  return new ConsoleSession({
    vm: opts.vm,
    stream: socket,
    recorder,
    chardev: opts.chardev,
    breakHook: opts.breakHook,
    windowChars: opts.windowChars,
  });
}

const RETRYABLE = new Set(['ENOENT', 'ECONNREFUSED', 'EAGAIN']);

export async function connectWithRetry(vm: string, path: string, timeoutMs: number, signal?: AbortSignal): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  let delay = 20;
  let lastError = '';
  for (;;) {
    signal?.throwIfAborted();
    try {
      return await connectOnce(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (!RETRYABLE.has(code)) throw new Error(`${vm}: console socket ${path}: ${(e as Error).message}`);
      lastError = code;
    }
    if (Date.now() + delay > deadline) {
      throw new Error(`${vm}: console socket ${path} did not accept a connection within ${Math.round(timeoutMs / 1000)}s (last error: ${lastError})`);
    }
    await sleep(delay, undefined, { signal });
    delay = Math.min(delay * 2, 250);
  }
}

function connectOnce(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ path });
    const onError = (e: Error) => {
      s.destroy();
      reject(e);
    };
    s.once('error', onError);
    s.once('connect', () => {
      s.off('error', onError);
      resolve(s);
    });
  });
}
