/** `obsdlab patch check --tree DIR PATCH...`: does each patch apply, in order? Exit 0 iff all apply. */
import type { Command } from 'commander';
import { checkPatchSeries, formatPatchResult, type PatchResult } from '../build/patch/check.ts';
import { resolveDirSource, resolveGitSource, type ResolvedSource } from '../build/source.ts';

export async function checkPatchesAgainst(source: ResolvedSource, patches: string[]): Promise<{ ok: boolean; results: PatchResult[]; text: string }> {
  const results = await checkPatchSeries(source, patches);
  const ok = results.every((r) => r.verdict !== 'fails' && r.verdict !== 'already-applied');
  const text = [`checking ${patches.length} patch(es) in order against ${source.describe}`, ...results.map((r) => formatPatchResult(r, source.describe))].join('\n') + '\n';
  return { ok, results, text };
}

export function register(program: Command): void {
  const patch = program.command('patch').description('kernel diffs');
  patch
    .command('check')
    .description('check that patches apply, in order (exit 0 iff all apply)')
    .requiredOption('--tree <dir>', 'sys/ tree directory (or a git repository/bundle with --rev)')
    .option('--rev <rev>', 'treat --tree as a git repository or bundle and check against this revision')
    .argument('<patch...>', 'patch files in apply order')
    .action(async (patches: string[], o: { tree: string; rev?: string }) => {
      try {
        const source = o.rev ? await resolveGitSource(o.tree, o.rev) : await resolveDirSource(o.tree);
        const r = await checkPatchesAgainst(source, patches);
        process.stdout.write(r.text);
        process.exitCode = r.ok ? 0 : 1;
      } catch (e) {
        process.stderr.write(`patch check: ${(e as Error).message}\n`);
        process.exitCode = 2;
      }
    });
}
