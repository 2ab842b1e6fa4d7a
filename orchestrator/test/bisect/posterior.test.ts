import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CulpritPosterior, DETERMINISTIC_MODEL, type BisectModel } from '../../src/bisect/posterior.ts';

const near = (a: number, e: number, tol = 1e-9) => assert.ok(Math.abs(a - e) <= tol, `${a} vs ${e}`);
const uniformStrict: BisectModel = { bad: { kind: 'beta', a: 1, b: 1 }, good: { kind: 'fixed', p: 0 } };

test('p integrated out by hand: Beta(1,1), pass at #1, fail at #2', () => {
  // c=1: #1 and #2 bad, one pass and one failure: ∫ p(1-p) dp = B(2,2) = 1/6.
  // c=2: #1 good (a pass, probability 1), #2 bad with one failure: ∫ p dp = 1/2.
  // Uniform prior over c: P(c=1) = (1/6) / (1/6 + 1/2) = 1/4, P(c=2) = 3/4.
  const post = new CulpritPosterior(2, uniformStrict);
  post.observe(1, 0, 1);
  post.observe(2, 1, 0);
  near(post.culpritProbability(1), 0.25);
  near(post.culpritProbability(2), 0.75);
});

test('fixed p = 0.5 with look-alike rate 0.1 on good commits, by hand', () => {
  // #1: one failure; #2: one pass; #3 (bad end) untested.
  // c=1: #1 bad fails (0.5), #2 bad passes (0.5)        -> 0.25
  // c=2: #1 good fails (0.1), #2 bad passes (0.5)       -> 0.05
  // c=3: #1 good fails (0.1), #2 good passes (0.9)      -> 0.09
  // total 0.39: 0.25/0.39, 0.05/0.39, 0.09/0.39.
  const post = new CulpritPosterior(3, { bad: { kind: 'fixed', p: 0.5 }, good: { kind: 'fixed', p: 0.1 } });
  post.observe(1, 1, 0);
  post.observe(2, 0, 1);
  near(post.culpritProbability(1), 0.25 / 0.39);
  near(post.culpritProbability(2), 0.05 / 0.39);
  near(post.culpritProbability(3), 0.09 / 0.39);
  assert.deepEqual(post.top(1), [{ pos: 1, prob: post.culpritProbability(1) }]);
});

test('untested commits between two verdicts share the block uniformly', () => {
  // Deterministic: #4 passes, #7 fails -> c in {5, 6, 7}, 1/3 each, entropy log2(3).
  const post = new CulpritPosterior(10, DETERMINISTIC_MODEL);
  post.observe(4, 0, 1);
  post.observe(7, 1, 0);
  for (const c of [5, 6, 7]) near(post.culpritProbability(c), 1 / 3);
  for (const c of [1, 4, 8, 10]) assert.equal(post.culpritProbability(c), 0);
  near(post.entropy(), Math.log2(3));
});

test('deterministic gain by hand: halving 4 candidates is worth 1 bit', () => {
  // Uniform over c in 1..4; testing #2 splits 2/2 -> 1 bit; #1 splits 1/3 -> H(1/4) = 0.811 bits.
  const post = new CulpritPosterior(4, DETERMINISTIC_MODEL);
  const c = post.chooseNext(1)!;
  assert.equal(c.pos, 2);
  near(c.gain, 1, 1e-12);
});

test('flaky gain by hand: p = 0.5 known, two candidates, one run at #1', () => {
  // P(c=1) = P(c=2) = 1/2. Failure (prob 1/4) only if c=1 -> entropy 0.
  // Pass (prob 3/4): c=1 weight 1/4, c=2 weight 1/2 -> (1/3, 2/3), H = 0.918296 bits.
  // Expected entropy 0.75 * 0.918296 = 0.688722; gain = 1 - 0.688722 = 0.311278 bits.
  const post = new CulpritPosterior(2, { bad: { kind: 'fixed', p: 0.5 }, good: { kind: 'fixed', p: 0 } });
  const c = post.chooseNext(1)!;
  assert.equal(c.pos, 1);
  const h = (q: number) => -(q * Math.log2(q) + (1 - q) * Math.log2(1 - q));
  near(c.gain, 1 - 0.75 * h(1 / 3), 1e-12);
});

