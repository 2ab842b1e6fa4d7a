import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';

const CHILD = new URL('../fixtures/bisect/resume-child.ts', import.meta.url).pathname;

function startChild(db: string, log: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, db, log], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, out, err })),
  );
  return { child, done };
}

function recordedRuns(db: string): { seq: number; commit_id: string; evidence: string }[] {
  if (!existsSync(db)) return [];
  const d = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const has = d.prepare("SELECT name FROM sqlite_master WHERE name = 'bisect_runs'").get();
    return has ? (d.prepare('SELECT seq, commit_id, evidence FROM bisect_runs ORDER BY seq').all() as { seq: number; commit_id: string; evidence: string }[]) : [];
  } finally {
    d.close();
  }
}

test('kill -9 mid-bisect, restart: every recorded run kept, none repeated, same result as uninterrupted', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'obsdlab-bisect-resume-'));
  const started: ReturnType<typeof startChild>[] = [];
  try {
    // Reference: one uninterrupted bisect.
    const ref = startChild(join(dir, 'ref.sqlite'), join(dir, 'ref.log'));
    started.push(ref);
    const refExit = await ref.done;
    assert.equal(refExit.code, 0, refExit.err);
    const refRuns = recordedRuns(join(dir, 'ref.sqlite'));
    const refResult = JSON.parse(refExit.out);
    // (Whether this one bisect lands on c077 is the simulation tests' business; here only resume matters.)
    assert.ok(typeof refResult.culprit === 'string');

    // Interrupted: SIGKILL once some runs are recorded.
    const db = join(dir, 'bisect.sqlite');
    const log = join(dir, 'executed.log');
    const first = startChild(db, log);
    started.push(first);
    const deadline = Date.now() + 120_000;
    while (recordedRuns(db).length < 12 && Date.now() < deadline) await sleep(50);
    first.child.kill('SIGKILL');
    const firstExit = await first.done;
    assert.equal(firstExit.signal, 'SIGKILL');
    const beforeRestart = recordedRuns(db);
    assert.ok(beforeRestart.length >= 12 && beforeRestart.length < refRuns.length, `${beforeRestart.length} runs before the kill`);

    const second = startChild(db, log);
    started.push(second);
    const secondExit = await second.done;
    assert.equal(secondExit.code, 0, secondExit.err);
    const result = JSON.parse(secondExit.out);
    assert.equal(result.resumed, beforeRestart.length);
    const after = recordedRuns(db);
    // Nothing lost: the runs from before the kill are still there, unchanged, as a prefix.
    assert.deepEqual(after.slice(0, beforeRestart.length), beforeRestart);
    // Nothing run twice: the resumed record is exactly the uninterrupted one.
    assert.deepEqual(after.map((r) => [r.commit_id, r.evidence]), refRuns.map((r) => [r.commit_id, r.evidence]));
    assert.equal(result.culprit, refResult.culprit);
    // Executed runs = recorded runs + at most one batch (2) that was in flight at the kill.
    const executed = readFileSync(log, 'utf8').trim().split('\n');
    assert.ok(executed.length - after.length >= 0 && executed.length - after.length <= 2, `${executed.length} executed, ${after.length} recorded`);
  } finally {
    for (const s of started) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
