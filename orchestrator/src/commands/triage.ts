/** `obsdlab triage [--json] [--debug-kernel bsd.gdb] FILE...`: crashes in console logs. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { stripCorpusHeader } from '../triage/console-file.ts';
import { renderTriageJson, renderTriageText, type TriagedFile } from '../triage/render.ts';
import { symbolizeReport } from '../triage/symbolize.ts';
import { triageConsole } from '../triage/triage.ts';

export interface TriageOptions {
  json?: boolean;
  /** Kernel debug file (bsd.gdb) to turn frames into file:line. */
  debugKernel?: string;
}

export class TriageInputError extends Error {
  constructor(readonly file: string, reason: string) {
    super(`triage: ${file}: ${reason}`);
    this.name = 'TriageInputError';
  }
}

export async function triageFiles(files: string[], opts: TriageOptions = {}): Promise<TriagedFile[]> {
  const out: TriagedFile[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new TriageInputError(file, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const crashes = triageConsole(stripCorpusHeader(text));
    const entry: TriagedFile = { file, crashes };
    if (opts.debugKernel) {
      const debugKernel = opts.debugKernel;
      entry.symbolization = [];
      for (const c of crashes) entry.symbolization.push(await symbolizeReport(c.report, debugKernel));
    }
    out.push(entry);
  }
  return out;
}

export async function runTriage(files: string[], opts: TriageOptions = {}): Promise<string> {
  const triaged = await triageFiles(files, opts);
  return opts.json ? renderTriageJson(triaged) : renderTriageText(triaged);
}

export function register(program: Command): void {
  program
    .command('triage')
    .description('find kernel crashes (panic, fault, ddb session) in console logs; print title, signature and traces')
    .argument('<file...>', 'console logs (serial captures, ddb transcripts, mail excerpts)')
    .option('--json', 'print JSON instead of text')
    .option('--debug-kernel <bsd.gdb>', 'kernel debug file: add file:line to frames (needs llvm-addr2line or addr2line)')
    .action(async (files: string[], opts: TriageOptions) => {
      try {
        process.stdout.write(await runTriage(files, opts));
      } catch (err) {
        if (err instanceof TriageInputError) {
          process.stderr.write(err.message + '\n');
          process.exitCode = 2;
          return;
        }
        throw err;
      }
    });
}
