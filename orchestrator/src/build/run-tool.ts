import { createWriteStream, type WriteStream } from 'node:fs';
import { execa } from 'execa';

export interface ToolRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunToolOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  input?: string | Buffer;
  /** Append stdout+stderr (interleaved, as produced) to this file while the tool runs. */
  logFile?: string;
  /** Hard limit; the tool is killed (SIGTERM, then SIGKILL) when it is exceeded. */
  timeoutMs?: number;
  /** Run under nice(1): the build machine is shared. */
  nice?: boolean;
}

/**
 * Runs a host tool to completion without throwing on a non-zero exit; the caller
 * decides what an exit code means. The child is killed when `signal` aborts or
 * the timeout passes, and execa also kills it when this process exits.
 */
export async function runTool(cmd: string, args: string[], opts: RunToolOptions = {}): Promise<ToolRun> {
  const [file, argv] = opts.nice ? ['nice', ['-n', '10', cmd, ...args]] : [cmd, args];
  let log: WriteStream | undefined;
  if (opts.logFile) log = createWriteStream(opts.logFile, { flags: 'a' });
  try {
    const child = execa(file, argv, {
      cwd: opts.cwd,
      env: opts.env,
      extendEnv: true,
      reject: false,
      all: true,
      cancelSignal: opts.signal,
      timeout: opts.timeoutMs,
      forceKillAfterDelay: 5000,
      input: opts.input,
      stripFinalNewline: false,
      maxBuffer: 256 * 1024 * 1024,
    });
    if (log) child.all?.pipe(log, { end: false });
    const r = await child;
    if (r.isCanceled) throw opts.signal?.reason instanceof Error ? opts.signal.reason : new Error(`${cmd}: cancelled`);
    if (r.timedOut) throw new Error(`${cmd} ${args.join(' ')}: timed out after ${opts.timeoutMs} ms`);
    if (r.failed && r.exitCode === undefined) throw new Error(`${cmd}: ${r.shortMessage}`);
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  } finally {
    if (log) await new Promise<void>((res) => log!.end(res));
  }
}

/** Like runTool, but a non-zero exit is an error naming the command and its stderr. */
export async function runToolOk(cmd: string, args: string[], opts: RunToolOptions = {}): Promise<ToolRun> {
  const r = await runTool(cmd, args, opts);
  if (r.exitCode !== 0) {
    const tail = (r.stderr || r.stdout).trim().split('\n').slice(-15).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd ?? process.cwd()}) exited ${r.exitCode}:\n${tail}`);
  }
  return r;
}
