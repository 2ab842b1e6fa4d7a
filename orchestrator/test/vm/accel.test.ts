import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseAccel, kvmFailureIn, markKvmUnusable, parseAccelEnv } from '../../src/vm/accel.ts';

test('KVM failures on QEMU stderr are recognised and quoted', () => {
  // Real stderr of qemu-system-x86_64 7.2 on this host with -accel kvm (no /dev/kvm).
  const real = 'Could not access KVM kernel module: No such file or directory\nqemu-system-x86_64: -accel kvm: failed to initialize kvm: No such file or directory\n';
  assert.equal(kvmFailureIn(real), 'Could not access KVM kernel module: No such file or directory');
  assert.equal(kvmFailureIn('qemu-system-x86_64: warning: host doesn\'t support requested feature\n'), undefined);
});

test('OBSDLAB_ACCEL forces an accelerator without fallback; nonsense is an error', () => {
  assert.deepEqual(chooseAccel('tcg'), { accel: 'tcg', fallback: false, reason: 'forced by OBSDLAB_ACCEL=tcg' });
  assert.equal(chooseAccel('kvm').accel, 'kvm');
  assert.throws(() => parseAccelEnv('hvf'), /OBSDLAB_ACCEL must be "kvm" or "tcg", got "hvf"/);
});

test('after a KVM failure the process goes straight to TCG and says why', () => {
  markKvmUnusable('emulation failure');
  const c = chooseAccel('');
  assert.equal(c.accel, 'tcg');
  assert.equal(c.fallback, false);
  assert.match(c.reason, /KVM failed earlier in this process: emulation failure/);
});
