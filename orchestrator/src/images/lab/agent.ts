/**
 * Builds the lab agent (labinit) against the tree being tested: checks the
 * agent's ABI constants against the tree's headers, compiles and links it
 * freestanding, verifies the syscall pin table and the segment layout, and
 * caches the result by (agent sources, tree headers, toolchain).
 */
import { copyFile, mkdir, mkdtemp, readFile, readdir, realpath, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT, cacheDir } from '../../util/paths.ts';
import { abiMismatches, parseAbiHeader, renderAbiCheck } from './abi-check.ts';
import { findSyscallSites, parsePinTable, verifyLayout, verifyPins } from './agent-verify.ts';
import { parseElf64, sectionBytes } from './elf.ts';
import { hashFiles, hashParts, sha256 } from './hash.ts';
import { ToolError, runTool } from './run-tool.ts';

export const AGENT_SOURCE_DIR = join(PROJECT_ROOT, 'vm-images', 'openbsd-lab', 'agent');

export const TOOLS = {
  cc: 'clang-19',
  ld: 'ld.lld-19',
  objdump: 'llvm-objdump-19',
} as const;

const TARGET = '--target=x86_64-unknown-openbsd';
const AGENT_CFLAGS = [
  TARGET,
  '-static',
  '-nostdlib',
  '-ffreestanding',
  '-fno-stack-protector',
  '-fno-pie',
  '-fno-asynchronous-unwind-tables',
  '-fno-unwind-tables',
  '-O2',
  '-std=c11',
  '-Wall',
  '-Wextra',
  '-Werror',
];

export interface AgentBuildOptions {
  /** The extracted sys/ tree whose headers define the ABI. */
  tree: string;
  /** Agent sources (default vm-images/openbsd-lab/agent). */
  sourceDir?: string;
  /** Extra compiler flags (part of the cache key). */
  cflags?: string[];
  /** Where builds are cached (default cacheDir('lab', 'agent')). */
  cacheRoot?: string;
}

export interface AgentBuild {
  path: string;
  size: number;
  sha256: string;
  /** The cache key (sources, headers, toolchain, flags). */
  key: string;
  /** Number of syscall instructions, all pinned. */
  pinned: number;
  cached: boolean;
}

/** The tree's ABI differs from the agent's constants: names each mismatch. */
export class AgentAbiError extends Error {
  constructor(
    readonly tree: string,
    readonly mismatches: string[],
    detail: string,
  ) {
    super(
      `agent ABI check against ${tree} failed:\n` +
        (mismatches.length ? mismatches.map((m) => `  ${m}`).join('\n') : detail),
    );
    this.name = 'AgentAbiError';
  }
}

