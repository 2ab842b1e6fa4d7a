/**
 * Drives ddb over the serial console with a script (script.ts) and captures
 * each command's output separately: the text between the echoed command line
 * and the next prompt. Every command has its own timeout; after a timeout the
 * driver waits for a late prompt, then presses Enter once, and if ddb still
 * does not answer it stops with `wedged: true` (the caller resets the VM).
 *
 * Facts this relies on (OpenBSD ddb/db_command.c, db_output.c, db_input.c and
 * arch/amd64/amd64/db_interface.c, and the lab transcripts):
 * - the prompt is `ddb{N}> ` (MULTIPROCESSOR) or `ddb> ` at a line start;
 * - ddb echoes what is typed, and an empty line repeats the last command, so
 *   Enter is only pressed while recovering;
 * - `--db_more--` waits for a key; a space shows the next page;
 * - `machine ddbcpu N` prints `Stopped at …` and a trace, then `ddb{N}> `;
 *   on a CPU that never stopped it spins forever, so only CPUs that
 *   `machine cpuinfo` reports as `stopped` are visited.
 */
import { ConsoleClosedError, ConsoleTimeoutError, type ConsoleChannel, type ExpectMatch } from '../console/types.ts';
import { DDB_MORE, DDB_PROMPT, HALTED, REBOOTING, STOPPED_AT, parseDmesg, promptCpu } from '../console/openbsd.ts';
import type { Diagnosis } from '../guest/adapter.ts';
import { expandCommand, faultPc, panicCpus, parseCpuinfo, resolveDdbScript, type DdbScript, type DdbScriptInput } from './script.ts';

export type DdbCommandStatus = 'ok' | 'timeout';

export interface DdbCapture {
  command: string;
  output: string;
  status: DdbCommandStatus;
  /** CPU whose prompt the command was typed at (null on a uniprocessor kernel). */
  cpu: number | null;
  durationMs: number;
  /** Raw console offsets: after the prompt the command was typed at, and where its capture ended. */
  consoleFrom: number;
  consoleTo: number;
  /** `--db_more--` pages answered while it ran. */
  pages: number;
}

export interface DdbSessionResult extends Diagnosis {
  captures: DdbCapture[];
  /** CPU that entered ddb (null: uniprocessor). */
  firstCpu: number | null;
  /** Other CPUs visited with `machine ddbcpu`. */
  visitedCpus: number[];
  /** CPUs not visited, and why (`machine cpuinfo` state, or the timeout that wedged ddb). */
  skippedCpus: { cpu: number; reason: string }[];
  /** How the session ended: the finish command was typed, or not (wedged / `stay`). */
  finished: 'reboot' | 'dump' | null;
}

export interface DdbDriverOptions {
  /** Each command's own limit. */
  commandTimeoutMs: number;
  script?: DdbScriptInput | DdbScript;
  /** How long to wait for a late prompt, and again after pressing Enter, before declaring ddb wedged. */
  recoverTimeoutMs?: number;
  /** How long the first prompt may take to appear (ddb may still be printing the panic trace). */
  promptTimeoutMs?: number;
  /** Raw console offset where the crash text began (Diagnosis.consoleFrom); default: the first prompt. */
  consoleFrom?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

const PROMPT_OR_MORE = [DDB_PROMPT, DDB_MORE];

/** Runs the script at a ddb prompt; the console's cursor must be at or just before that prompt. */
export async function runDdbScript(console: ConsoleChannel, opts: DdbDriverOptions): Promise<DdbSessionResult> {
  return new DdbDriver(console, opts).run();
}

class DdbDriver {
  private readonly script: DdbScript;
  private readonly recoverMs: number;
  private readonly captures: DdbCapture[] = [];
  private cpu: number | null = null;
  private lastOffset = 0;
  private wedged = false;
  private readonly log: (line: string) => void;

  constructor(
    private readonly console: ConsoleChannel,
    private readonly opts: DdbDriverOptions,
  ) {
    this.script = isResolved(opts.script) ? opts.script : resolveDdbScript(opts.script);
    this.recoverMs = opts.recoverTimeoutMs ?? Math.min(5000, opts.commandTimeoutMs);
    this.log = opts.log ?? (() => {});
  }

