/**
 * The results store (SQLite via better-sqlite3): every session, run, measurement,
 * counter snapshot and crash, written as soon as it is known so that nothing is lost
 * when a run dies or the runner is interrupted. WAL mode lets a report or a bisect
 * read while a runner writes.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Outcome } from '../run/outcome.ts';
import type { Measurement } from '../load/types.ts';
import type { PlannedRun } from '../playbook/plan-types.ts';
import { SCHEMA_SQL, SCHEMA_VERSION } from './schema.ts';

export interface RunRecord {
  pk: number;
  sessionId: number;
  runId: string;
  seq: number;
  cell: Record<string, string>;
  cellId: string;
  variant: string;
  repetition: number;
  dir: string;
  startedAt: string;
  finishedAt: string | null;
  outcome: Outcome | null;
  reason: string | null;
  failedVm: string | null;
  timeToFailureMs: number | null;
  durationMs: number | null;
  accel: string | null;
  kernels: Record<string, string>;
}

export interface MeasurementRecord extends Measurement {
  run: number;
  vm: string;
  phase: string;
}

export interface CrashInput {
  vm: string;
  kind: string;
  title: string;
  signature: string;
  message: string;
  /** The structured report, stored as JSON. */
  report: unknown;
  /** Path of the console transcript the crash came from. */
  console: string;
}

export interface CrashRecord extends Omit<CrashInput, 'report'> {
  id: number;
  run: number;
  report: unknown;
  recordedAt: string;
}

export interface SignatureGroup {
  signature: string;
  title: string;
  kind: string;
  firstSeen: string;
  lastSeen: string;
  /** Crashes with this signature over the whole store (all sessions). */
  count: number;
  exampleConsole: string;
  exampleRun: string;
}

export interface RunFinish {
  outcome: Outcome;
  reason?: string;
  failedVm?: string;
  timeToFailureMs?: number;
  durationMs: number;
  accel?: string;
  kernels?: Record<string, string>;
}

type Row = Record<string, unknown>;

