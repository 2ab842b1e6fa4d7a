import { execa, type Options } from 'execa';

export interface ToolResult {
  stdout: string;
  stderr: string;
}

/** A host tool failed: carries the command line and its output for the error report. */
export class ToolError extends Error {
  constructor(
    readonly step: string,
    readonly command: string,
    readonly exitCode: number | undefined,
    readonly output: string,
  ) {
    const tail = output.trim().split('\n').slice(-25).join('\n');
    super(`${step}: ${command} failed${exitCode === undefined ? '' : ` (exit ${exitCode})`}${tail ? `\n${tail}` : ''}`);
    this.name = 'ToolError';
  }
}

/**
 * Runs a host tool niced (the machine is shared), with a time limit; execa
 * kills the child on timeout and when the parent exits. `step` names what was
 * being done, for the error message.
 */
export async function runTool(
  step: string,
  file: string,
  args: string[],
  opts: { cwd?: string; timeoutMs?: number; input?: string; env?: Record<string, string> } = {},
): Promise<ToolResult> {
  const execOpts: Options = {
    cwd: opts.cwd,
    timeout: opts.timeoutMs ?? 300_000,
    reject: false,
    all: true,
    env: opts.env,
    input: opts.input,
    forceKillAfterDelay: 2_000,
    cleanup: true,
  };
  const r = await execa('nice', ['-n', '10', file, ...args], execOpts);
  const cmdline = [file, ...args].join(' ');
  if (r.timedOut) throw new ToolError(step, cmdline, undefined, `timed out after ${opts.timeoutMs ?? 300_000} ms\n${String(r.all ?? '')}`);
  if (r.exitCode !== 0 || r.failed) throw new ToolError(step, cmdline, r.exitCode, String(r.all ?? r.message));
  return { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}
