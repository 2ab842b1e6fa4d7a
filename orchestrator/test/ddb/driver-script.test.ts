import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConsoleReader } from '../../src/console/reader.ts';
import { DEFAULT_DDB_SCRIPT, expandCommand, faultPc, panicCpus, parseCpuinfo, resolveDdbScript, unwrapDdbLines } from '../../src/ddb/script.ts';
import { commandOutput } from '../../src/ddb/driver.ts';
import { sharedDir } from '../../src/util/paths.ts';

const corpus = join(sharedDir(), 'corpus');
const skip = existsSync(corpus) ? false : `corpus not at ${corpus}`;

function normalised(file: string): string {
  const r = new ConsoleReader();
  r.feed(readFileSync(join(corpus, file)));
  return r.text();
}

test('flat playbook list: split at machine ddbcpu {cpu}', () => {
  const s = resolveDdbScript(['show panic', 'trace', 'x/i {pc}', 'machine ddbcpu {cpu}', 'trace', 'show registers']);
  assert.deepEqual(s.commands, ['show panic', 'trace', 'x/i {pc}']);
  assert.deepEqual(s.perCpu, ['trace', 'show registers']);
  assert.deepEqual(s.setup, DEFAULT_DDB_SCRIPT.setup);
  assert.equal(s.finish, 'reboot');
  assert.deepEqual(resolveDdbScript(['ps']).perCpu, []);
});

test('script errors name the entry', () => {
  assert.throws(() => resolveDdbScript(['trace', '']), /ddb script\[1\]: expected a ddb command, got ""/);
  assert.throws(() => resolveDdbScript(['x/i {addr}']), /ddb script\[0\]: unknown placeholder \{addr\}/);
  assert.throws(() => resolveDdbScript(['trace\r']), /control characters are not allowed/);
  assert.throws(() => resolveDdbScript(['trace {cpu}']), /ddb script\[0\]: "\{cpu\}" is only known after "machine ddbcpu \{cpu\}"/);
  assert.throws(() => resolveDdbScript({ finish: 'halt' as never }, 'playbook.yaml vms.dut.ddb'), /playbook.yaml vms.dut.ddb.finish: expected reboot, dump or stay, got "halt"/);
  assert.throws(() => resolveDdbScript({ perCpu: 'trace' as never }), /ddb script.perCpu: expected a list of commands/);
});

test('placeholders', () => {
  assert.equal(expandCommand('machine ddbcpu {cpu}', { cpu: 3, pc: '$rip' }), 'machine ddbcpu 3');
  assert.equal(expandCommand('x/i {pc}', { pc: 'refcnt_rele+0x78' }), 'x/i refcnt_rele+0x78');
});

test('faultPc: the seed thread trace gives refcnt_rele+0x78 (what the developer typed)', () => {
  const seed = readFileSync(join(sharedDir(), 'seed-thread.txt'), 'utf8')
    .split('\n')
    .map((l) => l.replace(/^> ?/, ''));
  const start = seed.indexOf('ddb{1}> trace');
  const end = seed.findIndex((l) => l.startsWith('end trace frame'));
  const trace = seed.slice(start + 1, end + 1).join('\n');
  assert.equal(faultPc({ trace, stoppedAt: 'Stopped at      x86_ipi_db+0x16:  leave' }), 'refcnt_rele+0x78');
});

test('faultPc: a panic (db_enter) falls back to the register; a fault stop uses Stopped at', () => {
  assert.equal(faultPc({ stoppedAt: 'Stopped at      db_enter+0x9:   popq    %rbp' }), '$rip');
  assert.equal(faultPc({ stoppedAt: 'Stopped at      leavepgrp+0x8a: movq    %r15,0x40(%r12)' }), 'leavepgrp+0x8a');
  assert.equal(faultPc({}, '$eip'), '$eip');
});

test('faultPc on the fuzzbsd uvm_fault transcript: frame after the trap', { skip }, () => {
  const text = normalised('mail/fuzzbsd-openbsd61-msdos18-uvm_fault-brelse-serial.txt');
  const trace = text.slice(text.indexOf('ddb{0}> trace') >= 0 ? text.indexOf('ddb{0}> trace') : text.indexOf('ddb> trace'));
  const stopped = /^Stopped at.*$/m.exec(text)?.[0];
  assert.equal(stopped, 'Stopped at      brelse+0x18:    cmpq    $0,clean_idt+0x68(%rbx)');
  assert.equal(faultPc({ trace, stoppedAt: stopped }), 'brelse+0x18');
});

test('unwrapDdbLines joins 79-column pieces (real lab trace)', () => {
  const wrapped = [
    'db_enter(10,ffff80000e8eabb0,202,8,ffffffff8119baf9,ffff80000e8eabb0) at db_ent',
    'er+0x9',
    'panic(0,10040,ffffffff81256be7,ffff80000e8eabc0,ffff80000e8eac30,3000000008) at',
    ' panic+0xb8',
    'end trace frame: 0x0, count: -3',
  ].join('\n');
  assert.equal(
    unwrapDdbLines(wrapped),
    [
      'db_enter(10,ffff80000e8eabb0,202,8,ffffffff8119baf9,ffff80000e8eabb0) at db_enter+0x9',
      'panic(0,10040,ffffffff81256be7,ffff80000e8eabc0,ffff80000e8eac30,3000000008) at panic+0xb8',
      'end trace frame: 0x0, count: -3',
    ].join('\n'),
  );
});

test('parseCpuinfo: the format of arch/amd64/amd64/db_interface.c db_cpuinfo_cmd', () => {
  // "%c%4d: " then the state; '*' marks the CPU ddb runs on.
  const out = '*   0: ddb\n    1: stopped\n    2: stopping\n';
  assert.deepEqual(parseCpuinfo(out), [
    { cpu: 0, current: true, state: 'ddb' },
    { cpu: 1, current: false, state: 'stopped' },
    { cpu: 2, current: false, state: 'stopping' },
  ]);
  assert.deepEqual(parseCpuinfo('No such command'), []);
});

test('panicCpus from show panic', () => {
  assert.deepEqual(panicCpus('*cpu0: no init'), [0]);
  assert.deepEqual(panicCpus(' cpu0: kernel diagnostic assertion\n*cpu1: uvm_fault(0x1, 0x2, 0, 1) -> e'), [0, 1]);
  assert.deepEqual(panicCpus('the kernel did not panic'), []);
});

test('commandOutput: echo line off, prompt off; a late prompt line before the echo is skipped', () => {
  assert.equal(commandOutput('show panic\n*cpu0: no init\nddb{0}> ', 'show panic', 'ddb{0}> '.length), '*cpu0: no init');
  assert.equal(commandOutput('set $lines = 0\nddb{0}> ', 'set $lines = 0', 'ddb{0}> '.length), '');
  assert.equal(commandOutput('old output\nddb{0}> ps\n   PID\nddb{0}> ', 'ps', 'ddb{0}> '.length), '   PID');
  assert.equal(commandOutput('machine ddbcpu 1\n', 'machine ddbcpu 1', 0), '');
});
