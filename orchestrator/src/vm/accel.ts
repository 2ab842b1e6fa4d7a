/**
 * Which accelerator a VM runs under. KVM is tried when /dev/kvm can be opened;
 * a KVM start that fails (QEMU cannot initialise KVM, KVM reports an internal or
 * emulation error, QEMU dies in its first seconds, or the guest prints nothing)
 * marks KVM unusable for the rest of this process and the VM is restarted under
 * TCG. OBSDLAB_ACCEL=tcg|kvm forces one and disables the fallback.
 */
import { constants, accessSync } from 'node:fs';
import type { Accel } from './qemu-args.ts';

export interface AccelChoice {
  accel: Accel;
  /** Whether a failed KVM start may be retried under TCG. */
  fallback: boolean;
  reason: string;
}

let kvmVerdict: { usable: boolean; reason: string } | undefined;

/** Text on QEMU's stderr that means KVM cannot run this guest. */
const KVM_FAILURE = /emulation failure|KVM internal error|failed to initialize kvm|Could not access KVM|kvm run failed|KVM_CREATE_VM|kvm_init_vcpu failed/i;

export function kvmFailureIn(stderr: string): string | undefined {
  const m = KVM_FAILURE.exec(stderr);
  if (!m) return undefined;
  const line = stderr.slice(stderr.lastIndexOf('\n', m.index) + 1).split('\n')[0]!;
  return line.trim();
}

export function parseAccelEnv(value: string | undefined): Accel | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'kvm' || value === 'tcg') return value;
  throw new Error(`OBSDLAB_ACCEL must be "kvm" or "tcg", got "${value}"`);
}

function kvmDeviceUsable(): { usable: boolean; reason: string } {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return { usable: true, reason: '/dev/kvm is accessible' };
  } catch (err) {
    return { usable: false, reason: `/dev/kvm not usable (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
  }
}

export function chooseAccel(env: string | undefined = process.env.OBSDLAB_ACCEL): AccelChoice {
  const forced = parseAccelEnv(env);
  if (forced) return { accel: forced, fallback: false, reason: `forced by OBSDLAB_ACCEL=${forced}` };
  kvmVerdict ??= kvmDeviceUsable();
  if (!kvmVerdict.usable) return { accel: 'tcg', fallback: false, reason: kvmVerdict.reason };
  return { accel: 'kvm', fallback: true, reason: kvmVerdict.reason };
}

/** Records that KVM failed on this host; later VMs of this process go straight to TCG. */
export function markKvmUnusable(reason: string): void {
  kvmVerdict = { usable: false, reason: `KVM failed earlier in this process: ${reason}` };
}