  async run(): Promise<DdbSessionResult> {
    const preamble = this.console.mark();
    const first = await this.syncPrompt();
    const result: DdbSessionResult = {
      consoleFrom: this.opts.consoleFrom ?? first?.offset ?? 0,
      consoleTo: first?.offset ?? 0,
      commands: [],
      wedged: false,
      captures: this.captures,
      firstCpu: this.cpu,
      visitedCpus: [],
      skippedCpus: [],
      finished: null,
    };
    if (!first) {
      this.wedged = true;
      return this.done(result);
    }
    const crashText = this.console.textSince(preamble);

    for (const cmd of this.script.setup) if (!(await this.step(cmd))) return this.done(result);

    const stoppedBefore = lastMatch(crashText, STOPPED_AT);
    for (const cmd of this.script.commands) {
      const pc = faultPc({ trace: this.outputOf('trace', this.cpu), stoppedAt: stoppedBefore }, this.script.pcRegister);
      if (!(await this.step(expandCommand(cmd, { pc })))) return this.done(result);
    }

    if (this.wantWitness()) if (!(await this.step('show all locks'))) return this.done(result);

    if (this.script.perCpu.length > 0 && this.cpu !== null) {
      const firstCpu = this.cpu;
      const others = await this.otherCpus(firstCpu, result);
      if (others === null) return this.done(result);
      for (const n of others) {
        const sw = await this.step(`machine ddbcpu ${n}`);
        if (!sw) {
          result.skippedCpus.push({ cpu: n, reason: 'machine ddbcpu did not return to a prompt' });
          return this.done(result);
        }
        if (this.cpu !== n) {
          result.skippedCpus.push({ cpu: n, reason: `ddb stayed on cpu${this.cpu}` });
          continue;
        }
        result.visitedCpus.push(n);
        const stoppedAt = sw.output;
        for (const cmd of this.script.perCpu) {
          const pc = faultPc({ trace: this.outputOf('trace', n), stoppedAt }, this.script.pcRegister);
          if (!(await this.step(expandCommand(cmd, { cpu: n, pc })))) return this.done(result);
        }
      }
      if (this.cpu !== firstCpu && !(await this.step(`machine ddbcpu ${firstCpu}`))) return this.done(result);
    }

    result.finished = await this.finish();
    return this.done(result);
  }

  private done(result: DdbSessionResult): DdbSessionResult {
    result.wedged = this.wedged;
    result.consoleTo = Math.max(result.consoleTo, this.lastOffset);
    result.commands = this.captures.map((c) => ({ command: c.command, output: c.output, status: c.status }));
    return result;
  }

  /** Finds the prompt the session starts at. */
  private async syncPrompt(): Promise<ExpectMatch | null> {
    const recent = this.console.textSince(Math.max(0, this.console.mark() - 32));
    const already = /(?:^|\n)ddb(?:\{(\d+)\})?> $/.exec(recent);
    if (already && this.console.textSince(this.console.mark()) === '') {
      this.cpu = already[1] !== undefined ? Number(already[1]) : null;
      this.lastOffset = this.console.rawOffset ?? 0;
      return { index: 0, match: already, before: '', offset: this.lastOffset };
    }
    const wait = this.opts.promptTimeoutMs ?? this.opts.commandTimeoutMs;
    let m = await this.waitPrompt(wait, true);
    if (!m) {
      // A fresh ddb has no last command, so an empty line only redraws the prompt.
      this.log('ddb: no prompt, pressing Enter');
      await this.console.sendLine('');
      m = await this.waitPrompt(this.recoverMs, true);
    }
    if (m) this.cpu = promptCpu(m.match);
    return m;
  }

