import { createHash } from 'node:crypto';
import { BisectSession, type BisectOptions, type Conclusion } from './session.ts';
import { describeModel } from './posterior.ts';
import type { BisectRecord, RecordedRun } from './record.ts';
import { classifyTrial, describeTarget, type BisectTarget, type TrialResult } from './target.ts';

/** Builds and runs a kernel at a commit. The lead's real tester builds with the kernel builder and runs a playbook cell. */
export interface CommitTester {
  test(commit: string, runs: number, signal: AbortSignal): Promise<TrialResult[]>;
  /** Optional: the cache key or hash of the kernel this commit builds to, without running it. */
  identify?(commit: string, signal: AbortSignal): Promise<string | undefined>;
}

export interface BisectParams {
  /** commits[0] is the known-good end, the last one the known-bad end (first-parent order). */
  commits: string[];
  target: BisectTarget;
  /** Describes what is tested (playbook, cell); part of the resume key. */
  context: Record<string, string>;
  options: BisectOptions;
}

export interface BisectReport {
  params: BisectParams;
  conclusion: Conclusion;
  culpritCommit?: string;
  rangeCommits?: [string, string];
  runnersUp: { commit: string; pos: number; prob: number }[];
  runs: RecordedRun[];
  identical: { pos: number; sameAs: number; kernelKey: string }[];
  resumedRuns: number;
  log: string;
}

export type BisectEvent =
  | { kind: 'resumed'; runs: number }
  | { kind: 'testing'; pos: number; commit: string; runs: number; why: string }
  | { kind: 'run'; run: RecordedRun }
  | { kind: 'identical'; pos: number; sameAs: number };

/** Key under which a bisect is stored: same inputs, same record, so a restart resumes. */
export function bisectKey(p: BisectParams): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ commits: p.commits, target: p.target, context: p.context, options: p.options }));
  return h.digest('hex').slice(0, 32);
}

/**
 * Run (or resume) a bisect: replay what the record holds, then alternate choosing a commit
 * and testing it until the session stops. Every run is stored before the next decision.
 */
export async function runBisect(
  params: BisectParams,
  tester: CommitTester,
  record: BisectRecord,
  opts: { signal?: AbortSignal; onEvent?: (e: BisectEvent) => void } = {},
): Promise<BisectReport> {
  const { commits, target, options } = params;
  if (commits.length < 2) throw new Error('bisect: need a good and a bad commit');
  const signal = opts.signal ?? new AbortController().signal;
  const emit = opts.onEvent ?? (() => {});
  const n = commits.length - 1;
  const session = new BisectSession(n, options);
  const info = record.openSession(bisectKey(params), params);
  const kernelOf = new Map<string, number>();
  const alias = new Map<number, number>();
  const identified = new Set<number>();
  const noteKernel = (pos: number, key: string | undefined) => {
    if (!key) return;
    const other = kernelOf.get(key);
    if (other === undefined) kernelOf.set(key, pos);
    else if (other !== pos && !alias.has(pos)) {
      alias.set(pos, other);
      session.applyIdentical(pos, other);
      record.addIdentical(info.id, pos, other, key);
      emit({ kind: 'identical', pos, sameAs: other });
    }
  };
  const previous = record.runs(info.id);
  for (const id of record.identical(info.id)) {
    alias.set(id.pos, id.sameAs);
    identified.add(id.pos);
    kernelOf.set(id.kernelKey, id.sameAs);
    session.applyIdentical(id.pos, id.sameAs);
  }
  for (const r of previous) {
    if (r.pos < 0 || r.pos > n || commits[r.pos] !== r.commit) {
      throw new Error(`bisect record ${info.key}: run ${r.seq} is for ${r.commit} at #${r.pos}, which is not in this history`);
    }
    session.apply(r.pos, r.evidence);
    identified.add(r.pos);
    noteKernel(r.pos, r.kernelHash);
  }
  if (previous.length) emit({ kind: 'resumed', runs: previous.length });

  for (;;) {
    signal.throwIfAborted();
    const action = session.next();
    if (action.kind === 'stop') break;
    let pos = alias.get(action.pos) ?? action.pos;
    if (!identified.has(pos) && tester.identify) {
      const key = await tester.identify(commits[pos]!, signal);
      identified.add(pos);
      const before = alias.size;
      noteKernel(pos, key);
      if (alias.size > before) continue; // inherits a tested kernel's evidence: decide again
    }
    pos = alias.get(pos) ?? pos;
    const commit = commits[pos]!;
    emit({ kind: 'testing', pos, commit, runs: action.runs, why: action.why });
    const trials = await tester.test(commit, action.runs, signal);
    if (trials.length === 0) throw new Error(`bisect: the tester returned no runs for ${commit}`);
    for (const t of trials) {
      const evidence = classifyTrial(t, target);
      const run = { pos, commit, evidence, ...t };
      const seq = record.addRun(info.id, run);
      session.apply(pos, evidence);
      identified.add(pos);
      noteKernel(pos, t.kernelHash);
      emit({ kind: 'run', run: { ...run, seq, at: new Date().toISOString() } });
    }
  }
  const action = session.next();
  const conclusion = session.conclude(action.kind === 'stop' ? action.reason : 'budget');
  record.finish(info.id, conclusion);
  const runs = record.runs(info.id);
  const identical = record.identical(info.id);
  const report: BisectReport = {
    params,
    conclusion,
    ...(conclusion.culprit !== undefined ? { culpritCommit: commits[conclusion.culprit]! } : {}),
    ...(conclusion.range ? { rangeCommits: [commits[conclusion.range[0]]!, commits[conclusion.range[1]]!] as [string, string] } : {}),
    runnersUp: conclusion.runnersUp.map((r) => ({ commit: commits[r.pos]!, pos: r.pos, prob: r.prob })),
    runs,
    identical,
    resumedRuns: previous.length,
    log: '',
  };
  report.log = formatBisectLog(report);
  return report;
}

