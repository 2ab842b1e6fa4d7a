import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBisect, type CommitTester } from '../../src/bisect/driver.ts';
import { BisectRecord } from '../../src/bisect/record.ts';
import { DEFAULT_OPTIONS } from '../../src/bisect/session.ts';
import { DETERMINISTIC_MODEL } from '../../src/bisect/posterior.ts';
import { bisectCommand } from '../../src/commands/bisect.ts';
import type { TrialResult } from '../../src/bisect/target.ts';

const commits = Array.from({ length: 41 }, (_, i) => `r${i}`);

test('commits with a byte-identical kernel inherit evidence instead of running', async () => {
  // Kernels change only every 4th commit: r4k..r4k+3 build the same kernel k<k>.
  // The bug comes with kernel k5, whose first commit is r20.
  const kernel = (c: string) => `k${Math.floor(Number(c.slice(1)) / 4)}`;
  const firstBad = 20;
  const ran: string[] = [];
  const tester: CommitTester = {
    async identify(c) {
      return kernel(c);
    },
    async test(c, runs) {
      ran.push(c);
      const bad = Number(c.slice(1)) >= firstBad;
      return Array.from({ length: runs }, (): TrialResult => (bad ? { outcome: 'panic', signature: 'S', kernelHash: kernel(c) } : { outcome: 'pass', kernelHash: kernel(c) }));
    },
  };
  const record = new BisectRecord(':memory:');
  const report = await runBisect(
    { commits, target: { kind: 'signature', signature: 'S' }, context: {}, options: { ...DEFAULT_OPTIONS, model: DETERMINISTIC_MODEL, reproduceBudget: 1 } },
    tester,
    record,
  );
  record.close();
  assert.equal(report.culpritCommit, 'r20');
  assert.equal(report.conclusion.probability, 1);
  // No two tested commits share a kernel.
  const kernels = ran.map(kernel);
  assert.equal(new Set(kernels).size, kernels.length, `ran ${ran.join(' ')}`);
  assert.ok(report.identical.length > 0);
  assert.match(report.log, /identical: #\d+ r\d+ builds the same kernel as #\d+/);
});

test('the bisect command: --revs-file history, injected tester, JSON report, clear option errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'obsdlab-bisect-cmd-'));
  const log = console.log;
  try {
    const revs = join(dir, 'revs.txt');
    writeFileSync(revs, commits.join('\n') + '\n');
    const tester: CommitTester = {
      async test(c, runs) {
        const bad = Number(c.slice(1)) >= 13;
        return Array.from({ length: runs }, (): TrialResult => (bad ? { outcome: 'hang' } : { outcome: 'pass' }));
      },
    };
    const lines: string[] = [];
    console.log = (s: string) => lines.push(s);
    const json = join(dir, 'report.json');
    const code = await bisectCommand(
      'fwd.yaml',
      { good: 'r2', bad: 'r40', hang: true, revsFile: revs, store: join(dir, 'b.sqlite'), json, deterministic: true },
      tester,
    );
    console.log = log;
    assert.equal(code, 0);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(report.culpritCommit, 'r13');
    assert.equal(report.params.commits[0], 'r2');
    await assert.rejects(bisectCommand('fwd.yaml', { good: 'r2', bad: 'r40', revsFile: revs }, tester), /exactly one of --signature SIG, --title TEXT or --hang/);
    await assert.rejects(bisectCommand('fwd.yaml', { good: 'r2', bad: 'r40', hang: true, revsFile: revs, maxRuns: '0' }, tester), /--max-runs must be an integer >= 1, got "0"/);
    await assert.rejects(bisectCommand('fwd.yaml', { good: 'r9', bad: 'r3', hang: true, revsFile: revs }, tester), /--bad "r3" does not come after --good "r9"/);
  } finally {
    console.log = log;
    rmSync(dir, { recursive: true, force: true });
  }
});
