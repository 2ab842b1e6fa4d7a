/** The plan as plain text (what `obsdlab plan` prints without --json). */
import type { KernelSpec, Plan, PlannedRun } from './plan-types.ts';

function table(rows: string[][], indent = ''): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

function kernelSummary(k: KernelSpec): string {
  if (k.kind === 'prebuilt') return k.kernel ? `prebuilt ${k.kernel}` : `prebuilt image ${k.image ?? ''}`;
  const src =
    k.source.type === 'git' ? `git ${k.source.repo} @ ${k.source.rev}` : k.source.type === 'tree' ? `tree ${k.source.path}` : `cvs ${k.source.root} -D ${k.source.date}`;
  const builder = k.builder.type === 'cross' ? 'cross' : k.builder.type === 'vm' ? `vm ${k.builder.image}` : `ssh ${k.builder.user}@${k.builder.host}:${k.builder.port}`;
  const patches = k.patches.length ? `, patches ${k.patches.map((p) => p.split('/').pop()).join(' ')}` : '';
  return `build ${src}, config ${k.config}, builder ${builder}${patches}`;
}

function cellBlock(run: PlannedRun, runsInCell: number): string[] {
  const lines = [`cell ${run.cellId}: ${runsInCell} run${runsInCell === 1 ? '' : 's'}${run.expect?.outcome ? `, expect ${run.expect.outcome}` : ''}`];
  lines.push(
    ...table(
      run.vms.map((vm) => [
        vm.name,
        vm.guest,
        `${vm.cpus} cpu${vm.cpus === 1 ? "" : "s"}`,
        `${vm.memoryMiB} MiB`,
        `kernel ${vm.kernel.name}`,
        vm.nics.map((n) => `${n.link}(${n.addrs.join(' ')})`).join(' '),
      ]),
      '  vm ',
    ),
  );
  lines.push(...table(run.links.map((l) => [l.name, `${l.ends[0]} <-> ${l.ends[1]}`, `mtu ${l.mtu}`]), '  link '));
  if (run.setup.length) {
    lines.push(`  setup ${run.setup.map((s) => `${s.vm}:${s.op}${s.atSec !== undefined ? `@${s.atSec}s` : ''}`).join(', ')}`);
  }
  const groups = new Map<number, string[]>();
  for (const l of run.load) {
    const text = `${l.name}(${l.generator} ${l.from}${l.via ? `->${l.via}` : ''}${l.to ? `->${l.to}` : ''} ${l.durationSec}s)`;
    groups.set(l.group, [...(groups.get(l.group) ?? []), text]);
  }
  for (const [, phases] of groups) lines.push(`  load ${phases.join(' + ')}`);
  return lines;
}

export function renderPlan(plan: Plan): string {
  const out: string[] = [];
  out.push(`playbook ${plan.playbook.name} (${plan.playbook.file})`);
  if (plan.playbook.description) out.push(`  ${plan.playbook.description}`);
  const maxCpus = Math.max(0, ...plan.runs.map((r) => r.resources.cpus));
  const maxMem = Math.max(0, ...plan.runs.map((r) => r.resources.memoryMiB));
  out.push(
    `${plan.runs.length} runs, order ${plan.order.mode}${plan.order.seed !== undefined ? ` (seed ${plan.order.seed})` : ''}, ` +
      `per run up to ${maxCpus} cpus and ${maxMem} MiB`,
  );
  if (plan.adaptive) {
    out.push(`adaptive ${plan.adaptive.metric}${plan.adaptive.measurement ? ` ${plan.adaptive.measurement}` : ''}: ` +
      `${plan.adaptive.compare[0]} vs ${plan.adaptive.compare[1]}, confidence ${plan.adaptive.confidence}, at most ${plan.adaptive.maxRuns} runs`);
  }
  out.push('', 'kernels');
  out.push(...table(plan.kernels.map((k) => [k.name, kernelSummary(k)]), '  '));
  const cells = new Map<string, PlannedRun[]>();
  for (const run of plan.runs) cells.set(run.cellId, [...(cells.get(run.cellId) ?? []), run]);
  for (const runs of cells.values()) {
    out.push('');
    out.push(...cellBlock(runs[0]!, runs.length));
  }
  out.push('');
  out.push(
    ...table([
      ['SEQ', 'RUN', 'VARIANT', 'CPUS', 'MIB', 'KERNELS'],
      ...plan.runs.map((r) => [
        String(r.seq),
        r.id,
        r.variant,
        String(r.resources.cpus),
        String(r.resources.memoryMiB),
        [...new Set(r.vms.map((vm) => vm.kernel.name))].join(','),
      ]),
    ]),
  );
  return `${out.join('\n')}\n`;
}
