/** `obsdlab validate FILE...`: every problem of every playbook, or "FILE: ok (N runs)". */
import type { Command } from 'commander';
import { playbookLoadOptions } from '../load/registry.ts';
import { expandPlaybook } from '../playbook/expand.ts';
import { loadPlaybook, type LoadOptions } from '../playbook/load.ts';
import { formatProblem, PlaybookError } from '../playbook/problems.ts';

export interface ValidateResult {
  ok: boolean;
  /** Lines to print: problems (file:line:column: path: message) or "FILE: ok (N runs)". */
  lines: string[];
}

export function validateFiles(files: readonly string[], opts: LoadOptions = {}): ValidateResult {
  const lines: string[] = [];
  let ok = true;
  for (const file of files) {
    try {
      const loaded = loadPlaybook(file, opts);
      const plan = expandPlaybook(loaded.playbook, loaded.file);
      lines.push(`${file}: ok (${plan.runs.length} run${plan.runs.length === 1 ? '' : 's'})`);
    } catch (err) {
      if (!(err instanceof PlaybookError)) throw err;
      ok = false;
      lines.push(...err.problems.map(formatProblem));
    }
  }
  return { ok, lines };
}

export function register(program: Command): void {
  program
    .command('validate')
    .description('check playbooks and print every problem with file:line:column')
    .argument('<file...>', 'playbook YAML files')
    .action((files: string[]) => {
      const result = validateFiles(files, playbookLoadOptions());
      const stream = result.ok ? process.stdout : process.stderr;
      stream.write(`${result.lines.join('\n')}\n`);
      if (!result.ok) process.exitCode = 1;
    });
}
