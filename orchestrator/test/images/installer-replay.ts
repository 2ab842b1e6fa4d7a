/**
 * Test helper: a ConsoleChannel that replays a real installer transcript. It prints
 * the transcript up to each question, waits for the answer typed by the code under
 * test, echoes it, and goes on; after "(S)hell" it acts as the installer's shell.
 */
import type { ConsoleChannel, ExpectMatch } from '../../src/console/types.ts';

type Step = { out: string } | { prompt: string; human: string };

export function replaySteps(transcript: string): Step[] {
  const steps: Step[] = [];
  for (const line of transcript.split('\n')) {
    const q = line.search(/\?( |$)/);
    if (q < 0 || line.startsWith('    [X]')) {
      steps.push({ out: line + '\n' });
      continue;
    }
    const rest = line.slice(q);
    let end = q + 1;
    const bracket = rest.lastIndexOf(']');
    const paren = rest.lastIndexOf(')');
    if (bracket >= 0) end = q + bracket + 1;
    else if (paren >= 0) end = q + paren + 1;
    steps.push({ prompt: line.slice(0, end) + ' ', human: line.slice(end).trim() });
  }
  return steps;
}

export class InstallerReplay implements ConsoleChannel {
  readonly vm = 'installer';
  closed = false;
  readonly answers: { prompt: string; input: string }[] = [];
  readonly shellCommands: string[] = [];
  private buf = '';
  private lastOut = Date.now();
  private waiting: { prompt: string } | undefined;
  private shell = false;

  constructor(private readonly steps: Step[]) {
    this.advance();
  }

  private emit(s: string): void {
    this.buf += s;
    this.lastOut = Date.now();
  }

  private advance(): void {
    while (this.steps.length > 0) {
      const s = this.steps.shift()!;
      if ('out' in s) {
        this.emit(s.out);
      } else {
        this.emit(s.prompt);
        this.waiting = { prompt: s.prompt };
        return;
      }
    }
  }

  async sendLine(line: string): Promise<void> {
    if (this.shell) {
      this.shellCommands.push(line);
      if (line === 'halt -p') {
        this.emit(`${line}\nsyncing disks... done\n`);
        this.closed = true;
        return;
      }
      this.emit(`${line}\n# `);
      return;
    }
    if (!this.waiting) throw new Error(`typed ${JSON.stringify(line)} while no question was pending`);
    this.answers.push({ prompt: this.waiting.prompt.trimEnd(), input: line });
    const password = /will not echo|\(again\)/.test(this.waiting.prompt);
    this.emit(password ? '\n' : `${line}\n`);
    const exiting = /Exit to \(S\)hell/.test(this.waiting.prompt);
    this.waiting = undefined;
    if (exiting && line.toLowerCase() === 's') {
      this.shell = true;
      this.emit('# ');
      return;
    }
    this.advance();
  }

  async send(): Promise<void> {}
  async sendBreak(): Promise<void> {}
  text(): string {
    return this.buf;
  }
  textSince(mark: number): string {
    return this.buf.slice(mark);
  }
  mark(): number {
    return this.buf.length;
  }
  idleMs(): number {
    return Date.now() - this.lastOut;
  }
  onText(): () => void {
    return () => undefined;
  }
  expect(): Promise<ExpectMatch> {
    return Promise.reject(new Error('InstallerReplay: expect() is not used by the install driver'));
  }
}
