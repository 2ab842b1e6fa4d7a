import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNameStatusZ, planShipment } from '../../src/build/ship.ts';

test('git diff --name-status -M -z output parses, renames included', () => {
  // as printed by git 2.39 for a rename with 90% similarity, an add, a modify and a delete
  const out = 'M\0kern/a.c\0R090\0net/old.c\0net/new.c\0A\0dev/x.c\0D\0sys/gone.h\0';
  assert.deepEqual(parseNameStatusZ(out), [
    { status: 'M', path: 'kern/a.c' },
    { status: 'R', path: 'net/new.c', from: 'net/old.c' },
    { status: 'A', path: 'dev/x.c' },
    { status: 'D', path: 'sys/gone.h' },
  ]);
  assert.throws(() => parseNameStatusZ('X\0a\0'), /unexpected status "X"/);
});

test('shipment: changed files go, deleted and renamed-away files are removed, patched files are reset', () => {
  const plan = planShipment(
    [
      { status: 'M', path: 'kern/a.c' },
      { status: 'R', path: 'net/new.c', from: 'net/old.c' },
      { status: 'D', path: 'sys/gone.h' },
    ],
    ['kern/uipc_mbuf.c', 'kern/a.c', 'dev/i2c/i2c_exec.c'],
    (p) => p === 'kern/uipc_mbuf.c',
  );
  assert.deepEqual(plan, {
    upload: ['kern/a.c', 'kern/uipc_mbuf.c', 'net/new.c'],
    remove: ['dev/i2c/i2c_exec.c', 'net/old.c', 'sys/gone.h'],
  });
});
