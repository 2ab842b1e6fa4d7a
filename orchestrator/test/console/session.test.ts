import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { openConsole } from '../../src/console/connect.ts';
import { readConsoleRecording } from '../../src/console/recording.ts';
import { ConsoleClosedError, ConsoleTimeoutError } from '../../src/console/types.ts';
import { DDB_PROMPT } from '../../src/console/openbsd.ts';

interface Peer {
  server: Server;
  path: string;
  client: Promise<Socket>;
  received: () => Buffer;
}

async function startPeer(path: string, delayMs = 0): Promise<Peer> {
  const chunks: Buffer[] = [];
  let resolveClient!: (s: Socket) => void;
  const client = new Promise<Socket>((r) => (resolveClient = r));
  const server = createServer((s) => {
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', () => {});
    resolveClient(s);
  });
  if (delayMs) await sleep(delayMs);
  server.listen(path);
  await once(server, 'listening');
  return { server, path, client, received: () => Buffer.concat(chunks) };
}

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'obsdlab-console-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('records raw bytes, chunk times and typed input; expect reads across chunks', async (t) => {
  const dir = tmp(t);
  const peer = await startPeer(join(dir, 'dut.console.sock'));
  t.after(() => peer.server.close());
  const con = await openConsole({ vm: 'dut', socketPath: peer.path, dir, chardev: 'mux' });
  t.after(() => con.close());
  const sock = await peer.client;
  const seen: string[] = [];
  con.onText((c) => seen.push(c));
  sock.write(Buffer.from('panic: no init\r\n\rddb{0', 'latin1'));
  await sleep(30);
  sock.write(Buffer.from('}> ', 'latin1'));
  const m = await con.expect(DDB_PROMPT, { timeoutMs: 2000 });
  assert.equal(m.before, 'panic: no init\nddb{0}> ');
  assert.equal(m.offset, 25);
  assert.equal(con.rawOffset, 25);
  await con.sendLine('trace');
  await con.send(Uint8Array.of(0x01, 0x41));
  await con.sendBreak();
  await sleep(50);
  // Ctrl-a is doubled for QEMU's mux; Ctrl-a b is the mux's BREAK.
  assert.deepEqual(peer.received(), Buffer.from('trace\r\x01\x01A\x01b', 'latin1'));
  assert.equal(seen.join(''), 'panic: no init\nddb{0}> ');
  con.close();

  const rec = readConsoleRecording(dir, 'dut');
  assert.deepEqual(rec.log, Buffer.from('panic: no init\r\n\rddb{0}> ', 'latin1'));
  assert.deepEqual(
    rec.chunks.map((c) => [c.offset, c.bytes.length]),
    [
      [0, 22],
      [22, 3],
    ],
  );
  assert.ok(rec.chunks[1]!.ms >= rec.chunks[0]!.ms);
  assert.deepEqual(
    rec.input.map((i) => (i.data === 'break' ? 'BREAK' : i.data.toString('latin1'))),
    ['trace\r', '\x01A', 'BREAK'],
  );
  assert.equal(rec.input[0]!.offset, 25);
  // The transcript never contains what was typed.
  assert.ok(!readFileSync(join(dir, 'dut.console.log'), 'latin1').includes('trace'));
});

test('a second session appends to the log and continues the offsets', async (t) => {
  const dir = tmp(t);
  const peer = await startPeer(join(dir, 'a.sock'));
  t.after(() => peer.server.close());
  const c1 = await openConsole({ vm: 'vm1', socketPath: peer.path, dir });
  (await peer.client).write('first\n');
  await c1.expect('first', { timeoutMs: 2000 });
  c1.close();
  const peer2 = await startPeer(join(dir, 'b.sock'));
  t.after(() => peer2.server.close());
  const c2 = await openConsole({ vm: 'vm1', socketPath: peer2.path, dir });
  t.after(() => c2.close());
  (await peer2.client).write('second\n');
  const m = await c2.expect('second', { timeoutMs: 2000 });
  assert.equal(m.offset, 'first\nsecond'.length);
  c2.close();
  assert.equal(readFileSync(join(dir, 'vm1.console.log'), 'latin1'), 'first\nsecond\n');
  assert.deepEqual(
    readConsoleRecording(dir, 'vm1').chunks.map((c) => c.bytes.toString()),
    ['first\n', 'second\n'],
  );
});

