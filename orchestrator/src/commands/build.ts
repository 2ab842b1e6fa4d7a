/** `obsdlab build PLAYBOOK [--variant NAME] [--jobs N]`: check every patch, then build each distinct kernel once. */
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { formatPatchResult } from '../build/patch/check.ts';
import { planOrReport } from './load-plan.ts';
import { backendFor } from '../build/builder.ts';
import { buildPrepared, prepareBuild } from '../build/prepare.ts';
import { BuildError, type BuildSpec, type BuiltKernel } from '../build/types.ts';
import type { PreparedBuild } from '../build/backend.ts';
import type { KernelSpec, Plan } from '../playbook/plan-types.ts';

/** The kernels a plan builds, optionally only those the runs of one variant use. */
export function kernelsToBuild(plan: Plan, variant?: string): BuildSpec[] {
  let specs: KernelSpec[] = plan.kernels;
  if (variant !== undefined) {
    const runs = plan.runs.filter((r) => r.variant === variant);
    if (runs.length === 0) {
      const known = [...new Set(plan.runs.map((r) => r.variant))].join(', ');
      throw new Error(`variant "${variant}" is not in playbook ${plan.playbook.file} (variants: ${known})`);
    }
    const names = new Set(runs.flatMap((r) => r.vms.map((v) => v.kernel.name)));
    specs = specs.filter((k) => names.has(k.name));
  }
  return specs.filter((k): k is BuildSpec => k.kind === 'build');
}

export interface BuildReportLine {
  name: string;
  kernel?: BuiltKernel;
  bsdBytes?: number;
  error?: string;
}

/**
 * Prepares every kernel first (source, patch check), so all patch failures are
 * reported before anything is built; then builds each distinct cache key once.
 */
export async function buildKernels(
  specs: BuildSpec[],
  opts: { jobs?: number; signal?: AbortSignal; log?: (l: string) => void },
): Promise<{ ok: boolean; lines: BuildReportLine[] }> {
  const prepared: { spec: BuildSpec; prep?: PreparedBuild; error?: string }[] = [];
  for (const spec of specs) {
    try {
      prepared.push({ spec, prep: await prepareBuild(spec, backendFor(spec.builder), opts.signal) });
    } catch (e) {
      if (!(e instanceof BuildError)) throw e;
      prepared.push({ spec, error: e.message });
    }
  }
  if (prepared.some((p) => p.error)) {
    return { ok: false, lines: prepared.map((p) => ({ name: p.spec.name, ...(p.error ? { error: p.error } : { error: 'not built: another kernel failed its checks' }) })) };
  }
  const byKey = new Map<string, BuiltKernel>();
  const lines: BuildReportLine[] = [];
  let ok = true;
  for (const p of prepared) {
    const prep = p.prep!;
    // Every patch was checked against the source before any builder runs: say so.
    for (const r of prep.patchCheck) opts.log?.(`${p.spec.name}: ${formatPatchResult(r, prep.source.describe).split('\n')[0]}`);
    try {
      let k = byKey.get(prep.key);
      if (!k) {
        k = await buildPrepared(prep, backendFor(p.spec.builder), { jobs: opts.jobs, signal: opts.signal, log: opts.log });
        byKey.set(prep.key, k);
      }
      lines.push({ name: p.spec.name, kernel: k, bsdBytes: (await stat(k.bsd)).size });
    } catch (e) {
      if (!(e instanceof BuildError)) throw e;
      ok = false;
      lines.push({ name: p.spec.name, error: e.message + (e.logFile ? `\n  (build log: ${e.logFile})` : '') });
    }
  }
  return { ok, lines };
}

export function formatBuildReport(lines: BuildReportLine[]): string {
  const out: string[] = [];
  for (const l of lines) {
    if (l.kernel) {
      const k = l.kernel;
      out.push(
        `${l.name}: ${k.cached ? `cache hit (original build ${k.buildSeconds.toFixed(1)} s)` : `built in ${k.buildSeconds.toFixed(1)} s`}, bsd ${(l.bsdBytes! / 1e6).toFixed(1)} MB, ${k.commit.slice(0, 12)}, key ${k.key.slice(0, 12)}`,
        `  ${k.bsd}`,
      );
    } else out.push(`${l.name}: FAILED\n${(l.error ?? '').replace(/^/gm, '  ')}`);
  }
  return out.join('\n') + '\n';
}

export function register(program: Command): void {
  program
    .command('build')
    .description("build the playbook's kernels (patches checked first; cached by content)")
    .argument('<playbook>', 'playbook YAML file')
    .option('--variant <name>', 'only the kernels this variant uses')
    .option('--jobs <n>', 'parallel make jobs', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--jobs: expected a positive integer, got "${v}"`);
      return n;
    }, 2)
    .action(async (file: string, o: { variant?: string; jobs: number }) => {
      let plan = planOrReport(file, 1);
      if (!plan) return;
      const specs = kernelsToBuild(plan, o.variant);
      if (specs.length === 0) {
        process.stdout.write(`${file}: no kernels to build (all prebuilt)\n`);
        return;
      }
      const ac = new AbortController();
      const onSig = () => ac.abort(new Error('interrupted'));
      process.once('SIGINT', onSig);
      process.once('SIGTERM', onSig);
      try {
        const r = await buildKernels(specs, { jobs: o.jobs, signal: ac.signal, log: (l) => process.stderr.write(`${l}\n`) });
        process.stdout.write(formatBuildReport(r.lines));
        if (!r.ok) process.exitCode = 1;
      } finally {
        process.off('SIGINT', onSig);
        process.off('SIGTERM', onSig);
      }
    });
}
