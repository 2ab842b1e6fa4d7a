// Benchmarks. `npm run bench` runs all; `npm run bench -- bisect --quick` selects one, with fewer seeds;
// --seeds=N sets the seeds per cell, --cell=TEXT (repeatable) runs only cells whose name contains TEXT.
import { bisectCells, bisectTableHeader, bisectTableRow, runBisectCell } from './bisect.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const seedsArg = args.find((a) => a.startsWith('--seeds='));
const cellFilters = args.filter((a) => a.startsWith('--cell=')).map((a) => a.slice('--cell='.length));
const selected = args.filter((a) => !a.startsWith('--'));
const known = ['bisect', 'triage'];
for (const s of selected) {
  if (!known.includes(s)) {
    console.error(`bench: unknown benchmark "${s}" (known: ${known.join(', ')})`);
    process.exit(2);
  }
}
const want = (name: string) => selected.length === 0 || selected.includes(name);

if (want('bisect')) {
  const seeds = seedsArg ? Number(seedsArg.slice('--seeds='.length)) : quick ? 40 : 1000;
  if (!(Number.isInteger(seeds) && seeds > 0)) {
    console.error(`bench: --seeds must be a positive integer, got ${seedsArg}`);
    process.exit(2);
  }
  const cells = bisectCells();
  const t0 = performance.now();
  console.log(`bisect: ${seeds} seeded bisects per cell${quick ? ' (quick)' : ''}`);
  console.log(bisectTableHeader());
  cells.forEach((cell) => {
    if (cellFilters.length && !cellFilters.some((f) => cell.name.includes(f))) return;
    console.log(bisectTableRow(runBisectCell(cell, seeds)));
  });
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

if (want('triage')) {
  // The crash parser's throughput on generated console noise (linear in the input size).
  const { execFileSync } = await import('node:child_process');
  const mb = quick ? '10' : '100';
  console.log(`triage: parsing ${mb} MB of console noise`);
  execFileSync(process.execPath, ['--import', 'tsx', new URL('./triage-parse.ts', import.meta.url).pathname, mb], { stdio: 'inherit' });
}
