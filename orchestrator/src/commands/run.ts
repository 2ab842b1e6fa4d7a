/** `obsdlab run PLAYBOOK`: execute every run of a playbook and write the report. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { planOrReport } from './load-plan.ts';
import { selectCell } from '../playbook/expand.ts';
import { hostBudget, parseBudget } from '../run/budget.ts';
import { runSession } from '../run/session.ts';
import { prepareRunDeps } from '../run/bindings.ts';
import { REPORTERS, type Reporter } from '../report/write.ts';

export function parseShard(spec: string): { index: number; total: number } {
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  const index = Number(m?.[1]);
  const total = Number(m?.[2]);
  if (!m || index < 1 || total < 1 || index > total) throw new Error(`--shard: expected K/N with 1 <= K <= N, got "${spec}"`);
  return { index, total };
}

export function parseReporters(spec: string): Reporter[] {
  const list = spec.split(',').map((s) => s.trim()).filter(Boolean);
  for (const r of list) if (!(REPORTERS as readonly string[]).includes(r)) throw new Error(`--reporter: unknown reporter "${r}" (have ${REPORTERS.join(', ')})`);
  return list as Reporter[];
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run a playbook: build kernels, boot VMs, load, capture crashes, report')
    .argument('<playbook>', 'playbook YAML file')
    .option('--budget <spec>', 'concurrent guest resources, e.g. cpus=4,mem=8G (default: from the host)')
    .option('--reports <dir>', 'where report directories are written (default: reports/)')
    .option('--store <file>', 'results store (default: <reports>/results.sqlite)')
    .option('--reporter <list>', `reports to write: ${REPORTERS.join(',')}`, REPORTERS.join(','))
    .option('--shard <K/N>', 'run only the K-th of N deterministic slices of the runs')
    .option('--cell <selector>', 'run only the matrix cell(s) matching, e.g. variant=proxy,btrace=on')
    .option('--jobs <n>', 'parallel make jobs for kernel builds', String)
    .action(async (file: string, o: { budget?: string; reports?: string; store?: string; reporter: string; shard?: string; cell?: string; jobs?: string }) => {
      let plan = planOrReport(file, 2);
      if (!plan) return;
      if (o.cell) plan = { ...plan, runs: selectCell(plan, o.cell) };
      const ac = new AbortController();
      let interrupts = 0;
      const onSignal = (sig: NodeJS.Signals) => {
        interrupts++;
        if (interrupts > 1) process.exit(130);
        process.stderr.write(`\nobsdlab: ${sig}: stopping; VMs are being torn down, results so far are kept (again to force)\n`);
        ac.abort(new Error(`interrupted (${sig})`));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const result = await runSession({
          plan,
          budget: o.budget ? parseBudget(o.budget) : hostBudget(),
          ...(o.reports ? { reportsDir: o.reports } : {}),
          ...(o.store ? { storePath: o.store } : {}),
          reporters: parseReporters(o.reporter),
          ...(o.shard ? { shard: parseShard(o.shard) } : {}),
          prepare: (p, log, signal) => prepareRunDeps(p, { log, signal, ...(o.jobs ? { jobs: Number(o.jobs) } : {}) }),
          signal: ac.signal,
        });
        const summary = result.files.find((f) => f.endsWith('summary.txt'));
        if (summary) process.stdout.write(`\n${readFileSync(summary, 'utf8')}`);
        process.stdout.write(`report: ${result.reportDir}\n`);
        process.exitCode = result.exitCode;
      } catch (err) {
        const e = err as Error & { reportDir?: string; exitCode?: number };
        process.stderr.write(`obsdlab run: ${e.message}\n${e.reportDir ? `partial report: ${e.reportDir}\n` : ''}`);
        process.exitCode = e.exitCode ?? 3;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
