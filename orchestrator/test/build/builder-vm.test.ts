import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendFor } from '../../src/build/builder.ts';
import { BuilderVmBackend } from '../../src/build/builder-vm.ts';
import { BuildError } from '../../src/build/types.ts';

test('a vm builder without a running endpoint boots its image lazily; the image stands for the toolchain', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'obsdlab-bvm-'));
  const image = join(dir, 'builder.qcow2');
  writeFileSync(image, 'not really qcow2');
  const backend = backendFor({ type: 'vm', image });
  assert.ok(backend instanceof BuilderVmBackend);
  assert.equal(backend.kind, `vm:${image}`);
  const id1 = await backend.toolchainIdentity();
  assert.equal(id1, await backend.toolchainIdentity(), 'stable for the same image');
  utimesSync(image, new Date(), new Date(Date.now() + 5000));
  assert.notEqual(await backend.toolchainIdentity(), id1, 'a rebuilt image is another toolchain');
});

test('a missing builder image is a clear builder error when a build needs it, before anything boots', async () => {
  const backend = backendFor({ type: 'vm', image: '/nonexistent/openbsd.qcow2' });
  // The cache key can still be computed (a cached kernel needs no builder).
  assert.match(await backend.toolchainIdentity(), /^vm-image:\/nonexistent\/openbsd.qcow2:missing$/);
  await assert.rejects(
    backend.compile({} as never, {}),
    (e: unknown) => e instanceof BuildError && e.kind === 'builder' && /\/nonexistent\/openbsd.qcow2 does not exist/.test(e.message),
  );
});
