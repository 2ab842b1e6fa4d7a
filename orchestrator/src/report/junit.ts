/** JUnit XML: one testsuite per matrix cell, one testcase per run, for CI dashboards. */
import escapeHtml from 'escape-html';
import type { SessionReport } from './model.ts';

export function renderJunit(r: SessionReport): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const failures = r.runs.filter((x) => !x.expected).length;
  const total = r.runs.reduce((s, x) => s + (x.durationMs ?? 0), 0) / 1000;
  out.push(
    `<testsuites name="${escapeHtml(r.playbook)}" tests="${r.runs.length}" failures="${failures}" time="${total.toFixed(3)}">`,
  );
  for (const cell of r.cells) {
    const runs = r.runs.filter((x) => x.cellId === cell.cellId);
    const fails = runs.filter((x) => !x.expected).length;
    const time = runs.reduce((s, x) => s + (x.durationMs ?? 0), 0) / 1000;
    out.push(`  <testsuite name="${escapeHtml(cell.cellId)}" tests="${runs.length}" failures="${fails}" time="${time.toFixed(3)}">`);
    for (const run of runs) {
      out.push(
        `    <testcase classname="${escapeHtml(`${r.playbook}.${cell.cellId}`)}" name="${escapeHtml(run.id)}" time="${((run.durationMs ?? 0) / 1000).toFixed(3)}">`,
      );
      if (run.superseded) out.push(`      <skipped message="${escapeHtml(`infrastructure error, run again: ${(run.reason ?? '').split('\n')[0]}`)}"/>`);
      else if (!run.expected) {
        const msg = run.crashes.length ? run.crashes.map((c) => `${c.vm}: ${c.title}`).join('; ') : (run.reason ?? run.outcome);
        out.push(`      <failure type="${escapeHtml(run.outcome)}" message="${escapeHtml(msg.split('\n')[0]!)}">${escapeHtml(run.reason ?? msg)}</failure>`);
      }
      out.push(`      <system-out>${escapeHtml(`outcome: ${run.outcome}\nrun directory: ${run.dir}`)}</system-out>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}
