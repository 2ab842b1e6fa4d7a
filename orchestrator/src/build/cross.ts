import { access, chmod, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheDir } from '../util/paths.ts';
import type { CompiledKernel, KernelBackend, PreparedBuild } from './backend.ts';
import { findCompileErrors, lastMakeFailure, patchTouching } from './compile-errors.ts';
import { hostConfigTool } from './config-tool.ts';
import { CROSS_HOST_SHIMS, CROSS_REQUIRED_TOOLS, CROSS_TOOL_VERSIONS, renderCrossMk, renderCrossMkFiles, rewriteKernelMakefile, CROSS_MAKEFILE_REWRITES } from './cross-toolchain.ts';
import { dirContentHash, sha256 } from './hash.ts';
import { applyPatchToTree, formatPatchResult, type PatchResult } from './patch/check.ts';
import { runTool } from './run-tool.ts';
import { withSlotLock } from './slot-lock.ts';
import { configSourceDir } from './config-tool.ts';
import { BuildError, type BuildOptions } from './types.ts';

/**
 * The fixed place a cross build happens. Every tree is built at the same path so
 * ccache hits across variants and commits, and kernel messages that carry source
 * paths (KASSERT) stay comparable between kernels.
 */
export function crossSlotDir(): string {
  return cacheDir('work', 'cross');
}

export function crossTreeDir(): string {
  return join(crossSlotDir(), 'sys');
}

async function which(cmd: string): Promise<boolean> {
  const r = await runTool('sh', ['-c', `command -v "$1" >/dev/null`, 'sh', cmd]);
  return r.exitCode === 0;
}

let identityMemo: Promise<string> | undefined;

async function crossToolchainIdentity(): Promise<string> {
  const parts: string[] = [];
  for (const tool of CROSS_TOOL_VERSIONS) {
    const r = tool === 'bmake' ? await runTool('bmake', ['-V', 'MAKE_VERSION', '-f', '/dev/null']) : await runTool(tool, ['--version']);
    parts.push(`${tool}: ${r.stdout.split('\n')[0]!.trim()}`);
  }
  parts.push(`recipe: ${sha256(JSON.stringify([renderCrossMk('ccache'), CROSS_MAKEFILE_REWRITES, CROSS_HOST_SHIMS]))}`);
  parts.push(`config(8): ${await dirContentHash(configSourceDir()).catch(() => 'absent')}`);
  return parts.join('; ');
}

const GENERIC_ON_MIRROR =
  'this tree (a sys/-only mirror) cannot build GENERIC.MP; use the LAB config or a full src tree ' +
  '(config(8) rejects devices whose sources the mirror lacks: iic, sdmmc, atapiscsi, mii phys, pckbd/pms, inteldrm, ...)';

export class CrossBackend implements KernelBackend {
  readonly kind = 'cross';

  async toolchainIdentity(): Promise<string> {
    identityMemo ??= crossToolchainIdentity();
    return identityMemo;
  }

  async compile(prep: PreparedBuild, opts: BuildOptions): Promise<CompiledKernel> {
    const missing: string[] = [];
    for (const t of CROSS_REQUIRED_TOOLS) if (!(await which(t.cmd))) missing.push(`${t.cmd} (Debian package ${t.pkg})`);
    if (missing.length) throw new BuildError('toolchain', `cross build of ${prep.spec.name}: missing host tools: ${missing.join(', ')}`);
    const slot = crossSlotDir();
    await mkdir(slot, { recursive: true });
    return withSlotLock(join(slot, 'lock'), opts.signal, () => opts.log?.(`${prep.spec.name}: waiting for the cross build slot ${slot}`), () =>
      this.compileLocked(prep, opts, slot),
    );
  }

