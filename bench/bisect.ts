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
  // The slowest cell last, so the others are on screen early.
  const slowest = cells.findIndex((c) => c.n === 4096 && c.p === 1 / 20);
  return [...cells.slice(0, slowest), ...cells.slice(slowest + 1), cells[slowest]!];
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

function nameHash(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Seeds depend on the cell's name and the seed number only, so a cell's row does not depend on which others run. */
function cellSeed(cellName: string, seed: number): number {
  return (nameHash(cellName) ^ Math.imul(seed + 1, 0x85ebca6b)) >>> 0;
}

export function runBisectCell(cell: BisectCell, seeds: number): CellResult {
  const t0 = performance.now();
  const floor = informationFloor(cell.n, cell.p);
  const runs: number[] = [];
  let wrong = 0;
  let flagged = 0;
  const histories: SimulatedHistory[] = [];
  for (let s = 0; s < seeds; s++) {
    const rand = mulberry32(cellSeed(cell.name, s));
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
      const r = fixedRepeatBisect(h, mulberry32(cellSeed(cell.name, s) ^ 0x5bd1e995), k);
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

const HEAD = ['cell', 'seeds', 'mean', 'p95', 'wrong', 'flagged', 'fixed k', '÷fixed', '÷floor', 'floor', 's'];
const WIDTHS = [28, 5, 7, 5, 6, 7, 10, 6, 6, 6, 6];

function cellRow(r: CellResult): string[] {
  return [
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
  ];
}

function line(cols: string[]): string {
  return cols.map((c, i) => (i === 0 ? c.padEnd(WIDTHS[i]!) : c.padStart(WIDTHS[i]!))).join('  ');
}

/** Column header and one line per cell (fixed widths, so rows can be printed as cells finish). */
export function bisectTableHeader(): string {
  return line(HEAD);
}

export function bisectTableRow(r: CellResult): string {
  return line(cellRow(r));
}
