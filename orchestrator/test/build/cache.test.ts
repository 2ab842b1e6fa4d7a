import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gcKernels, kernelCacheKey, kernelHashOfBytes, listKernels, lookupKernel, parseSize, planEviction, storeKernel, type KernelKeyInputs } from '../../src/build/cache.ts';
import { sha256 } from '../../src/build/hash.ts';

const base: KernelKeyInputs = {
  treeHash: 'a'.repeat(40),
  patchHashes: ['p1', 'p2'],
  configHash: 'c',
  fixupsHash: 'f',
  quirks: ['q'],
  toolchain: 'clang 19',
  builder: 'cross',
};

test('same inputs give the same key; changing any input changes it', () => {
  const k = kernelCacheKey(base);
  assert.match(k, /^[0-9a-f]{64}$/);
  assert.equal(kernelCacheKey({ ...base, patchHashes: [...base.patchHashes] }), k);
  const variants: Partial<KernelKeyInputs>[] = [
    { treeHash: 'b'.repeat(40) },
    { patchHashes: ['p2', 'p1'] },
    { patchHashes: ['p1'] },
    { configHash: 'c2' },
    { fixupsHash: 'f2' },
    { quirks: [] },
    { toolchain: 'clang 20' },
    { builder: 'ssh:root@host:22' },
  ];
  const keys = new Set([k]);
  for (const v of variants) keys.add(kernelCacheKey({ ...base, ...v }));
  assert.equal(keys.size, variants.length + 1);
});

test('eviction removes least recently used entries until the rest fit', () => {
  const e = [
    { key: 'new', size: 40, lastUsed: '2026-11-25T10:00:00Z' },
    { key: 'old', size: 30, lastUsed: '2026-11-20T10:00:00Z' },
    { key: 'mid', size: 50, lastUsed: '2026-11-22T10:00:00Z' },
  ];
  assert.deepEqual(planEviction(e, 200), []);
  assert.deepEqual(planEviction(e, 100), ['old']);
  assert.deepEqual(planEviction(e, 60), ['old', 'mid']);
  assert.deepEqual(planEviction(e, 60, new Set(['old'])), ['mid', 'new']);
  assert.deepEqual(planEviction(e, 0), ['old', 'mid', 'new']);
});

test('sizes parse with units', () => {
  assert.equal(parseSize('10G'), 10 * 1024 ** 3);
  assert.equal(parseSize('512M'), 512 * 1024 ** 2);
  assert.equal(parseSize('1.5GiB'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('4096'), 4096);
  assert.throws(() => parseSize('ten'), /invalid size "ten"/);
});

test('kernelHash ignores the vers.c build date, nothing else', () => {
  const mk = (date: string, rest: string) => Buffer.from(`\x7fELF...OpenBSD 7.9-current (LAB) #0: ${date}\n    @vm:/x/compile/LAB*\n\0${rest}`, 'latin1');
  const a = mk('Wed Nov 25 19:50:21 UTC 2026', 'code');
  const b = mk('Thu Nov 26 08:01:02 UTC 2026', 'code');
  const c = mk('Wed Nov 25 19:50:21 UTC 2026', 'cod3');
  assert.equal(kernelHashOfBytes(a), kernelHashOfBytes(b));
  assert.notEqual(kernelHashOfBytes(a), kernelHashOfBytes(c));
  assert.notEqual(kernelHashOfBytes(a), sha256(a));
});

let dir: string;
const saved = process.env.OBSDLAB_CACHE;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'obsdlab-cache-test-'));
  process.env.OBSDLAB_CACHE = dir;
});
after(async () => {
  if (saved === undefined) delete process.env.OBSDLAB_CACHE;
  else process.env.OBSDLAB_CACHE = saved;
  await rm(dir, { recursive: true, force: true });
});

test('store, look up (touching last use), list and gc by LRU', async () => {
  const src = join(dir, 'src');
  await writeFile(`${src}-bsd`, Buffer.alloc(1000, 1));
  await writeFile(`${src}-gdb`, Buffer.alloc(3000, 2));
  await writeFile(`${src}-log`, 'log\n');
  const files = { bsd: `${src}-bsd`, bsdGdb: `${src}-gdb`, log: `${src}-log` };
  const man = (key: string) => ({ key, name: key.slice(0, 3), commit: 'c', source: 's', patches: [], config: 'LAB', quirks: [], builder: 'cross', version: 'v', treeDir: '/t', buildSeconds: 1, kernelHash: 'h' });
  const k1 = '1'.repeat(64);
  const k2 = '2'.repeat(64);
  const k3 = '3'.repeat(64);
  await storeKernel(files, man(k1), new Date('2026-11-01T00:00:00Z'));
  await storeKernel(files, man(k2), new Date('2026-11-02T00:00:00Z'));
  await storeKernel(files, man(k3), new Date('2026-11-03T00:00:00Z'));
  assert.equal(await lookupKernel('9'.repeat(64)), null);
  const hit = await lookupKernel(k1, new Date('2026-11-04T00:00:00Z'));
  assert.ok(hit);
  assert.equal((await readFile(hit.bsd)).length, 1000);
  assert.equal(hit.manifest.size, 4004);
  assert.deepEqual((await listKernels()).map((m) => m.key), [k1, k3, k2]);
  const removed = await gcKernels(2 * 4004);
  assert.deepEqual(removed.map((m) => m.key), [k2]);
  assert.deepEqual((await listKernels()).map((m) => m.key).sort(), [k1, k3]);
});
