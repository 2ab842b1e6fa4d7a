/**
 * The reference OpenBSD LAB kernel and its sys/ tree for tests that need a real
 * one: the unpatched kernel of playbooks/mbuf-extref-lab-ci.yaml, made by the
 * project's own cross builder (content-addressed cache: built once, then a
 * cache hit) from ../shared/openbsd-lab. OBSDLAB_TEST_TREE and
 * OBSDLAB_TEST_KERNEL_DIR (a directory with `bsd`) override them.
 *
 * A test is skipped only when the inputs are missing (no sys bundle, no clang);
 * a build that fails fails the test.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createKernelBuilder } from '../src/build/builder.ts';
import type { BuildSpec } from '../src/build/types.ts';
import { planFromFile } from '../src/playbook/load.ts';
import { PROJECT_ROOT, sharedDir } from '../src/util/paths.ts';

const PLAYBOOK = join(PROJECT_ROOT, 'playbooks', 'mbuf-extref-lab-ci.yaml');

/** Why the reference cannot be made on this host, or false when it can. */
export function labReferenceMissing(): string | false {
  if (process.env.OBSDLAB_TEST_TREE && process.env.OBSDLAB_TEST_KERNEL_DIR) return false;
  const bundle = join(sharedDir(), 'openbsd-lab', 'src', 'sys.bundle');
  if (!existsSync(bundle)) return `no sys bundle at ${bundle}`;
  for (const tool of ['/usr/bin/clang-19', '/usr/bin/ld.lld-19']) if (!existsSync(tool)) return `${tool} missing (scripts/setup.sh installs it)`;
  return false;
}

function referenceSpec(): BuildSpec {
  const dut = planFromFile(PLAYBOOK).runs.flatMap((r) => r.vms).find((v) => v.guest === 'openbsd-lab' && v.kernel.name === 'unpatched');
  if (!dut || dut.kernel.kind !== 'build') throw new Error(`${PLAYBOOK}: no cross-built "unpatched" kernel`);
  return dut.kernel as BuildSpec;
}

/** The sys/ tree of the reference kernel (source, fix-ups; no kernel build needed). */
export async function labTree(): Promise<string> {
  if (process.env.OBSDLAB_TEST_TREE) return process.env.OBSDLAB_TEST_TREE;
  const spec = referenceSpec();
  return createKernelBuilder(spec.builder).sourceTree(spec);
}

/** The reference kernel (`bsd`, `bsd.gdb`) and its tree; builds it on a cache miss. */
export async function labKernel(): Promise<{ bsd: string; bsdGdb: string; tree: string }> {
  const dir = process.env.OBSDLAB_TEST_KERNEL_DIR;
  if (dir) return { bsd: join(dir, 'bsd'), bsdGdb: join(dir, 'bsd.gdb'), tree: await labTree() };
  const spec = referenceSpec();
  const builder = createKernelBuilder(spec.builder);
  const built = await builder.build(spec, {});
  return { bsd: built.bsd, bsdGdb: built.bsdGdb, tree: await builder.sourceTree(spec) };
}
