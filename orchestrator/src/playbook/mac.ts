/** Deterministic MAC addresses for test NICs. */
import { createHash } from 'node:crypto';

/**
 * 52:xx:… has the locally administered bit set and the multicast bit clear. The
 * 52:54:00:12:34:xx block is skipped: QEMU gives it to NICs without an explicit MAC.
 */
function candidate(playbook: string, vm: string, nic: number, attempt: number): string {
  const h = createHash('sha256').update(`${playbook}\u0000${vm}\u0000${nic}\u0000${attempt}`).digest();
  const tail = [h[0]!, h[1]!, h[2]!].map((b) => b.toString(16).padStart(2, '0'));
  return ['52', '54', '00', ...tail].join(':');
}

/**
 * A MAC derived from playbook name, VM name and NIC index, unique among `taken`
 * (which it extends). Callers must assign in a fixed order for the result to be stable.
 */
export function assignMac(playbook: string, vm: string, nic: number, taken: Set<string>): string {
  for (let attempt = 0; ; attempt++) {
    const mac = candidate(playbook, vm, nic, attempt);
    if (!mac.startsWith('52:54:00:12:34:') && !taken.has(mac)) {
      taken.add(mac);
      return mac;
    }
  }
}
