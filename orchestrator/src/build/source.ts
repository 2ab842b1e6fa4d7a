import { access, cp, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { execa } from 'execa';
import { cacheDir } from '../util/paths.ts';
import { dirContentHash, sha256 } from './hash.ts';
import { runTool, runToolOk } from './run-tool.ts';
import { BuildError, type BuildSpec } from './types.ts';

/** A kernel source tree (the contents of OpenBSD's sys/) that can be probed, read and exported. */
export interface ResolvedSource {
  kind: 'git' | 'tree' | 'cvs';
  /** Full commit hash for git; the tree's content hash otherwise. */
  commit: string;
  /** Commit date (ISO 8601) when known. */
  date?: string;
  /** Identity of the tree's content: git tree hash, or a directory content hash. */
  treeHash: string;
  /** One line for messages: where the tree came from and which revision. */
  describe: string;
  has(rel: string): Promise<boolean>;
  read(rel: string): Promise<Buffer | null>;
  /** Writes the whole tree into `dir` (which must exist and be empty). */
  exportTo(dir: string, signal?: AbortSignal): Promise<void>;
}

export function mirrorDir(): string {
  return cacheDir('src', 'mirror.git');
}

const git = (gitDir: string, args: string[], signal?: AbortSignal) => runTool('git', ['--git-dir', gitDir, ...args], { signal });

async function ensureMirror(signal?: AbortSignal): Promise<string> {
  const dir = mirrorDir();
  try {
    await access(join(dir, 'HEAD'));
  } catch {
    await mkdir(dir, { recursive: true });
    await runToolOk('git', ['init', '--quiet', '--bare', dir], { signal });
  }
  return dir;
}

/** Refs of each fetched repository live under their own namespace in the shared mirror. */
function repoNamespace(repo: string): string {
  return `refs/obsdlab/${sha256(resolve(repo)).slice(0, 12)}`;
}

async function fetchRepo(mirror: string, repo: string, signal?: AbortSignal): Promise<void> {
  const ns = repoNamespace(repo);
  const r = await git(mirror, ['fetch', '--quiet', '--no-tags', repo, `+refs/heads/*:${ns}/heads/*`, `+refs/tags/*:${ns}/tags/*`], signal);
  if (r.exitCode !== 0) {
    throw new BuildError('source', `cannot fetch git source ${repo}: ${r.stderr.trim() || `git exited ${r.exitCode}`}`);
  }
}

async function revParse(mirror: string, rev: string, signal?: AbortSignal): Promise<string | null> {
  const r = await git(mirror, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], signal);
  return r.exitCode === 0 ? r.stdout.trim() : null;
}

/**
 * Resolves a git source (bare repository, normal repository or bundle) to a full
 * commit in the shared mirror cacheDir('src','mirror.git'), fetching only when
 * the revision is not there yet.
 */
export async function resolveGitSource(repo: string, rev: string, signal?: AbortSignal): Promise<ResolvedSource> {
  const mirror = await ensureMirror(signal);
  const isHex = /^[0-9a-f]{4,40}$/i.test(rev);
  let commit = isHex ? await revParse(mirror, rev, signal) : null;
  if (!commit) {
    try {
      await access(repo);
    } catch {
      throw new BuildError('source', `git source ${repo} does not exist`);
    }
    await fetchRepo(mirror, repo, signal);
    const ns = repoNamespace(repo);
    const candidates = isHex ? [rev] : [`${ns}/heads/${rev}`, `${ns}/tags/${rev}`, rev];
    for (const c of candidates) {
      commit = await revParse(mirror, c, signal);
      if (commit) break;
    }
  }
  if (!commit) throw new BuildError('source', `revision ${rev} not found in git source ${repo}`);
  const tree = (await runToolOk('git', ['--git-dir', mirror, 'rev-parse', `${commit}^{tree}`], { signal })).stdout.trim();
  const date = (await runToolOk('git', ['--git-dir', mirror, 'show', '-s', '--format=%cI', commit], { signal })).stdout.trim();
  const fixedCommit = commit;
  return {
    kind: 'git',
    commit: fixedCommit,
    date,
    treeHash: tree,
    describe: `${repo} at ${fixedCommit.slice(0, 9)} (${date})`,
    async has(rel) {
      return (await git(mirror, ['cat-file', '-e', `${fixedCommit}:${rel}`])).exitCode === 0;
    },
    async read(rel) {
      const r = await execa('git', ['--git-dir', mirror, 'cat-file', 'blob', `${fixedCommit}:${rel}`], { encoding: 'buffer', reject: false });
      return r.exitCode === 0 ? Buffer.from(r.stdout) : null;
    },
    async exportTo(dir, sig) {
      const r = await execa('git', ['--git-dir', mirror, 'archive', '--format=tar', fixedCommit], { cancelSignal: sig, reject: false, encoding: 'buffer' })
        .pipe('tar', ['-x', '-C', dir], { cancelSignal: sig, reject: false });
      if (r.exitCode !== 0) throw new BuildError('source', `exporting ${fixedCommit} into ${dir} failed: ${String(r.stderr).trim()}`);
    },
  };
}

