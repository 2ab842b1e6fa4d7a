/** Shared by the commands that take a playbook: its plan, or every problem printed and an exit status set. */
import { planFromFile } from '../playbook/load.ts';
import { playbookLoadOptions } from '../load/registry.ts';
import type { Plan } from '../playbook/plan-types.ts';
import { formatProblem, PlaybookError } from '../playbook/problems.ts';

export function planOrReport(file: string, exitCode: number): Plan | undefined {
  try {
    return planFromFile(file, playbookLoadOptions());
  } catch (err) {
    if (!(err instanceof PlaybookError)) throw err;
    process.stderr.write(`${err.problems.map(formatProblem).join('\n')}\n`);
    process.exitCode = exitCode;
    return undefined;
  }
}
