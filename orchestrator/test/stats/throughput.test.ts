import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareThroughput, median, quantile, hodgesLehmannRank } from '../../src/stats/throughput.ts';

// Reference values computed once with an independent Python implementation (scipy 1.17.1 /
// numpy): Hodges–Lehmann = numpy.median of all log(a_i) - log(b_j); the interval rank k by
// enumerating all itertools.combinations(range(m+n), m) for the exact Mann–Whitney null
// distribution (k = number of u with P(U <= u) <= 0.025); CI = expm1 of the k-th smallest and
// k-th largest difference. numpy.quantile for the quantiles.
const close = (a: number, e: number, tol = 1e-12) => assert.ok(Math.abs(a - e) <= tol, `${a} vs ${e}`);
const A = [941.2, 955.0, 948.7, 960.3, 952.1, 957.8];
const B = [912.4, 920.8, 905.1, 925.6, 915.0, 918.3];
const C = [930.0, 945.5, 921.3, 950.2, 938.8, 927.4];
const D = [935.1, 924.9, 941.7, 929.0, 947.3, 932.6];

test('median and quantiles agree with numpy.quantile', () => {
  const xs = [3, 1, 4, 1, 5, 9, 2, 6];
  close(median(xs), 3.5);
  close(quantile(xs, 0.25), 1.75);
  close(quantile(xs, 0.9), 6.9);
  assert.throws(() => median([]), /empty sample/);
});

test('exact Mann–Whitney interval ranks match enumeration', () => {
  assert.equal(hodgesLehmannRank(6, 6, 0.95), 6);
  assert.equal(hodgesLehmannRank(3, 2, 0.95), 0);
  assert.equal(hodgesLehmannRank(5, 4, 0.95), 2);
});

test('a clear difference: estimate, interval and statement', () => {
  const r = compareThroughput(A, B, { labelA: 'refs', labelB: 'proxy' });
  close(r.relDiff, 0.03992512351443885);
  close(r.ci[0], 0.028633879781420957);
  close(r.ci[1], 0.04975887768522629);
  close(r.medianA, 953.55);
  close(r.medianB, 916.65);
  assert.equal(r.statement, 'refs is 4.0% faster than proxy (95% CI 2.9–5.0%)');
  const back = compareThroughput(B, A, { labelA: 'proxy', labelB: 'refs' });
  assert.match(back.statement, /^proxy is 3\.8% slower than refs \(95% CI 2\.8–4\.7%\)$/);
});

test('no detectable difference says so with the interval', () => {
  const r = compareThroughput(C, D);
  close(r.relDiff, -0.00032390729221004833);
  close(r.ci[0], -0.014757779916586923);
  close(r.ci[1], 0.01614800556090224);
  assert.equal(r.statement, 'no difference detectable with 6 runs each (95% CI \u22121.5%–+1.6%)');
});

test('too few runs for an interval', () => {
  const r = compareThroughput([10, 11, 12], [9, 10.5]);
  close(r.relDiff, 0.1268723396380222);
  assert.deepEqual(r.ci, [-Infinity, Infinity]);
  assert.match(r.statement, /too few runs \(3 and 2 runs\)/);
  assert.throws(() => compareThroughput([1, -2], [3]), /A has a non-positive or non-finite value -2/);
});