test('timeout rejects with ConsoleTimeoutError carrying the last screen', async (t) => {
  const dir = tmp(t);
  const peer = await startPeer(join(dir, 's'));
  t.after(() => peer.server.close());
  const con = await openConsole({ vm: 'dut', socketPath: peer.path, dir });
  t.after(() => con.close());
  (await peer.client).write('Stopped at      x86_ipi_db+0x9: popq    %rbp\r\n');
  await sleep(20);
  const err = await con.expect(/ddb\{1\}> /, { timeoutMs: 150 }).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConsoleTimeoutError, String(err));
  assert.equal(err.vm, 'dut');
  assert.match(err.tail, /Stopped at {6}x86_ipi_db\+0x9/);
  assert.match(err.message, /dut: console: no \/ddb\\\{1\\\}> \/ within 0s/);
  // The cursor did not move: the text is still there for the next wait.
  const m = await con.expect('Stopped at', { timeoutMs: 100 });
  assert.equal(m.before, 'Stopped at');
});

test('abort rejects with the signal reason; a second concurrent expect is refused', async (t) => {
  const dir = tmp(t);
  const peer = await startPeer(join(dir, 's'));
  t.after(() => peer.server.close());
  const con = await openConsole({ vm: 'dut', socketPath: peer.path, dir });
  t.after(() => con.close());
  const ac = new AbortController();
  const p = con.expect('never', { timeoutMs: 5000, signal: ac.signal });
  await assert.rejects(con.expect('other', { timeoutMs: 100 }), /while expect\("never"\) is still waiting/);
  ac.abort(new Error('run cancelled'));
  await assert.rejects(p, /run cancelled/);
  // After the abort the channel takes a new wait.
  (await peer.client).write('login: ');
  await con.expect(/login: /, { timeoutMs: 1000 });
});

test('console closing rejects the wait with ConsoleClosedError, after a last look at the text', async (t) => {
  const dir = tmp(t);
  const peer = await startPeer(join(dir, 's'));
  t.after(() => peer.server.close());
  const con = await openConsole({ vm: 'dut', socketPath: peer.path, dir });
  const sock = await peer.client;
  const p = con.expect(/rebooting\.\.\./, { timeoutMs: 5000 });
  sock.end('\rrebooting...\r\n');
  await p;
  const q = con.expect('more', { timeoutMs: 5000 });
  await assert.rejects(q, (e: unknown) => e instanceof ConsoleClosedError && /dut: console closed while waiting for "more"/.test(e.message));
  assert.equal(con.closed, true);
  await assert.rejects(con.send('x'), ConsoleClosedError);
});

test('openConsole retries until QEMU has created the socket', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'late.sock');
  const peerP = startPeer(path, 300);
  const con = await openConsole({ vm: 'dut', socketPath: path, dir, connectTimeoutMs: 5000 });
  const peer = await peerP;
  t.after(() => peer.server.close());
  t.after(() => con.close());
  (await peer.client).write('>> OpenBSD/amd64 CDBOOT 3.65\r\n');
  await con.expect('CDBOOT', { timeoutMs: 1000 });
});

test('openConsole gives up after its timeout with a message naming the VM and socket', async (t) => {
  const dir = tmp(t);
  await assert.rejects(
    openConsole({ vm: 'sink', socketPath: join(dir, 'none.sock'), dir, connectTimeoutMs: 200 }),
    /sink: console socket .*none\.sock did not accept a connection within 0s \(last error: ENOENT\)/,
  );
});

test('a plain chardev without a break hook says why it cannot send BREAK', async (t) => {
  const dir = tmp(t);
  const peer = await startPeer(join(dir, 's'));
  t.after(() => peer.server.close());
  const con = await openConsole({ vm: 'dut', socketPath: peer.path, dir });
  t.after(() => con.close());
  await assert.rejects(con.sendBreak(), /dut: console: cannot send BREAK: the serial chardev is not a QEMU mux/);
  let hooked = 0;
  const con2 = await openConsole({ vm: 'dut2', socketPath: peer.path, dir, breakHook: async () => void hooked++ });
  t.after(() => con2.close());
  await con2.sendBreak();
  assert.equal(hooked, 1);
});