  private async compileLocked(prep: PreparedBuild, opts: BuildOptions, slot: string): Promise<CompiledKernel> {
    const { spec } = prep;
    const signal = opts.signal;
    const say = (l: string) => opts.log?.(`${spec.name}: ${l}`);
    const tree = crossTreeDir();
    const compile = join(slot, 'compile', prep.config.name);
    const logFile = join(slot, 'build.log');
    const started = Date.now();
    await rm(logFile, { force: true });
    await writeFile(logFile, `obsdlab cross build of ${spec.name}: ${prep.source.describe}\n`);

    const applied = await materializeTree(prep, tree, { signal, say, logFile });

    const confFile = prep.config.file ?? join(tree, 'arch', 'amd64', 'conf', prep.config.name);
    try {
      await access(confFile);
    } catch {
      throw new BuildError('config', `kernel config ${prep.config.name}: ${confFile} does not exist in ${prep.source.describe}`);
    }
    const config = await hostConfigTool(signal);
    await rm(compile, { recursive: true, force: true });
    await mkdir(join(slot, 'compile'), { recursive: true });
    const cr = await runTool(config, ['-b', compile, '-s', tree, confFile], { signal, logFile });
    if (cr.exitCode !== 0) {
      const detail = (cr.stderr || cr.stdout).trim().split('\n').slice(0, 20).join('\n');
      const mirror = prep.quirks.some((q) => q.id === 'bluhm-sys-mirror-fixups');
      const hint = mirror && /GENERIC/.test(prep.config.name) ? `\n${GENERIC_ON_MIRROR}` : '';
      throw new BuildError('config', `config(8) rejected ${confFile} for ${prep.source.describe}:\n${detail}${hint}`, logFile);
    }
    const makefile = join(compile, 'Makefile');
    await writeFile(makefile, rewriteKernelMakefile(await readFile(makefile, 'utf8')));

    const mk = join(slot, 'mk');
    const shims = join(slot, 'shims');
    await mkdir(mk, { recursive: true });
    await mkdir(shims, { recursive: true });
    const useCcache = await which('ccache');
    for (const [file, text] of Object.entries(renderCrossMkFiles(useCcache ? 'ccache' : null, prep.makeVars))) await writeFile(join(mk, file), text);
    for (const s of CROSS_HOST_SHIMS) {
      await writeFile(join(shims, s.name), s.script + '\n');
      await chmod(join(shims, s.name), 0o755);
    }
    const jobs = Math.max(1, opts.jobs ?? 2);
    say(`bmake -j${jobs} in ${compile}${useCcache ? ' (ccache)' : ''}`);
    const env = {
      PATH: `${shims}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      CCACHE_DIR: cacheDir('ccache'),
      MAKEFLAGS: undefined,
      MAKELEVEL: undefined,
      MAKESYSPATH: undefined,
    };
    const mr = await runTool('bmake', ['-m', mk, `-j${jobs}`], { cwd: compile, env, signal, logFile, nice: true });
    const buildSeconds = (Date.now() - started) / 1000;
    if (mr.exitCode !== 0) {
      const log = await readFile(logFile, 'utf8');
      throw new BuildError('compile', describeCompileFailure(spec.name, log, tree, applied), logFile);
    }
    const bsd = join(compile, 'bsd');
    const bsdGdb = join(compile, 'bsd.gdb');
    for (const f of [bsd, bsdGdb]) {
      try {
        await access(f);
      } catch {
        throw new BuildError('compile', `${spec.name}: bmake succeeded but ${f} is missing`, logFile);
      }
    }
    const version = await readVersion(join(compile, 'vers.c'));
    return { bsd, bsdGdb, log: logFile, version, treeDir: tree, buildSeconds };
  }
}

async function makeWritable(dir: string): Promise<void> {
  // overlays from read-only shares arrive read-only; patch must rewrite files
  await runTool('chmod', ['-R', 'u+w', dir]);
}

export function describeCompileFailure(name: string, log: string, treeDir: string, applied: { patch: string; touched: string[] }[]): string {
  const errors = findCompileErrors(log, treeDir);
  if (errors.length === 0) return `${name}: kernel build failed:\n${lastMakeFailure(log) ?? '(empty log)'}`;
  const out = [`${name}: kernel build failed with ${errors.length === 5 ? 'at least 5' : errors.length} error(s):`];
  for (const e of errors) {
    const by = e.file ? patchTouching(e.file, applied) : undefined;
    out.push(`  ${e.file ?? '(no tree file)'}${e.line ? `:${e.line}` : ''}: ${e.message}${by ? `  [file touched by patch ${by}]` : ''}`);
    for (const l of e.excerpt.slice(1)) out.push(`    ${l}`);
  }
  return out.join('\n');
}

/** First line of the kernel's `version[]` string from the generated vers.c (STATUS substituted). */
export function parseVersC(text: string): string {
  const status = /#define\s+STATUS\s+"([^"]*)"/.exec(text)?.[1] ?? '';
  const m = /(?:^|\n)\s*const char version\[\d*\]\s*=([^;]*);/.exec(text);
  if (!m) return 'unknown';
  let out = '';
  for (const t of m[1]!.matchAll(/"((?:[^"\\]|\\.)*)"|([A-Za-z_]\w*)/g)) {
    if (t[1] !== undefined) out += t[1].replace(/\\n/g, '\n').replace(/\\t/g, '\t');
    else if (t[2] === 'STATUS') out += status;
  }
  return out.split('\n')[0]!.trim() || 'unknown';
}

export async function readVersion(versC: string): Promise<string> {
  return parseVersC(await readFile(versC, 'utf8').catch(() => ''));
}

/**
 * Writes the tree a build compiles into `tree`: the source at its commit, the
 * fix-up overlays, then the quirk patches and the spec's patches in order.
 */
export async function materializeTree(
  prep: PreparedBuild,
  tree: string,
  o: { signal?: AbortSignal | undefined; say?: (line: string) => void; logFile?: string } = {},
): Promise<PatchResult[]> {
  const say = o.say ?? (() => {});
  say(`exporting ${prep.source.describe} into ${tree}`);
  await rm(tree, { recursive: true, force: true });
  await mkdir(tree, { recursive: true });
  await prep.source.exportTo(tree, o.signal);
  for (const dir of prep.fixupDirs) {
    say(`overlay ${dir}`);
    await cp(dir, tree, { recursive: true, force: true });
  }
  await makeWritable(tree);
  const applied: PatchResult[] = [];
  for (const patch of [...prep.quirkPatches, ...prep.patches]) {
    const r = await applyPatchToTree(tree, patch, o.signal);
    if (o.logFile) await writeFile(o.logFile, `${r.output}`, { flag: 'a' });
    if (r.verdict === 'fails' || r.verdict === 'already-applied') {
      throw new BuildError('patch', formatPatchResult(r, `${prep.source.describe} + earlier patches`), o.logFile);
    }
    say(`patch ${patch}: ${r.verdict}`);
    applied.push(r);
  }
  return applied;
}