export class ResultStore {
  readonly db: Database.Database;

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA_SQL);
    const version = this.db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string } | undefined;
    if (!version) {
      this.db.prepare(`INSERT INTO meta(key, value) VALUES ('schema_version', ?)`).run(String(SCHEMA_VERSION));
    } else if (Number(version.value) !== SCHEMA_VERSION) {
      throw new Error(`${path}: results store has schema version ${version.value}, this obsdlab expects ${SCHEMA_VERSION}`);
    }
  }

  close(): void {
    this.db.close();
  }

  beginSession(s: { playbook: string; playbookFile: string; reportDir: string; host: string }): number {
    const r = this.db
      .prepare(`INSERT INTO sessions(playbook, playbook_file, report_dir, started_at, host) VALUES (?, ?, ?, ?, ?)`)
      .run(s.playbook, s.playbookFile, s.reportDir, now(), s.host);
    return Number(r.lastInsertRowid);
  }

  finishSession(id: number, status: 'complete' | 'interrupted' | 'failed'): void {
    this.db.prepare(`UPDATE sessions SET finished_at = ?, status = ? WHERE id = ?`).run(now(), status, id);
  }

  startRun(sessionId: number, run: PlannedRun, dir: string): number {
    const r = this.db
      .prepare(
        `INSERT INTO runs(session_id, run_id, seq, cell, cell_id, variant, repetition, dir, started_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(sessionId, run.id, run.seq, JSON.stringify(run.cell), run.cellId, run.variant, run.repetition, dir, now());
    return Number(r.lastInsertRowid);
  }

  finishRun(pk: number, f: RunFinish): void {
    this.db
      .prepare(
        `UPDATE runs SET finished_at = ?, outcome = ?, reason = ?, failed_vm = ?, time_to_failure_ms = ?,
           duration_ms = ?, accel = ?, kernels = ? WHERE id = ?`,
      )
      .run(
        now(),
        f.outcome,
        f.reason ?? null,
        f.failedVm ?? null,
        f.timeToFailureMs ?? null,
        f.durationMs,
        f.accel ?? null,
        JSON.stringify(f.kernels ?? {}),
        pk,
      );
  }

  addMeasurements(run: number, vm: string, phase: string, ms: Measurement[]): void {
    const ins = this.db.prepare(
      `INSERT INTO measurements(run, vm, phase, name, value, unit, labels) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const m of ms) ins.run(run, vm, phase, m.name, m.value, m.unit, JSON.stringify(m.labels ?? {}));
    })();
  }

  addCounters(run: number, vm: string, phase: string, snapshot: Record<string, number>): void {
    const ins = this.db.prepare(
      `INSERT OR REPLACE INTO counters(run, vm, phase, name, value) VALUES (?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const [name, value] of Object.entries(snapshot)) if (Number.isFinite(value)) ins.run(run, vm, phase, name, value);
    })();
  }

  addCrash(run: number, c: CrashInput): number {
    const at = now();
    return this.db.transaction(() => {
      const r = this.db
        .prepare(
          `INSERT INTO crashes(run, vm, kind, title, signature, message, report, console, recorded_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(run, c.vm, c.kind, c.title, c.signature, c.message, JSON.stringify(c.report), c.console, at);
      const id = Number(r.lastInsertRowid);
      this.db
        .prepare(
          `INSERT INTO signatures(signature, title, kind, first_seen, last_seen, count, example_crash)
           VALUES (?, ?, ?, ?, ?, 1, ?)
           ON CONFLICT(signature) DO UPDATE SET last_seen = excluded.last_seen, count = count + 1`,
        )
        .run(c.signature, c.title, c.kind, at, at, id);
      return id;
    })();
  }

  runs(sessionId: number): RunRecord[] {
    return (this.db.prepare(`SELECT * FROM runs WHERE session_id = ? ORDER BY seq`).all(sessionId) as Row[]).map(toRun);
  }

  run(pk: number): RunRecord | undefined {
    const row = this.db.prepare(`SELECT * FROM runs WHERE id = ?`).get(pk) as Row | undefined;
    return row ? toRun(row) : undefined;
  }

  measurements(sessionId: number): MeasurementRecord[] {
    return (
      this.db
        .prepare(
          `SELECT m.* FROM measurements m JOIN runs r ON r.id = m.run WHERE r.session_id = ? ORDER BY r.seq, m.id`,
        )
        .all(sessionId) as Row[]
    ).map((row) => ({
      run: row.run as number,
      vm: row.vm as string,
      phase: row.phase as string,
      name: row.name as string,
      value: row.value as number,
      unit: row.unit as string,
      labels: JSON.parse(row.labels as string) as Record<string, string>,
    }));
  }

  counters(run: number): { vm: string; phase: string; name: string; value: number }[] {
    return this.db.prepare(`SELECT vm, phase, name, value FROM counters WHERE run = ? ORDER BY vm, name, phase`).all(run) as {
      vm: string;
      phase: string;
      name: string;
      value: number;
    }[];
  }

  /** Per run and VM, how much each counter moved between the "before" and "after" snapshots. */
  counterDeltas(sessionId: number): { run: number; vm: string; name: string; delta: number }[] {
    return this.db
      .prepare(
        // A counter missing from "before" counts as 0 there (the lab agent prints only counters that are not 0),
        // provided the VM had a "before" snapshot at all.
        `SELECT a.run, a.vm, a.name, a.value - COALESCE(b.value, 0) AS delta
           FROM counters a
           LEFT JOIN counters b ON b.run = a.run AND b.vm = a.vm AND b.name = a.name AND b.phase = 'before'
           JOIN runs r ON r.id = a.run
          WHERE a.phase = 'after' AND r.session_id = ?
            AND EXISTS (SELECT 1 FROM counters c WHERE c.run = a.run AND c.vm = a.vm AND c.phase = 'before')
          ORDER BY a.run, a.vm, a.name`,
      )
      .all(sessionId) as { run: number; vm: string; name: string; delta: number }[];
  }

  crashes(sessionId: number): CrashRecord[] {
    return (
      this.db
        .prepare(`SELECT c.* FROM crashes c JOIN runs r ON r.id = c.run WHERE r.session_id = ? ORDER BY r.seq, c.id`)
        .all(sessionId) as Row[]
    ).map((row) => ({
      id: row.id as number,
      run: row.run as number,
      vm: row.vm as string,
      kind: row.kind as string,
      title: row.title as string,
      signature: row.signature as string,
      message: row.message as string,
      report: JSON.parse(row.report as string),
      console: row.console as string,
      recordedAt: row.recorded_at as string,
    }));
  }

  /** Signature groups seen in a session, with their history over the whole store. */
  signatureGroups(sessionId?: number): SignatureGroup[] {
    const rows = this.db
      .prepare(
        `SELECT s.signature, s.title, s.kind, s.first_seen, s.last_seen, s.count, c.console, r.run_id
           FROM signatures s JOIN crashes c ON c.id = s.example_crash JOIN runs r ON r.id = c.run
          WHERE ? IS NULL OR s.signature IN (
                SELECT c2.signature FROM crashes c2 JOIN runs r2 ON r2.id = c2.run WHERE r2.session_id = ?)
          ORDER BY s.count DESC, s.first_seen`,
      )
      .all(sessionId ?? null, sessionId ?? null) as Row[];
    return rows.map((row) => ({
      signature: row.signature as string,
      title: row.title as string,
      kind: row.kind as string,
      firstSeen: row.first_seen as string,
      lastSeen: row.last_seen as string,
      count: row.count as number,
      exampleConsole: row.console as string,
      exampleRun: row.run_id as string,
    }));
  }

  sessions(): {
    id: number;
    playbook: string;
    playbookFile: string;
    host: string;
    startedAt: string;
    finishedAt: string | null;
    status: string;
    reportDir: string;
  }[] {
    return (this.db.prepare(`SELECT * FROM sessions ORDER BY id`).all() as Row[]).map((row) => ({
      id: row.id as number,
      playbook: row.playbook as string,
      playbookFile: row.playbook_file as string,
      host: row.host as string,
      startedAt: row.started_at as string,
      finishedAt: (row.finished_at as string | null) ?? null,
      status: row.status as string,
      reportDir: row.report_dir as string,
    }));
  }
}

function now(): string {
  return new Date().toISOString();
}

function toRun(row: Row): RunRecord {
  return {
    pk: row.id as number,
    sessionId: row.session_id as number,
    runId: row.run_id as string,
    seq: row.seq as number,
    cell: JSON.parse(row.cell as string) as Record<string, string>,
    cellId: row.cell_id as string,
    variant: row.variant as string,
    repetition: row.repetition as number,
    dir: row.dir as string,
    startedAt: row.started_at as string,
    finishedAt: (row.finished_at as string | null) ?? null,
    outcome: (row.outcome as Outcome | null) ?? null,
    reason: (row.reason as string | null) ?? null,
    failedVm: (row.failed_vm as string | null) ?? null,
    timeToFailureMs: (row.time_to_failure_ms as number | null) ?? null,
    durationMs: (row.duration_ms as number | null) ?? null,
    accel: (row.accel as string | null) ?? null,
    kernels: JSON.parse(row.kernels as string) as Record<string, string>,
  };
}