  /** Waits for a prompt, answering the pager; null on timeout. */
  private async waitPrompt(timeoutMs: number, answerPager: boolean, counter?: { pages: number }): Promise<ExpectMatch | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return null;
      let m: ExpectMatch;
      try {
        m = await this.console.expect(PROMPT_OR_MORE, { timeoutMs: left, signal: this.opts.signal });
      } catch (e) {
        if (e instanceof ConsoleTimeoutError) return null;
        throw e;
      }
      this.lastOffset = m.offset;
      if (m.index === 0) return m;
      if (counter) counter.pages++;
      if (answerPager) await this.console.send(' ');
    }
  }

  /** Types one command and captures its output; null when ddb is wedged. */
  private async step(command: string): Promise<DdbCapture | null> {
    if (this.wedged) return null;
    const started = Date.now();
    const from = this.console.mark();
    const consoleFrom = this.lastOffset;
    const cpuAtPrompt = this.cpu;
    const counter = { pages: 0 };
    this.log(`ddb{${cpuAtPrompt ?? ''}}> ${command}`);
    await this.console.sendLine(command);
    const deadline = started + this.opts.commandTimeoutMs;
    let prompt: ExpectMatch | null = null;
    for (;;) {
      prompt = await this.waitPrompt(deadline - Date.now(), true, counter);
      if (!prompt) break;
      // A prompt before our echo belongs to something typed earlier (a late or repeated command).
      if (echoFound(this.console.textSince(from), command)) break;
    }
    const capture: DdbCapture = {
      command,
      output: '',
      status: prompt ? 'ok' : 'timeout',
      cpu: cpuAtPrompt,
      durationMs: Date.now() - started,
      consoleFrom,
      consoleTo: this.lastOffset,
      pages: counter.pages,
    };
    this.captures.push(capture);
    if (prompt) {
      capture.output = commandOutput(this.console.textSince(from), command, prompt.match[0].length);
      this.cpu = promptCpu(prompt.match);
      return capture;
    }
    capture.output = commandOutput(this.console.textSince(from), command, 0);
    this.log(`ddb: "${command}" timed out after ${this.opts.commandTimeoutMs} ms`);
    const late = await this.recover();
    if (late) {
      capture.output = commandOutput(this.console.textSince(from), command, late.match[0].length);
      capture.consoleTo = this.lastOffset;
      this.cpu = promptCpu(late.match);
      return capture;
    }
    this.wedged = true;
    return null;
  }

  /** After a timeout: a late prompt, or one after pressing Enter. */
  private async recover(): Promise<ExpectMatch | null> {
    const late = await this.waitPrompt(this.recoverMs, true);
    if (late) return late;
    if (this.console.closed) return null;
    await this.console.sendLine('');
    return this.waitPrompt(this.recoverMs, true);
  }

  private outputOf(command: string, cpu: number | null): string | undefined {
    return this.captures.find((c) => c.command === command && c.cpu === cpu && c.status === 'ok')?.output;
  }

  private wantWitness(): boolean {
    if (this.script.witness !== 'auto') return this.script.witness;
    return /\bwitness\b/i.test(this.console.text());
  }

  /** The CPUs to visit: `machine cpuinfo` when ddb has it, else the dmesg and `show panic`. */
  private async otherCpus(firstCpu: number, result: DdbSessionResult): Promise<number[] | null> {
    const info = await this.step('machine cpuinfo');
    if (!info) return null;
    const states = parseCpuinfo(info.output);
    if (states.length > 0) {
      for (const s of states) {
        if (s.cpu !== firstCpu && s.state !== 'stopped') result.skippedCpus.push({ cpu: s.cpu, reason: `cpuinfo: ${s.state}` });
      }
      return states.filter((s) => s.cpu !== firstCpu && s.state === 'stopped').map((s) => s.cpu);
    }
    const known = new Set<number>(parseDmesg(this.console.text())?.cpus ?? []);
    for (const n of panicCpus(this.outputOf('show panic', firstCpu) ?? '')) known.add(n);
    known.delete(firstCpu);
    return [...known].sort((a, b) => a - b);
  }

  private async finish(): Promise<'reboot' | 'dump' | null> {
    if (this.script.finish === 'stay') return null;
    const command = this.script.finish === 'dump' ? 'boot dump' : 'boot reboot';
    const started = Date.now();
    const from = this.console.mark();
    const consoleFrom = this.lastOffset;
    this.log(`ddb> ${command}`);
    await this.console.sendLine(command);
    let status: DdbCommandStatus = 'ok';
    try {
      const m = await this.console.expect([REBOOTING, HALTED], { timeoutMs: this.opts.commandTimeoutMs, signal: this.opts.signal });
      this.lastOffset = m.offset;
    } catch (e) {
      // QEMU with -no-reboot exits on reboot: the console closing is the expected end.
      if (e instanceof ConsoleTimeoutError) status = 'timeout';
      else if (!(e instanceof ConsoleClosedError)) throw e;
    }
    this.captures.push({
      command,
      output: commandOutput(this.console.textSince(from), command, 0),
      status,
      cpu: this.cpu,
      durationMs: Date.now() - started,
      consoleFrom,
      consoleTo: this.lastOffset,
      pages: 0,
    });
    return this.script.finish === 'dump' ? 'dump' : 'reboot';
  }
}

function isResolved(s: DdbDriverOptions['script']): s is DdbScript {
  return !!s && !Array.isArray(s) && Array.isArray(s.setup) && Array.isArray(s.commands) && Array.isArray(s.perCpu) && s.finish !== undefined && s.pcRegister !== undefined && s.witness !== undefined;
}

function lastMatch(text: string, re: RegExp): string | undefined {
  const all = [...text.matchAll(new RegExp(re.source, 'gm'))];
  return all.at(-1)?.[0];
}

/** True when `text` (since the command was typed) holds the command's echo as a whole line. */
function echoFound(text: string, command: string): boolean {
  const firstLine = text.split('\n', 1)[0]!;
  if (firstLine.trimEnd() === command) return true;
  return text.split('\n').some((l) => {
    const m = /^ddb(?:\{\d+\})?> (.*)$/.exec(l);
    return m !== null && m[1]!.trimEnd() === command;
  });
}

/**
 * The output of one command: what follows its echoed line, up to (not
 * including) the newline before the prompt that ended it.
 */
export function commandOutput(textSinceTyped: string, command: string, promptLength: number): string {
  let text = promptLength > 0 ? textSinceTyped.slice(0, textSinceTyped.length - promptLength) : textSinceTyped;
  // The echo is the first line; if something else came first, it is the last prompt line with this command.
  const lines = text.split('\n');
  let start = command.startsWith(lines[0]!.trimEnd()) ? 0 : -1;
  if (start < 0 || lines[0]!.trimEnd() !== command) {
    for (let i = lines.length - 1; i > 0; i--) {
      const m = /^ddb(?:\{\d+\})?> (.*)$/.exec(lines[i]!);
      if (m && m[1]!.trimEnd() === command) {
        start = i;
        break;
      }
    }
  }
  text = lines.slice(start + 1).join('\n');
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}
