import { mkdir, readdir, readFile, rm, stat, writeFile, appendFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { execa } from 'execa';
import { cacheDir } from '../util/paths.ts';
import type { CompiledKernel, KernelBackend, PreparedBuild } from './backend.ts';
import { describeCompileFailure, parseVersC } from './cross.ts';
import { judgePatchOutput, formatPatchResult, type PatchResult } from './patch/check.ts';
import { parsePatch } from './patch/parse.ts';
import { RemoteShell, shq, type SshEndpoint } from './ssh-exec.ts';
import { parseNameStatusZ, planShipment } from './ship.ts';
import { mirrorDir } from './source.ts';
import { BuildError, type BuildOptions } from './types.ts';

export interface SshBuilderOptions extends SshEndpoint {
  /** Tree directory on the builder (relative paths are relative to the login directory). */
  treeDir?: string;
  /** Directories put first in the remote PATH for every command (e.g. a toolchain, or test stand-ins). */
  pathPrefix?: string[];
}

const STATE_COMMIT = '.obsdlab-commit';
const STATE_DIRTY = '.obsdlab-dirty';

async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, r)));
    else out.push(r);
  }
  return out;
}


/**
 * A local producer (git archive, tar -c) whose stdout is streamed to the
 * builder. Its stdout is piped into a PassThrough at once: node resumes (and so
 * discards) an unconsumed child stdout when the child exits, which a small
 * archive does before the SSH channel opens. Backpressure still holds the
 * producer until the channel reads. The child is killed on abort.
 */
