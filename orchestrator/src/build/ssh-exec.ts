import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Client, type ConnectConfig } from 'ssh2';

export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
  /** Private key file; without it the SSH agent is used. */
  key?: string;
}

export interface RemoteResult {
  exitCode: number;
  stdout: Buffer;
  stderr: string;
}

export interface RemoteExecOptions {
  /** Bytes or a stream sent to the command's stdin (then EOF). */
  stdin?: Buffer | Readable;
  /** Called with output as it arrives (stdout and stderr). */
  onOutput?: (chunk: Buffer) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * A small ssh2 exec client for the SSH builder: one connection, commands run
 * one at a time or in parallel on their own channels.
 */
export class RemoteShell {
  private constructor(
    private readonly client: Client,
    readonly endpoint: SshEndpoint,
  ) {}

  static async connect(ep: SshEndpoint, signal?: AbortSignal): Promise<RemoteShell> {
    const cfg: ConnectConfig = { host: ep.host, port: ep.port, username: ep.user, readyTimeout: 30_000, keepaliveInterval: 15_000 };
    if (ep.key) cfg.privateKey = await readFile(ep.key);
    else if (process.env.SSH_AUTH_SOCK) cfg.agent = process.env.SSH_AUTH_SOCK;
    const client = new Client();
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        client.end();
        reject(signal?.reason instanceof Error ? signal.reason : new Error('ssh connect aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      client
        .once('ready', () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        })
        .once('error', (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(new Error(`ssh ${ep.user}@${ep.host}:${ep.port}: ${e.message}`));
        })
        .connect(cfg);
    });
    return new RemoteShell(client, ep);
  }

  exec(command: string, opts: RemoteExecOptions = {}): Promise<RemoteResult> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, stream) => {
        if (err) return reject(new Error(`ssh ${this.endpoint.host}: cannot run "${command}": ${err.message}`));
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let timer: NodeJS.Timeout | undefined;
        const stop = (why: Error) => {
          stream.close();
          reject(why);
        };
        const onAbort = () => stop(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error('aborted'));
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        if (opts.timeoutMs) timer = setTimeout(() => stop(new Error(`ssh ${this.endpoint.host}: "${command}" timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);
        stream.on('data', (d: Buffer) => {
          out.push(d);
          opts.onOutput?.(d);
        });
        stream.stderr.on('data', (d: Buffer) => {
          errOut.push(d);
          opts.onOutput?.(d);
        });
        stream.on('close', (code: number | null, sig?: string) => {
          if (timer) clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
          resolve({ exitCode: code ?? (sig ? 128 : -1), stdout: Buffer.concat(out), stderr: Buffer.concat(errOut).toString('utf8') });
        });
        if (Buffer.isBuffer(opts.stdin)) stream.end(opts.stdin);
        else if (opts.stdin) (opts.stdin as Readable).pipe(stream);
        else stream.end();
      });
    });
  }

  /** exec that fails with the command, exit code and stderr on a non-zero exit. */
  async run(command: string, opts: RemoteExecOptions = {}): Promise<RemoteResult> {
    const r = await this.exec(command, opts);
    if (r.exitCode !== 0) {
      throw new Error(`ssh ${this.endpoint.user}@${this.endpoint.host}:${this.endpoint.port}: "${command}" exited ${r.exitCode}: ${r.stderr.trim().split('\n').slice(-8).join('\n')}`);
    }
    return r;
  }

  close(): void {
    this.client.end();
  }
}

/** Single-quotes a word for a POSIX shell. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
