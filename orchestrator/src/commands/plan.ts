/** `obsdlab plan FILE [--json]`: the expanded plan as a table, or the Plan object as JSON. */
import type { Command } from 'commander';
import { planOrReport } from './load-plan.ts';
import type { Plan } from '../playbook/plan-types.ts';
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
      let plan = planOrReport(file, 1);
      if (!plan) return;
      process.stdout.write(planText(plan, opts.json ?? false));
    });
}
