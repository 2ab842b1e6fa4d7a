/** The host budget for concurrent runs: vCPUs and guest memory in flight at once. */
import { availableParallelism, totalmem } from 'node:os';

export interface Budget {
  cpus: number;
  memoryMiB: number;
}

/**
 * Default budget: vCPUs may oversubscribe the host cores twice (TCG guests idle a lot
 * while waiting for traffic), memory is capped at 75% of the host's.
 */
export function hostBudget(): Budget {
  return { cpus: availableParallelism() * 2, memoryMiB: Math.floor((totalmem() / 2 ** 20) * 0.75) };
}

/** Parses "--budget cpus=4,mem=8G" style overrides. */
export function parseBudget(spec: string, base: Budget = hostBudget()): Budget {
  const out = { ...base };
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(cpus|mem|memory)=(\d+)([MG]?)$/i.exec(part);
    if (!m) throw new Error(`budget: cannot parse "${part}" (expected cpus=N or mem=N[M|G])`);
    const n = Number(m[2]);
    if (m[1]!.toLowerCase() === 'cpus') out.cpus = n;
    else out.memoryMiB = m[3]?.toUpperCase() === 'G' ? n * 1024 : n;
  }
  return out;
}
