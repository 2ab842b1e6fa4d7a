import {
  changingRateHistory,
  constantRateHistory,
  fixedRepeatBisect,
  informationFloor,
  mulberry32,
  simulateBisect,
  type SimulatedHistory,
} from '../orchestrator/src/bisect/simulate.ts';
import { quantile } from '../orchestrator/src/stats/throughput.ts';

export interface BisectCell {
  name: string;
  n: number;
  /** The failure rate right after the culprit (what the floor is computed from). */
  p: number;
  history: (culprit: number, rand: () => number) => SimulatedHistory;
  robustness: boolean;
}

export function bisectCells(): BisectCell[] {
  const cells: BisectCell[] = [];
  for (const n of [256, 4096]) {
    for (const [label, p] of [['1/2', 1 / 2], ['1/6', 1 / 6], ['1/20', 1 / 20]] as const) {
      cells.push({ name: `N=${n} p=${label}`, n, p, history: (c) => constantRateHistory(n, c, p), robustness: false });
    }
  }
  cells.push({
    name: 'N=1024 p=1/6, halves later',
    n: 1024,
    p: 1 / 6,
    history: (c, rand) => changingRateHistory(1024, c, 1 / 6, c + 1 + Math.floor(rand() * (1024 - c)), 0.5),
    robustness: true,
  });
  cells.push({
    name: 'N=1024 p=1/6, 1% look-alike',
    n: 1024,
    p: 1 / 6,
    history: (c) => constantRateHistory(1024, c, 1 / 6, 0.01),
    robustness: true,
  });
  return cells;
}

export interface CellResult {
  cell: string;
  seeds: number;
  meanRuns: number;
  p95Runs: number;
  wrongRate: number;
  flaggedRate: number;
  fixedK: number | undefined;
  fixedMeanRuns: number | undefined;
  fixedWrongRate: number | undefined;
  floor: number;
  seconds: number;
}

function cellSeed(cellIndex: number, seed: number): number {
  return (Math.imul(cellIndex + 1, 0x9e3779b1) ^ Math.imul(seed, 0x85ebca6b)) >>> 0;
}

export function runBisectCell(cell: BisectCell, cellIndex: number, seeds: number): CellResult {
  const t0 = performance.now();
  const floor = informationFloor(cell.n, cell.p);
  const runs: number[] = [];
  let wrong = 0;
  let flagged = 0;
  const histories: SimulatedHistory[] = [];
  for (let s = 0; s < seeds; s++) {
    const rand = mulberry32(cellSeed(cellIndex, s));
    const culprit = 1 + Math.floor(rand() * cell.n);
    const h = cell.history(culprit, rand);
    histories.push(h);
    const r = simulateBisect(h, rand, { maxRuns: Math.ceil(20 * floor), reproduceBudget: 200 });
    runs.push(r.runs);
    if (!r.correct) wrong++;
    if (r.conclusion.inconsistencies.length) flagged++;
  }
  const wrongRate = wrong / seeds;
  // Fixed-repeat binary search: the smallest k whose wrong-culprit rate is no higher than ours.
  let fixedK: number | undefined;
  let fixedMeanRuns: number | undefined;
  let fixedWrongRate: number | undefined;
  for (let k = 1; k <= 600; k++) {
    let total = 0;
    let bad = 0;
    histories.forEach((h, s) => {
      const r = fixedRepeatBisect(h, mulberry32(cellSeed(cellIndex, s) ^ 0x5bd1e995), k);
      total += r.runs;
      if (!r.correct) bad++;
    });
    if (bad / seeds <= wrongRate) {
      fixedK = k;
      fixedMeanRuns = total / seeds;
      fixedWrongRate = bad / seeds;
      break;
    }
  }
  const meanRuns = runs.reduce((a, b) => a + b, 0) / seeds;
  return {
    cell: cell.name,
    seeds,
    meanRuns,
    p95Runs: quantile(runs, 0.95),
    wrongRate,
    flaggedRate: flagged / seeds,
    fixedK,
    fixedMeanRuns,
    fixedWrongRate,
    floor,
    seconds: (performance.now() - t0) / 1000,
  };
}

export function formatBisectTable(results: CellResult[]): string {
  const head = ['cell', 'seeds', 'mean', 'p95', 'wrong', 'flagged', 'fixed k', '÷fixed', '÷floor', 'floor', 's'];
  const rows = results.map((r) => [
    r.cell,
    String(r.seeds),
    r.meanRuns.toFixed(1),
    r.p95Runs.toFixed(0),
    `${(100 * r.wrongRate).toFixed(1)}%`,
    `${(100 * r.flaggedRate).toFixed(1)}%`,
    r.fixedK === undefined ? '>600' : `${r.fixedK} (${(100 * r.fixedWrongRate!).toFixed(1)}%)`,
    r.fixedMeanRuns === undefined ? '-' : (r.meanRuns / r.fixedMeanRuns).toFixed(2),
    (r.meanRuns / r.floor).toFixed(2),
    r.floor.toFixed(1),
    r.seconds.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cols: string[]) => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}
