/**
 * The ddb driver end to end over a fake serial peer that replays real ddb
 * sessions (fixtures/ddb-sessions, split from ../shared/corpus/real and the
 * seed thread). Expected outputs are copied from those transcripts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openConsole } from '../../src/console/connect.ts';
import type { ConsoleSession } from '../../src/console/session.ts';
import { PANIC, STOPPED_AT } from '../../src/console/openbsd.ts';
import { runDdbScript, type DdbSessionResult, type DdbDriverOptions } from '../../src/ddb/driver.ts';
import { enterDdb } from '../../src/ddb/enter.ts';
import { sessionFromTranscript, startFakeDdbPeer, type FakePeerOptions, type RecordedDdbSession } from '../../src/ddb/replay.ts';
import { sharedDir } from '../../src/util/paths.ts';

const fixtures = new URL('../fixtures/ddb-sessions/', import.meta.url).pathname;
const load = (name: string) => JSON.parse(readFileSync(join(fixtures, name), 'utf8')) as RecordedDdbSession;

async function replay(
  t: { after: (fn: () => void | Promise<void>) => void },
  session: RecordedDdbSession,
  peerOpts: Omit<FakePeerOptions, 'socketPath'> = {},
): Promise<{ con: ConsoleSession; peer: Awaited<ReturnType<typeof startFakeDdbPeer>>; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'obsdlab-ddb-'));
  const peer = await startFakeDdbPeer(session, { socketPath: join(dir, 'dut.console.sock'), chunkSize: 7, ...peerOpts });
  const con = await openConsole({ vm: 'dut', socketPath: peer.socketPath, dir, chardev: 'mux' });
  t.after(async () => {
    con.close();
    await peer.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await peer.consoleSent;
  return { con, peer, dir };
}

function capture(r: DdbSessionResult, command: string, cpu?: number | null) {
  const c = r.captures.find((x) => x.command === command && (cpu === undefined || x.cpu === cpu));
  assert.ok(c, `no capture of "${command}" (have: ${r.captures.map((x) => `${x.cpu}:${x.command}`).join(', ')})`);
  return c;
}

const TIMEOUTS: Pick<DdbDriverOptions, 'commandTimeoutMs' | 'recoverTimeoutMs'> = { commandTimeoutMs: 1500, recoverTimeoutMs: 300 };

test('fixtures are the corpus transcripts split at their prompts', { skip: existsSync(join(sharedDir(), 'corpus', 'real')) ? false : 'corpus not present' }, () => {
  const cases: [string, string, string][] = [
    ['openbsd-lab-mp-no-init-ddb-all-cpus.txt', 'panic: no init', 'lab-mp-no-init.json'],
    ['openbsd-lab-mp-boot-d-then-cannot-open-disk.txt', 'panic: cannot open disk', 'lab-mp-cannot-open-disk.json'],
    ['openbsd-8.0-beta-amd64-up-cannot-open-disk.txt', 'panic: cannot open disk', 'up-cannot-open-disk.json'],
  ];
  for (const [file, marker, fixture] of cases) {
    const raw = readFileSync(join(sharedDir(), 'corpus', 'real', file));
    const from = raw.toString('latin1').indexOf(marker);
    const fresh = sessionFromTranscript(raw, `corpus/real/${file} from "${marker}" (byte ${from})`, from, ['set $lines = 0', 'set $maxwidth = 0']);
    assert.deepEqual(load(fixture), fresh, fixture);
  }
});

test('MP no-init panic: every command captured separately, cpu1 visited, back to cpu0, reboot', async (t) => {
  const { con, peer } = await replay(t, load('lab-mp-no-init.json'));
  const crash = await con.expect(PANIC, { timeoutMs: 2000 });
  assert.equal(crash.match[1], 'no init');
  const r = await runDdbScript(con, { ...TIMEOUTS, consoleFrom: crash.offset });

  assert.equal(r.wedged, false);
  assert.equal(r.firstCpu, 0);
  assert.deepEqual(r.visitedCpus, [1]);
  assert.equal(r.finished, 'reboot');
  assert.deepEqual(peer.typed, [
    'set $lines = 0',
    'set $maxwidth = 0',
    'show panic',
    'trace',
    'show registers',
    'x/i $rip',
    'ps',
    'machine cpuinfo',
    'machine ddbcpu 1',
    'trace',
    'machine ddbcpu 0',
    'boot reboot',
  ]);
  assert.equal(capture(r, 'set $lines = 0').output, '');
  assert.equal(capture(r, 'show panic').output, '*cpu0: no init');
  assert.equal(
    capture(r, 'trace', 0).output,
    [
      'db_enter(10,ffff80000e8eabb0,202,8,ffffffff8119baf9,ffff80000e8eabb0) at db_ent',
      'er+0x9',
      'panic(0,10040,ffffffff81256be7,ffff80000e8eabc0,ffff80000e8eac30,3000000008) at',
      ' panic+0xb8',
      'start_init(0,0,ffff8000fffff758,ffffffff81096b00,0,b79fb7fadde21db9) at start_i',
      'nit+0x2ee',
      'end trace frame: 0x0, count: -3',
    ].join('\n'),
  );
  const regs = capture(r, 'show registers', 0).output.split('\n');
  assert.equal(regs.length, 21);
  assert.equal(regs[0], 'rdi                                0');
  assert.equal(regs[15], 'rip               0xffffffff8119baf9    db_enter+0x9');
  assert.equal(regs[20], 'db_enter+0x9:   popq    %rbp');
  assert.equal(capture(r, 'x/i $rip', 0).output, 'db_enter+0x9:   popq    %rbp');
  const ps = capture(r, 'ps').output.split('\n');
  assert.equal(ps.length, 19);
  assert.equal(ps[0], '   PID     TID   PPID    UID  S       FLAGS  WAIT          COMMAND');
  assert.equal(ps[17], '*    1  325022      0      0  7           0                swapper');
  // The recording has no `machine cpuinfo`: the peer says what ddb says, and the driver falls back to the dmesg.
  assert.equal(capture(r, 'machine cpuinfo').output, 'No such command');
  assert.equal(
    capture(r, 'machine ddbcpu 1').output.split('\n')[0],
    'Stopped at      x86_ipi_db+0x9: popq    %rbp',
  );
  assert.equal(
    capture(r, 'trace', 1).output,
    [
      'x86_ipi_db(10,ffff80000e90dd20,246,8,ffffffff8119bae9,ffff80000e90dd20) at x86_',
      'ipi_db+0x9',
      'x86_ipi_handler(0,0,0,0,0,0) at x86_ipi_handler+0x71',
      'Xresume_lapic_ipi(0,ffff80000e8ceff0,0,0,0,0) at Xresume_lapic_ipi+0x27',
      '_kernel_lock(10,ffff80000e90de20,297,8,ffffffff8103442c,ffff80000e90de20) at _k',
      'ernel_lock+0x9c',
      'end trace frame: 0x0, count: -4',
    ].join('\n'),
  );
  assert.equal(capture(r, 'trace', 1).cpu, 1);
  assert.equal(capture(r, 'boot reboot').output, 'rebooting...');
  assert.ok(r.commands.every((c) => c.status === 'ok'));
  assert.equal(r.commands.length, r.captures.length);
  assert.equal(r.consoleFrom, crash.offset);
  assert.ok(r.consoleTo > r.consoleFrom);
});

test('machine ddbcpu 1 on a CPU that never started: times out, the captures before it are kept, wedged', async (t) => {
  const { con } = await replay(t, load('lab-mp-cannot-open-disk.json'));
  await con.expect(PANIC, { timeoutMs: 2000 });
  const started = Date.now();
  const r = await runDdbScript(con, { ...TIMEOUTS });
  const took = Date.now() - started;

  assert.equal(r.wedged, true);
  assert.equal(r.finished, null);
  assert.equal(capture(r, 'show panic').output, '*cpu0: cannot open disk, 0x1100/0x2f02, error 2');
  assert.match(capture(r, 'trace').output, /^dk_mountroot\(0,ffffffff81258cc0,127b9184c1ebf5bf,ffffffff81258cc0,127b9184c1ebf$/m);
  assert.equal(capture(r, 'ps').output.split('\n')[11], '*    0       0     -1      0  7     0x10200                swapper');
  const sw = capture(r, 'machine ddbcpu 1');
  assert.equal(sw.status, 'timeout');
  assert.equal(sw.output, '');
  assert.deepEqual(
    r.commands.map((c) => c.status),
    ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'timeout'],
  );
  assert.deepEqual(r.skippedCpus, [{ cpu: 1, reason: 'machine ddbcpu did not return to a prompt' }]);
  // One command timeout plus two short recovery waits, not more.
  assert.ok(took < 1500 + 2 * 300 + 1500, `took ${took} ms`);
});

test('uniprocessor kernel (ddb> prompt): no CPU loop, faulting PC falls back to $rip', async (t) => {
  const { con, peer } = await replay(t, load('up-cannot-open-disk.json'));
  await con.expect(PANIC, { timeoutMs: 2000 });
  const r = await runDdbScript(con, { ...TIMEOUTS, script: { finish: 'stay' } });
  assert.equal(r.firstCpu, null);
  assert.equal(r.wedged, false);
  assert.deepEqual(peer.typed, ['set $lines = 0', 'set $maxwidth = 0', 'show panic', 'trace', 'show registers', 'x/i $rip', 'ps']);
  assert.equal(capture(r, 'show panic').output, '*cpu0: cannot open disk, 0x1100/0x2f02, error 22');
  assert.equal(capture(r, 'x/i $rip').output, 'No such command');
  assert.equal(capture(r, 'show registers').output.split('\n')[13], 'r14                           0x1100    __ALIGN_SIZE+0x100');
  assert.equal(capture(r, 'trace').cpu, null);
});

test('seed thread session: {pc} is the frame the trap interrupted (the developer typed x/i refcnt_rele+0x78)', async (t) => {
  const { con, peer } = await replay(t, load('seed-refcnt-rele.json'));
  const r = await runDdbScript(con, { ...TIMEOUTS, script: ['show panic', 'trace', 'x/i {pc}'] });
  assert.equal(r.firstCpu, 1);
  assert.deepEqual(peer.typed, ['set $lines = 0', 'set $maxwidth = 0', 'show panic', 'trace', 'x/i refcnt_rele+0x78', 'boot reboot']);
  assert.equal(capture(r, 'x/i refcnt_rele+0x78').output, 'refcnt_rele+0x78:       movq    0(%rsi,%rcx,8),%rsi');
  assert.equal(capture(r, 'show panic').output, '*cpu1: uvm_fault(0xffffffff82bb0cb8, 0x2414c5fe0, 0, 1) -> e');
  assert.equal(capture(r, 'trace').output.split('\n').length, 26);
  // The recording ends before any reboot: the finish command times out, nothing is lost.
  assert.equal(capture(r, 'boot reboot').status, 'timeout');
});

test('a command that wedges ddb (show registers on a busy CPU) costs only its timeout; wedged is reported', async (t) => {
  const { con, peer } = await replay(t, load('lab-mp-no-init.json'), { silent: ['show registers'] });
  await con.expect(PANIC, { timeoutMs: 2000 });
  const r = await runDdbScript(con, { ...TIMEOUTS });
  assert.equal(r.wedged, true);
  assert.equal(capture(r, 'show panic').output, '*cpu0: no init');
  assert.match(capture(r, 'trace').output, /start_init\+|nit\+0x2ee/);
  assert.equal(capture(r, 'show registers').status, 'timeout');
  assert.equal(r.captures.at(-1)!.command, 'show registers');
  // The recovery Enter was typed once; nothing after it.
  assert.deepEqual(peer.typed.slice(-2), ['show registers', '']);
});

test('a slow command whose prompt comes late is marked timeout but its output is kept and the script goes on', async (t) => {
  const { con } = await replay(t, load('lab-mp-no-init.json'), { delays: { ps: 700 } });
  await con.expect(PANIC, { timeoutMs: 2000 });
  const r = await runDdbScript(con, { commandTimeoutMs: 400, recoverTimeoutMs: 1500 });
  assert.equal(r.wedged, false);
  const ps = capture(r, 'ps');
  assert.equal(ps.status, 'timeout');
  assert.equal(ps.output.split('\n').length, 19);
  assert.equal(capture(r, 'trace', 1).status, 'ok');
  assert.equal(r.finished, 'reboot');
});

test('enterDdb: BREAK through the mux console reaches a prompt; NMI goes through the VM layer callback', async (t) => {
  const { con, peer } = await replay(t, load('lab-mp-no-init.json'));
  // The console already showed its last prompt; enterDdb waits for a new one after the BREAK.
  await con.expect(PANIC, { timeoutMs: 1000 });
  await con.expect(/ddb\{0\}> /, { timeoutMs: 1000 });
  const noAnswer = await enterDdb(con, { via: 'break', timeoutMs: 200 });
  assert.equal(noAnswer.entered, false);
  assert.equal(peer.breaks, 1);
  let nmis = 0;
  await assert.rejects(enterDdb(con, { via: 'nmi', timeoutMs: 200 }), /dut: no NMI callback/);
  const viaNmi = await enterDdb(con, {
    via: 'nmi',
    timeoutMs: 2000,
    injectNmi: async () => {
      nmis++;
      // Stand-in for QMP inject-nmi: make the peer print a prompt, as ddb would.
      await con.sendLine('show panic');
    },
  });
  assert.equal(nmis, 1);
  assert.equal(viaNmi.entered, true);
  assert.equal(viaNmi.cpu, 0);
});

test('live LAB session (BREAK at labinit>): machine cpuinfo says cpu1 stopped, so it is visited', async (t) => {
  const { con, peer } = await replay(t, load('lab-live-break.json'));
  // The recorded console also holds the boot -d session before it; the BREAK came at the agent's prompt.
  await con.expect('labinit: ready', { timeoutMs: 2000 });
  const stop = await con.expect(STOPPED_AT, { timeoutMs: 2000 });
  assert.equal(stop.before.trimStart().split('\n')[0], 'labinit> Stopped at      db_enter+0x9:   popq    %rbp');
  assert.equal(stop.match[1], 'db_enter+0x9');
  const r = await runDdbScript(con, { ...TIMEOUTS });
  assert.equal(r.wedged, false);
  assert.deepEqual(r.visitedCpus, [1]);
  assert.deepEqual(r.skippedCpus, []);
  // Read off the recorded console log (its lines end in LF CR).
  assert.equal(capture(r, 'machine cpuinfo').output, '*   0: ddb\n    1: stopped');
  assert.equal(capture(r, 'machine ddbcpu 1').output, 'Stopped at      x86_ipi_db+0x9: popq    %rbp');
  assert.equal(
    capture(r, 'trace', 1).output.split('\n')[0],
    'x86_ipi_db(10,ffff80000e945a70,246,8,ffffffff810a1c89,ffff80000e945a70) at x86_ipi_db+0x9',
  );
  assert.equal(capture(r, 'show panic').output, 'the kernel did not panic');
  const ps = capture(r, 'ps').output.split('\n');
  assert.equal(ps.length, 19);
  assert.equal(ps[17], '     1    4063      0      0  3        0x82  ttyin         init');
  assert.equal(peer.typed.at(-1), 'boot reboot');
  assert.equal(r.finished, 'reboot');
});

test('a CPU that machine cpuinfo does not show as stopped is not switched to (it would never answer)', async (t) => {
  const session = load('lab-live-break.json');
  const info = session.steps.find((s) => s.command === 'machine cpuinfo')!;
  // db_cpuinfo_cmd prints "stopping" for CI_DDB_SHOULDSTOP: the IPI was sent and the CPU never stopped.
  info.response = info.response.replace('    1: stopped', '    1: stopping');
  const { con, peer } = await replay(t, session);
  await con.expect('labinit: ready', { timeoutMs: 2000 });
  await con.expect(STOPPED_AT, { timeoutMs: 2000 });
  const r = await runDdbScript(con, { ...TIMEOUTS });
  assert.equal(r.wedged, false);
  assert.deepEqual(r.visitedCpus, []);
  assert.deepEqual(r.skippedCpus, [{ cpu: 1, reason: 'cpuinfo: stopping' }]);
  assert.ok(!peer.typed.some((c) => c.startsWith('machine ddbcpu')));
  assert.equal(r.finished, 'reboot');
});
