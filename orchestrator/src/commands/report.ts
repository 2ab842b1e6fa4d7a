/**
 * `obsdlab report`: renders a session's report again from the results store, or
 * merges the sessions of several stores (e.g. the shards of one playbook run on
 * several hosts with --shard K/N) into one report.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ResultStore, type CrashRecord, type MeasurementRecord, type RunRecord, type SignatureGroup } from '../store/db.ts';
import { buildReport, type SessionReport } from '../report/model.ts';
import { writeReports } from '../report/write.ts';
import { defaultReportsDir, expectedOutcome } from '../run/session.ts';
import type { Outcome } from '../run/outcome.ts';
import type { Plan } from '../playbook/plan-types.ts';
import { parseReporters } from './run.ts';

interface Loaded {
  session: ReturnType<ResultStore['sessions']>[number];
  runs: RunRecord[];
  measurements: MeasurementRecord[];
  counterDeltas: ReturnType<ResultStore['counterDeltas']>;
  crashes: CrashRecord[];
  groups: SignatureGroup[];
  expected: Map<string, Outcome>;
}

function loadSession(storePath: string, sessionId: number | 'latest'): Loaded {
  const store = new ResultStore(storePath);
  try {
    const sessions = store.sessions();
    const session = sessionId === 'latest' ? sessions.at(-1) : sessions.find((s) => s.id === sessionId);
    if (!session) throw new Error(`${storePath}: no session ${sessionId} (have ${sessions.map((s) => s.id).join(', ') || 'none'})`);
    const expected = new Map<string, Outcome>();
    try {
      const plan = JSON.parse(readFileSync(join(session.reportDir, 'plan.json'), 'utf8')) as Plan;
      for (const r of plan.runs) expected.set(r.id, expectedOutcome(r));
    } catch {
      // Without the plan every run is expected to pass.
    }
    return {
      session,
      runs: store.runs(session.id),
      measurements: store.measurements(session.id),
      counterDeltas: store.counterDeltas(session.id),
      crashes: store.crashes(session.id),
      groups: store.signatureGroups(session.id),
      expected,
    };
  } finally {
    store.close();
  }
}

/** One report over several loaded sessions; run, crash and measurement keys are made unique per store. */
export function mergeSessions(loaded: Loaded[]): SessionReport {
  const first = loaded[0]!;
  const runs: RunRecord[] = [];
  const measurements: MeasurementRecord[] = [];
  const counterDeltas: Loaded['counterDeltas'] = [];
  const crashes: CrashRecord[] = [];
  const groups = new Map<string, SignatureGroup>();
  const expected = new Map<string, Outcome>();
  loaded.forEach((l, i) => {
    const offset = (i + 1) * 1_000_000;
    runs.push(...l.runs.map((r) => ({ ...r, pk: r.pk + offset })));
    measurements.push(...l.measurements.map((m) => ({ ...m, run: m.run + offset })));
    counterDeltas.push(...l.counterDeltas.map((c) => ({ ...c, run: c.run + offset })));
    crashes.push(...l.crashes.map((c) => ({ ...c, run: c.run + offset, id: c.id + offset })));
    for (const g of l.groups) {
      const prev = groups.get(g.signature);
      groups.set(g.signature, prev ? { ...prev, count: prev.count + g.count, firstSeen: prev.firstSeen < g.firstSeen ? prev.firstSeen : g.firstSeen } : g);
    }
    for (const [k, v] of l.expected) expected.set(k, v);
  });
  runs.sort((a, b) => a.seq - b.seq);
  return buildReport({
    session: {
      playbook: first.session.playbook,
      playbookFile: first.session.playbookFile,
      startedAt: loaded.map((l) => l.session.startedAt).sort()[0]!,
      finishedAt: loaded.map((l) => l.session.finishedAt ?? '').sort().at(-1) || null,
      status: loaded.every((l) => l.session.status === 'complete') ? 'complete' : loaded.map((l) => l.session.status).join('+'),
      host: [...new Set(loaded.map((l) => l.session.host))].join(', '),
    },
    runs,
    expectedOutcome: (r) => expected.get(r.runId) ?? 'pass',
    measurements,
    counterDeltas,
    crashes,
    groups: [...groups.values()],
    confidence: 0.95,
  });
}

export function register(program: Command): void {
  program
    .command('report')
    .description('render a session again from the results store, or merge the sessions of several stores (shards)')
    .option('--store <file...>', 'results store(s) (default: reports/results.sqlite)')
    .option('--session <id>', 'session id in the store (default: the latest)')
    .option('--out <dir>', 'where to write the report (default: the session directory, or reports/merged-<time> when merging)')
    .option('--reporter <list>', 'reports to write', 'text,json,junit,html')
    .action((o: { store?: string[]; session?: string; out?: string; reporter: string }) => {
      const stores = (o.store ?? [join(defaultReportsDir(), 'results.sqlite')]).map((s) => resolve(s));
      const sessionId = o.session ? Number(o.session) : 'latest';
      const loaded = stores.map((s) => loadSession(s, sessionId));
      const report = mergeSessions(loaded);
      const out = resolve(
        o.out ?? (loaded.length === 1 ? loaded[0]!.session.reportDir : join(defaultReportsDir(), `merged-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`)),
      );
      mkdirSync(out, { recursive: true });
      const files = writeReports(report, out, parseReporters(o.reporter));
      process.stdout.write(files.map((f) => `${f}\n`).join(''));
      process.exitCode = report.unexpected > 0 ? 1 : 0;
    });
}
