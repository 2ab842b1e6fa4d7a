/**
 * Runs jobs in their given order, as many at once as the budget allows. A job that
 * does not fit waits for earlier ones to finish (no overtaking, so the interleaved
 * A/B order is the order in which runs start). A job larger than the whole budget
 * runs alone.
 */
import type { Budget } from './budget.ts';

/** Grants budget in ticket order: acquire(i) resolves only after every ticket < i was granted. */
export class BudgetGate {
  private inUse: Budget = { cpus: 0, memoryMiB: 0 };
  private holders = 0;
  private next = 0;
  private waiters: { ticket: number; needs: Budget; grant: () => void }[] = [];

  constructor(private readonly budget: Budget) {}

  acquire(ticket: number, needs: Budget): Promise<() => void> {
    return new Promise((resolve) => {
      this.waiters.push({
        ticket,
        needs,
        grant: () => {
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            this.inUse.cpus -= needs.cpus;
            this.inUse.memoryMiB -= needs.memoryMiB;
            this.holders--;
            this.pump();
          });
        },
      });
      this.pump();
    });
  }

  /** Gives up a ticket that will never be acquired (e.g. its run was cancelled). */
  skip(ticket: number): void {
    this.waiters.push({ ticket, needs: { cpus: 0, memoryMiB: 0 }, grant: () => undefined });
    this.pump();
  }

  private fits(n: Budget): boolean {
    return this.holders === 0 || (this.inUse.cpus + n.cpus <= this.budget.cpus && this.inUse.memoryMiB + n.memoryMiB <= this.budget.memoryMiB);
  }

  private pump(): void {
    for (;;) {
      const w = this.waiters.find((x) => x.ticket === this.next);
      if (!w || !this.fits(w.needs)) return;
      this.waiters.splice(this.waiters.indexOf(w), 1);
      this.next++;
      if (w.needs.cpus === 0 && w.needs.memoryMiB === 0) {
        w.grant();
        continue;
      }
      this.inUse.cpus += w.needs.cpus;
      this.inUse.memoryMiB += w.needs.memoryMiB;
      this.holders++;
      w.grant();
    }
  }
}

export interface Job<T> {
  id: string;
  needs: Budget;
  start: () => Promise<T>;
}

export interface ScheduleOptions {
  budget: Budget;
  /** Stop starting new jobs once aborted; running ones are left to their own signal handling. */
  signal?: AbortSignal;
  onStart?: (id: string) => void;
}

export type JobResult<T> =
  | { id: string; status: 'done'; value: T }
  | { id: string; status: 'failed'; error: unknown }
  | { id: string; status: 'not-started' };

export async function schedule<T>(jobs: Job<T>[], opts: ScheduleOptions): Promise<JobResult<T>[]> {
  const gate = new BudgetGate(opts.budget);
  return Promise.all(
    jobs.map(async (job, i): Promise<JobResult<T>> => {
      const release = await gate.acquire(i, job.needs);
      try {
        if (opts.signal?.aborted) return { id: job.id, status: 'not-started' };
        opts.onStart?.(job.id);
        return { id: job.id, status: 'done', value: await job.start() };
      } catch (error) {
        return { id: job.id, status: 'failed', error };
      } finally {
        release();
      }
    }),
  );
}
