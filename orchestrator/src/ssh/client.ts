/**
 * SSH to a guest over its 127.0.0.1 port forward (ssh2): connect with retries
 * while the guest boots, exec with timeout and exit status, background commands,
 * SFTP put/get, host key pinned per VM on first connect. A dropped connection
 * fails every pending operation with an error naming the VM and the command.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Client, type ClientChannel, type SFTPWrapper } from 'ssh2';
import type { BackgroundCommand, CommandResult, GuestShell } from '../guest/adapter.ts';
import { HostKeyStore } from './known-hosts.ts';

export interface SshTarget {
  vm: string;
  port: number;
  /** Defaults to 127.0.0.1: guests are only ever reached through a loopback forward. */
  host?: string;
  user?: string;
  privateKeyPath: string;
  /** known_hosts-like file (one line per VM) where the host key is pinned. */
  knownHostsFile: string;
}

export class SshConnectError extends Error {
  constructor(readonly vm: string, readonly attempts: number, readonly lastError: string, deadlineMs: number) {
    super(`${vm}: SSH did not answer within ${Math.round(deadlineMs / 1000)}s (${attempts} attempts; last error: ${lastError})`);
    this.name = 'SshConnectError';
  }
}

export class HostKeyMismatchError extends Error {
  constructor(readonly vm: string, readonly expected: string, readonly got: string, file: string) {
    super(`${vm}: SSH host key changed: pinned ${expected} in ${file}, guest offered ${got}`);
    this.name = 'HostKeyMismatchError';
  }
}

export class SshCommandTimeoutError extends Error {
  constructor(readonly vm: string, readonly command: string, readonly timeoutMs: number, readonly partial: { stdout: string; stderr: string }) {
    super(`${vm}: command timed out after ${Math.round(timeoutMs / 1000)}s (channel closed): ${command}`);
    this.name = 'SshCommandTimeoutError';
  }
}

export class SshConnectionLostError extends Error {
  constructor(readonly vm: string, readonly during: string, cause?: string) {
    super(`${vm}: SSH connection lost during ${during}${cause ? ` (${cause})` : ''}`);
    this.name = 'SshConnectionLostError';
  }
}

export interface ConnectOptions {
  /** Give up after this long (ms) from the first attempt. */
  deadlineMs: number;
  signal?: AbortSignal;
  /** Per-attempt handshake timeout (ms). */
  attemptTimeoutMs?: number;
}

/**
 * A GuestShell that reconnects (same pinned host key) before a new command when the
 * previous connection was lost: a dropped TCP connection is not a dead guest. A
 * command in flight when the connection drops still fails.
 */
export class ReconnectingShell implements GuestShell {
  private session: SshSession;
  private reconnecting: Promise<SshSession> | undefined;

  constructor(
    first: SshSession,
    private readonly target: SshTarget,
    private readonly reconnectMs: number,
    private readonly signal?: AbortSignal,
  ) {
    this.session = first;
  }

  private async live(): Promise<SshSession> {
    if (this.session.connected) return this.session;
    this.reconnecting ??= sshConnect(this.target, { deadlineMs: this.reconnectMs, ...(this.signal ? { signal: this.signal } : {}) }).finally(
      () => (this.reconnecting = undefined),
    );
    this.session = await this.reconnecting;
    return this.session;
  }

  async exec(command: string, timeoutMs: number): Promise<CommandResult> {
    return (await this.live()).exec(command, timeoutMs);
  }

  async start(command: string): Promise<BackgroundCommand> {
    try {
      return await (await this.live()).start(command);
    } catch (err) {
      // start() fails with a lost connection only while opening its channel, before the
      // command ran: starting it once more on a fresh connection runs it exactly once.
      if (!(err instanceof SshConnectionLostError)) throw err;
      return (await this.live()).start(command);
    }
  }

  async put(localPath: string, remotePath: string): Promise<void> {
    return (await this.live()).put(localPath, remotePath);
  }

  async get(remotePath: string, localPath: string): Promise<void> {
    return (await this.live()).get(remotePath, localPath);
  }

  close(): void {
    this.session.close();
  }
}

