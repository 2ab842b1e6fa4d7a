import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRate, rateWithCI, rateUpperBound } from '../../src/stats/binomial.ts';
import { fisherExact } from '../../src/stats/fisher.ts';

// Reference values: scipy 1.17.1, computed once with
//   python3 -c 'from scipy import stats; r=stats.binomtest(3,20); print(r.proportion_ci(0.95,"exact"), r.proportion_ci(0.95,"wilson"))'
// and stats.fisher_exact([[a,b],[c,d]]).pvalue for the tables below.
const close = (a: number, e: number, tol = 1e-9) => assert.ok(Math.abs(a - e) <= tol, `${a} vs ${e}`);

test('Clopper–Pearson intervals match scipy binomtest(...).proportion_ci(method="exact")', () => {
  const cases: [number, number, number, number][] = [
    [3, 20, 0.03207093718554477, 0.37892682654529564],
    [0, 10, 0.0, 0.30849710781876294],
    [10, 10, 0.6915028921812371, 1.0],
    [17, 50, 0.21205471343538201, 0.48765248772158604],
  ];
  for (const [k, n, lo, hi] of cases) {
    const r = rateWithCI(k, n, { method: 'clopper-pearson', level: 0.95 });
    close(r.lo, lo);
    close(r.hi, hi);
    close(r.rate, k / n);
  }
});

test('Wilson intervals match scipy binomtest(...).proportion_ci(method="wilson")', () => {
  const cases: [number, number, number, number][] = [
    [3, 20, 0.05236874589621662, 0.3604188647407569],
    [0, 10, 0.0, 0.27753279986288926],
    [10, 10, 0.7224672001371109, 1.0],
    [17, 50, 0.22436949222500085, 0.47846173949767395],
  ];
  for (const [k, n, lo, hi] of cases) {
    const r = rateWithCI(k, n, { method: 'wilson' });
    close(r.lo, lo);
    close(r.hi, hi);
  }
});

test('rate helpers: no runs, one-sided bound, text, bad counts', () => {
  const none = rateWithCI(0, 0);
  assert.deepEqual([none.lo, none.hi], [0, 1]);
  // 0 events in n runs: one-sided 95% bound is 1 - 0.05^(1/n); n = 59 gives 0.0495...
  close(rateUpperBound(0, 59), 1 - 0.05 ** (1 / 59), 1e-12);
  assert.equal(formatRate(rateWithCI(3, 20)), '3/20 runs (15.0%, 95% CI 3.2–37.9%)');
  assert.throws(() => rateWithCI(5, 3), /0 <= k <= n, got k=5, n=3/);
});

test("Fisher's exact test (two-sided) matches scipy.stats.fisher_exact", () => {
  close(fisherExact(3, 17, 11, 9).pValue, 0.018701126042616586, 1e-12);
  close(fisherExact(0, 10, 5, 5).pValue, 0.032507739938080496, 1e-12);
  close(fisherExact(8, 2, 1, 5).pValue, 0.034965034965034975, 1e-12);
  close(fisherExact(12, 188, 3, 197).pValue, 0.03186704151246133, 1e-12);
  assert.equal(fisherExact(5, 5, 5, 5).pValue, 1);
  assert.throws(() => fisherExact(1, -1, 2, 2), /cell b must be a non-negative integer/);
});
