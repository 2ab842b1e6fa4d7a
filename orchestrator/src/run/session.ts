/**
 * `obsdlab run`: expands the playbook, prepares kernels and images, executes the runs
 * within the host budget (interleaved order, listr2 progress), writes every result to
 * the store as it happens, and renders the reports. Ctrl-C stops cleanly: running VMs
 * are torn down, finished results stay, the report says "interrupted".
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Listr } from 'listr2';
import type { Plan, PlannedRun } from '../playbook/plan-types.ts';
import { ResultStore } from '../store/db.ts';
import { buildReport, type SessionReport } from '../report/model.ts';
import { writeReports, type Reporter } from '../report/write.ts';
import type { Outcome } from './outcome.ts';
import { BudgetGate } from './scheduler.ts';
import { RETRY_MARK } from './retry.ts';
import { decide, nextPair, observations } from './adaptive.ts';
import type { Budget } from './budget.ts';
import { executeRun, errorText, type RunResult } from './execute.ts';
import type { RunDeps } from './deps.ts';
import { PROJECT_ROOT } from '../util/paths.ts';

export interface SessionOptions {
  plan: Plan;
  budget: Budget;
  reportsDir?: string;
  storePath?: string;
  reporters?: readonly Reporter[];
  /** Playwright-style deterministic slice "K/N" of the runs. */
  shard?: { index: number; total: number };
  /** Prepares kernels/images and returns the executor's dependencies. */
  prepare: (plan: Plan, log: (line: string) => void, signal: AbortSignal) => Promise<RunDeps>;
  signal: AbortSignal;
  /** Extra attempts for a run that ended as an infrastructure error (default 1). */
  retries?: number;
  /** listr2 renderer: 'default' on a TTY, 'simple' lines otherwise. */
  renderer?: 'default' | 'simple' | 'silent';
}

export interface SessionResult {
  reportDir: string;
  report: SessionReport;
  files: string[];
  exitCode: number;
}

export function defaultReportsDir(): string {
  return join(PROJECT_ROOT, 'reports');
}

export function shardRuns(runs: PlannedRun[], shard?: { index: number; total: number }): PlannedRun[] {
  if (!shard) return runs;
  return runs.filter((r) => r.seq % shard.total === shard.index - 1);
}

export function expectedOutcome(run: { expect?: { outcome?: string } }): Outcome {
  return (run.expect?.outcome as Outcome | undefined) ?? 'pass';
}

