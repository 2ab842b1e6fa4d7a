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
import { lookupKernel } from '../../src/build/cache.ts';
import type { BuildSpec } from '../../src/build/types.ts';
import { sharedDir } from '../../src/util/paths.ts';

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

test('cross-builds LAB at b4c64bc50, then the proxy variant with ccache, then hits the cache', { skip, timeout: 45 * 60_000 }, async () => {
  const builder = createKernelBuilder({ type: 'cross' });
  const log = (l: string) => process.stderr.write(`# ${l}\n`);

  const plain = await builder.build(spec('LAB', []), { jobs: 2, log });
  for (const f of [plain.bsd, plain.bsdGdb]) assert.ok((await stat(f)).size > 1_000_000, `${f} is a kernel-sized file`);
  const plainSyms = await symbols(plain.bsd);
  for (const s of ['rd_root_image', 'rd_root_size', 'm_extref', 'ip6_forward', 'pf_refragment6']) assert.ok(plainSyms.has(s), `bsd has ${s}`);
  assert.equal(plain.commit, 'b4c64bc50b5f719509b34d750f22ee1cd1a58379');
  assert.match(plain.version, /^OpenBSD 7\.9\S* \(LAB\) #\d+:/);
  process.stderr.write(`# LAB: ${plain.cached ? 'cache hit, original build' : 'built'} ${plain.buildSeconds.toFixed(1)} s\n`);

  const proxy = await builder.build(spec('LAB-proxy', [join(sharedDir(), 'patches', 'dlg-mbuf-ext-proxy-2026-04-22.diff')]), { jobs: 2, log });
  assert.notEqual(proxy.key, plain.key);
  const proxySyms = await symbols(proxy.bsd);
  // NOTES-kernel.md sec. 11: the proxy diff brings m_ext_refs_pool
  assert.ok(proxySyms.has('m_ext_refs_pool'), 'patched kernel has m_ext_refs_pool');
  assert.ok(!plainSyms.has('m_ext_refs_pool'), 'unpatched kernel lacks m_ext_refs_pool');
  process.stderr.write(`# LAB-proxy: ${proxy.cached ? 'cache hit, original build' : 'built'} ${proxy.buildSeconds.toFixed(1)} s\n`);
  // The first LAB build filled ccache (its recorded time is a cold build when
  // the cache was empty); the variant differs in one .c file and reuses the rest.
  const plainManifest = await lookupKernel(plain.key);
  assert.ok(plainManifest);
  assert.ok(proxy.buildSeconds < plainManifest.manifest.buildSeconds, `variant (${proxy.buildSeconds} s) faster than the cold build (${plainManifest.manifest.buildSeconds} s)`);

  const again = await builder.build(spec('LAB-proxy', [join(sharedDir(), 'patches', 'dlg-mbuf-ext-proxy-2026-04-22.diff')]), { jobs: 2, log });
  assert.equal(again.cached, true);
  assert.equal(again.key, proxy.key);
  assert.equal(again.bsd, proxy.bsd);
});