/** Connects, retrying with backoff (0.25 s doubling up to 2 s) until the deadline. */
export async function sshConnect(target: SshTarget, opts: ConnectOptions): Promise<SshSession> {
  const started = Date.now();
  const privateKey = readFileSync(target.privateKeyPath);
  mkdirSync(dirname(target.knownHostsFile), { recursive: true });
  const store = new HostKeyStore(target.knownHostsFile);
  let attempts = 0;
  let delay = 250;
  let last = 'no attempt made';
  while (Date.now() - started < opts.deadlineMs) {
    opts.signal?.throwIfAborted();
    attempts++;
    try {
      const remaining = opts.deadlineMs - (Date.now() - started);
      const client = await connectOnce(target, privateKey, store, Math.min(opts.attemptTimeoutMs ?? 20_000, Math.max(1000, remaining)));
      return new SshSession(target.vm, client);
    } catch (err) {
      if (err instanceof HostKeyMismatchError) throw err;
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 2000);
  }
  throw new SshConnectError(target.vm, attempts, last, opts.deadlineMs);
}

function connectOnce(target: SshTarget, privateKey: Buffer, store: HostKeyStore, timeoutMs: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let mismatch: HostKeyMismatchError | undefined;
    const fail = (err: Error) => {
      client.removeAllListeners('ready');
      client.on('error', () => undefined);
      client.end();
      client.destroy();
      reject(mismatch ?? err);
    };
    client.once('ready', () => {
      client.removeAllListeners('error');
      client.on('error', () => undefined);
      resolve(client);
    });
    client.once('error', fail);
    client.once('close', () => fail(new Error('connection closed before authentication')));
    client.connect({
      host: target.host ?? '127.0.0.1',
      port: target.port,
      username: target.user ?? 'root',
      privateKey,
      readyTimeout: timeoutMs,
      // TCG guests on a busy host stall for seconds: allow 30 s without an answer before calling the connection lost.
      keepaliveInterval: 5000,
      keepaliveCountMax: 6,
      hostVerifier: (key: Buffer) => {
        const verdict = store.check(target.vm, key);
        if (verdict.ok) return true;
        mismatch = new HostKeyMismatchError(target.vm, verdict.expected, verdict.got, store.file);
        return false;
      },
    });
  });
}

