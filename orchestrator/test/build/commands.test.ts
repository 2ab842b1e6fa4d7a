import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildKernels, formatBuildReport, kernelsToBuild } from '../../src/commands/build.ts';
import { formatCacheList } from '../../src/commands/cache.ts';
import type { KernelSpec, Plan, PlannedRun } from '../../src/playbook/plan-types.ts';
import type { BuildSpec } from '../../src/build/types.ts';
import { sharedDir } from '../../src/util/paths.ts';

const bundle = join(sharedDir(), 'openbsd-lab', 'src', 'sys.bundle');
const P = join(sharedDir(), 'patches');

function buildSpec(name: string, rev: string, patches: string[]): BuildSpec {
  return { kind: 'build', name, source: { type: 'git', repo: bundle, rev }, fixups: [], patches, config: 'LAB', builder: { type: 'cross' } };
}

function run(variant: string, kernels: KernelSpec[]): PlannedRun {
  return {
    id: `variant=${variant}#1`, seq: 0, cell: { variant }, cellId: `variant=${variant}`, repetition: 1, variant,
    vms: kernels.map((k, i) => ({ name: `vm${i}`, guest: 'openbsd-lab', cpus: 2, memoryMiB: 512, kernel: k, bootCommands: [], consoleOnly: true, nics: [], routes: [], forwarding: { inet: true, inet6: true }, pf: { enabled: true }, sysctls: {} })),
    links: [], setup: [], load: [],
    timeouts: { bootSec: 1, sshSec: 1, commandSec: 1, loadSec: 1, ddbCommandSec: 1, hangSec: 1, runSec: 1 },
    resources: { cpus: 2, memoryMiB: 512 },
  };
}

test('kernelsToBuild: all build kernels, or those of one variant; unknown variant named', () => {
  const base = buildSpec('LAB', 'b4c64bc50', []);
  const proxy = buildSpec('LAB-proxy', 'b4c64bc50', [join(P, 'dlg-mbuf-ext-proxy-2026-04-22.diff')]);
  const guest: KernelSpec = { kind: 'prebuilt', name: 'testguest' };
  const plan: Plan = {
    playbook: { name: 'p', file: '/x/p.yaml' },
    order: { mode: 'interleave' },
    kernels: [base, proxy, guest],
    runs: [run('base', [base, guest]), run('proxy', [proxy, guest])],
  };
  assert.deepEqual(kernelsToBuild(plan).map((k) => k.name), ['LAB', 'LAB-proxy']);
  assert.deepEqual(kernelsToBuild(plan, 'proxy').map((k) => k.name), ['LAB-proxy']);
  assert.throws(() => kernelsToBuild(plan, 'nope'), /variant "nope" is not in playbook \/x\/p\.yaml \(variants: base, proxy\)/);
});

test('buildKernels reports every patch failure before building anything', { timeout: 300_000 }, async () => {
  const specs = [
    buildSpec('LAB-refs-late', '14639db46', [join(P, 'dlg-mbuf-ext-refs.git.diff')]),
    buildSpec('LAB-proxy-late', '14639db46', [join(P, 'dlg-mbuf-ext-proxy-2026-04-22.diff')]),
    buildSpec('LAB-ok', '14639db46', []),
  ];
  const r = await buildKernels(specs, { jobs: 1 });
  assert.equal(r.ok, false);
  assert.equal(r.lines.filter((l) => l.kernel).length, 0);
  assert.match(r.lines[0]!.error!, /dlg-mbuf-ext-refs\.git\.diff: FAILS/);
  assert.match(r.lines[0]!.error!, /kern\/uipc_mbuf\.c: hunk #1 rejected/);
  assert.match(r.lines[1]!.error!, /dlg-mbuf-ext-proxy-2026-04-22\.diff: already applied/);
  assert.match(r.lines[2]!.error!, /not built: another kernel failed its checks/);
  assert.match(formatBuildReport(r.lines), /^LAB-refs-late: FAILED\n/);
});

test('cache ls text', () => {
  const text = formatCacheList([
    { key: 'e8627989d178556f9f56e7a5a96cd26c7981d38fb8994f9c09017324f058726a', name: 'LAB', commit: 'b4c64bc50b5f719509b34d750f22ee1cd1a58379', source: 's', patches: ['dlg-mbuf-ext-proxy-2026-04-22.diff'], config: 'LAB', quirks: [], builder: 'cross', version: 'v', treeDir: '/t', buildSeconds: 1, builtAt: '2026-11-25T19:50:25.687Z', lastUsed: '2026-11-25T19:56:40.482Z', size: 26311554, kernelHash: 'h' },
  ]);
  assert.match(text, /^e8627989d178  LAB  b4c64bc50  LAB  dlg-mbuf-ext-proxy-2026-04-22\.diff  26\.3 MB  last used 2026-11-25T19:56:40\.482Z$/m);
  assert.match(text, /^1 kernel\(s\), 26\.3 MB in /m);
});
