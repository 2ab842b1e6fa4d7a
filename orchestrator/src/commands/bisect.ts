import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { cacheDir } from '../util/paths.ts';
import { runBisect, type CommitTester, type BisectEvent } from '../bisect/driver.ts';
import { BisectRecord } from '../bisect/record.ts';
import { DEFAULT_OPTIONS, type BisectOptions } from '../bisect/session.ts';
import { DETERMINISTIC_MODEL, FLAKY_MODEL } from '../bisect/posterior.ts';
import { firstParentHistory, historyFromFile, sliceHistory } from '../bisect/history.ts';
import type { BisectTarget } from '../bisect/target.ts';

export interface BisectCliOptions {
  good: string;
  bad: string;
  cell?: string;
  signature?: string;
  title?: string;
  hang?: boolean;
  repo?: string;
  revsFile?: string;
  store?: string;
  json?: string;
  confidence?: string;
  maxRuns?: string;
  batch?: string;
  reproduceBudget?: string;
  verifyGood?: string;
  deterministic?: boolean;
}

function positiveInt(v: string | undefined, flag: string, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`bisect: ${flag} must be an integer >= ${min}, got "${v}"`);
  return n;
}

export function targetFromOptions(o: Pick<BisectCliOptions, 'signature' | 'title' | 'hang'>): BisectTarget {
  const given = [o.signature !== undefined, o.title !== undefined, !!o.hang].filter(Boolean).length;
  if (given !== 1) throw new Error('bisect: give exactly one of --signature SIG, --title TEXT or --hang');
  if (o.signature !== undefined) return { kind: 'signature', signature: o.signature };
  if (o.title !== undefined) return { kind: 'title', text: o.title };
  return { kind: 'hang' };
}

export function bisectOptionsFromCli(o: BisectCliOptions): BisectOptions {
  const confidence = o.confidence === undefined ? DEFAULT_OPTIONS.confidence : Number(o.confidence);
  if (!(confidence > 0 && confidence < 1)) throw new Error(`bisect: --confidence must be in (0, 1), got "${o.confidence}"`);
  return {
    model: o.deterministic ? DETERMINISTIC_MODEL : FLAKY_MODEL,
    confidence,
    batch: positiveInt(o.batch, '--batch', DEFAULT_OPTIONS.batch),
    maxRuns: positiveInt(o.maxRuns, '--max-runs', DEFAULT_OPTIONS.maxRuns),
    reproduceBudget: positiveInt(o.reproduceBudget, '--reproduce-budget', o.deterministic ? 1 : DEFAULT_OPTIONS.reproduceBudget),
    verifyGoodRuns: positiveInt(o.verifyGood, '--verify-good', DEFAULT_OPTIONS.verifyGoodRuns, 0),
  };
}

export async function resolveHistory(o: BisectCliOptions): Promise<string[]> {
  if (o.revsFile) return sliceHistory(historyFromFile(o.revsFile), o.good, o.bad, o.revsFile);
  const repo = o.repo ?? process.env.OBSDLAB_SRC_GIT ?? cacheDir('src.git');
  return firstParentHistory(repo, o.good, o.bad);
}

function printEvent(e: BisectEvent): void {
  if (e.kind === 'resumed') console.log(`resuming: ${e.runs} runs already recorded`);
  else if (e.kind === 'testing') console.log(`testing #${e.pos} ${e.commit} x${e.runs} (${e.why})`);
  else if (e.kind === 'run') console.log(`  run ${e.run.seq}: ${e.run.outcome} -> ${e.run.evidence}`);
  else console.log(`#${e.pos} builds the same kernel as #${e.sameAs}: inherits its evidence`);
}

export async function bisectCommand(playbook: string, o: BisectCliOptions, tester?: CommitTester): Promise<number> {
  const target = targetFromOptions(o);
  const options = bisectOptionsFromCli(o);
  const commits = await resolveHistory(o);
  const playbookFile = resolve(playbook);
  let t = tester;
  if (!t) {
    // The real tester lives with the runner; loaded lazily so this command builds without it.
    const specifier: string = '../run/tester.ts';
    const mod = (await import(specifier)) as {
      createPlaybookTester: (file: string, opts: { cell?: string }) => CommitTester | Promise<CommitTester>;
    };
    t = await mod.createPlaybookTester(playbookFile, { ...(o.cell ? { cell: o.cell } : {}) });
  }
  const record = new BisectRecord(o.store ?? cacheDir('bisect.sqlite'));
  const ac = new AbortController();
  const onSignal = () => ac.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const report = await runBisect(
      { commits, target, context: { playbook: playbookFile, cell: o.cell ?? '(default)' }, options },
      t,
      record,
      { signal: ac.signal, onEvent: printEvent },
    );
    process.stdout.write(report.log);
    if (o.json) writeFileSync(o.json, JSON.stringify(report, null, 2) + '\n');
    return report.conclusion.reason === 'found' ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    record.close();
  }
}

export function register(program: Command): void {
  program
    .command('bisect')
    .description('find the commit that introduced a (possibly flaky) crash, resumable')
    .argument('<playbook>', 'playbook file whose cell reproduces the bug')
    .requiredOption('--good <rev>', 'known-good revision')
    .requiredOption('--bad <rev>', 'known-bad revision')
    .option('--cell <selector>', 'matrix cell of the playbook to run')
    .option('--signature <sig>', 'count only crashes with this triage signature')
    .option('--title <text>', 'count only crashes whose title contains this text')
    .option('--hang', 'the target is a hang')
    .option('--repo <dir>', 'git mirror of src (default $OBSDLAB_SRC_GIT or the cache)')
    .option('--revs-file <file>', 'revisions one per line, oldest first (e.g. CVS dates) instead of git')
    .option('--store <file>', 'bisect record (SQLite); default in the cache directory')
    .option('--json <file>', 'also write the full report as JSON')
    .option('--confidence <p>', 'stop when one commit holds this posterior probability', '0.95')
    .option('--max-runs <n>', 'total run budget')
    .option('--batch <n>', 'runs per step at one commit (e.g. number of test hosts)')
    .option('--reproduce-budget <n>', 'give up if the bad end shows no target failure in this many runs')
    .option('--verify-good <n>', 'run the good end this many times first')
    .option('--deterministic', 'the bug always reproduces: one run per step')
    .action(async (playbook: string, o: BisectCliOptions) => {
      process.exitCode = await bisectCommand(playbook, o);
    });
}
