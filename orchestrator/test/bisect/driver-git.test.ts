import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { buildTestRepo } from '../fixtures/bisect/git-history.ts';
import { firstParentHistory, historyFromFile, sliceHistory } from '../../src/bisect/history.ts';
import { runBisect, type CommitTester } from '../../src/bisect/driver.ts';
import { BisectRecord } from '../../src/bisect/record.ts';
import { DEFAULT_OPTIONS } from '../../src/bisect/session.ts';
import { mulberry32 } from '../../src/bisect/simulate.ts';
import type { TrialResult } from '../../src/bisect/target.ts';
import { writeFileSync } from 'node:fs';

/** Stand-in for the kernel tester: "builds" kernel.c at the commit, fails with the target at rate p if it has BUG. */
function gitTester(repo: string, p: number, seed: number): CommitTester & { tested: Map<string, number> } {
  const rand = mulberry32(seed);
  const tested = new Map<string, number>();
  const kernelAt = (commit: string) => execFileSync('git', ['-C', repo, 'show', `${commit}:kernel.c`]).toString();
  const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);
  return {
    tested,
    async identify(commit) {
      return hash(kernelAt(commit));
    },
    async test(commit, runs) {
      const src = kernelAt(commit);
      tested.set(commit, (tested.get(commit) ?? 0) + runs);
      const out: TrialResult[] = [];
      for (let i = 0; i < runs; i++) {
        const fails = src.includes('BUG') && rand() < p;
        // Another, unrelated panic now and then: recorded, but not evidence.
        const other = !fails && rand() < 0.03;
        out.push(
          fails
            ? { outcome: 'panic', signature: 'pf_refragment6', title: 'panic: pf_refragment6', kernelHash: hash(src) }
            : other
              ? { outcome: 'panic', signature: 'uvm_fault', kernelHash: hash(src) }
              : { outcome: 'pass', kernelHash: hash(src) },
        );
      }
      return out;
    },
  };
}

test('end to end against a real git repository: first-parent history with a merge, flaky tester', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'obsdlab-bisect-git-'));
  try {
    const repo = buildTestRepo(join(dir, 'src'), 300, 211);
    const commits = await firstParentHistory(repo.dir, repo.good, repo.bad);
    assert.equal(commits.length, 301);
    assert.equal(commits[0], repo.good);
    assert.equal(commits.at(-1), repo.bad);
    assert.ok(commits.includes(repo.merge), 'the merge is on the first-parent path');
    for (const s of repo.sideCommits) assert.ok(!commits.includes(s), 'side-branch commits are not bisected');

    const tester = gitTester(repo.dir, 0.5, 99);
    const record = new BisectRecord(join(dir, 'bisect.sqlite'));
    const report = await runBisect(
      { commits, target: { kind: 'signature', signature: 'pf_refragment6' }, context: { playbook: 'fwd.yaml' }, options: { ...DEFAULT_OPTIONS, batch: 2 } },
      tester,
      record,
    );
    record.close();
    assert.equal(report.conclusion.reason, 'found');
    assert.equal(report.culpritCommit, repo.culprit);
    assert.ok(report.conclusion.probability >= 0.95);
    assert.ok(report.conclusion.failureRate.lo < 0.5 && report.conclusion.failureRate.hi > 0.5);
    // Every run is in the record and in the log; docs-only commits inherited evidence instead of running.
    assert.equal(report.runs.length, report.conclusion.totalRuns);
    const ignored = report.runs.filter((r) => r.evidence === 'ignored');
    assert.equal(ignored.length, report.runs.filter((r) => r.signature === 'uvm_fault').length);
    console.log(`runs ${report.runs.length}, ignored ${ignored.length}, identical ${report.identical.length}`);
    for (const id of report.identical) assert.ok(!tester.tested.has(commits[id.pos]!), `#${id.pos} ran although its kernel was already tested`);
    assert.match(report.log, new RegExp(`# first bad commit: ${repo.culprit} \\(#211\\)`));
    assert.equal(report.log.split('\n').filter((l) => l.startsWith('run ')).length, report.runs.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('history errors name the bad revision; revision files work as an alternative source', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'obsdlab-bisect-hist-'));
  try {
    const repo = buildTestRepo(join(dir, 'src'), 40, 30);
    await assert.rejects(firstParentHistory(repo.dir, 'nosuchrev', repo.bad), /--good revision "nosuchrev" is not a commit/);
    await assert.rejects(firstParentHistory(repo.dir, repo.sideCommits[1]!, repo.bad), /is not on the first-parent history/);
    const file = join(dir, 'dates.txt');
    writeFileSync(file, '# CVS dates\n2025-01-01\n2025-01-02\n\n2025-01-03 # noon\n2025-01-04\n');
    assert.deepEqual(sliceHistory(historyFromFile(file), '2025-01-02', '2025-01-04', file), ['2025-01-02', '2025-01-03', '2025-01-04']);
    writeFileSync(file, '2025-01-01\n2025-01-01\n');
    assert.throws(() => historyFromFile(file), /dates\.txt:2: revision "2025-01-01" listed twice/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
