import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adaptiveDecision, pairedMixtureLogE, type RunObservation } from '../../src/stats/sequential.ts';
import { mulberry32 } from '../../src/bisect/simulate.ts';

function rateHistory(pairs: [boolean, boolean][]): RunObservation[] {
  return pairs.flatMap(([a, b]) => [
    { variant: 'A' as const, failed: a },
    { variant: 'B' as const, failed: b },
  ]);
}

test('mixture e-value by hand: E = 2^(x+y) B(x+1, y+1)', () => {
  // x=8, y=0: 2^8 · B(9,1) = 256 · 1/9 = 28.44; x=7: 128/8 = 16; x=3, y=1: 16 · B(4,2) = 16 · 1/20 = 0.8.
  assert.ok(Math.abs(Math.exp(pairedMixtureLogE(8, 0)) - 256 / 9) < 1e-9);
  assert.ok(Math.abs(Math.exp(pairedMixtureLogE(7, 0)) - 16) < 1e-9);
  assert.ok(Math.abs(Math.exp(pairedMixtureLogE(3, 1)) - 0.8) < 1e-9);
});

test('eight discordant pairs all one way decide at 95%, seven do not', () => {
  const seven = rateHistory([...Array(7).fill([true, false]), [true, true], [false, false]]);
  const d7 = adaptiveDecision(seven, { kind: 'rate', maxRunsPerVariant: 50, labelA: 'diff', labelB: 'base' });
  assert.equal(d7.decided, false);
  assert.equal(d7.verdict, 'continue');
  const eight = rateHistory([...Array(8).fill([true, false]), [false, false]]);
  const d8 = adaptiveDecision(eight, { kind: 'rate', maxRunsPerVariant: 50, labelA: 'diff', labelB: 'base' });
  assert.equal(d8.decided, true);
  assert.equal(d8.verdict, 'A-higher');
  assert.match(d8.statement, /^decided at 95%: diff has the higher failure rate \(E=28\.4 over 9 pairs/);
  assert.match(d8.statement, /diff 8\/9 runs/);
});

test('budget spent without a decision says so', () => {
  const h = rateHistory([[true, false], [false, true], [false, false]]);
  const d = adaptiveDecision(h, { kind: 'rate', maxRunsPerVariant: 3 });
  assert.deepEqual([d.decided, d.stop, d.verdict], [false, true, 'inconclusive']);
  assert.match(d.statement, /not decided at 95% after 3 runs each/);
});

test('throughput: paired signs decide, statement carries the Hodges–Lehmann interval', () => {
  const h: RunObservation[] = [];
  for (let i = 0; i < 10; i++) h.push({ variant: 'A', value: 950 + i }, { variant: 'B', value: 910 + i });
  const d = adaptiveDecision(h, { kind: 'throughput', maxRunsPerVariant: 20, labelA: 'refs', labelB: 'proxy' });
  assert.equal(d.verdict, 'A-higher');
  assert.match(d.statement, /refs is 4\.4% faster than proxy/);
  assert.throws(() => adaptiveDecision([{ variant: 'A' }], { kind: 'throughput', maxRunsPerVariant: 2 }), /run 0 \(A\) has no finite value/);
});

test('sequential type-I error stays under 5% when looking after every pair (H0 true)', () => {
  const rand = mulberry32(20251125);
  const sequences = 400;
  let falseDecisions = 0;
  for (let s = 0; s < sequences; s++) {
    const h: RunObservation[] = [];
    for (let i = 0; i < 50; i++) {
      h.push({ variant: 'A', failed: rand() < 0.3 }, { variant: 'B', failed: rand() < 0.3 });
      if (adaptiveDecision(h, { kind: 'rate', maxRunsPerVariant: 50 }).decided) {
        falseDecisions++;
        break;
      }
    }
  }
  assert.ok(falseDecisions / sequences <= 0.05, `false decision rate ${falseDecisions / sequences}`);
});

test('a real difference is found well within the budget', () => {
  const rand = mulberry32(7);
  let decided = 0;
  for (let s = 0; s < 200; s++) {
    const h: RunObservation[] = [];
    for (let i = 0; i < 60; i++) {
      h.push({ variant: 'A', failed: rand() < 0.6 }, { variant: 'B', failed: rand() < 0.1 });
      const d = adaptiveDecision(h, { kind: 'rate', maxRunsPerVariant: 60 });
      if (d.decided) {
        assert.equal(d.verdict, 'A-higher');
        decided++;
        break;
      }
    }
  }
  assert.ok(decided >= 190, `decided ${decided}/200`);
});
