import { execa } from 'execa';
import { readFileSync } from 'node:fs';

async function git(repo: string, args: string[]): Promise<string> {
  const r = await execa('git', ['-C', repo, ...args], { reject: false });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(' ')} in ${repo} failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
  return r.stdout;
}

/**
 * The first-parent history from good to bad: [good, ..., bad]. Merges on the way count as one
 * commit each (their side branches are not bisected, as with `git bisect --first-parent`).
 */
export async function firstParentHistory(repo: string, good: string, bad: string): Promise<string[]> {
  const resolve = async (rev: string, which: string) => {
    try {
      return (await git(repo, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`])).trim();
    } catch {
      throw new Error(`bisect: ${which} revision "${rev}" is not a commit in ${repo}`);
    }
  };
  const g = await resolve(good, '--good');
  const b = await resolve(bad, '--bad');
  if (g === b) throw new Error(`bisect: --good and --bad are the same commit ${g}`);
  const chain = (await git(repo, ['rev-list', '--first-parent', '--reverse', `${g}..${b}`])).split('\n').filter(Boolean);
  const first = chain[0];
  const parent = first ? (await git(repo, ['rev-parse', `${first}^1`]).catch(() => '')).trim() : '';
  if (!first || parent !== g) {
    throw new Error(`bisect: --good ${good} (${g.slice(0, 12)}) is not on the first-parent history of --bad ${bad} (${b.slice(0, 12)})`);
  }
  return [g, ...chain];
}

/**
 * A history from a file: one revision per line (e.g. CVS dates "2025-03-01 12:00 UTC"),
 * oldest first; blank lines and # comments ignored. The first is the good end, the last the bad.
 */
export function historyFromFile(file: string): string[] {
  const out: string[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const t = line.replace(/#.*/, '').trim();
      if (!t) return;
      if (out.includes(t)) throw new Error(`${file}:${i + 1}: revision "${t}" listed twice`);
      out.push(t);
    });
  if (out.length < 2) throw new Error(`${file}: need at least a good and a bad revision, found ${out.length}`);
  return out;
}

/** Cut a listed history down to good..bad (inclusive). */
export function sliceHistory(all: string[], good: string, bad: string, source: string): string[] {
  const g = all.indexOf(good);
  const b = all.indexOf(bad);
  if (g < 0) throw new Error(`bisect: --good "${good}" is not in ${source}`);
  if (b < 0) throw new Error(`bisect: --bad "${bad}" is not in ${source}`);
  if (b <= g) throw new Error(`bisect: --bad "${bad}" does not come after --good "${good}" in ${source}`);
  return all.slice(g, b + 1);
}
