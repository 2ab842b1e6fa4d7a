/** Kernel profiles as "folded stacks" (root first, `;`-joined, then the count): the input of flame graph tools. */
import type { KernelProfile } from '../guest/adapter.ts';

export function foldedStacks(p: KernelProfile): string {
  return p.stacks
    .map((s) => `${[...s.frames].reverse().map((f) => f.replace(/[;\s]/g, '_')).join(';')} ${s.count}`)
    .join('\n') + (p.stacks.length ? '\n' : '');
}
