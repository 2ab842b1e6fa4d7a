// Benchmarks. `npm run bench` runs all; `npm run bench -- bisect --quick` selects one, with fewer seeds.
import { bisectCells, formatBisectTable, runBisectCell, type CellResult } from './bisect.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const seedsArg = args.find((a) => a.startsWith('--seeds='));
const cellArg = args.find((a) => a.startsWith('--cell='));
const selected = args.filter((a) => !a.startsWith('--'));
const known = ['bisect'];
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
  const filter = cellArg?.slice('--cell='.length);
  const cells = bisectCells();
  const results: CellResult[] = [];
  const t0 = performance.now();
  console.log(`bisect: ${seeds} seeded bisects per cell${quick ? ' (quick)' : ''}`);
  cells.forEach((cell, i) => {
    if (filter && !cell.name.includes(filter)) return;
    const r = runBisectCell(cell, i, seeds);
    results.push(r);
    console.log(`  done ${r.cell} in ${r.seconds.toFixed(1)} s`);
  });
  console.log('');
  console.log(formatBisectTable(results));
  console.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
