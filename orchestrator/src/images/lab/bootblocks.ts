/**
 * Builds the tree's own El Torito boot blocks (cdbr, cdboot) from
 * arch/amd64/stand with the host's clang/lld, following the tree's Makefiles
 * (their SRCS and .PATH are read, not hard-coded), cached by tree content.
 */
import { access, copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { cacheDir } from '../../util/paths.ts';
import { hashParts, hashTreeParts } from './hash.ts';
import { runTool } from './run-tool.ts';

export interface MakefileSources {
  srcs: string[];
  /** Directories searched for SRCS, after the Makefile's own directory, in order. */
  paths: string[];
}

/**
 * Reads SRCS and .PATH from a BSD Makefile (pure). Variables in .PATH are
 * expanded from `vars` (S, SADIR, .CURDIR). Conditionals are ignored: every
 * SRCS line counts.
 */
export function parseStandMakefile(text: string, vars: Record<string, string>, file = 'Makefile'): MakefileSources {
  const joined = text.replace(/\\\n/g, ' ');
  const srcs: string[] = [];
  const paths: string[] = [];
  const expand = (s: string, lineNo: number) =>
    s.replace(/\$\{([^}]+)\}|\$\(([^)]+)\)/g, (_m, a?: string, b?: string) => {
      const name = (a ?? b)!;
      const v = vars[name];
      if (v === undefined) throw new Error(`${file}:${lineNo}: unknown variable \${${name}} in .PATH`);
      return v;
    });
  joined.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    const srcsM = /^SRCS\s*\+?=\s*(.*)$/.exec(line);
    if (srcsM) srcs.push(...srcsM[1]!.split(/\s+/).filter(Boolean));
    const pathM = /^\.PATH\s*:\s*(.*)$/.exec(line);
    if (pathM) paths.push(...pathM[1]!.split(/\s+/).filter(Boolean).map((p) => expand(p, i + 1)));
  });
  if (srcs.length === 0) throw new Error(`${file}: no SRCS`);
  return { srcs, paths };
}

/** The OS release the tree builds (osr= in conf/newvers.sh), e.g. "7.9". */
export function parseOsRelease(newvers: string, file = 'conf/newvers.sh'): string {
  const m = /^osr="([^"]+)"/m.exec(newvers);
  if (!m) throw new Error(`${file}: no osr="..." line`);
  return m[1]!;
}

const CC32 = ['clang-19', '--target=i386-unknown-openbsd', '-m32', '-fno-pie'];
const LD = 'ld.lld-19';
const OBJCOPY = 'llvm-objcopy-19';

function cdbootDefines(osrev: string): string[] {
  return [
    '-D_STANDALONE',
    '-DMDRANDOM',
    '-DBOOT_STTY',
    '-D__INTERNAL_LIBSA_CREAD',
    '-DSOFTRAID',
    '-DBOOTMAGIC=0xc001d00d',
    '-DLINKADDR=0x40120',
    '-DSLOW',
    '-DSMALL',
    '-DNO_GZIP',
    '-DDYNAMIC_CRC_TABLE',
    '-DBUILDFIXED',
    `-DOSREV="${osrev}"`,
    '-DMACHINE="amd64"',
    `-DKERNEL="/${osrev}/amd64/bsd.rd"`,
  ];
}

const C_FLAGS = [
  '-Oz',
  '-Wall',
  '-Werror',
  // OpenBSD's clang has this warning off; upstream clang stops at stand/boot/boot.c.
  '-Wno-pointer-sign',
  '-ffreestanding',
  '-fno-stack-protector',
  '-nostdinc',
  '-fno-builtin',
  '-fpack-struct',
];
const AS_FLAGS = ['-no-integrated-as', '-Dendbr64=', '-nostdinc'];

export interface BootBlocks {
  cdbr: string;
  cdboot: string;
  dir: string;
  cached: boolean;
}

/** Tree parts the boot blocks are built from (their hash is the cache key). */
const STAND_PARTS = [
  'arch/amd64/stand',
  'arch/amd64/include',
  'stand',
  'lib/libsa',
  'lib/libkern',
  'lib/libz',
  'sys',
  'kern/genassym.sh',
  'conf/newvers.sh',
  'dev/isa',
  'dev/ic',
  'dev/softraidvar.h',
  'crypto',
  'ufs',
  'isofs',
  'netinet',
  'net',
];

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

