/** A parsed crash with its title, alternative titles and signature. */
import { parseConsole } from '../ddb/parser.ts';
import type { CrashReport } from '../ddb/report-types.ts';
import { crashSignature } from './signature.ts';
import { altTitles, crashTitle } from './title.ts';

export interface TriagedCrash {
  report: CrashReport;
  title: string;
  altTitles: string[];
  signature: string;
}

export function triageReport(report: CrashReport): TriagedCrash {
  return { report, title: crashTitle(report), altTitles: altTitles(report), signature: crashSignature(report) };
}

export function triageConsole(text: string): TriagedCrash[] {
  return parseConsole(text).map(triageReport);
}

/** Two crashes are the same bug when their signatures are equal or their title sets intersect. */
export function sameBug(a: TriagedCrash, b: TriagedCrash): boolean {
  if (a.signature === b.signature) return true;
  const titles = new Set([a.title, ...a.altTitles]);
  return [b.title, ...b.altTitles].some((t) => titles.has(t));
}

/**
 * Groups crashes into bugs (transitively: A~B and B~C put A, B, C together), keeping the
 * order of first appearance. Linear in the number of crashes and titles.
 */
export function groupCrashes<T extends Pick<TriagedCrash, 'signature' | 'title' | 'altTitles'>>(crashes: T[]): T[][] {
  const parent = crashes.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const union = (a: number, b: number): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  const owner = new Map<string, number>();
  crashes.forEach((c, i) => {
    for (const key of ['sig:' + c.signature, ...[c.title, ...c.altTitles].map((t) => 'title:' + t)]) {
      const o = owner.get(key);
      if (o === undefined) owner.set(key, i);
      else union(o, i);
    }
  });
  const groups = new Map<number, T[]>();
  crashes.forEach((c, i) => {
    const r = find(i);
    const g = groups.get(r);
    if (g) g.push(c);
    else groups.set(r, [c]);
  });
  return [...groups.values()];
}
