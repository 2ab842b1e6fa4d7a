/** A self-contained HTML page for nightly runs (no scripts, no external assets). */
import escapeHtml from 'escape-html';
import { relative } from 'node:path';
import type { SessionReport } from './model.ts';
import { pct, seconds, value } from './format.ts';

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:72em}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}
th{background:#f3f3f3}.bad{background:#fde2e2}.ok{background:#e6f4e6}code{font-size:90%}`;

export function renderHtml(r: SessionReport, reportDir: string): string {
  const e = (s: string) => escapeHtml(s);
  const rows = (cells: string[][], head: string[]) =>
    `<table><tr>${head.map((h) => `<th>${e(h)}</th>`).join('')}</tr>${cells
      .map((c) => `<tr>${c.map((x) => `<td>${x}</td>`).join('')}</tr>`)
      .join('')}</table>`;
  const link = (path: string, text: string) => `<a href="${e(relative(reportDir, path))}">${e(text)}</a>`;
  const parts: string[] = [];
  parts.push(`<!doctype html><html><head><meta charset="utf-8"><title>obsdlab: ${e(r.playbook)}</title><style>${STYLE}</style></head><body>`);
  parts.push(`<h1>obsdlab: ${e(r.playbook)}</h1>`);
  parts.push(
    `<p>${e(r.playbookFile)}<br>started ${e(r.startedAt)}, finished ${e(r.finishedAt ?? 'interrupted')} (${e(r.status)}); host ${e(r.host)}; accelerator ${e(r.accel.join(', ') || '-')}; ${r.runs.length} runs, ${r.unexpected} unexpected</p>`,
  );
  parts.push('<h2>Variants</h2>');
  parts.push(
    rows(
      r.variants.map((v) => [
        e(v.variant),
        String(v.runs),
        `${v.panic.k}/${v.panic.n} (${pct(v.panic.rate, 0)}, 95% CI ${pct(v.panic.ci[0], 0)}–${pct(v.panic.ci[1], 0)})`,
        `${v.hang.k}/${v.hang.n}`,
      ]),
      ['variant', 'runs', 'panics', 'hangs'],
    ),
  );
  if (r.rateComparisons.length) parts.push(`<ul>${r.rateComparisons.map((c) => `<li>${e(c.statement)}</li>`).join('')}</ul>`);
  if (r.throughput.length) {
    parts.push('<h2>Throughput</h2>');
    for (const t of r.throughput) {
      parts.push(`<h3>${e(t.measurement)}</h3>`);
      parts.push(rows(t.perVariant.map((v) => [e(v.variant), e(value(v.median, t.unit)), String(v.n)]), ['variant', 'median', 'runs']));
      if (t.comparisons.length) parts.push(`<ul>${t.comparisons.map((c) => `<li>${e(c.statement)}</li>`).join('')}</ul>`);
    }
  }
  if (r.crashGroups.length) {
    parts.push('<h2>Crashes by signature</h2>');
    parts.push(
      rows(
        r.crashGroups.map((g) => [
          `<b>${e(g.title)}</b><br><code>${e(g.signature)}</code>`,
          e(g.kind),
          g.perVariant.filter((v) => v.n).map((v) => `${e(v.variant)} ${v.k}/${v.n}`).join('<br>'),
          g.seenBefore ? `first seen ${e(g.firstSeen)}` : '<b>new</b>',
          link(g.exampleConsole, 'console'),
        ]),
        ['title', 'kind', 'per variant', 'history', 'example'],
      ),
    );
  }
  parts.push('<h2>Runs</h2>');
  parts.push(
    rows(
      r.runs.map((run) => [
        String(run.seq),
        link(run.dir, run.id),
        `<span class="${run.expected ? 'ok' : 'bad'}">${e(run.outcome)}${run.superseded ? ' (retried)' : ''}</span>`,
        e(seconds(run.durationMs)),
        e(run.crashes.map((c) => `${c.vm}: ${c.title}`).join('; ') || (run.reason ?? '').split('\n')[0]!),
      ]),
      ['seq', 'run', 'outcome', 'time', 'detail'],
    ),
  );
  parts.push('</body></html>');
  return parts.join('\n') + '\n';
}