export class AgentVerifyError extends Error {
  constructor(
    readonly binary: string,
    readonly problems: string[],
  ) {
    super(`agent ${binary} failed post-link verification:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'AgentVerifyError';
  }
}

async function toolchainId(): Promise<string> {
  const cc = await runTool('toolchain', TOOLS.cc, ['--version']);
  const ld = await runTool('toolchain', TOOLS.ld, ['--version']);
  return `${cc.stdout.split('\n')[0]} / ${ld.stdout.split('\n')[0]}`;
}

async function agentSources(dir: string): Promise<{ c: string[]; all: string[] }> {
  const names = (await readdir(dir)).filter((n) => /\.(c|h|S|ld)$/.test(n)).sort();
  const all = names.map((n) => join(dir, n));
  const c = names.filter((n) => n.endsWith('.c')).map((n) => join(dir, n));
  if (c.length === 0) throw new Error(`${dir}: no agent C sources`);
  if (!names.includes('abi.h')) throw new Error(`${dir}: abi.h missing`);
  if (!names.includes('labinit.ld')) throw new Error(`${dir}: labinit.ld missing`);
  return { c, all };
}

/** The -nostdinc include dir for compiling against the tree: machine → arch/amd64/include, an empty time.h. */
async function makeIncludeDir(work: string, tree: string): Promise<string> {
  const inc = join(work, 'inc');
  await mkdir(inc, { recursive: true });
  await symlink(join(tree, 'arch', 'amd64', 'include'), join(inc, 'machine'));
  await writeFile(join(inc, 'time.h'), '/* empty: the kernel headers only need <sys/time.h> */\n');
  return inc;
}

function parseDeps(makeDeps: string): string[] {
  const body = makeDeps.replace(/\\\n/g, ' ');
  const colon = body.indexOf(': ');
  return body
    .slice(colon + 2)
    .split(/\s+/)
    .filter(Boolean);
}

/**
 * Compiles the generated ABI check against the tree. Returns the hash of the
 * tree headers it read (from clang's dependency list).
 */
export async function checkAgentAbi(tree: string, sourceDir: string, work: string): Promise<string> {
  const abiPath = join(sourceDir, 'abi.h');
  const constants = parseAbiHeader(await readFile(abiPath, 'utf8'), abiPath);
  const inc = await makeIncludeDir(work, tree);
  const check = join(work, 'abi-check.c');
  await writeFile(check, renderAbiCheck(constants, abiPath));
  const deps = join(work, 'abi-check.d');
  try {
    await runTool('agent ABI check', TOOLS.cc, [TARGET, '-nostdinc', '-I', inc, '-I', tree, '-fsyntax-only', '-MD', '-MF', deps, check], {
      timeoutMs: 120_000,
    });
  } catch (e) {
    if (e instanceof ToolError) throw new AgentAbiError(tree, abiMismatches(e.output), e.message);
    throw e;
  }
  const treeAbs = resolve(tree);
  const listed = parseDeps(await readFile(deps, 'utf8')).map((f) => resolve(work, f));
  const real = await Promise.all(listed.map((f) => realpath(f)));
  const workReal = await realpath(work);
  const abiReal = await realpath(abiPath);
  const headerFiles = real.filter((f) => !f.startsWith(workReal + '/') && f !== abiReal);
  return hashFiles(treeAbs, headerFiles);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

export async function verifyAgentBinary(binary: string): Promise<number> {
  const buf = await readFile(binary);
  const elf = parseElf64(buf, binary);
  const problems = verifyLayout(elf);
  const table = sectionBytes(buf, elf, '.openbsd.syscalls');
  if (!table) problems.push('no .openbsd.syscalls section');
  const dis = await runTool('agent verify', TOOLS.objdump, ['-d', '--no-show-raw-insn', binary]);
  const report = verifyPins(findSyscallSites(dis.stdout), table ? parsePinTable(table) : []);
  problems.push(...report.problems);
  if (problems.length) throw new AgentVerifyError(binary, problems);
  return report.pinned;
}

export async function buildAgent(opts: AgentBuildOptions): Promise<AgentBuild> {
  const sourceDir = resolve(opts.sourceDir ?? AGENT_SOURCE_DIR);
  const tree = resolve(opts.tree);
  const cacheRoot = opts.cacheRoot ?? cacheDir('lab', 'agent');
  if (!(await exists(join(tree, 'sys', 'syscall.h')))) throw new Error(`${tree}: not a sys/ tree (no sys/syscall.h)`);
  const src = await agentSources(sourceDir);
  await mkdir(cacheRoot, { recursive: true });
  const work = await mkdtemp(join(cacheRoot, 'work-'));
  try {
    const headersHash = await checkAgentAbi(tree, sourceDir, work);
    const cflags = [...AGENT_CFLAGS, ...(opts.cflags ?? [])];
    const key = hashParts({
      sources: await hashFiles(sourceDir, src.all),
      headers: headersHash,
      toolchain: await toolchainId(),
      cflags: cflags.join(' '),
    }).slice(0, 24);
    const outDir = join(cacheRoot, key);
    const out = join(outDir, 'labinit');
    if (await exists(out)) {
      const data = await readFile(out);
      const pinned = await verifyAgentBinary(out);
      return { path: out, size: data.length, sha256: sha256(data), key, pinned, cached: true };
    }
    const objs: string[] = [];
    for (const c of src.c) {
      const o = join(work, c.slice(sourceDir.length + 1).replace(/\.c$/, '.o'));
      await runTool(`compile ${c}`, TOOLS.cc, [...cflags, '-c', c, '-o', o], { timeoutMs: 120_000 });
      objs.push(o);
    }
    const linked = join(work, 'labinit');
    await runTool('link labinit', TOOLS.ld, [
      '-static',
      '-nostdlib',
      '--no-pie',
      '-z',
      'noexecstack',
      '-T',
      join(sourceDir, 'labinit.ld'),
      '-o',
      linked,
      ...objs,
    ]);
    const pinned = await verifyAgentBinary(linked);
    await mkdir(outDir, { recursive: true });
    const tmp = join(outDir, `.labinit.${process.pid}`);
    await copyFile(linked, tmp);
    await rename(tmp, out);
    const data = await readFile(out);
    return { path: out, size: data.length, sha256: sha256(data), key, pinned, cached: false };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
