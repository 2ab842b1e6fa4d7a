/**
 * Getting a silent (hung) OpenBSD guest into ddb: a serial BREAK on the
 * console (com(4) enters ddb on a break when ddb.console=1; the LAB config's
 * DDB_SAFE_CONSOLE makes that the default), or an NMI (amd64 trap.c: "NMI ...
 * going to debugger"), which the VM layer injects with QMP `inject-nmi`.
 */
import { ConsoleTimeoutError, type ConsoleChannel, type ExpectMatch } from '../console/types.ts';
import { DDB_PROMPT, promptCpu } from '../console/openbsd.ts';

export interface EnterDdbOptions {
  via: 'break' | 'nmi';
  timeoutMs: number;
  /** QMP inject-nmi, provided by the VM layer. */
  injectNmi?: () => Promise<void>;
  signal?: AbortSignal;
}

export interface EnterDdbResult {
  entered: boolean;
  /** CPU of the prompt (null: uniprocessor, or not entered). */
  cpu: number | null;
  prompt?: ExpectMatch;
}

export async function enterDdb(console: ConsoleChannel, opts: EnterDdbOptions): Promise<EnterDdbResult> {
  if (opts.via === 'nmi') {
    if (!opts.injectNmi) throw new Error(`${console.vm}: no NMI callback: the VM layer must provide injectNmi (QMP inject-nmi)`);
    await opts.injectNmi();
  } else {
    await console.sendBreak();
  }
  try {
    const prompt = await console.expect(DDB_PROMPT, { timeoutMs: opts.timeoutMs, signal: opts.signal });
    return { entered: true, cpu: promptCpu(prompt.match), prompt };
  } catch (e) {
    if (e instanceof ConsoleTimeoutError) return { entered: false, cpu: null };
    throw e;
  }
}
