/** SQL of the results store. Bumping SCHEMA_VERSION requires a migration in store/db.ts. */
export const SCHEMA_VERSION = 1;

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS sessions (
  id           INTEGER PRIMARY KEY,
  playbook     TEXT NOT NULL,
  playbook_file TEXT NOT NULL,
  report_dir   TEXT NOT NULL,
  started_at   TEXT NOT NULL,
  finished_at  TEXT,
  host         TEXT NOT NULL,
  status       TEXT NOT NULL DEFAULT 'running'
);

CREATE TABLE IF NOT EXISTS runs (
  id           INTEGER PRIMARY KEY,
  session_id   INTEGER NOT NULL REFERENCES sessions(id),
  run_id       TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  cell         TEXT NOT NULL,
  cell_id      TEXT NOT NULL,
  variant      TEXT NOT NULL,
  repetition   INTEGER NOT NULL,
  dir          TEXT NOT NULL,
  started_at   TEXT NOT NULL,
  finished_at  TEXT,
  outcome      TEXT,
  reason       TEXT,
  failed_vm    TEXT,
  time_to_failure_ms INTEGER,
  duration_ms  INTEGER,
  accel        TEXT,
  kernels      TEXT NOT NULL DEFAULT '{}',
  UNIQUE(session_id, run_id)
);

CREATE TABLE IF NOT EXISTS measurements (
  id      INTEGER PRIMARY KEY,
  run     INTEGER NOT NULL REFERENCES runs(id),
  vm      TEXT NOT NULL,
  phase   TEXT NOT NULL,
  name    TEXT NOT NULL,
  value   REAL NOT NULL,
  unit    TEXT NOT NULL,
  labels  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS measurements_run ON measurements(run);

CREATE TABLE IF NOT EXISTS counters (
  run     INTEGER NOT NULL REFERENCES runs(id),
  vm      TEXT NOT NULL,
  phase   TEXT NOT NULL,
  name    TEXT NOT NULL,
  value   REAL NOT NULL,
  PRIMARY KEY (run, vm, phase, name)
);

CREATE TABLE IF NOT EXISTS crashes (
  id          INTEGER PRIMARY KEY,
  run         INTEGER NOT NULL REFERENCES runs(id),
  vm          TEXT NOT NULL,
  kind        TEXT NOT NULL,
  title       TEXT NOT NULL,
  signature   TEXT NOT NULL,
  message     TEXT NOT NULL,
  report      TEXT NOT NULL,
  console     TEXT NOT NULL,
  recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS crashes_signature ON crashes(signature);

CREATE TABLE IF NOT EXISTS signatures (
  signature   TEXT PRIMARY KEY,
  title       TEXT NOT NULL,
  kind        TEXT NOT NULL,
  first_seen  TEXT NOT NULL,
  last_seen   TEXT NOT NULL,
  count       INTEGER NOT NULL,
  example_crash INTEGER NOT NULL REFERENCES crashes(id)
);
`;