export async function runSession(opts: SessionOptions): Promise<SessionResult> {
  const { plan } = opts;
  const runs = shardRuns(plan.runs, opts.shard);
  const reportsDir = resolve(opts.reportsDir ?? defaultReportsDir());
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const reportDir = join(reportsDir, `${stamp}-${plan.playbook.name}${opts.shard ? `-shard${opts.shard.index}of${opts.shard.total}` : ''}`);
  mkdirSync(join(reportDir, 'runs'), { recursive: true });
  writeFileSync(join(reportDir, 'plan.json'), JSON.stringify({ ...plan, runs }, null, 2) + '\n');
  const store = new ResultStore(opts.storePath ?? join(reportsDir, 'results.sqlite'));
  const sessionId = store.beginSession({
    playbook: plan.playbook.name,
    playbookFile: plan.playbook.file,
    reportDir,
    host: hostname(),
  });
  const expectedByRunId = new Map(runs.map((r) => [r.id, expectedOutcome(r)]));
  // Unix socket paths are limited to ~107 bytes: VMs get a short symlink to their run directory.
  const shortBase = join(tmpdir(), `obsdlab-${process.pid}-${sessionId}`);
  mkdirSync(shortBase, { recursive: true });

  let deps: RunDeps | undefined;
  const gate = new BudgetGate(opts.budget);
  let ticket = 0;
  const runTasks = (batch: PlannedRun[]) =>
    batch.map((run) => {
      const myTicket = ticket++;
      return {
        title: `${String(run.seq).padStart(3)} ${run.id}`,
        task: async (_c: unknown, t: { output: string; title: string; skip: (m?: string) => void }) => {
          t.output = 'waiting for a slot';
          const release = await gate.acquire(myTicket, run.resources);
          try {
            if (opts.signal.aborted) return t.skip('interrupted');
            const result = await runWithRetries(
              run,
              opts.retries ?? 1,
              { deps: deps!, store, sessionId, reportDir, shortBase, signal: opts.signal },
              (l) => (t.output = l),
            );
            const exp = expectedOutcome(run);
            t.title = `${String(run.seq).padStart(3)} ${run.id}: ${result.outcome}${result.outcome === exp ? '' : ' (unexpected)'}${
              result.reason && result.outcome !== 'pass' ? ` - ${result.reason.split('\n')[0]!.slice(0, 70)}` : ''
            }`;
          } finally {
            release();
          }
        },
      };
    });
  const listrOptions = {
    exitOnError: true,
    // Interrupts are ours to handle (tear down VMs, keep results); listr2's own handler exits at once.
    registerSignalListeners: false,
    renderer: opts.renderer ?? 'default',
    fallbackRenderer: 'simple',
    fallbackRendererCondition: !process.stdout.isTTY || !!process.env.CI,
    rendererOptions: { collapseSubtasks: false },
  } as const;
  const tasks = new Listr(
    [
      {
        title: 'Prepare kernels and images',
        task: async (_ctx, task) => {
          deps = await opts.prepare(plan, (line) => (task.output = line), opts.signal);
        },
        rendererOptions: { persistentOutput: false },
      },
      {
        title: `Runs (${runs.length}, order: ${plan.order.mode})`,
        task: (_ctx, task) => task.newListr(runTasks(runs), { concurrent: true, exitOnError: false }),
      },
    ],
    listrOptions,
  );

  let status: 'complete' | 'interrupted' | 'failed' = 'complete';
  let prepareError: unknown;
  try {
    await tasks.run();
  } catch (err) {
    prepareError = err;
  }
  let adaptive: SessionReport['adaptive'];
  if (plan.adaptive && !prepareError && !opts.signal.aborted) {
    const rule = plan.adaptive;
    const all = [...runs];
    for (;;) {
      const decision = decide(rule, observations(rule, store.runs(sessionId), store.measurements(sessionId)));
      adaptive = { rule: `${rule.metric}${rule.measurement ? ` of ${rule.measurement}` : ''}: ${rule.compare[0]} vs ${rule.compare[1]}, at most ${rule.maxRuns} runs each, ${Math.round(rule.confidence * 100)}% confidence`, ...decision };
      if (decision.stop || opts.signal.aborted) break;
      const pair = nextPair(rule, all, Math.max(...all.map((r) => r.seq)) + 1);
      all.push(...pair);
      for (const r of pair) expectedByRunId.set(r.id, expectedOutcome(r));
      await new Listr(
        [{ title: `Adaptive repetition (${decision.statement})`, task: (_c, t) => t.newListr(runTasks(pair), { concurrent: true, exitOnError: false }) }],
        listrOptions,
      ).run();
    }
    writeFileSync(join(reportDir, 'plan.json'), JSON.stringify({ ...plan, runs: all }, null, 2) + '\n');
  }
  if (opts.signal.aborted) status = 'interrupted';
  else if (prepareError) status = 'failed';
  store.finishSession(sessionId, status);
  rmSync(shortBase, { recursive: true, force: true });

  const session = store.sessions().find((s) => s.id === sessionId)!;
  const report = buildReport({
    session,
    runs: store.runs(sessionId),
    expectedOutcome: (r) => expectedByRunId.get(r.runId) ?? 'pass',
    measurements: store.measurements(sessionId),
    counterDeltas: store.counterDeltas(sessionId),
    crashes: store.crashes(sessionId),
    groups: store.signatureGroups(sessionId),
    confidence: 0.95,
    ...(adaptive ? { adaptive } : {}),
  });
  if (prepareError) writeFileSync(join(reportDir, 'prepare-error.txt'), errorText(prepareError) + '\n');
  const files = writeReports(report, reportDir, opts.reporters);
  store.close();
  const exitCode = opts.signal.aborted ? 130 : prepareError ? 3 : report.unexpected > 0 || report.runs.length < runs.length ? 1 : 0;
  if (prepareError) throw Object.assign(new Error(errorText(prepareError)), { reportDir, exitCode });
  return { reportDir, report, files, exitCode };
}

/** What every attempt of every run of a session shares. */
interface AttemptContext {
  deps: RunDeps;
  store: ResultStore;
  sessionId: number;
  reportDir: string;
  shortBase: string;
  signal: AbortSignal;
}

/**
 * One planned run, retried when it ended as an infrastructure error (a QEMU crash, a
 * host hiccup): such an outcome says nothing about the kernel, so a fresh attempt is
 * the honest thing to record. Every attempt keeps its own directory and store row.
 */
async function runWithRetries(run: PlannedRun, retries: number, ac: AttemptContext, progress: (line: string) => void): Promise<RunResult> {
  let result = await runAttempt(run, run.id, ac, progress);
  for (let attempt = 1; attempt <= retries && result.outcome === 'infra-error' && !ac.signal.aborted; attempt++) {
    progress(`infra error, retrying (${attempt}/${retries}): ${(result.reason ?? '').split('\n')[0]}`);
    result = await runAttempt(run, `${run.id}${RETRY_MARK}${attempt}`, ac, progress);
  }
  return result;
}

async function runAttempt(run: PlannedRun, attemptId: string, ac: AttemptContext, progress: (line: string) => void): Promise<RunResult> {
  const dirName = `${String(run.seq).padStart(3, '0')}-${attemptId.replace(/[^A-Za-z0-9=.,#_~-]/g, '_')}`;
  const dir = join(ac.reportDir, 'runs', dirName);
  mkdirSync(dir, { recursive: true });
  const shortDir = join(ac.shortBase, dirName.replace(/^(\d+).*?(~retry\d+)?$/, '$1$2'));
  symlinkSync(dir, shortDir);
  const runPk = ac.store.startRun(ac.sessionId, { ...run, id: attemptId }, dir);
  try {
    const result = await executeRun(ac.deps, { run, dir, workDir: shortDir, store: ac.store, runPk, signal: ac.signal, progress });
    ac.store.finishRun(runPk, result);
    return result;
  } catch (err) {
    const result: RunResult = { outcome: 'infra-error', reason: errorText(err), durationMs: 0, accel: '-', kernels: {} };
    ac.store.finishRun(runPk, result);
    return result;
  } finally {
    rmSync(shortDir, { force: true });
  }
}
