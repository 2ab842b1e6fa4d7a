// The triage command's text (for mail) and JSON outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runTriage, TriageInputError } from '../../src/commands/triage.ts';
import { wrapField } from '../../src/triage/render.ts';

const fx = (name: string): string => fileURLToPath(new URL(`../fixtures/corpus/${name}`, import.meta.url));

const ALL = [
  'openbsd-lab-mp-no-init-ddb-all-cpus.txt',
  'syzbot-10c01a4a700000-witness-lor-vmmaplk-inode.txt',
  'syzbot-108d7f10e00000-assert-ifp-arptfree.txt',
  'tech-2026-03-mbuf-extrefs-refcnt_rele-uaf.txt',
  'fuzzbsd-openbsd61-msdos18-uvm_fault-brelse-serial.txt',
  'openbsd-lab-agent-forward-dut.txt',
].map(fx);

test('text output fits mail: at most 78 columns, no escape codes, every crash titled', async () => {
  const text = await runTriage(ALL);
  for (const line of text.split('\n')) {
    if (line.startsWith('== ')) continue; // file names are never broken
    assert.ok(line.length <= 78, `too wide (${line.length}): ${line}`);
    assert.ok(!/[\x1b\r]/.test(line), `control characters in: ${JSON.stringify(line)}`);
  }
  for (const title of ['panic: no init', 'witness: lock order reversal: vmmaplk -> inode', 'assertion "ifp != NULL" failed in arptfree', 'uvm_fault in refcnt_rele', 'uvm_fault in brelse']) {
    assert.ok(text.includes(`\n${title}\n`), `missing title ${title}`);
  }
  assert.ok(text.includes('no crash found'));
  // cpu1's trace of the no-init panic is listed apart from cpu0's
  assert.match(text, /\n  cpu1:\n    x86_ipi_db\+0x9\n/);
  assert.match(text, /incomplete +transcript ends inside a stack trace/);
});

test('JSON output carries kind, title, signature, frames and per-CPU traces', async () => {
  const out = JSON.parse(await runTriage([fx('openbsd-lab-mp-no-init-ddb-all-cpus.txt'), fx('openbsd-lab-agent-forward-dut.txt')], { json: true })) as {
    file: string;
    crashes: { kind: string; title: string; signature: string; cpu: number; frames: { function: string; offset: string }[]; cpus: { cpu: number; frames: unknown[] }[] }[];
  }[];
  assert.equal(out.length, 2);
  assert.equal(out[1]!.crashes.length, 0);
  const [entered, panic] = out[0]!.crashes;
  assert.equal(entered!.kind, 'ddb-entered');
  assert.equal(panic!.title, 'panic: no init');
  assert.match(panic!.signature, /^[0-9a-f]{16}$/);
  assert.deepEqual(panic!.frames.map((f) => `${f.function}+${f.offset}`), ['db_enter+0x9', 'panic+0xb8', 'start_init+0x2ee']);
  assert.deepEqual(panic!.cpus.map((c) => [c.cpu, c.frames.length]), [[0, 3], [1, 4]]);
});

test('an unreadable file is a clear error naming it', async () => {
  await assert.rejects(runTriage(['/nonexistent/console.log']), (err: unknown) => {
    assert.ok(err instanceof TriageInputError);
    assert.equal(err.message, 'triage: /nonexistent/console.log: cannot read: ENOENT');
    return true;
  });
});

test('wrapField wraps on words and cuts words longer than a line', () => {
  assert.deepEqual(wrapField('  message    ', 'a b c', 20), ['  message    a b c']);
  assert.deepEqual(wrapField('  m ', 'aaaa bbbb cccc', 12), ['  m aaaa', '    bbbb', '    cccc']);
  const long = wrapField('  m ', 'x'.repeat(20), 12);
  assert.ok(long.every((l) => l.length <= 12));
  assert.equal(long.join('').replace(/[ m]/g, ''), 'x'.repeat(20));
});

test('the registered subcommand parses its options and prints to stdout', async () => {
  const { Command } = await import('commander');
  const { register } = await import('../../src/commands/triage.ts');
  const program = new Command('obsdlab').exitOverride();
  register(program);
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'obsdlab', 'triage', '--json', fx('syzbot-108d7f10e00000-assert-ifp-arptfree.txt')]);
  } finally {
    process.stdout.write = write;
  }
  const parsed = JSON.parse(out) as { crashes: { title: string }[] }[];
  assert.equal(parsed[0]!.crashes[0]!.title, 'assertion "ifp != NULL" failed in arptfree');
});
