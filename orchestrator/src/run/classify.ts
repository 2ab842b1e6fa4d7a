/**
 * Turns what happened during a run into its outcome (pure). The order matters: a
 * kernel crash explains everything that failed after it (SSH drops, load errors), so
 * it wins; a hang explains load timeouts; infrastructure errors only count when
 * nothing about the kernel was seen.
 */
import type { Outcome } from './outcome.ts';

export interface RunEvents {
  /** VMs whose console showed a crash, with ms since run start. */
  crashes: { vm: string; atMs: number; summary: string }[];
  /** VMs that stopped answering (console silent and commands dead past the hang timeout). */
  hangs: { vm: string; atMs: number; detail: string }[];
  bootFailures: { vm: string; atMs: number; reason: string }[];
  /** Errors of the host, QEMU or the orchestrator (not the kernel's fault). */
  infraErrors: { vm?: string; atMs: number; error: string }[];
  /** Commands or load phases that failed while the guests still answered. */
  commandFailures: { vm: string; atMs: number; error: string }[];
  buildFailures: { kernel: string; error: string }[];
}

export interface Classification {
  outcome: Outcome;
  reason?: string;
  failedVm?: string;
  timeToFailureMs?: number;
}

export function emptyEvents(): RunEvents {
  return { crashes: [], hangs: [], bootFailures: [], infraErrors: [], commandFailures: [], buildFailures: [] };
}

export function classify(ev: RunEvents): Classification {
  const first = <T extends { atMs: number }>(xs: T[]) => [...xs].sort((a, b) => a.atMs - b.atMs)[0];
  if (ev.buildFailures.length) {
    const b = ev.buildFailures[0]!;
    return { outcome: 'build-failure', reason: `kernel ${b.kernel}: ${b.error}` };
  }
  const crash = first(ev.crashes);
  if (crash) return { outcome: 'panic', reason: crash.summary, failedVm: crash.vm, timeToFailureMs: crash.atMs };
  const hang = first(ev.hangs);
  if (hang) return { outcome: 'hang', reason: hang.detail, failedVm: hang.vm, timeToFailureMs: hang.atMs };
  const boot = first(ev.bootFailures);
  if (boot) return { outcome: 'boot-failure', reason: boot.reason, failedVm: boot.vm, timeToFailureMs: boot.atMs };
  const infra = first(ev.infraErrors);
  if (infra) return { outcome: 'infra-error', reason: infra.error, ...(infra.vm ? { failedVm: infra.vm } : {}) };
  // A command that failed while every guest still answered is a broken test setup,
  // not a verdict on the kernel.
  const cmd = first(ev.commandFailures);
  if (cmd) return { outcome: 'infra-error', reason: cmd.error, failedVm: cmd.vm };
  return { outcome: 'pass' };
}