test('beta-binomial predictive in the gain, by hand: Beta(1,1), two runs at #1', () => {
  // c=1 (1/2): k ~ BetaBinomial(2, 1, 1) = 1/3 each; c=2 (1/2): k = 0.
  // P(k=0) = 1/6 + 1/2 = 2/3 -> posterior (1/4, 3/4), H = 0.811278; k >= 1 -> H = 0.
  // gain = 1 - (2/3)(0.811278) = 0.459148 bits.
  const post = new CulpritPosterior(2, uniformStrict);
  const c = post.chooseNext(2)!;
  assert.equal(c.pos, 1);
  const h = (q: number) => -(q * Math.log2(q) + (1 - q) * Math.log2(1 - q));
  near(c.gain, 1 - (2 / 3) * h(1 / 4), 1e-12);
  assert.equal(c.runs, 2);
});

test('identical kernels rule out the culprits between them; untestable commits are never chosen', () => {
  const post = new CulpritPosterior(8, DETERMINISTIC_MODEL);
  post.markIdentical(2, 5); // c cannot be 3, 4 or 5
  for (const c of [3, 4, 5]) assert.equal(post.culpritProbability(c), 0);
  near(post.culpritProbability(1), 1 / 5);
  post.markUntestable(4);
  post.markUntestable(5);
  for (let i = 0; i < 6; i++) {
    const c = post.chooseNext(1);
    if (!c) break;
    assert.ok(c.pos !== 4 && c.pos !== 5, `chose untestable #${c.pos}`);
    post.observe(c.pos, c.pos >= 7 ? 1 : 0, c.pos >= 7 ? 0 : 1);
  }
  near(post.culpritProbability(7), 1);
});

test('contradicting a strict model is an explicit error', () => {
  const post = new CulpritPosterior(3, DETERMINISTIC_MODEL);
  post.observe(3, 0, 1); // the bad end passes, which p = 1 forbids
  assert.throws(() => post.blocks(), /evidence contradicts the model/);
});

test('p on a log grid is marginalised exactly, by hand: grid {1/4, 1}, pass at #1, fail at #2', () => {
  // Two grid points, 1/4 and 1, prior 1/2 each; no look-alikes.
  // c=1: #1 and #2 bad, one pass and one failure: p(1-p) = 3/16 at 1/4, 0 at 1 -> mean 3/32.
  // c=2: #1 good (a pass, probability 1), #2 bad with one failure: p -> mean (1/4 + 1)/2 = 5/8.
  // P(c=1) = (3/32) / (3/32 + 20/32) = 3/23.
  const post = new CulpritPosterior(2, { bad: { kind: 'log-grid', lo: 1 / 4, hi: 1, points: 2 }, good: { kind: 'fixed', p: 0 } });
  post.observe(1, 0, 1);
  post.observe(2, 1, 0);
  near(post.culpritProbability(1), 3 / 23);
  near(post.culpritProbability(2), 20 / 23);
  // The rate given the data: c=2 (weight 20/23) has p = 1/4 with 1/5 and p = 1 with 4/5; c=1 has p = 1/4.
  // Mean = 3/23 * 1/4 + 20/23 * (1/5 * 1/4 + 4/5 * 1) = (3/4 + 1 + 16) / 23 = 17.75/23.
  near(post.failureRate().mean, 17.75 / 23);
});

test('look-alike rate tied to p, by hand: p = 1/2, ε = r·p with r in {0, 1/5} equally likely', () => {
  // #1: one failure; #2: one pass; #3 (bad end) untested. ε is 0 or 0.1, shared by all good commits.
  // c=1: #1 bad fails (1/2), #2 bad passes (1/2)                     -> 1/4
  // c=2: #1 good fails (ε: 0 or 0.1 -> mean 0.05), #2 bad passes (1/2) -> 0.025
  // c=3: #1 good fails, #2 good passes: ε(1-ε) = 0 or 0.09 -> mean 0.045
  // total 0.32.
  const post = new CulpritPosterior(3, { bad: { kind: 'fixed', p: 0.5 }, good: { kind: 'relative', ratios: [0, 0.2], weights: [1, 1] } });
  post.observe(1, 1, 0);
  post.observe(2, 0, 1);
  near(post.culpritProbability(1), 0.25 / 0.32);
  near(post.culpritProbability(2), 0.025 / 0.32);
  near(post.culpritProbability(3), 0.045 / 0.32);
});

test('a relative look-alike rate needs known bad-commit rates', () => {
  assert.throws(() => new CulpritPosterior(3, { bad: { kind: 'beta', a: 1, b: 1 }, good: { kind: 'relative', ratios: [0.1], weights: [1] } }), /relative look-alike rate needs a fixed or grid rate/);
});
