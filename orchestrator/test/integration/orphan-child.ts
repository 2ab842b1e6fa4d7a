/**
 * Child process for orphans.test.ts: starts one VM through the VM layer, prints
 * {"qemuPid": N} on stdout and waits to be signalled. Not a test by itself.
 *   node --import tsx orphan-child.ts DIR KERNEL INITRD
 */
import { startVm } from '../../src/vm/qemu.ts';

const [dir, kernel, initrd] = process.argv.slice(2);
if (!dir || !kernel || !initrd) {
  process.stderr.write('usage: orphan-child.ts DIR KERNEL INITRD\n');
  process.exit(2);
}
const vm = await startVm({
  name: 'orphan',
  dir,
  cpus: 1,
  memoryMiB: 128,
  boot: { kind: 'kernel', kernel, initrd, append: 'console=ttyS0 quiet panic=0' },
  log: () => undefined,
});
process.stdout.write(`${JSON.stringify({ qemuPid: vm.pid })}\n`);
// Keeps the event loop alive until a signal arrives (bounded: gives up after 5 minutes).
setTimeout(() => process.exit(3), 300_000);
