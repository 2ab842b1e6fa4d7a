// Titles for message formats that the corpus has no transcript of. The inputs are the
// kernel's own printf formats (OpenBSD sys/kern/subr_pool.c, kern_synch.c, arch/amd64
// trap.c, subr_prf.c) filled in; frames are taken from the corpus's refcnt_rele trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConsole } from '../../src/ddb/parser.ts';
import { crashSignature } from '../../src/triage/signature.ts';
import { triageConsole } from '../../src/triage/triage.ts';
import { headline, parsePoolCorruption } from '../../src/triage/title.ts';

test('pool corruption carries the pool name, in both the old and the current panic format', () => {
  // subr_pool.c: "%s: %s free list modified: page %p; item addr %p; offset 0x%x=0x%lx != 0x%lx"
  assert.deepEqual(parsePoolCorruption('pool_do_get: mcl2k free list modified: page 0xffff8000; item addr 0xffff8010; offset 0x0=0xdead != 0xbeef'), {
    pool: 'mcl2k',
    what: 'free list modified',
  });
  // 3.3-era: "pool_get(mclpl): free list modified: magic=…"
  assert.deepEqual(parsePoolCorruption('pool_get(mclpl): free list modified: magic=78746572; page 0xfaa93000;'), { pool: 'mclpl', what: 'free list modified' });
  const [c] = triageConsole('panic: pool_do_get: mcl2k free list modified: page 0xffff800001234000; item addr 0xffff800001234100; offset 0x0=0x1 != 0x2\nStopped at      db_enter+0x10:  popq    %rbp\n');
  assert.equal(c!.title, 'pool corruption: mcl2k: free list modified');
  const [d] = triageConsole('panic: pool_do_get: mcl2k free list modified: page 0xffff800009999000; item addr 0xffff800009999100; offset 0x0=0x5 != 0x6\nStopped at      db_enter+0x10:  popq    %rbp\n');
  assert.equal(d!.signature, c!.signature);
  const [e] = triageConsole('panic: pool_do_get: mcl4k free list modified: page 0xffff800009999000; item addr 0xffff800009999100; offset 0x0=0x5 != 0x6\nStopped at      db_enter+0x10:  popq    %rbp\n');
  assert.notEqual(e!.signature, c!.signature);
});

test('splassert: the warning line and the panic that follows are one report', () => {
  const reports = triageConsole(
    ['splassert: if_input_process: want 2 have 0', 'panic: spl assertion failure in if_input_process', 'Stopped at      db_enter+0x10:  popq    %rbp', 'ddb{0}> '].join('\n'),
  );
  assert.equal(reports.length, 1);
  assert.equal(reports[0]!.report.kind, 'splassert');
  assert.equal(reports[0]!.title, 'splassert failure in if_input_process');
});

test('fatal page fault without ddb: the stack dump names the fault, a later Stopped at savectx does not', () => {
  // amd64 trap.c trap_print() + panic("trap type %d, code=%llx, pc=%llx"); subr_prf.c db_stack_dump()
  const text = [
    'uvm_fault(0xffffffff82bb0cb8, 0x2414c5fe0, 0, 1) -> e',
    'fatal page fault in supervisor mode',
    'trap type 6 code 0 rip ffffffff81a2f6b8 cs 8 rflags 10286 cr2 2414c5fe0 cpl 6 rsp ffff8000632448a0',
    'gsbase 0xffff800000279000  kgsbase 0x0',
    'panic: trap type 6, code=0, pc=ffffffff81a2f6b8',
    'Starting stack trace...',
    'panic(ffffffff82662513) at panic+0x11d',
    'kerntrap(ffff8000632447a0) at kerntrap+0x114',
    'alltraps_kern_meltdown() at alltraps_kern_meltdown+0x7b',
    'refcnt_rele(fffffd8f371b6d50) at refcnt_rele+0x78',
    'm_extfree_refs(fffffd8003fc7540,840,fffffd8f371b6d40) at m_extfree_refs+0x31',
    'm_free(fffffd808accec00) at m_free+0x170',
    'End of stack trace.',
    'syncing disks...',
    'Stopped at      savectx+0xb1:   movl    $0,%eax',
    'ddb{1}> trace',
    'savectx() at savectx+0xb1',
    'x86_ipi_handler() at x86_ipi_handler+0x80',
    'end trace frame: 0x0, count: -2',
    'ddb{1}> ',
  ].join('\n');
  const [c, ...rest] = triageConsole(text);
  assert.equal(rest.length, 0);
  assert.equal(c!.report.kind, 'uvm_fault');
  assert.equal(c!.report.pc, '0xffffffff81a2f6b8');
  assert.equal(c!.report.faultAddress, '0x2414c5fe0');
  assert.equal(c!.report.faultingTrace!.source, 'stack-dump');
  assert.equal(c!.title, 'uvm_fault in refcnt_rele');
  assert.equal(c!.report.stoppedAt[0]!.location, 'savectx+0xb1');
});

test('a panic title keeps the first clause only', () => {
  assert.equal(headline('cannot open disk, 0x1100/0x2f02, error 2'), 'cannot open disk');
  assert.equal(headline('trap type 6, code=0, pc=ffffffff81a2f6b8'), 'trap type 6');
  assert.equal(headline('no init'), 'no init');
});

test('lock errors from panic() are classified and titled by their first clause', () => {
  const [c] = triageConsole('panic: rw_enter: netlock locking against myself\nStopped at      db_enter+0x10:  popq    %rbp\n');
  assert.equal(c!.report.kind, 'lock-error');
  assert.equal(c!.title, 'rw_enter: netlock locking against myself');
});

test('the title never comes from Stopped at, and the signature ignores the CPU the trace ran on', () => {
  const one = parseConsole('panic: no init\nStopped at      x86_ipi_db+0x9: popq    %rbp\nddb{1}> trace\nstart_init(0) at start_init+0x2ee\nend trace frame: 0x0, count: -1\nddb{1}> ')[0]!;
  const two = parseConsole('panic: no init\nStopped at      db_enter+0x9: popq    %rbp\nddb{0}> trace\nstart_init(0) at start_init+0x2ee\nend trace frame: 0x0, count: -1\nddb{0}> ')[0]!;
  assert.equal(crashSignature(one), crashSignature(two));
});
