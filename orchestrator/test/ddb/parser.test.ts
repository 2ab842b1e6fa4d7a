// Details of the parser on excerpts of the real corpus transcripts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseConsole } from '../../src/ddb/parser.ts';
import { cleanLine } from '../../src/ddb/parser-lines.ts';
import { stripCorpusHeader } from '../../src/triage/console-file.ts';

const fixture = (name: string): string =>
  stripCorpusHeader(readFileSync(fileURLToPath(new URL(`../fixtures/corpus/${name}`, import.meta.url)), 'utf8'));

test('joins frames ddb wrapped at 80 columns mid-token (real UP serial console with CR)', () => {
  const [r] = parseConsole(fixture('openbsd-8.0-beta-amd64-up-cannot-open-disk.txt'));
  const frames = r!.faultingTrace!.frames;
  assert.deepEqual(
    frames.map((f) => `${f.function}+${f.offset}`),
    ['db_enter+0x9', 'panic+0xac', 'dk_mountroot+0xff', 'main+0x4f4'],
  );
  assert.deepEqual(frames[0]!.args, ['10', 'ffffffff81a06e20', '202', '8', 'ffffffff8107dae9', 'ffffffff81a06e20']);
  // "…,ffffffff81a06ea0," / "3000000010) at panic+0xac": the wrap fell between two arguments
  assert.deepEqual(frames[1]!.args, ['1100', 'ffff800000122800', 'ffffffff81763a49', 'ffffffff81a06e30', 'ffffffff81a06ea0', '3000000010']);
  // "…693fae451922c" / "1b3,0) at dk_mountroot+0xff": the wrap split an argument
  assert.equal(frames[2]!.args![4], '693fae451922c1b3');
  assert.equal(r!.faultingTrace!.endOfTrace?.count, 11);
  assert.equal(r!.traces[1]!.endOfTrace?.count, -4);
  assert.equal(r!.traces[1]!.source, 'command');
});

test('a wrap just before " panic+0xb8" keeps the space (lab MP kernel)', () => {
  const reports = parseConsole(fixture('openbsd-lab-mp-no-init-ddb-all-cpus.txt'));
  const panic = reports[1]!;
  assert.equal(panic.faultingTrace!.frames[1]!.function, 'panic');
  assert.equal(panic.faultingTrace!.frames[1]!.offset, '0xb8');
  assert.equal(panic.faultingTrace!.frames[2]!.function, 'start_init');
  assert.equal(panic.faultingTrace!.frames[2]!.offset, '0x2ee');
  // cpu1's trace, reached with `machine ddbcpu 1`, stays apart from cpu0's
  const cpu1 = panic.cpus.find((c) => c.cpu === 1)!;
  assert.deepEqual(cpu1.frames.map((f) => f.function), ['x86_ipi_db', 'x86_ipi_handler', 'Xresume_lapic_ipi', '_kernel_lock']);
  assert.deepEqual(panic.stoppedAt.map((s) => [s.location, s.cpu]), [['db_enter+0x9', 0], ['x86_ipi_db+0x9', 1], ['db_enter+0x9', 0]]);
  assert.ok(panic.disassembly.some((d) => d.from === 'x' && d.cpu === 1 && d.location === 'x86_ipi_db+0x9' && d.instruction === 'popq    %rbp'));
  assert.equal(panic.cpuRegisters.find((r) => r.cpu === 1)!.values.rip, '0xffffffff8119bae9');
  assert.equal(panic.registers.rip, '0xffffffff8119baf9');
  // thread table: "*325022      1      0           0          0    0K swapper"
  const cur = panic.threads.find((t) => t.current)!;
  assert.deepEqual([cur.tid, cur.pid, cur.cpu, cur.kernelLock, cur.command], [325022, 1, 0, true, 'swapper']);
  assert.equal(panic.threads.find((t) => !t.current)!.command, 'systqmp');
  assert.equal(panic.ps.length, 18);
  assert.deepEqual(panic.commands.map((c) => c.command).slice(0, 4), ['show panic', 'trace', 'show registers', 'ps']);
});