/** A plain directory holding a sys/ tree. */
export async function resolveDirSource(path: string, date?: string): Promise<ResolvedSource> {
  const root = resolve(path);
  try {
    if (!(await stat(root)).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new BuildError('source', `kernel source tree ${root} is not a directory`);
  }
  const hash = await dirContentHash(root, (rel) => rel === '.git' || rel === 'CVS' || rel.endsWith('/CVS'));
  return {
    kind: 'tree',
    commit: hash,
    date,
    treeHash: hash,
    describe: `tree ${root} (content ${hash.slice(0, 12)})`,
    async has(rel) {
      try {
        await access(join(root, rel));
        return true;
      } catch {
        return false;
      }
    },
    async read(rel) {
      try {
        return await readFile(join(root, rel));
      } catch {
        return null;
      }
    },
    async exportTo(dir) {
      await cp(root, dir, { recursive: true, filter: (src) => !/\/(\.git|CVS)$/.test(src) });
    },
  };
}

/** The cvs(1) invocation that checks out src/sys of a full OpenBSD CVS repository at a date. */
export function cvsCheckoutCommand(root: string, date: string): { cmd: string; args: string[] } {
  return { cmd: 'cvs', args: ['-q', '-d', root, 'checkout', '-P', '-D', date, 'src/sys'] };
}

/** Checks out src/sys at a date (once per root+date) and treats it as a directory tree. */
export async function resolveCvsSource(root: string, date: string, signal?: AbortSignal): Promise<ResolvedSource> {
  const probe = await runTool('cvs', ['--version'], { signal }).catch(() => null);
  if (!probe || probe.exitCode !== 0) {
    throw new BuildError('source', `CVS source ${root} at ${date}: cvs(1) is not installed on this host (Debian package "cvs")`);
  }
  const dir = cacheDir('src', 'cvs', sha256(`${root}\0${date}`).slice(0, 16));
  const sys = join(dir, 'src', 'sys');
  try {
    await access(join(sys, 'conf', 'files'));
  } catch {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const { cmd, args } = cvsCheckoutCommand(root, date);
    const r = await runTool(cmd, args, { cwd: dir, signal });
    if (r.exitCode !== 0) {
      throw new BuildError('source', `cvs checkout of src/sys from ${root} at ${date} failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').slice(-5).join('\n')}`);
    }
  }
  const src = await resolveDirSource(sys, new Date(date).toISOString());
  return { ...src, kind: 'cvs', describe: `CVS ${root} at ${date}` };
}

export async function resolveSource(source: BuildSpec['source'], signal?: AbortSignal): Promise<ResolvedSource> {
  switch (source.type) {
    case 'git':
      return resolveGitSource(isAbsolute(source.repo) ? source.repo : resolve(source.repo), source.rev, signal);
    case 'tree':
      return resolveDirSource(source.path);
    case 'cvs':
      return resolveCvsSource(source.root, source.date, signal);
  }
}
