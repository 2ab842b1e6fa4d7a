// Crash parser throughput on generated console noise (real transcript lines, whole
// transcripts, random bytes, spinners, long lines). Checks that the cost grows linearly.
//   node --import tsx bench/triage-parse.ts [MB]     (default 100)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConsole } from '../orchestrator/src/ddb/parser.ts';
import { consoleNoise, mulberry32 } from '../orchestrator/test/ddb/parser-console-noise.ts';

const dir = fileURLToPath(new URL('../orchestrator/test/fixtures/corpus/', import.meta.url));
const transcripts = readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .map((f) => readFileSync(join(dir, f), 'utf8'));

const totalMb = Number(process.argv[2] ?? 100);
if (!(totalMb > 0)) {
  console.error(`usage: triage-parse.ts [MB]; got ${process.argv[2]}`);
  process.exit(2);
}

function run(mb: number): { mb: number; ms: number; reports: number } {
  const text = consoleNoise(mulberry32(1), mb * 1_000_000, transcripts);
  const t0 = performance.now();
  const reports = parseConsole(text).length;
  return { mb, ms: performance.now() - t0, reports };
}

const sizes = [...new Set([Math.max(1, Math.round(totalMb / 10)), Math.max(1, Math.round(totalMb / 2)), totalMb])];
const results = sizes.map(run);
for (const r of results) console.log(`${String(r.mb).padStart(4)} MB  ${(r.ms / 1000).toFixed(2).padStart(7)} s  ${(r.mb / (r.ms / 1000)).toFixed(1).padStart(6)} MB/s  ${r.reports} reports`);
const first = results[0]!;
const last = results[results.length - 1]!;
const growth = last.ms / last.mb / (first.ms / first.mb);
console.log(`time per MB, largest vs smallest input: ${growth.toFixed(2)}x (linear ≈ 1)`);