test('boot -d then continue gives two reports; the first did not panic', () => {
  const text = fixture('openbsd-lab-mp-boot-d-then-cannot-open-disk.txt');
  const [entered, panic] = parseConsole(text);
  assert.equal(entered!.didNotPanic, true);
  assert.ok(entered!.end <= panic!.start);
  assert.ok(entered!.raw.includes('init_x86_64'));
  assert.ok(!entered!.raw.includes('cannot open disk'));
  assert.ok(panic!.raw.replace(/\r/g, '').startsWith('panic: cannot open disk'));
  // the ps of the first stop printed only its header
  assert.equal(entered!.ps.length, 0);
});

test('OpenBSD 6.1 traces without arguments, syscall marker, negative count, registers and ps', () => {
  const [r] = parseConsole(fixture('fuzzbsd-openbsd61-msdos18-uvm_fault-brelse-serial.txt'));
  const tr = r!.faultingTrace!;
  assert.deepEqual(tr.frames[0]!.args, []);
  assert.deepEqual(tr.markers, [{ index: 6, text: '--- syscall (number 21) ---' }]);
  assert.deepEqual(tr.endOfTrace, { frame: '0x7f7fffff6201', count: -6 });
  assert.equal(r!.registers.rbx, '0');
  assert.equal(r!.registers.rip, '0xffffffff811cd868');
  assert.equal(r!.pc, '0xffffffff811cd868');
  assert.equal(r!.ps.length, 50);
  const cur = r!.ps.find((p) => p.current)!;
  assert.deepEqual([cur.pid, cur.tid, cur.ppid, cur.state, cur.flags, cur.wait, cur.command], [35908, 432900, 98082, 7, '0x3', undefined, 'mount_msdos']);
  const swapper = r!.ps.find((p) => p.pid === 0)!;
  assert.deepEqual([swapper.ppid, swapper.wait], [-1, 'scheduler']);
  assert.deepEqual(r!.stoppedAt, [{ location: 'brelse+0x18', instruction: 'cmpq    $0,clean_idt+0x68(%rbx)', cpu: null }]);
  // the session ends with `boot dump`: the dump countdown is not part of the report
  assert.ok(!r!.raw.includes('dumping to dev'));
});

test('i386: five fixed arguments, a wrapped offset, interrupt markers, per-CPU traces', () => {
  const [r] = parseConsole(fixture('docs-ddb-html-i386-smp-trace-example.txt'));
  const cpu1 = r!.cpus.find((c) => c.cpu === 1)!.frames;
  assert.equal(cpu1[2]!.function, 'i386_ipi_handler');
  assert.equal(cpu1[2]!.offset, '0x4a');
  assert.equal(cpu1[0]!.args!.length, 5);
  assert.equal(cpu1[cpu1.length - 1]!.function, 'idle_loop');
  const t1 = r!.traces.find((t) => t.cpu === 1)!;
  assert.deepEqual(t1.markers.map((m) => m.index), [4, 6]);
});

test('truncated transcripts keep what is there and say why they are corrupted', () => {
  const [tech] = parseConsole(fixture('tech-2026-03-mbuf-extrefs-refcnt_rele-uaf.txt'));
  const last = tech!.faultingTrace!.frames.at(-1)!;
  assert.deepEqual([last.function, last.offset, last.truncated], ['refcnt_rele', null, true]);
  assert.ok(tech!.corruptedReasons.includes('stack trace cut off'));

  const [pf] = parseConsole(fixture('docs-ddb-html-i386-pf_route-example.txt'));
  assert.deepEqual(pf!.faultingTrace!.frames.map((f) => [f.function, !!f.truncated]), [['pf_route', false], ['pf_test', true]]);

  const [prot] = parseConsole(fixture('syzbot-ggroups-b00dcafcbcca5f7d56f5-leavepgrp-protection-fault.txt'));
  assert.equal(prot!.didNotPanic, true);
  assert.equal(prot!.kind, 'protection-fault');
  assert.ok(prot!.corruptedReasons.some((r) => r.includes('show registers')));
  assert.equal(prot!.registers.rip, '0xffffffff812f64ca');

  const [exec] = parseConsole(fixture('syzbot-139bf9f2e00000-attempt-to-execute-user-address.txt'));
  // "rip               0xffffffff" is cut mid-value: no pc is taken from it
  assert.equal(exec!.pc, null);
});