export async function buildBootBlocks(treeArg: string, opts: { cacheRoot?: string } = {}): Promise<BootBlocks> {
  const tree = resolve(treeArg);
  const stand = join(tree, 'arch', 'amd64', 'stand');
  if (!(await exists(join(stand, 'cdboot', 'Makefile')))) throw new Error(`${tree}: no arch/amd64/stand/cdboot/Makefile`);
  const key = hashParts({
    tree: await hashTreeParts(tree, STAND_PARTS),
    cc: CC32.join(' '),
    flags: [...C_FLAGS, ...AS_FLAGS].join(' '),
  }).slice(0, 24);
  const root = opts.cacheRoot ?? cacheDir('lab', 'bootblocks');
  const dir = join(root, key);
  const cdbr = join(dir, 'cdbr');
  const cdboot = join(dir, 'cdboot');
  if ((await exists(cdbr)) && (await exists(cdboot))) return { cdbr, cdboot, dir, cached: true };

  await mkdir(root, { recursive: true });
  const work = await mkdtemp(join(root, 'work-'));
  try {
    const osrev = parseOsRelease(await readFile(join(tree, 'conf', 'newvers.sh'), 'utf8'));
    await symlink(join(tree, 'arch', 'amd64', 'include'), join(work, 'machine'));
    const cdbootDir = join(stand, 'cdboot');
    const includes = ['-I', tree, '-I', join(stand, 'libsa'), '-I', '.', '-I', cdbootDir, '-I', join(tree, 'stand', 'boot')];
    const cpp = [...includes, ...cdbootDefines(osrev)];

    // assym.h for srt0.S and gidt.S
    const genassym = await runTool(
      'genassym',
      'sh',
      [join(tree, 'kern', 'genassym.sh'), ...CC32, '-no-integrated-as', ...C_FLAGS, ...cpp],
      { cwd: work, input: await readFile(join(stand, 'etc', 'genassym.cf'), 'utf8'), timeoutMs: 120_000 },
    );
    await writeFile(join(work, 'assym.h'), genassym.stdout);

    const mk = parseStandMakefile(
      await readFile(join(cdbootDir, 'Makefile'), 'utf8'),
      { S: tree, SADIR: stand, '.CURDIR': cdbootDir },
      join(cdbootDir, 'Makefile'),
    );
    const search = [cdbootDir, ...mk.paths];
    const objs: string[] = [];
    for (const src of mk.srcs) {
      let found: string | null = null;
      for (const d of search) {
        if (await exists(join(d, src))) {
          found = join(d, src);
          break;
        }
      }
      if (!found) throw new Error(`cdboot: source ${src} (SRCS of ${cdbootDir}/Makefile) not found in ${search.join(', ')}`);
      const obj = join(work, basename(src).replace(/\.[cS]$/, '.o'));
      const flags = src.endsWith('.S') ? [...AS_FLAGS, ...cpp] : [...C_FLAGS, ...cpp];
      await runTool(`cdboot: compile ${found}`, CC32[0]!, [...CC32.slice(1), ...flags, '-c', found, '-o', obj], {
        cwd: work,
        timeoutMs: 120_000,
      });
      objs.push(obj);
    }
    const ldCommon = ['-nostdlib', '-Bstatic', '-N', '-x', '--no-pie', '-z', 'norelro', '-m', 'elf_i386'];
    await runTool('cdboot: link', LD, [...ldCommon, '-Ttext', '0x40120', '-o', join(work, 'cdboot.elf'), ...objs], { cwd: work });
    await runTool('cdboot: objcopy', OBJCOPY, ['-O', 'binary', join(work, 'cdboot.elf'), join(work, 'cdboot')]);

    const cdbrDir = join(stand, 'cdbr');
    await runTool(
      'cdbr: assemble',
      CC32[0]!,
      [
        ...CC32.slice(1),
        ...AS_FLAGS,
        '-I',
        cdbrDir,
        '-I',
        join(tree, 'arch'),
        '-I',
        tree,
        '-I',
        '.',
        `-DOSREV="${osrev}"`,
        '-DMACH="amd64"',
        '-DMACH_U="AMD64"',
        '-c',
        join(cdbrDir, 'cdbr.S'),
        '-o',
        join(work, 'cdbr.o'),
      ],
      { cwd: work },
    );
    await runTool('cdbr: link', LD, [...ldCommon, '-s', '-Ttext', '0', '-e', 'start', '-o', join(work, 'cdbr.elf'), join(work, 'cdbr.o')], {
      cwd: work,
    });
    await runTool('cdbr: objcopy', OBJCOPY, ['-O', 'binary', join(work, 'cdbr.elf'), join(work, 'cdbr')]);

    const cdbrSize = (await stat(join(work, 'cdbr'))).size;
    if (cdbrSize !== 2048) throw new Error(`cdbr is ${cdbrSize} bytes; El Torito no-emulation boot with -boot-load-size 4 expects 2048`);
    await mkdir(dir, { recursive: true });
    for (const f of ['cdbr', 'cdboot']) {
      await copyFile(join(work, f), join(dir, `.${f}.tmp`));
      await rename(join(dir, `.${f}.tmp`), join(dir, f));
    }
    return { cdbr, cdboot, dir, cached: false };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