function producer(cmd: string, args: string[], signal?: AbortSignal): { stdout: Readable; done: Promise<void> } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
  const stdout = new PassThrough();
  child.stdout.pipe(stdout);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, sig) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.slice(0, 4).join(' ')} failed (${code ?? sig}): ${stderr.trim()}`))));
  });
  done.catch(() => undefined);
  return { stdout, done };
}

const gitMirror = (args: string[], signal?: AbortSignal) =>
  execa('git', ['--git-dir', mirrorDir(), ...args], { cancelSignal: signal, reject: false, env: { GIT_LITERAL_PATHSPECS: '1' } });

/**
 * Builds on an OpenBSD host (or builder VM) over SSH, the OpenBSD way:
 * `config CONF` in arch/amd64/conf and `make` in ../compile/CONF (or, when the
 * tree has compile/CONF, `make obj && make config && make`). The tree is
 * shipped incrementally: only files that differ between the builder's last
 * commit and the new one, plus files the last build patched.
 */
export class SshBackend implements KernelBackend {
  readonly kind: string;
  private readonly opts: SshBuilderOptions;

  /** `kind` names the builder in the cache key; a builder VM passes "vm:<image>". */
  constructor(opts: SshBuilderOptions, kind?: string) {
    this.opts = opts;
    this.kind = kind ?? `ssh:${opts.user}@${opts.host}:${opts.port}`;
  }

  private envPrefix(): string {
    return this.opts.pathPrefix?.length ? `PATH=${shq(this.opts.pathPrefix.join(':'))}:"$PATH"; export PATH; ` : '';
  }

  private async connect(signal?: AbortSignal): Promise<RemoteShell> {
    try {
      return await RemoteShell.connect(this.opts, signal);
    } catch (e) {
      throw new BuildError('builder', `SSH builder ${this.kind}: ${(e as Error).message}`);
    }
  }

  async toolchainIdentity(signal?: AbortSignal): Promise<string> {
    const sh = await this.connect(signal);
    try {
      const r = await sh.run(`${this.envPrefix()}uname -srm; cc --version 2>&1 | head -n 1`, { signal, timeoutMs: 60_000 });
      return r.stdout.toString('utf8').trim().replace(/\n/g, '; ');
    } finally {
      sh.close();
    }
  }

  async compile(prep: PreparedBuild, opts: BuildOptions): Promise<CompiledKernel> {
    const sh = await this.connect(opts.signal);
    try {
      return await this.compileWith(sh, prep, opts);
    } catch (e) {
      if (e instanceof BuildError) throw e;
      throw new BuildError('builder', `SSH builder ${this.kind}, ${prep.spec.name}: ${(e as Error).message}`);
    } finally {
      sh.close();
    }
  }

  private async compileWith(sh: RemoteShell, prep: PreparedBuild, opts: BuildOptions): Promise<CompiledKernel> {
    const signal = opts.signal;
    const say = (l: string) => opts.log?.(`${prep.spec.name}: ${l}`);
    const started = Date.now();
    const local = cacheDir('work', 'ssh', `${this.opts.host}_${this.opts.port}`);
    await mkdir(local, { recursive: true });
    const logFile = join(local, 'build.log');
    await writeFile(logFile, `obsdlab ssh build of ${prep.spec.name} on ${this.kind}: ${prep.source.describe}\n`);
    const treeArg = this.opts.treeDir ?? 'obsdlab-tree';
    const tree = (await sh.run(`mkdir -p ${shq(treeArg)} && cd ${shq(treeArg)} && pwd`, { signal })).stdout.toString('utf8').trim();
    const T = shq(tree);

    await this.shipTree(sh, prep, tree, say, signal);

    // Everything the build changes relative to the commit is recorded first, so
    // the next shipment resets it even if this build dies half-way.
    const overlayFiles: string[] = [];
    for (const d of prep.fixupDirs) overlayFiles.push(...(await listFiles(d)));
    const allPatches = [...prep.quirkPatches, ...prep.patches];
    const touched = prep.patchCheck.flatMap((r) => r.touched);
    const confRel = `arch/amd64/conf/${prep.config.name}`;
    const dirty = [...new Set([...overlayFiles, ...touched, ...(prep.config.file ? [confRel] : [])])];
    await sh.run(`cd ${T} && cat > ${STATE_DIRTY}`, { stdin: Buffer.from(dirty.join('\n') + '\n'), signal });

    for (const d of prep.fixupDirs) {
      say(`overlay ${d}`);
      const tar = producer('tar', ['-c', '-f', '-', '-C', d, '.'], signal);
      await sh.run(`cd ${T} && tar -xf - && chmod -R u+w .`, { stdin: tar.stdout, signal });
      await tar.done;
    }
    if (prep.config.file) await sh.run(`mkdir -p ${T}/arch/amd64/conf && cat > ${T}/${confRel}`, { stdin: await readFile(prep.config.file), signal });

    const applied: PatchResult[] = [];
    await sh.run(`mkdir -p ${T}/.obsdlab-patches`, { signal });
    for (const [i, patch] of allPatches.entries()) {
      const checked = prep.patchCheck[i]!;
      const remote = `${tree}/.obsdlab-patches/${i}-${basename(patch)}`;
      const text = await readFile(patch);
      await sh.run(`cat > ${shq(remote)}`, { stdin: text, signal });
      const r = await sh.exec(`${this.envPrefix()}patch -t -N -p${checked.strip} -d ${T} -i ${shq(remote)} 2>&1`, { signal });
      const out = r.stdout.toString('utf8');
      await appendFile(logFile, out);
      const judged = judgePatchOutput(parsePatch(text.toString('utf8'), patch), checked.strip, out, r.exitCode);
      const result: PatchResult = { patch, parsed: checked.parsed, strip: checked.strip, touched: checked.touched, ...judged };
      if (judged.verdict === 'fails' || judged.verdict === 'already-applied') {
        throw new BuildError('patch', formatPatchResult(result, `${prep.source.describe} on ${this.kind}`), logFile);
      }
      say(`patch ${basename(patch)}: ${judged.verdict}`);
      applied.push(result);
    }

    const conf = shq(prep.config.name);
    const jobs = Math.max(1, opts.jobs ?? 2);
    const script = [
      'set -e',
      this.envPrefix(),
      `cd ${T}`,
      `if [ -f arch/amd64/compile/${conf}/Makefile ]; then`,
      `  cd arch/amd64/compile/${conf}; make obj; make config; make -j${jobs}`,
      'else',
      `  cd arch/amd64/conf; config ${conf}; cd ../compile/${conf}; make -j${jobs}`,
      'fi',
      'if [ -f obj/bsd ]; then cd obj; fi',
      'echo "OBSDLAB_OBJDIR=$(pwd)"',
    ].join('\n');
    say(`config ${prep.config.name} && make -j${jobs} on ${this.kind}`);
    const out: Buffer[] = [];
    const br = await sh.exec(`sh -c ${shq(script)}`, {
      signal,
      onOutput: (c) => {
        out.push(c);
        void appendFile(logFile, c);
      },
    });
    const log = Buffer.concat(out).toString('utf8');
    const buildSeconds = (Date.now() - started) / 1000;
    if (br.exitCode !== 0) {
      throw new BuildError('compile', describeCompileFailure(prep.spec.name, log, tree, applied), logFile);
    }
    const objdir = /OBSDLAB_OBJDIR=(.*)/.exec(log)?.[1]?.trim();
    if (!objdir) throw new BuildError('builder', `${prep.spec.name}: build on ${this.kind} did not report its object directory`, logFile);
    const bsd = join(local, 'bsd');
    const bsdGdb = join(local, 'bsd.gdb');
    for (const [name, dest] of [['bsd', bsd], ['bsd.gdb', bsdGdb]] as const) {
      const r = await sh.exec(`cat ${shq(`${objdir}/${name}`)}`, { signal });
      if (r.exitCode !== 0) throw new BuildError('compile', `${prep.spec.name}: ${objdir}/${name} missing on ${this.kind} after make: ${r.stderr.trim()}`, logFile);
      await writeFile(dest, r.stdout);
    }
    const vers = await sh.exec(`cat ${shq(`${objdir}/vers.c`)}`, { signal });
    await rm(join(local, 'vers.c'), { force: true });
    const version = vers.exitCode === 0 ? parseVersC(vers.stdout.toString('utf8')) : 'unknown';
    if ((await stat(bsd)).size === 0) throw new BuildError('compile', `${prep.spec.name}: fetched bsd from ${this.kind} is empty`, logFile);
    return { bsd, bsdGdb, log: logFile, version, treeDir: tree, buildSeconds };
  }

  /** Brings the builder's tree to the source commit, incrementally when it can. */
  private async shipTree(sh: RemoteShell, prep: PreparedBuild, tree: string, say: (l: string) => void, signal?: AbortSignal): Promise<void> {
    const T = shq(tree);
    const state = await sh.exec(`cd ${T} && cat ${STATE_COMMIT} 2>/dev/null; echo; echo ---; cat ${STATE_DIRTY} 2>/dev/null`, { signal });
    const [commitPart, dirtyPart] = state.stdout.toString('utf8').split('\n---\n');
    const remoteCommit = (commitPart ?? '').trim();
    const dirty = (dirtyPart ?? '').split('\n').filter(Boolean);
    const want = prep.source.commit;
    let incremental = false;
    if (prep.source.kind === 'git' && /^[0-9a-f]{40}$/.test(remoteCommit)) {
      incremental = (await gitMirror(['cat-file', '-e', `${remoteCommit}^{commit}`], signal)).exitCode === 0;
    }
    if (!incremental) {
      say(`shipping the whole tree (${prep.source.describe}) to ${this.kind}:${tree}`);
      await sh.run(`rm -rf ${T} && mkdir -p ${T}`, { signal });
      const tmp = cacheDir('work', 'ssh', `export-${process.pid}-${Date.now()}`);
      try {
        let tar;
        if (prep.source.kind === 'git') {
          tar = producer('git', ['--git-dir', mirrorDir(), 'archive', '--format=tar', want], signal);
        } else {
          await mkdir(tmp, { recursive: true });
          await prep.source.exportTo(tmp, signal);
          tar = producer('tar', ['-c', '-f', '-', '-C', tmp, '.'], signal);
        }
        await sh.run(`cd ${T} && tar -xf -`, { stdin: tar.stdout, signal });
        await tar.done;
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    } else {
      const diff = await gitMirror(['diff', '--name-status', '-M', '-z', remoteCommit, want], signal);
      if (diff.exitCode !== 0) throw new Error(`git diff ${remoteCommit} ${want}: ${String(diff.stderr)}`);
      const changes = parseNameStatusZ(String(diff.stdout));
      const present = new Set<string>();
      if (dirty.length) {
        const ls = await gitMirror(['ls-tree', '-r', '--name-only', '-z', want, '--', ...dirty], signal);
        for (const p of String(ls.stdout).split('\0')) if (p) present.add(p);
      }
      const plan = planShipment(changes, dirty, (p) => present.has(p));
      say(`shipping ${plan.upload.length} changed file(s), deleting ${plan.remove.length}, ${remoteCommit.slice(0, 9)} -> ${want.slice(0, 9)}`);
      if (plan.remove.length) await sh.run(`cd ${T} && xargs -0 rm -f --`, { stdin: Buffer.from(plan.remove.join('\0') + '\0'), signal });
      if (plan.upload.length) {
        const tar = await execa('git', ['--git-dir', mirrorDir(), 'archive', '--format=tar', want, ...plan.upload], {
          cancelSignal: signal,
          encoding: 'buffer',
          reject: false,
          env: { GIT_LITERAL_PATHSPECS: '1' },
        });
        if (tar.exitCode !== 0) throw new Error(`git archive of ${plan.upload.length} changed file(s) at ${want} failed: ${Buffer.from(tar.stderr).toString('utf8').trim()}`);
        await sh.run(`cd ${T} && tar -xf -`, { stdin: Buffer.from(tar.stdout), signal });
      }
    }
    await sh.run(`cd ${T} && printf '%s\\n' ${shq(want)} > ${STATE_COMMIT} && : > ${STATE_DIRTY}`, { signal });
  }
}