test('syzbot: symbolized frames with inline expansion, login:/load: interleaving', () => {
  const [a] = parseConsole(fixture('syzbot-108d7f10e00000-assert-ifp-arptfree.txt'));
  const tr = a!.faultingTrace!;
  const timeout = tr.frames.find((f) => f.function === 'timeout_run')!;
  assert.deepEqual(timeout.inlined, ['timeout_sync_leave']);
  assert.equal(timeout.source, 'sys/kern/kern_timeout.c:474');
  assert.equal(tr.frames[3]!.source, 'sys/netinet/if_ether.c:716');

  const [b] = parseConsole(fixture('syzbot-14216cba680000-assert-ifp-arptfree-interleaved.txt'));
  assert.ok(b!.message.startsWith('kernel diagnostic assertion'));
  assert.equal(b!.start, 0);

  const [c] = parseConsole(fixture('syzbot-139bf9f2e00000-attempt-to-execute-user-address.txt'));
  assert.equal(c!.faultingTrace!.frames.at(-1)!.function, '0');
  assert.equal(c!.faultingTrace!.frames.at(-1)!.address, '0');
});

test('witness lock order reversal with blank lines between every line', () => {
  const [r] = parseConsole(fixture('syzbot-10c01a4a700000-witness-lor-vmmaplk-inode.txt'));
  assert.deepEqual(r!.witness!.first, { address: '0xfffffd8008716188', name: 'vmmaplk', description: '&map->lock' });
  assert.deepEqual(r!.witness!.second, { address: '0xfffffd806f67fa38', name: 'inode', description: '&ip->i_lock' });
  assert.deepEqual(r!.witness!.orders, [{ from: '&ip->i_lock', fromClass: 'rrwlock', to: '&map->lock', toClass: 'rwlock' }]);
  assert.deepEqual(r!.witness!.notes, ['lock order data w1 -> w2 missing']);
  const frames = r!.faultingTrace!.frames;
  assert.equal(frames[0]!.source, 'sys/kern/kern_rwlock.c:112');
  assert.equal(frames.at(-1)!.function, 'Xsyscall');
  assert.deepEqual(frames[14]!.inlined, ['mi_syscall']);
});

test('seed session: x/i, headerless ps row, show-panic line without its command', () => {
  const [r] = parseConsole(fixture('seed-thread-ddb-session.txt'));
  assert.deepEqual(r!.disassembly.filter((d) => d.from === 'x'), [
    { location: 'refcnt_rele+0x78', instruction: 'movq    0(%rsi,%rcx,8),%rsi', from: 'x', cpu: 1 },
  ]);
  assert.deepEqual(r!.process, { pid: 58677, tid: 355342, command: 'softnet0' });
  assert.equal(r!.faultingTrace!.endOfTrace!.count, -25);
});

test('cleanLine drops ANSI escapes, CR and the boot spinner', () => {
  assert.equal(cleanLine('\x1b[10;02H\b\x1b[10;02H\bLoading /CDBOOT\r\r'), 'Loading /CDBOOT');
  assert.equal(cleanLine('booting cd0a:/bsd: /\b-\b\\\b|\b2901667'), 'booting cd0a:/bsd: 2901667');
  assert.equal(cleanLine('\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS'), 'SeaBIOS');
});

test('nothing in ordinary console output is taken for a crash', () => {
  assert.deepEqual(parseConsole(fixture('openbsd-lab-agent-forward-dut.txt')), []);
  assert.deepEqual(parseConsole(''), []);
  assert.deepEqual(parseConsole('sysctl ddb.panic\nddb.panic=1\nok\n'), []);
});

test("ddb's pager prompt, erased with CR and spaces, does not hide the line after it", () => {
  const seed = fixture('seed-thread-ddb-session.txt').split('\n');
  const at = seed.findIndex((l) => l.startsWith('m_free('));
  seed[at] = '--db_more--\r           \r' + seed[at];
  const [r] = parseConsole(seed.join('\n'));
  assert.equal(r!.faultingTrace!.frames.length, 25);
  assert.ok(r!.faultingTrace!.frames.some((f) => f.function === 'm_free' && f.offset === '0x170'));
});
