/** Plain-text report: 72–80 columns, no colour, pastes into mail to a kernel list unchanged. */
import type { SessionReport } from './model.ts';
import { pct, seconds, table, value, wrap } from './format.ts';

export function renderText(r: SessionReport): string {
  const L: string[] = [];
  L.push(`obsdlab report: ${r.playbook}`);
  L.push(`playbook: ${r.playbookFile}`);
  L.push(`started ${r.startedAt}, finished ${r.finishedAt ?? '(interrupted)'}, status ${r.status}`);
  L.push(`host: ${r.host}; accelerator: ${r.accel.join(', ') || '-'}`);
  const counts = new Map<string, number>();
  for (const run of r.runs) if (!run.superseded) counts.set(run.outcome, (counts.get(run.outcome) ?? 0) + 1);
  L.push(`runs: ${r.runs.length - r.retried} (${[...counts].map(([o, n]) => `${n} ${o}`).join(', ')}); unexpected: ${r.unexpected}`);
  if (r.retried) L.push(`${r.retried} attempt(s) retried after infrastructure errors`);
  L.push('');

  if (r.adaptive) {
    L.push('Adaptive repetition');
    L.push(...wrap(`rule: ${r.adaptive.rule}; sequential test on interleaved pairs (an e-value against "no difference", valid at every look).`, 76, '  '));
    L.push(...wrap(`${r.adaptive.decided ? 'decided' : 'stopped undecided'} after ${r.adaptive.pairs} pairs: ${r.adaptive.statement}`, 76, '  '));
    L.push('');
  }

  L.push('Outcomes per variant (rates with exact 95% confidence intervals)');
  L.push(
    ...table([
      ['variant', 'runs', 'panic', 'panic rate (CI)', 'hang'],
      ...r.variants.map((v) => [
        v.variant,
        String(v.runs),
        `${v.panic.k}/${v.panic.n}`,
        `${pct(v.panic.rate, 0)} (${pct(v.panic.ci[0], 0)}-${pct(v.panic.ci[1], 0)})`,
        `${v.hang.k}/${v.hang.n}`,
      ]),
    ]),
  );
  for (const c of r.rateComparisons) L.push(...wrap(c.statement, 76, '  '));
  L.push('');

  if (r.cells.length > r.variants.length) {
    L.push('Outcomes per matrix cell');
    L.push(
      ...table([
        ['cell', 'runs', 'pass', 'panic', 'hang', 'other'],
        ...r.cells.map((c) => [
          c.cellId,
          String(c.runs),
          String(c.outcomes.pass ?? 0),
          String(c.outcomes.panic ?? 0),
          String(c.outcomes.hang ?? 0),
          String(c.runs - (c.outcomes.pass ?? 0) - (c.outcomes.panic ?? 0) - (c.outcomes.hang ?? 0)),
        ]),
      ]),
    );
    L.push('');
  }

  if (r.throughput.length) {
    L.push('Throughput (median per variant)');
    for (const t of r.throughput) {
      L.push(`  ${t.measurement}`);
      L.push(...table(t.perVariant.map((v) => [v.variant, `${value(v.median, t.unit)}`, `n=${v.n}`]), '    '));
      for (const c of t.comparisons) L.push(...wrap(c.statement, 76, '    '));
    }
    L.push('');
  }

  if (r.measurements.length) {
    L.push('Other measurements (median per variant)');
    L.push(...perVariantTable(['measurement'], r.measurements.map((m) => ({ keys: [m.measurement], perVariant: m.perVariant, show: (x) => value(x, m.unit) }))));
    L.push('');
  }

  if (r.counters.length) {
    L.push('Counters over the load (after - before, median per variant)');
    L.push(...perVariantTable(['vm', 'counter'], r.counters.map((c) => ({ keys: [c.vm, c.counter], perVariant: c.perVariant, show: String }))));
    L.push('');
  }

  if (r.crashGroups.length) {
    L.push('Crashes grouped by signature');
    for (const g of r.crashGroups) {
      L.push(`  ${g.title}`);
      L.push(`    signature ${g.signature}, ${g.kind}; ${g.seenBefore ? `seen before (first ${g.firstSeen})` : 'NEW'}; ${g.count} in store`);
      L.push(
        `    ` +
          g.perVariant
            .filter((v) => v.n > 0)
            .map((v) => `${v.variant} ${v.k}/${v.n} (${pct(v.ci[0], 0)}-${pct(v.ci[1], 0)})`)
            .join(', '),
      );
      L.push(`    runs: ${g.runs.join(' ')}`);
      L.push(`    example console: ${g.exampleConsole}`);
    }
    L.push('');
  }

  L.push('Runs in execution order');
  L.push(
    ...table([
      ['seq', 'run', 'outcome', 'time', 'detail'],
      ...r.runs.map((run) => [
        String(run.seq),
        run.id,
        run.outcome + (run.superseded ? ' (retried)' : run.expected ? '' : ' (!)'),
        seconds(run.durationMs),
        run.crashes.length
          ? run.crashes.map((c) => `${c.vm}: ${c.title}`).join('; ')
          : (run.reason ?? '').split('\n')[0]!.slice(0, 60),
      ]),
    ]),
  );
  L.push('');
  L.push('(!) marks an outcome the playbook did not expect.');
  return L.join('\n') + '\n';
}

/** A table with one row per item and one column per variant (in order of first appearance). */
function perVariantTable(
  head: string[],
  rows: { keys: string[]; perVariant: { variant: string; median: number }[]; show: (x: number) => string }[],
): string[] {
  const variants = [...new Set(rows.flatMap((row) => row.perVariant.map((v) => v.variant)))];
  return table([
    [...head, ...variants],
    ...rows.map((row) => [
      ...row.keys,
      ...variants.map((v) => {
        const x = row.perVariant.find((p) => p.variant === v);
        return x ? row.show(x.median) : '-';
      }),
    ]),
  ]);
}
