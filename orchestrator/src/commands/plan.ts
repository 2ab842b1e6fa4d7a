/** `obsdlab plan FILE [--json]`: the expanded plan as a table, or the Plan object as JSON. */
import type { Command } from 'commander';
import { planFromFile } from '../playbook/load.ts';
import type { Plan } from '../playbook/plan-types.ts';
import { formatProblem, PlaybookError } from '../playbook/problems.ts';
import { renderPlan } from '../playbook/render.ts';

export function planText(plan: Plan, json: boolean): string {
  return json ? `${JSON.stringify(plan, null, 2)}\n` : renderPlan(plan);
}

export function register(program: Command): void {
  program
    .command('plan')
    .description('expand a playbook into its runs (matrix x repetitions, in execution order)')
    .argument('<file>', 'playbook YAML file')
    .option('--json', 'print the whole plan as JSON (top-level "runs")')
    .action((file: string, opts: { json?: boolean }) => {
      let plan: Plan;
      try {
        plan = planFromFile(file);
      } catch (err) {
        if (!(err instanceof PlaybookError)) throw err;
        process.stderr.write(`${err.problems.map(formatProblem).join('\n')}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(planText(plan, opts.json ?? false));
    });
}
