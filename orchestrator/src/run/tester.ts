/**
 * The bisect's CommitTester over real runs: for a commit, every kernel of the
 * playbook that is built from a git source is rebuilt at that commit (the kernel
 * cache makes repeats free), then the selected matrix cell runs N times through the
 * same session runner as `obsdlab run`, with its report kept under reports/.
 */
import type { CommitTester } from '../bisect/driver.ts';
import type { TrialResult } from '../bisect/target.ts';
import { planFromFile } from '../playbook/load.ts';
import { selectCell } from '../playbook/expand.ts';
import type { KernelSpec, Plan, PlannedRun } from '../playbook/plan-types.ts';
import { hostBudget } from './budget.ts';
import { prepareRunDeps } from './bindings.ts';
import { runSession } from './session.ts';

export interface PlaybookTesterOptions {
  cell?: string;
  reportsDir?: string;
  storePath?: string;
}

/** The same kernel spec at another commit (only git sources move). */
export function atCommit(spec: KernelSpec, commit: string): KernelSpec {
  if (spec.kind !== 'build' || spec.source.type !== 'git') return spec;
  return { ...spec, source: { ...spec.source, rev: commit } };
}

/** N repetitions of the template run with its built kernels moved to `commit`. */
export function planAtCommit(plan: Plan, template: PlannedRun, commit: string, n: number): Plan {
  const short = commit.slice(0, 12);
  const vms = template.vms.map((vm) => ({ ...vm, kernel: atCommit(vm.kernel, commit) }));
  const runs = Array.from({ length: n }, (_, i) => ({
    ...template,
    vms,
    id: `${short}#${i + 1}`,
    seq: i + 1,
    repetition: i + 1,
  }));
  return { ...plan, playbook: { ...plan.playbook, name: `${plan.playbook.name}-bisect-${short}` }, kernels: plan.kernels.map((k) => atCommit(k, commit)), runs };
}

export function createPlaybookTester(file: string, opts: PlaybookTesterOptions = {}): CommitTester {
  const plan = planFromFile(file);
  const candidates = opts.cell ? selectCell(plan, opts.cell) : plan.runs;
  const template = candidates[0];
  if (!template) throw new Error(`${file}: no run matches cell "${opts.cell}"`);
  if (!template.vms.some((vm) => vm.kernel.kind === 'build' && vm.kernel.source.type === 'git')) {
    throw new Error(`${file}: cell ${template.cellId} builds no kernel from a git source, so there is nothing to bisect`);
  }
  return {
    async test(commit: string, runs: number, signal: AbortSignal): Promise<TrialResult[]> {
      const sub = planAtCommit(plan, template, commit, runs);
      const result = await runSession({
        plan: sub,
        budget: hostBudget(),
        ...(opts.reportsDir ? { reportsDir: opts.reportsDir } : {}),
        ...(opts.storePath ? { storePath: opts.storePath } : {}),
        reporters: ['text', 'json'],
        prepare: (p, log, s) => prepareRunDeps(p, { log, signal: s }),
        signal,
        renderer: 'simple',
      }).catch((err: Error & { reportDir?: string }) => {
        // A preparation failure that is not a kernel build failure says nothing about the commit.
        return { error: err };
      });
      if ('error' in result) return Array.from({ length: runs }, () => ({ outcome: 'infra-error', detail: result.error.message }));
      return result.report.runs.map((r) => {
        const crash = r.crashes[0];
        const built = template.vms.filter((vm) => vm.kernel.kind === 'build').map((vm) => r.kernels[vm.name]).filter(Boolean);
        return {
          outcome: r.outcome === 'incomplete' ? 'infra-error' : r.outcome,
          ...(crash ? { signature: crash.signature, title: crash.title } : {}),
          ...(built.length ? { kernelHash: built.join('+') } : {}),
          ...(r.reason ? { detail: r.reason.split('\n')[0]! } : {}),
        };
      });
    },
  };
}
