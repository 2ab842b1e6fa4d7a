/**
 * Builds real OpenBSD LAB kernels from the sys/ bundle with the cross builder.
 * Needs clang-19/lld-19/bmake and ../shared/openbsd-lab; takes minutes on a cold
 * ccache. Uses the normal kernel cache, so a second run reuses its kernels.
 */
import assert from 'node:assert/strict';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { createKernelBuilder } from '../../src/build/builder.ts';
import type { BuildSpec } from '../../src/build/types.ts';
import { cacheDir, sharedDir } from '../../src/util/paths.ts';

const bundle = join(sharedDir(), 'openbsd-lab', 'src', 'sys.bundle');
const haveToolchain = await execa('clang-19', ['--version'], { reject: false }).then((r) => r.exitCode === 0, () => false);
const haveBundle = await access(bundle).then(() => true, () => false);
const skip = !haveToolchain ? 'clang-19 not installed' : !haveBundle ? `${bundle} not present` : false;

function spec(name: string, patches: string[]): BuildSpec {
  return {
    kind: 'build',
    name,
    source: { type: 'git', repo: bundle, rev: 'b4c64bc50' },
    fixups: [],
    patches,
    config: 'LAB',
    builder: { type: 'cross' },
  };
}

async function symbols(file: string): Promise<Set<string>> {
  const r = await execa('llvm-nm-19', [file]);
  return new Set(r.stdout.split('\n').map((l) => l.trim().split(/\s+/).pop()!));
}

async function ccacheStats(): Promise<{ hits: number; misses: number }> {
  const r = await execa('ccache', ['--print-stats'], { env: { CCACHE_DIR: cacheDir('ccache') } });
  const get = (k: string) => Number(new RegExp(`^${k}\\t(\\d+)$`, 'm').exec(r.stdout)?.[1] ?? 0);
  return { hits: get('direct_cache_hit') + get('preprocessed_cache_hit'), misses: get('cache_miss') };
}

test('cross-builds LAB at b4c64bc50 and the diff variants (ccache), then hits the kernel cache', { skip, timeout: 60 * 60_000 }, async () => {
  const builder = createKernelBuilder({ type: 'cross' });
  const log = (l: string) => process.stderr.write(`# ${l}\n`);
  const say = (k: { name: string; cached: boolean; buildSeconds: number }) =>
    process.stderr.write(`# ${k.name}: ${k.cached ? 'kernel cache hit; original build took' : 'built in'} ${k.buildSeconds.toFixed(1)} s\n`);

  const plain = await builder.build(spec('LAB', []), { jobs: 2, log });
  say(plain);
  for (const f of [plain.bsd, plain.bsdGdb]) assert.ok((await stat(f)).size > 1_000_000, `${f} is a kernel-sized file`);
  const plainSyms = await symbols(plain.bsd);
  for (const s of ['rd_root_image', 'rd_root_size', 'm_extref', 'ip6_forward', 'pf_refragment6']) assert.ok(plainSyms.has(s), `bsd has ${s}`);
  assert.ok(!plainSyms.has('m_ext_refs_pool'), 'unpatched kernel lacks m_ext_refs_pool');
  assert.ok(plainSyms.has('m_extref_mtx'), 'unpatched kernel has m_extref_mtx');
  assert.equal(plain.commit, 'b4c64bc50b5f719509b34d750f22ee1cd1a58379');
  assert.match(plain.version, /^OpenBSD 7\.9\S* \(LAB\) #\d+:/);
  assert.equal(plain.treeDir, cacheDir('work', 'cross', 'sys'));

  // NOTES-kernel.md sec. 11: the proxy diff brings m_ext_refs_pool; both diffs delete the
  // m_extref_mtx mutex (the '-struct\tmutex m_extref_mtx' line of each diff)
  const proxy = await builder.build(spec('LAB-proxy', [join(sharedDir(), 'patches', 'dlg-mbuf-ext-proxy-2026-04-22.diff')]), { jobs: 2, log });
  say(proxy);
  assert.notEqual(proxy.key, plain.key);
  const proxySyms = await symbols(proxy.bsd);
  assert.ok(proxySyms.has('m_ext_refs_pool'), 'proxy kernel has m_ext_refs_pool');
  assert.ok(!proxySyms.has('m_extref_mtx'), 'proxy kernel has no m_extref_mtx');

  const before = await ccacheStats();
  const refsSpec = spec('LAB-refs', [join(sharedDir(), 'patches', 'dlg-mbuf-ext-refs.git.diff')]);
  const refs = await builder.build(refsSpec, { jobs: 2, log });
  say(refs);
  const after = await ccacheStats();
  const refsSyms = await symbols(refs.bsd);
  assert.ok(!refsSyms.has('m_extref_mtx'), 'refs kernel has no m_extref_mtx');
  assert.ok(!refsSyms.has('m_ext_refs_pool'), 'refs kernel has no m_ext_refs_pool');
  if (!refs.cached) {
    // The diff touches kern/uipc_mbuf.c and sys/mbuf.h: only the objects that
    // include mbuf.h recompile; the other ~300 of 408 come from ccache. Wall
    // time is reported, not asserted: on a shared 2-core machine it follows the load.
    const hits = after.hits - before.hits;
    const misses = after.misses - before.misses;
    process.stderr.write(`# LAB-refs: ccache ${hits} hits, ${misses} misses\n`);
    assert.ok(hits > misses, `ccache served most objects (${hits} hits, ${misses} misses)`);
  }

  const again = await builder.build(refsSpec, { jobs: 2, log });
  assert.equal(again.cached, true);
  assert.equal(again.key, refs.key);
  assert.equal(again.bsd, refs.bsd);
});

test('GENERIC.MP from the sys/-only mirror is refused with a clear reason', { skip, timeout: 15 * 60_000 }, async () => {
  const { BuildError } = await import('../../src/build/types.ts');
  const builder = createKernelBuilder({ type: 'cross' });
  await assert.rejects(builder.build({ ...spec('GENERIC.MP', []), config: 'GENERIC.MP' }, { jobs: 2 }), (e: unknown) => {
    assert.ok(e instanceof BuildError, String(e));
    assert.equal(e.kind, 'config');
    assert.match(e.message, /this tree \(a sys\/-only mirror\) cannot build GENERIC\.MP; use the LAB config or a full src tree/);
    return true;
  });
});