/** Single-quotes a string for a POSIX shell. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

export class SshSession implements GuestShell {
  private lost?: string;
  private readonly lostListeners = new Set<(cause: string) => void>();
  private sftpHandle?: Promise<SFTPWrapper>;

  constructor(readonly vm: string, private readonly client: Client) {
    const onLost = (cause: string) => {
      if (this.lost) return;
      this.lost = cause;
      for (const l of this.lostListeners) l(cause);
    };
    client.on('error', (err: Error) => onLost(err.message));
    client.on('close', () => onLost('connection closed'));
    client.on('end', () => onLost('connection ended'));
  }

  get connected(): boolean {
    return !this.lost;
  }

  private watchLoss(during: string, reject: (e: Error) => void): () => void {
    if (this.lost) {
      reject(new SshConnectionLostError(this.vm, during, this.lost));
      return () => undefined;
    }
    const l = (cause: string) => reject(new SshConnectionLostError(this.vm, during, cause));
    this.lostListeners.add(l);
    return () => this.lostListeners.delete(l);
  }

  private openExec(command: string): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      const unwatch = this.watchLoss(command, reject);
      this.client.exec(command, (err, ch) => {
        unwatch();
        if (err) reject(new SshConnectionLostError(this.vm, command, err.message));
        else resolve(ch);
      });
    });
  }

  exec(command: string, timeoutMs: number): Promise<CommandResult> {
    const t0 = Date.now();
    return new Promise<CommandResult>((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      let done = false;
      let channel: ClientChannel | undefined;
      // Declared before watchLoss(), which calls back at once on a connection already lost.
      let timer: NodeJS.Timeout | undefined;
      let unwatch: () => void = () => undefined;
      const finish = (fn: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        unwatch();
        fn();
      };
      unwatch = this.watchLoss(command, (e) => finish(() => reject(e)));
      if (done) return;
      timer = setTimeout(() => {
        finish(() => reject(new SshCommandTimeoutError(this.vm, command, timeoutMs, { stdout, stderr })));
        channel?.close();
      }, timeoutMs);
      this.openExec(command).then(
        (ch) => {
          channel = ch;
          if (done) {
            ch.close();
            return;
          }
          let exitCode: number | undefined;
          let exitSignal: string | undefined;
          ch.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
          ch.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
          ch.on('exit', (code: number | null, signal?: string) => {
            exitCode = code ?? undefined;
            exitSignal = signal;
          });
          ch.on('close', () =>
            finish(() =>
              resolve({
                vm: this.vm,
                command,
                // A command killed by a signal has no exit code: report 128+n like a shell would, or -1.
                exitCode: exitCode ?? (exitSignal ? 128 + (signalNumber(exitSignal) ?? 0) : -1),
                stdout,
                stderr,
                durationMs: Date.now() - t0,
              }),
            ),
          );
        },
        (err: Error) => finish(() => reject(err)),
      );
    });
  }

  async start(command: string): Promise<BackgroundCommand> {
    // The session's shell is a process group leader (the server setsid()s it): report its
    // PID first so stop() can signal the whole group from a second channel.
    const wrapped = `echo obsdlab-pid $$; exec sh -c ${shellQuote(command)}`;
    const t0 = Date.now();
    const ch = await this.openExec(wrapped);
    let stdout = '';
    let stderr = '';
    let exitCode: number | undefined;
    let exitSignal: string | undefined;
    let pid: number | undefined;
    let pidResolve!: (pid: number | undefined) => void;
    const pidKnown = new Promise<number | undefined>((r) => (pidResolve = r));
    ch.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
      if (pid === undefined) {
        const m = /^obsdlab-pid (\d+)\n/.exec(stdout);
        if (m) {
          pid = Number(m[1]);
          stdout = stdout.slice(m[0].length);
          pidResolve(pid);
        }
      }
    });
    ch.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    ch.on('exit', (code: number | null, signal?: string) => {
      exitCode = code ?? undefined;
      exitSignal = signal;
    });
    const closed = new Promise<void>((resolve) => ch.on('close', () => resolve()));
    void closed.then(() => pidResolve(undefined));
    const result = (): CommandResult => ({
      vm: this.vm,
      command,
      exitCode: exitCode ?? (exitSignal ? 128 + (signalNumber(exitSignal) ?? 0) : -1),
      stdout,
      stderr,
      durationMs: Date.now() - t0,
    });
    const waitClosed = async (timeoutMs: number): Promise<boolean> => {
      let timer: NodeJS.Timeout | undefined;
      let onLost: (() => void) | undefined;
      const lost = new Promise<'lost'>((resolve) => {
        onLost = () => resolve('lost');
        if (this.lost) resolve('lost');
        else this.lostListeners.add(onLost);
      });
      const r = await Promise.race([
        closed.then(() => 'closed' as const),
        lost,
        new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (onLost) this.lostListeners.delete(onLost);
      if (r === 'lost') throw new SshConnectionLostError(this.vm, command, this.lost);
      return r === 'closed';
    };
    const stop = async (): Promise<CommandResult> => {
      const p = await Promise.race([pidKnown, new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000))]);
      if (p !== undefined && !this.lost) {
        await this.exec(`kill -TERM -${p} 2>/dev/null || kill -TERM ${p} 2>/dev/null; true`, 10_000).catch(() => undefined);
      }
      if (!(await waitClosed(5000).catch(() => false))) ch.close();
      return result();
    };
    return {
      command,
      wait: async (timeoutMs: number) => {
        if (await waitClosed(timeoutMs)) return result();
        const partial = result();
        await stop();
        throw new SshCommandTimeoutError(this.vm, command, timeoutMs, { stdout: partial.stdout, stderr: partial.stderr });
      },
      stop,
    };
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpHandle ??= new Promise((resolve, reject) => {
      const unwatch = this.watchLoss('sftp', reject);
      this.client.sftp((err, sftp) => {
        unwatch();
        if (err) reject(new Error(`${this.vm}: SFTP unavailable: ${err.message}`));
        else resolve(sftp);
      });
    });
    return this.sftpHandle;
  }

  async put(localPath: string, remotePath: string): Promise<void> {
    await this.transfer('put', remotePath, `${localPath} → ${remotePath}`, (sftp, done) => sftp.fastPut(localPath, remotePath, done));
  }

  async get(remotePath: string, localPath: string): Promise<void> {
    await this.transfer('get', remotePath, `${remotePath} → ${localPath}`, (sftp, done) => sftp.fastGet(remotePath, localPath, done));
  }

  /** One SFTP copy, failing with the VM and both paths named, or with the lost connection. */
  private async transfer(
    verb: 'put' | 'get',
    remotePath: string,
    what: string,
    copy: (sftp: SFTPWrapper, done: (err?: Error | null) => void) => void,
  ): Promise<void> {
    const sftp = await this.sftp();
    await new Promise<void>((resolve, reject) => {
      const unwatch = this.watchLoss(`${verb} ${remotePath}`, reject);
      copy(sftp, (err) => {
        unwatch();
        if (err) reject(new Error(`${this.vm}: ${verb} ${what} failed: ${err.message}`));
        else resolve();
      });
    });
  }

  close(): void {
    this.client.end();
  }
}

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, ILL: 4, ABRT: 6, FPE: 8, KILL: 9, SEGV: 11, PIPE: 13, ALRM: 14, TERM: 15 };
function signalNumber(name: string): number | undefined {
  return SIGNALS[name.replace(/^SIG/, '')];
}
