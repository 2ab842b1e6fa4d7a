import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Outcome } from '../run/outcome.ts';
import type { Evidence } from './session.ts';

/** One run as stored: enough to replay the bisect and to print its log. */
export interface RecordedRun {
  seq: number;
  pos: number;
  commit: string;
  evidence: Evidence;
  outcome: Outcome;
  signature?: string;
  title?: string;
  kernelHash?: string;
  detail?: string;
  at: string;
}

export interface SessionInfo {
  id: number;
  key: string;
  params: unknown;
  createdAt: string;
  conclusion?: unknown;
}

/**
 * The resumable bisect record (SQLite, WAL). Each run is committed in its own transaction as
 * soon as the tester returns it, so a killed bisect restarts with every finished run and
 * repeats none. Tables are prefixed bisect_ so the file can be shared with the results store.
 */
export class BisectRecord {
  private readonly db: Database.Database;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS bisect_sessions (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        params TEXT NOT NULL,
        created_at TEXT NOT NULL,
        conclusion TEXT
      );
      CREATE TABLE IF NOT EXISTS bisect_runs (
        session_id INTEGER NOT NULL REFERENCES bisect_sessions(id),
        seq INTEGER NOT NULL,
        pos INTEGER NOT NULL,
        commit_id TEXT NOT NULL,
        evidence TEXT NOT NULL,
        outcome TEXT NOT NULL,
        signature TEXT,
        title TEXT,
        kernel_hash TEXT,
        detail TEXT,
        at TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)
      );
      CREATE TABLE IF NOT EXISTS bisect_identical (
        session_id INTEGER NOT NULL REFERENCES bisect_sessions(id),
        pos INTEGER NOT NULL,
        same_as INTEGER NOT NULL,
        kernel_key TEXT NOT NULL,
        PRIMARY KEY (session_id, pos)
      );
    `);
  }

  /** The session with this key, created with these parameters if it does not exist yet. */
  openSession(key: string, params: unknown): SessionInfo {
    const now = new Date().toISOString();
    this.db
      .prepare('INSERT INTO bisect_sessions (key, params, created_at) VALUES (?, ?, ?) ON CONFLICT(key) DO NOTHING')
      .run(key, JSON.stringify(params), now);
    const row = this.db.prepare('SELECT id, key, params, created_at, conclusion FROM bisect_sessions WHERE key = ?').get(key) as {
      id: number;
      key: string;
      params: string;
      created_at: string;
      conclusion: string | null;
    };
    return {
      id: row.id,
      key: row.key,
      params: JSON.parse(row.params),
      createdAt: row.created_at,
      ...(row.conclusion ? { conclusion: JSON.parse(row.conclusion) } : {}),
    };
  }

  runs(sessionId: number): RecordedRun[] {
    const rows = this.db
      .prepare('SELECT * FROM bisect_runs WHERE session_id = ? ORDER BY seq')
      .all(sessionId) as Record<string, string | number | null>[];
    return rows.map((r) => ({
      seq: r.seq as number,
      pos: r.pos as number,
      commit: r.commit_id as string,
      evidence: r.evidence as Evidence,
      outcome: r.outcome as Outcome,
      ...(r.signature != null ? { signature: r.signature as string } : {}),
      ...(r.title != null ? { title: r.title as string } : {}),
      ...(r.kernel_hash != null ? { kernelHash: r.kernel_hash as string } : {}),
      ...(r.detail != null ? { detail: r.detail as string } : {}),
      at: r.at as string,
    }));
  }

  /** Append one run in its own transaction; returns its sequence number. */
  addRun(sessionId: number, run: Omit<RecordedRun, 'seq' | 'at'>): number {
    const tx = this.db.transaction(() => {
      const row = this.db.prepare('SELECT COALESCE(MAX(seq), 0) AS m FROM bisect_runs WHERE session_id = ?').get(sessionId) as { m: number };
      const seq = row.m + 1;
      this.db
        .prepare(
          `INSERT INTO bisect_runs (session_id, seq, pos, commit_id, evidence, outcome, signature, title, kernel_hash, detail, at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          sessionId,
          seq,
          run.pos,
          run.commit,
          run.evidence,
          run.outcome,
          run.signature ?? null,
          run.title ?? null,
          run.kernelHash ?? null,
          run.detail ?? null,
          new Date().toISOString(),
        );
      return seq;
    });
    return tx.immediate();
  }

  identical(sessionId: number): { pos: number; sameAs: number; kernelKey: string }[] {
    return (
      this.db.prepare('SELECT pos, same_as, kernel_key FROM bisect_identical WHERE session_id = ? ORDER BY rowid').all(sessionId) as {
        pos: number;
        same_as: number;
        kernel_key: string;
      }[]
    ).map((r) => ({ pos: r.pos, sameAs: r.same_as, kernelKey: r.kernel_key }));
  }

  addIdentical(sessionId: number, pos: number, sameAs: number, kernelKey: string): void {
    this.db
      .prepare('INSERT OR IGNORE INTO bisect_identical (session_id, pos, same_as, kernel_key) VALUES (?, ?, ?, ?)')
      .run(sessionId, pos, sameAs, kernelKey);
  }

  finish(sessionId: number, conclusion: unknown): void {
    this.db.prepare('UPDATE bisect_sessions SET conclusion = ? WHERE id = ?').run(JSON.stringify(conclusion), sessionId);
  }

  close(): void {
    this.db.close();
  }
}