/** A `git bisect log`-like text: one line per run, then the conclusion. Plain ASCII, mail-ready. */
export function formatBisectLog(r: BisectReport): string {
  const { commits, target, context, options } = r.params;
  const n = commits.length - 1;
  const lines: string[] = [];
  lines.push(`# obsdlab bisect: target ${describeTarget(target)}`);
  for (const [k, v] of Object.entries(context)) lines.push(`# ${k}: ${v}`);
  const model = describeModel(options.model);
  lines.push(`# good #0 ${commits[0]}, bad #${n} ${commits[n]}, ${n} commits; model ${model}; confidence ${options.confidence}`);
  for (const run of r.runs) {
    const extra = [run.signature ? `sig ${run.signature}` : '', run.title ? `"${run.title}"` : '', run.detail ?? ''].filter(Boolean).join(' ');
    lines.push(`run ${run.seq}: #${run.pos} ${run.commit} ${run.outcome} -> ${run.evidence}${extra ? ` (${extra})` : ''}`);
  }
  for (const id of r.identical) lines.push(`identical: #${id.pos} ${commits[id.pos]} builds the same kernel as #${id.sameAs} (${id.kernelKey})`);
  const c = r.conclusion;
  lines.push(`# ${c.message}`);
  if (r.culpritCommit) lines.push(`# first bad commit: ${r.culpritCommit} (#${c.culprit}), probability ${c.probability.toFixed(3)}`);
  if (r.rangeCommits) lines.push(`# first bad commit among ${r.rangeCommits[0]}..${r.rangeCommits[1]}, probability ${c.probability.toFixed(3)}`);
  for (const u of r.runnersUp) lines.push(`# runner-up: ${u.commit} (#${u.pos}) ${u.prob.toFixed(3)}`);
  const fr = c.failureRate;
  lines.push(`# failure rate of bad commits: ${(100 * fr.mean).toFixed(1)}% (95% interval ${(100 * fr.lo).toFixed(1)}-${(100 * fr.hi).toFixed(1)}%)`);
  for (const w of c.inconsistencies) lines.push(`# WARNING: ${w}`);
  lines.push(`# ${c.totalRuns} runs${r.resumedRuns ? `, ${r.resumedRuns} of them from before a restart` : ''}`);
  return lines.join('\n') + '\n';
}
