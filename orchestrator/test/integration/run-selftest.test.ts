/**
 * The spine end to end: `obsdlab run playbooks/selftest.yaml` boots three Linux test
 * guests (source ── router ── sink) under QEMU, forwards TCP/UDP over IPv4/IPv6 and
 * fragmented pings through the router, crashes the router in the panic variant,
 * and writes the reports. Then the same runner is interrupted mid-run.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PROJECT_ROOT } from '../../src/util/paths.ts';
import { isAlive } from '../../src/vm/processes.ts';

const CLI = join(PROJECT_ROOT, 'bin', 'obsdlab.mjs');

const tempDirs: string[] = [];
function tempReports(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
// Reports of these runs are kept for a look with OBSDLAB_KEEP_RUNS=1.
after(() => {
  if (!process.env.OBSDLAB_KEEP_RUNS) for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

function runCli(args: string[], opts: { killAfter?: { pattern: RegExp; signal: NodeJS.Signals } } = {}) {
  return new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, CI: '1' } });
    let out = '';
    let killed = false;
    const onData = (b: Buffer) => {
      out += b.toString();
      if (opts.killAfter && !killed && opts.killAfter.pattern.test(out)) {
        killed = true;
        child.kill(opts.killAfter.signal);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => resolve({ code, signal, out }));
  });
}

/** QEMU PIDs a session's run logs recorded. */
function qemuPids(reportDir: string): number[] {
  const pids: number[] = [];
  const runs = join(reportDir, 'runs');
  for (const r of existsSync(runs) ? readdirSync(runs) : []) {
    const log = join(runs, r, 'run.log');
    if (!existsSync(log)) continue;
    for (const m of readFileSync(log, 'utf8').matchAll(/qemu pid (\d+)/g)) pids.push(Number(m[1]));
  }
  return pids;
}

function reportDirOf(out: string): string {
  const m = /^(?:partial )?report: (\S+)$/m.exec(out);
  if (m) return m[1]!;
  throw new Error(`no report directory in output:\n${out.slice(-2000)}`);
}

test('selftest playbook: forwarding measured, induced panic captured, reports written', { timeout: 20 * 60_000 }, async () => {
  const reports = tempReports('obsdlab-selftest-');
  const r = await runCli(['run', 'playbooks/selftest.yaml', '--reports', reports, '--budget', 'cpus=4']);
  assert.equal(r.code, 0, r.out.slice(-4000));
  const dir = reportDirOf(r.out);
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  const final = summary.runs.filter((x: { superseded: boolean }) => !x.superseded);
  assert.equal(final.length, 2);
  const byVariant = Object.fromEntries(final.map((x: { variant: string }) => [x.variant, x]));
  assert.equal(byVariant.normal.outcome, 'pass', JSON.stringify(byVariant.normal));
  assert.equal(byVariant.panic.outcome, 'panic');
  assert.equal(byVariant.panic.crashes[0].vm, 'router');
  assert.match(byVariant.panic.crashes[0].title, /sysrq triggered crash/);
  for (const name of ['tcp4.throughput', 'tcp6.throughput', 'udp4.throughput', 'udp6.throughput']) {
    const t = summary.throughput.find((x: { measurement: string }) => x.measurement === name);
    assert.ok(t, `${name} measured`);
    assert.ok(t.perVariant[0].median > 0, `${name} > 0`);
  }
  for (const name of ['frag4.loss', 'frag6.loss']) {
    const m = summary.measurements.find((x: { measurement: string }) => x.measurement === name);
    assert.ok(m, `${name} measured`);
    assert.equal(m.perVariant.find((v: { variant: string }) => v.variant === 'normal').median, 0, `${name}: fragments cross the router`);
  }
  const text = readFileSync(join(dir, 'summary.txt'), 'utf8');
  assert.ok(text.split('\n').every((l) => !/\x1b/.test(l)), 'no escape codes in the mail report');
  // Two planned runs; an attempt lost to an infrastructure error is listed too (and retried).
  const attempts = summary.runs.length;
  assert.match(readFileSync(join(dir, 'junit.xml'), 'utf8'), new RegExp(`<testsuites name="selftest" tests="${attempts}" failures="0"`));
  assert.match(readFileSync(join(dir, 'index.html'), 'utf8'), /sysrq triggered crash/);
  const console = readFileSync(join(byVariant.panic.dir, 'router', 'console.txt'), 'utf8');
  assert.match(console, /Kernel panic - not syncing: sysrq triggered crash/);
  const pids = qemuPids(dir);
  assert.equal(pids.length, 3 * attempts, 'three VMs per attempt');
  assert.deepEqual(pids.filter(isAlive), [], 'no QEMU survives the session');
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} mid-run: no QEMU survives and finished results are kept`, { timeout: 10 * 60_000 }, async () => {
    const reports = tempReports('obsdlab-interrupt-');
    const r = await runCli(['run', 'playbooks/selftest.yaml', '--reports', reports, '--budget', 'cpus=4'], {
      // Interrupt the second run while its guests boot: the first run's results must survive.
      killAfter: { pattern: /variant=normal#1: \w+[\s\S]*booting/, signal },
    });
    assert.equal(r.code, 130, r.out.slice(-3000));
    const dir = reportDirOf(r.out);
    const pids = qemuPids(dir);
    assert.ok(pids.length >= 3, `VMs were started (${pids.length})`);
    await new Promise((res) => setTimeout(res, 500));
    assert.deepEqual(pids.filter(isAlive), [], 'no QEMU survives the interrupt');
    const db = new Database(join(reports, 'results.sqlite'), { readonly: true });
    const session = db.prepare('SELECT status FROM sessions').get() as { status: string };
    assert.equal(session.status, 'interrupted');
    // The last attempt of run 1 (an infrastructure error would have been retried once).
    const first = db.prepare('SELECT run_id, outcome FROM runs WHERE seq = 1 ORDER BY id DESC LIMIT 1').get() as { run_id: string; outcome: string };
    assert.match(first.run_id, /^variant=normal#1(~retry\d+)?$/);
    assert.equal(first.outcome, 'pass', 'the finished run is kept');
    const measured = db.prepare("SELECT count(*) n FROM measurements m JOIN runs r ON r.id = m.run WHERE r.seq = 1 AND r.outcome = 'pass'").get() as { n: number };
    assert.ok(measured.n > 0);
    db.close();
    assert.match(readFileSync(join(dir, 'summary.txt'), 'utf8'), /status interrupted/);
  });
}
