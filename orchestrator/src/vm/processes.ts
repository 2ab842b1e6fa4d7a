/**
 * Every child process obsdlab starts (QEMU, helpers) is registered here and killed
 * by PID — SIGTERM, then SIGKILL after a grace period — on explicit teardown, on
 * SIGINT/SIGTERM/SIGHUP and, with SIGKILL only (nothing can be awaited there), when
 * Node exits for any reason including an uncaught error. Nothing is killed by name.
 *
 * Children are started through `setpriv --pdeathsig SIGKILL`, so the kernel kills
 * them even when this Node process itself is SIGKILLed and no handler can run.
 */
import { readFileSync } from 'node:fs';
import { execa, type ResultPromise } from 'execa';

export interface ChildExit {
  code: number | null;
  signal: string | null;
}

export interface TrackedChild {
  readonly pid: number;
  readonly label: string;
  /** Resolves when the process has ended (never rejects). */
  readonly exited: Promise<ChildExit>;
  /** Last bytes the process wrote to stderr. */
  stderrTail(): string;
  /** Adds a listener for stderr text as it arrives. */
  onStderr(listener: (text: string) => void): void;
  /** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. */
  kill(graceMs?: number): Promise<ChildExit>;
}

const STDERR_TAIL_BYTES = 8192;
const DEFAULT_GRACE_MS = 3000;

const tracked = new Map<number, TrackedChild>();
let handlersInstalled = false;

export class SpawnError extends Error {
  constructor(readonly label: string, readonly command: string, cause: unknown) {
    super(`${label}: could not start ${command}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'SpawnError';
  }
}

/** True while /proc/<pid> exists and the process is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3 (after the parenthesised command name, which may contain spaces) is the state.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** PIDs of children started here that are still registered (running or not yet reaped). */
export function trackedPids(): number[] {
  return [...tracked.keys()];
}

/**
 * Starts `file args…` with an argument array (never a shell), registers it and
 * returns a handle. With `dieWithParent` (default) it runs under setpriv so it dies
 * with this process.
 */
export function spawnTracked(
  label: string,
  file: string,
  args: string[],
  opts: { cwd?: string; dieWithParent?: boolean; env?: Record<string, string> } = {},
): TrackedChild {
  installHandlers();
  const dieWithParent = opts.dieWithParent ?? true;
  const [cmd, argv] = dieWithParent ? ['setpriv', ['--pdeathsig', 'SIGKILL', '--', file, ...args]] : [file, args];
  let sub: ResultPromise;
  try {
    sub = execa(cmd, argv, {
      cwd: opts.cwd,
      env: opts.env,
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      cleanup: true,
    });
  } catch (err) {
    throw new SpawnError(label, file, err);
  }
  const pid = sub.pid;
  if (pid === undefined) {
    // execa resolves (reject: false) with the spawn error; nothing was started.
    void sub.catch(() => undefined);
    throw new SpawnError(label, cmd, new Error('the process did not start (executable missing?)'));
  }
  let tail = '';
  const listeners: ((text: string) => void)[] = [];
  sub.stderr?.setEncoding('utf8');
  sub.stderr?.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-STDERR_TAIL_BYTES);
    for (const l of listeners) l(chunk);
  });
  const exited: Promise<ChildExit> = sub.then(
    (r) => ({ code: r.exitCode ?? null, signal: r.signal ?? null }),
    () => ({ code: null, signal: null }),
  );
  void exited.then(() => tracked.delete(pid));
  const child: TrackedChild = {
    pid,
    label,
    exited,
    stderrTail: () => tail,
    onStderr: (l) => void listeners.push(l),
    kill: (graceMs = DEFAULT_GRACE_MS) => killChild(child, graceMs),
  };
  tracked.set(pid, child);
  return child;
}

async function killChild(child: TrackedChild, graceMs: number): Promise<ChildExit> {
  if (!signalPid(child.pid, 'SIGTERM')) return child.exited;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), graceMs)));
  if ((await Promise.race([child.exited, timeout])) === 'timeout') signalPid(child.pid, 'SIGKILL');
  clearTimeout(timer);
  return child.exited;
}

function signalPid(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Kills every registered child (SIGTERM, then SIGKILL after graceMs) and waits for them. */
export async function killAllTracked(graceMs = DEFAULT_GRACE_MS): Promise<void> {
  await Promise.all([...tracked.values()].map((c) => c.kill(graceMs)));
}

/**
 * A process recorded in a QEMU -pidfile by an earlier obsdlab that died without
 * cleaning up. Killed only if it is still a QEMU whose command line names this
 * pidfile, so a recycled PID is never touched. Returns the PID killed, if any.
 */
export async function reapStalePidfile(pidfile: string, graceMs = DEFAULT_GRACE_MS): Promise<number | undefined> {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidfile, 'utf8').trim(), 10);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 1 || !isAlive(pid)) return undefined;
  let cmdline: string[];
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
  if (!cmdline.some((a) => a.includes('qemu-system')) || !cmdline.includes(pidfile)) return undefined;
  signalPid(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) signalPid(pid, 'SIGKILL');
  return pid;
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const pid of tracked.keys()) signalPid(pid, 'SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      void killAllTracked(1000).finally(() => {
        // Only re-raise (default action: exit) when nobody else handles the signal.
        if (process.listenerCount(sig) === 1) {
          process.removeListener(sig, handler);
          process.kill(process.pid, sig);
        }
      });
    };
    process.on(sig, handler);
  }
}
