import { test } from 'node:test';
import assert from 'node:assert/strict';
import { qemuArgs, vmPaths, MANAGEMENT_NET } from '../../src/vm/qemu-args.ts';

const paths = vmPaths('/run/r1/dut', 'dut');
const base = { name: 'dut', cpus: 2, memoryMiB: 512, accel: 'tcg' as const, nics: [], paths };

function opt(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

test('kernel boot under TCG: no host defaults, serial on a mux socket with a log, QMP, pidfile', () => {
  const a = qemuArgs({ ...base, boot: { kind: 'kernel', kernel: '/k', initrd: '/i', append: 'console=ttyS0 quiet' } });
  assert.deepEqual(opt(a, '-accel'), ['tcg,thread=multi']);
  for (const f of ['-nodefaults', '-no-reboot']) assert.ok(a.includes(f), f);
  assert.deepEqual(opt(a, '-machine'), ['q35']);
  assert.deepEqual(opt(a, '-smp'), ['2']);
  assert.deepEqual(opt(a, '-pidfile'), ['/run/r1/dut/dut.pid']);
  assert.deepEqual(opt(a, '-chardev'), [
    'socket,id=console,path=/run/r1/dut/dut.console.sock,server=on,wait=off,mux=on,logfile=/run/r1/dut/dut.serial.log,logappend=on',
  ]);
  assert.deepEqual(opt(a, '-serial'), ['chardev:console']);
  assert.deepEqual(opt(a, '-qmp'), ['unix:/run/r1/dut/dut.qmp.sock,server=on,wait=off']);
  assert.deepEqual(opt(a, '-append'), ['console=ttyS0 quiet']);
  assert.deepEqual(opt(a, '-netdev'), []);
});

test('management NIC: restricted user net on documentation ranges, SSH from 127.0.0.1 only, last PCI slot', () => {
  const a = qemuArgs({ ...base, boot: { kind: 'cdrom', iso: '/lab.iso' }, management: { mac: '02:fe:00:00:00:01', sshPort: 40022 } });
  const [netdev] = opt(a, '-netdev');
  assert.equal(netdev, `user,id=mgmt,restrict=on,net=${MANAGEMENT_NET.net},host=203.0.113.2,dhcpstart=203.0.113.15,ipv6-net=2001:db8:ffff::/64,hostfwd=tcp:127.0.0.1:40022-:22`);
  assert.ok(!netdev!.includes('10.0.2.'));
  assert.deepEqual(opt(a, '-device'), ['virtio-net-pci,netdev=mgmt,mac=02:fe:00:00:00:01,addr=0x1e']);
  assert.deepEqual(opt(a, '-cdrom'), ['/lab.iso']);
  assert.deepEqual(opt(a, '-boot'), ['d']);
});

test('disk overlay as virtio-blk; KVM adds -cpu host', () => {
  const a = qemuArgs({ ...base, accel: 'kvm', boot: { kind: 'disk' }, disk: '/run/r1/dut/dut.overlay.qcow2' });
  assert.deepEqual(opt(a, '-accel'), ['kvm']);
  assert.deepEqual(opt(a, '-cpu'), ['host']);
  assert.deepEqual(opt(a, '-drive'), ['file=/run/r1/dut/dut.overlay.qcow2,if=none,id=disk0,format=qcow2,cache=unsafe']);
  assert.throws(() => qemuArgs({ ...base, boot: { kind: 'disk' } }), /boot from disk needs a disk/);
});

test('commas in paths are escaped for QEMU option syntax', () => {
  const p = vmPaths('/tmp/a,b', 'vm');
  const a = qemuArgs({ ...base, name: 'vm', paths: p, boot: { kind: 'kernel', kernel: '/k' } });
  assert.match(opt(a, '-chardev')[0]!, /path=\/tmp\/a,,b\/vm\.console\.sock/);
});

test('bad names, cpus and memory are refused naming the VM', () => {
  assert.throws(() => qemuArgs({ ...base, name: 'a b', boot: { kind: 'kernel', kernel: '/k' } }), /vm a b: name/);
  assert.throws(() => qemuArgs({ ...base, cpus: 0, boot: { kind: 'kernel', kernel: '/k' } }), /vm dut: cpus/);
  assert.throws(() => qemuArgs({ ...base, memoryMiB: 1.5, boot: { kind: 'kernel', kernel: '/k' } }), /memoryMiB/);
  assert.throws(() => vmPaths(`/${'x'.repeat(100)}`, 'dut'), /socket path too long/);
});
