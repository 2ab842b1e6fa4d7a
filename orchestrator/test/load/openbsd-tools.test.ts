import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseTcpbench, tcpbenchClientCommand, tcpbenchServerCommand, tcpbenchMeasurements } from '../../src/load/tcpbench.ts';
import { KSTACK_PROFILE_SCRIPT, btraceProfileCommand, parseKstackMap } from '../../src/load/btrace.ts';
import { parseNetstatM, parseNetstatS } from '../../src/load/netstat.ts';

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../fixtures/openbsd-tools/${name}`, import.meta.url)), 'utf8');

test('tcpbench client summary (real output, see SOURCES.md)', () => {
  const s = parseTcpbench(fixture('tcpbench-client-n4.txt'));
  assert.equal(s.bytes, 445265160);
  assert.equal(s.direction, 'sent');
  assert.equal(s.seconds, 15.352);
  assert.deepEqual(s.mbps, { min: 127.436, avg: 232.681, max: 367.652, stddev: 65.268 });
  assert.deepEqual(s.slices, [
    { conns: 4, mbps: 367.652 },
    { conns: 4, mbps: 241.68 },
  ]);
  const [tp] = tcpbenchMeasurements(s, 'tcp4');
  assert.equal(tp!.name, 'tcp4.throughput');
  assert.ok(Math.abs(tp!.value - (445265160 * 8) / 15.352) < 1e-6);
});

test('tcpbench periodic server output without summary is an error that shows the tail', () => {
  const text = fixture('tcpbench-server-periodic.txt');
  assert.throws(() => parseTcpbench(text), /no summary[\s\S]*Peak Mbps:\s+36394\.719/);
});

test('tcpbench command lines follow tcpbench(1) SYNOPSIS', () => {
  // tcpbench(1) SYNOPSIS: tcpbench [-46cDRUuv] ... [-n connections] [-p port] ... [-t secs] ... hostname
  assert.equal(tcpbenchClientCommand({ seconds: 10, streams: 4, address: '198.51.100.2' }), 'tcpbench -n 4 -t 10 198.51.100.2');
  assert.equal(tcpbenchClientCommand({ seconds: 5, streams: 1, address: '2001:db8:2::2', port: 12346 }), 'tcpbench -n 1 -t 5 -p 12346 2001:db8:2::2');
  // -n is TCP only ("UDP is connectionless so this option isn't valid")
  assert.equal(tcpbenchClientCommand({ seconds: 5, streams: 4, address: '192.0.2.1', udp: true }), 'tcpbench -u -t 5 192.0.2.1');
  // tcpbench -s [-46cDUuv] ... [-p port]
  assert.equal(tcpbenchServerCommand(), 'tcpbench -s');
  assert.equal(tcpbenchServerCommand({ family: 6, port: 12346 }), 'tcpbench -s -6 -p 12346');
  assert.throws(() => tcpbenchClientCommand({ seconds: 0, streams: 1, address: '192.0.2.1' }), /seconds must be/);
  assert.throws(() => tcpbenchClientCommand({ seconds: 1, streams: 1, address: 'host; rm -rf /' }), /literal IPv4\/IPv6/);
});

test('kstack map from a real dt(4) profile on the lab DUT (counts checked with awk)', () => {
  const p = parseKstackMap(fixture('dt-profile-kstack-lab.txt'));
  // grep -c '^@\[' → 20 stacks; awk sum of "]: N" → 985
  assert.equal(p.stacks.length, 20);
  assert.equal(p.total, 985);
  assert.deepEqual(p.stacks[0]!.frames, [
    '0xffffffff810729b0',
    '0xffffffff811fc251',
    '0xffffffff8102a312',
    '0xffffffff8112994c',
    '0xffffffff810e81e0',
  ]);
  assert.deepEqual(p.stacks.at(-1), { frames: ['0xffffffff810d7158', '0xffffffff811f505c', '0xffffffff810e81e0'], count: 935 });
});

test('kstack map: truncated output names the line of the open stack', () => {
  assert.throws(() => parseKstackMap('@[\n\tip_forward+0x10\n'), /line 1: stack opened/);
});

test('btrace command: a bt(5) kstack profile, interrupted after N seconds', () => {
  // bt(5): probe "profile:hz:N", variable kstack, map @[key] = count(); btrace(8) -e takes the program as an argument
  assert.equal(KSTACK_PROFILE_SCRIPT, 'profile:hz:100 { @[kstack] = count(); }');
  assert.equal(
    btraceProfileCommand(5),
    "btrace -e 'profile:hz:100 { @[kstack] = count(); }' & pid=$!; sleep 5; kill -INT $pid; wait $pid",
  );
  assert.throws(() => btraceProfileCommand(0), /seconds must be/);
});

test('netstat -m (real OpenBSD output, prefetch.net 2005)', () => {
  const c = parseNetstatM(fixture('netstat-m-openbsd-2005.txt'));
  assert.equal(c['mbuf.inuse'], 136);
  assert.equal(c['mbuf.type.data'], 129);
  assert.equal(c['mbuf.type.packet_headers'], 3);
  assert.equal(c['mbuf.type.socket_names_and_addresses'], 4);
  assert.equal(c['mbuf.clusterpages.current'], 33);
  assert.equal(c['mbuf.clusterpages.peak'], 56);
  assert.equal(c['mbuf.clusterpages.max'], 256);
  assert.equal(c['mbuf.kbytes'], 576);
  assert.equal(c['mbuf.kbytes.inuse_pct'], 50);
  assert.equal(c['mbuf.requests.denied'], 0);
  assert.equal(c['mbuf.drain_calls'], 0);
  assert.throws(() => parseNetstatM('netstat: kvm_openfiles: Permission denied\n'), /no "N mbufs in use"/);
});

test('netstat -s nested BSD layout (real tcp section, see SOURCES.md)', () => {
  const c = parseNetstatS(fixture('netstat-s-tcp-bsd.txt'));
  assert.equal(c['tcp.packets_sent'], 2297743863);
  assert.equal(c['tcp.packets_sent.data_packets'], 1894335235);
  assert.equal(c['tcp.packets_sent.data_packets.bytes'], 4174750982);
  assert.equal(c['tcp.packets_sent.data_packets_retransmitted'], 97659);
  assert.equal(c['tcp.packets_received'], 2327771480);
  assert.equal(c['tcp.packets_received.acks'], 1819079473);
  assert.equal(c['tcp.packets_received.acks.bytes'], 4189084431);
  assert.equal(c['tcp.connection_requests'], 2536043);
  assert.equal(c['tcp.connections_closed.connections_updated_cached_ssthresh_on_close'], 805);
  assert.equal(c['tcp.embryonic_connections_dropped'], 678657);
});

test('udpbench summary lines (real send/recv output, see SOURCES.md)', async () => {
  const { parseUdpbench, udpbenchMeasurements } = await import('../../src/load/udpbench.ts');
  const send = parseUdpbench(fixture('udpbench-send-loopback.txt'));
  const recv = parseUdpbench(fixture('udpbench-recv-loopback.txt'));
  assert.deepEqual(send, { action: 'send', syscalls: 19994, packets: 19994, payload: 1000, ip: 1028, ether: 1066, durationSec: 1.000002, bitsPerSec: 1.705085e8 });
  assert.equal(recv.action, 'recv');
  assert.equal(recv.packets, 16298);
  assert.equal(recv.bitsPerSec, 1.395512e8);
  const [tp, , loss] = udpbenchMeasurements(send, recv, 'udp4');
  assert.equal(tp!.name, 'udp4.throughput');
  assert.equal(tp!.value, 1.395512e8);
  assert.ok(Math.abs(loss!.value - (100 * (19994 - 16298)) / 19994) < 1e-9);
  assert.throws(() => parseUdpbench('udpbench: bind: Address already in use\n'), /no "send:" or "recv:" summary/);
});

test('udpbench command lines follow udpbench(1) SYNOPSIS', async () => {
  const { udpbenchCommand } = await import('../../src/load/udpbench.ts');
  // udpbench(1): udpbench [-DGHw] ... [-l length] ... [-P packetrate] [-p port] ... [-t timeout] send | recv [hostname]
  assert.equal(udpbenchCommand({ action: 'recv', seconds: 12, length: 1000, port: 12345, address: '198.51.100.2' }), 'udpbench -l1000 -p12345 -t12 recv 198.51.100.2');
  assert.equal(
    udpbenchCommand({ action: 'send', seconds: 10, length: 1472, port: 12345, address: '2001:db8:2::2', packetRate: 20000 }),
    'udpbench -l1472 -p12345 -t10 -P20000 send 2001:db8:2::2',
  );
  assert.throws(() => udpbenchCommand({ action: 'recv', seconds: 1, length: 1, port: 1, address: '192.0.2.1', packetRate: 5 }), /sending side/);
});

test('tcpbench and udpbench generators drive both ends and save the raw output', async () => {
  const { tcpbenchGenerator } = await import('../../src/load/tcpbench.ts');
  const { udpbenchGenerator } = await import('../../src/load/udpbench.ts');
  type Res = import('../../src/guest/adapter.ts').CommandResult;
  const log: string[] = [];
  const result = (command: string, stdout: string): Res => ({ vm: 'x', command, exitCode: 0, stdout, stderr: '', durationMs: 1 });
  const shell = (vm: string, outputs: Record<string, string>) => ({
    async exec(command: string) {
      log.push(`${vm} exec ${command}`);
      return result(command, outputs[command.split(' ')[0]!] ?? '');
    },
    async start(command: string) {
      log.push(`${vm} start ${command}`);
      return {
        command,
        wait: async () => (log.push(`${vm} wait`), result(command, outputs[command.split(' ')[0]!] ?? '')),
        stop: async () => (log.push(`${vm} stop`), result(command, '')),
      };
    },
  });
  const artifacts: string[] = [];
  const base = {
    saveArtifact: async (name: string) => void artifacts.push(name),
    signal: new AbortController().signal,
  };
  const vm = { name: 'src' } as import('../../src/playbook/plan-types.ts').PlannedVm;
  const tcp = await tcpbenchGenerator.run({
    ...base,
    load: { name: 'fwd4', generator: 'tcpbench', from: 'src', to: 'dst', durationSec: 15, params: { streams: 4 }, group: 0 },
    from: { vm, shell: shell('src', { tcpbench: fixture('tcpbench-client-n4.txt') }) },
    to: { vm, shell: shell('dst', {}), address: '198.51.100.2/24' },
  });
  // Named after the phase, like every generator's measurements.
  assert.equal(tcp[0]!.name, 'fwd4.throughput');
  assert.deepEqual(log.splice(0), ['dst start tcpbench -s', 'src exec tcpbench -n 4 -t 15 198.51.100.2', 'dst stop']);
  // Through a splice relay the client connects to the relay; the server stays on "to".
  await tcpbenchGenerator.run({
    ...base,
    load: { name: 'splice4', generator: 'tcpbench', from: 'src', to: 'dst', via: 'dut', durationSec: 15, params: { streams: 4 }, group: 0 },
    from: { vm, shell: shell('src', { tcpbench: fixture('tcpbench-client-n4.txt') }) },
    to: { vm, shell: shell('dst', {}), address: '198.51.100.2/24' },
    relay: { vm: 'dut', address: '192.0.2.1' },
  });
  assert.deepEqual(log.splice(0), ['dst start tcpbench -s', 'src exec tcpbench -n 4 -t 15 192.0.2.1', 'dst stop']);
  assert.equal(tcpbenchGenerator.serverPort!({ name: 'x', generator: 'tcpbench', from: 'a', durationSec: 1, params: {}, group: 0 }), 12345);
  const udp = await udpbenchGenerator.run({
    ...base,
    load: { name: 'udp6', generator: 'udpbench', from: 'src', to: 'dst', durationSec: 1, params: { length: 1000 }, group: 0 },
    from: { vm, shell: shell('src', { udpbench: fixture('udpbench-send-loopback.txt') }) },
    to: { vm, shell: shell('dst', { udpbench: fixture('udpbench-recv-loopback.txt') }), address: '2001:db8:2::2/64' },
  });
  assert.deepEqual(udp.map((m) => m.name), ['udp6.throughput', 'udp6.send-rate', 'udp6.loss']);
  assert.deepEqual(log, ['dst start udpbench -l1000 -p12345 -t3 recv 2001:db8:2::2', 'src exec udpbench -l1000 -p12345 -t1 send 2001:db8:2::2', 'dst wait']);
  assert.deepEqual(artifacts, ['fwd4-tcpbench.txt', 'splice4-tcpbench.txt', 'udp6-udpbench.txt']);
});

test('splice relay: relayd.conf(5) relay block and relayd(8) check/run commands', async () => {
  const { renderRelaydConf, relaydCommands } = await import('../../src/guest/openbsd-relayd.ts');
  // relayd.conf(5) EXAMPLES: relay sshforward { ... listen on www.example.com port 2222 / forward to shell.example.com port 22 }
  assert.equal(
    renderRelaydConf({ name: 'splice', listen: { address: '192.0.2.1', port: 12345 }, forward: { address: '198.51.100.2', port: 12345 } }),
    'relay splice {\n\tlisten on 192.0.2.1 port 12345\n\tforward to 198.51.100.2 port 12345\n}\n',
  );
  assert.deepEqual(relaydCommands(), { check: 'relayd -n -f /etc/relayd.obsdlab.conf', run: 'relayd -d -f /etc/relayd.obsdlab.conf' });
  assert.throws(() => renderRelaydConf({ name: 'x', listen: { address: 'dut', port: 1 }, forward: { address: '192.0.2.1', port: 1 } }), /not an IP address/);
});

test('btrace maps: named map printed by print() between printf() lines (OpenBSD regress map.ok, see SOURCES.md)', async () => {
  const { parseBtraceMaps } = await import('../../src/load/btrace.ts');
  const entries = parseBtraceMaps(fixture('btrace-regress-map.txt'));
  // the eight "@map[K]: V" lines of the file, in order; the "=> ..." printf() lines are not entries
  assert.deepEqual(
    entries.map((e) => [e.map, e.key, e.value]),
    [
      ['@map', '7', 1],
      ['@map', '7', 0],
      ['@map', '4', 9999],
      ['@map', '897123', 9997],
      ['@map', '4', 9999],
      ['@map', '897123', 9997],
      ['@map', '5', 42],
      ['@map', '7', 2],
    ],
  );
  assert.ok(entries.every((e) => e.kind === 'map' && e.frames === undefined));
});

test('btrace maps: anonymous map, maps printed at exit, a hist() bucket (OpenBSD regress .ok files)', async () => {
  const { parseBtraceMaps } = await import('../../src/load/btrace.ts');
  assert.deepEqual(parseBtraceMaps(fixture('btrace-regress-map-unnamed.txt')), [
    { map: '@', kind: 'map', key: '7', value: 1 },
    { map: '@', kind: 'map', key: '7', value: 2 },
  ]);
  // mapoverwrite.bt also sets the scalar @counter: btrace prints only maps at exit
  assert.deepEqual(
    parseBtraceMaps(fixture('btrace-regress-mapoverwrite.txt')).map((e) => `${e.map}[${e.key}]=${e.value}`),
    ['@map[3]=33', '@map[1]=22', '@map[0]=11'],
  );
  // "@h:" then one bucket line; the printf() lines after it end the histogram
  assert.deepEqual(parseBtraceMaps(fixture('btrace-regress-histempty.txt')), [{ map: '@h', kind: 'hist', key: '[0, 1)', value: 1 }]);
});

test('btrace maps: multi-line stack keys of the lab kstack profile, joined with ";" in printed order', async () => {
  const { parseBtraceMaps } = await import('../../src/load/btrace.ts');
  const entries = parseBtraceMaps(fixture('dt-profile-kstack-lab.txt'));
  // grep -c '^@\[' → 20 stacks; awk sum of "]: N" → 985 (as in the kstack test above)
  assert.equal(entries.length, 20);
  assert.equal(entries.reduce((s, e) => s + e.value, 0), 985);
  assert.deepEqual(entries[0], {
    map: '@',
    kind: 'map',
    key: '0xffffffff810729b0;0xffffffff811fc251;0xffffffff8102a312;0xffffffff8112994c;0xffffffff810e81e0',
    frames: ['0xffffffff810729b0', '0xffffffff811fc251', '0xffffffff8102a312', '0xffffffff8112994c', '0xffffffff810e81e0'],
    value: 1,
  });
  assert.equal(entries.at(-1)!.key, '0xffffffff810d7158;0xffffffff811f505c;0xffffffff810e81e0');
  assert.equal(entries.at(-1)!.value, 935);
});

test('btrace maps: cut-off output keeps what is complete; an unclosed stack names its line', async () => {
  const { parseBtraceMaps, ProfileParseError } = await import('../../src/load/btrace.ts');
  const map = fixture('btrace-regress-map.txt');
  // a last line cut anywhere is trailing garbage, not an error
  for (const tail of ['@map[12', '@map[4]: ', '@h:\n[0, 1)      ', '[4, 8)  3 |@@']) {
    assert.equal(parseBtraceMaps(map + tail).length, 8, JSON.stringify(tail));
  }
  // the lab profile cut after its 12th line: the second stack opened on line 9 never closes
  const cut = fixture('dt-profile-kstack-lab.txt').split('\n').slice(0, 12).join('\n');
  assert.throws(() => parseBtraceMaps(cut), (e: unknown) => e instanceof ProfileParseError && e.line === 9 && /line 9: stack opened by "@\[" is never closed/.test(e.message));
  assert.throws(() => parseBtraceMaps('=> start\n@map[4]: 1\n@stacks[\n\tip_output+0x10\n'), /line 3: stack opened by "@stacks\[" is never closed/);
});

test('btrace script command: the program survives shell quoting, runs for N seconds, exit status and cleanup (run here with a stand-in btrace)', async () => {
  const { btraceScriptCommand } = await import('../../src/load/btrace.ts');
  const { execFileSync, spawnSync } = await import('node:child_process');
  const { mkdtempSync, writeFileSync, existsSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const script = `BEGIN { printf("it's $1 and \`id\` %d\\n", $2); @['a b'] = count(); }\n`;
  const cmd = btraceScriptCommand(script, 1);
  assert.match(cmd, /^f=\$\(mktemp \/tmp\/obsdlab-bt\.X+\) && printf '%s' '/);
  assert.match(cmd, /btrace "\$f" & pid=\$!; sleep 1; kill -INT \$pid 2>\/dev\/null; wait \$pid; rc=\$\?; rm -f "\$f"; \(exit \$rc\); \}$/);
  assert.throws(() => btraceScriptCommand(script, 0), /seconds must be 1\.\.3600/);
  assert.throws(() => btraceScriptCommand(script, 3601), /seconds must be 1\.\.3600/);
  // A stand-in btrace that prints the program file it was given, names it on stderr, and exits 3.
  const bin = mkdtempSync(join(tmpdir(), 'obsdlab-fake-btrace-'));
  try {
    writeFileSync(join(bin, 'btrace'), '#!/bin/sh\ncat "$1"\necho "$1" >&2\nexit 3\n', { mode: 0o755 });
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const res = spawnSync('/bin/sh', ['-c', cmd], { env, encoding: 'utf8' });
    assert.equal(res.stdout, script);
    assert.equal(res.status, 3);
    const file = res.stderr.trim();
    assert.match(file, /^\/tmp\/obsdlab-bt\./);
    assert.equal(existsSync(file), false);
    writeFileSync(join(bin, 'btrace'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    assert.equal(execFileSync('/bin/sh', ['-c', `${btraceScriptCommand('x', 1)}; echo rc=$?`], { env, encoding: 'utf8' }), 'rc=0\n');
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});

test('btrace generator: runs params.script for the phase, saves the output, measures the maps', async () => {
  const { btraceGenerator, btraceMeasurements, BTRACE_MAX_ENTRIES_PER_MAP } = await import('../../src/load/btrace-generator.ts');
  const { parseBtraceMaps } = await import('../../src/load/btrace.ts');
  type Res = import('../../src/guest/adapter.ts').CommandResult;
  const calls: { command: string; timeoutMs: number }[] = [];
  const shellWith = (stdout: string, exitCode = 0, stderr = '') => ({
    async exec(command: string, timeoutMs: number): Promise<Res> {
      calls.push({ command, timeoutMs });
      return { vm: 'dut', command, exitCode, stdout, stderr, durationMs: 1 };
    },
    async start(): Promise<never> {
      throw new Error('btrace runs in the foreground');
    },
  });
  const artifacts: Record<string, string> = {};
  const vm = { name: 'dut', guest: 'openbsd' } as import('../../src/playbook/plan-types.ts').PlannedVm;
  const script = 'interval:hz:100 { @map[0] = 11; }';
  const ctx = (stdout: string, params: Record<string, string | number | boolean>, exitCode = 0, stderr = '') => ({
    load: { name: 'bt', generator: 'btrace', from: 'dut', durationSec: 7, params, group: 0 },
    from: { vm, shell: shellWith(stdout, exitCode, stderr) },
    saveArtifact: async (name: string, content: string) => void (artifacts[name] = content),
    signal: new AbortController().signal,
  });
  assert.deepEqual(btraceGenerator.guests, ['openbsd']);
  const m = await btraceGenerator.run(ctx(fixture('btrace-regress-mapoverwrite.txt'), { script }));
  assert.deepEqual(m, [
    { name: 'bt.@map', value: 33, unit: 'count', labels: { key: '3' } },
    { name: 'bt.@map', value: 22, unit: 'count', labels: { key: '1' } },
    { name: 'bt.@map', value: 11, unit: 'count', labels: { key: '0' } },
  ]);
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.timeoutMs, (7 + 60) * 1000);
  assert.ok(calls[0]!.command.includes(`printf '%s' '${script}'`) && calls[0]!.command.includes('sleep 7;'));
  assert.ok(artifacts['bt-btrace.txt']!.endsWith(fixture('btrace-regress-mapoverwrite.txt')));

  // print() showed @map four times: each key keeps its last value (7 was 1, then 0, then 2)
  assert.deepEqual(
    btraceMeasurements(parseBtraceMaps(fixture('btrace-regress-map.txt')), 'x').map((e) => [e.name, e.labels?.key, e.value]),
    [
      ['x.@map', '4', 9999],
      ['x.@map', '897123', 9997],
      ['x.@map', '5', 42],
      ['x.@map', '7', 2],
    ],
  );
  assert.deepEqual(btraceMeasurements(parseBtraceMaps(fixture('btrace-regress-histempty.txt')), 'x'), [{ name: 'x.@h', value: 1, unit: 'count', labels: { key: '[0, 1)' } }]);
  // the lab profile has 20 stacks; the anonymous map is "<phase>.@", the largest first
  const prof = btraceMeasurements(parseBtraceMaps(fixture('dt-profile-kstack-lab.txt')), 'p');
  assert.equal(prof.length, 20);
  assert.equal(prof[0]!.value, 935);
  assert.equal(BTRACE_MAX_ENTRIES_PER_MAP, 50);
  assert.equal(btraceMeasurements(Array.from({ length: 60 }, (_, i) => ({ map: '@n', kind: 'map' as const, key: String(i), value: i })), 'c').length, 50);
  assert.equal(btraceMeasurements([{ map: '@', kind: 'map', value: 4 }], 'c')[0]!.labels, undefined);
  // the anonymous @ and a map named @map keep apart
  assert.deepEqual(btraceMeasurements([{ map: '@', kind: 'map', value: 4 }, { map: '@map', kind: 'map', value: 5 }], 'c').map((e) => e.name), ['c.@', 'c.@map']);

  // btrace failing (e.g. kern.allowdt=0) is an error with its message; the output is still saved
  await assert.rejects(btraceGenerator.run(ctx('', { script }, 1, 'btrace: /dev/dt: Operation not permitted\n')), /dut: btrace exited 1: btrace: \/dev\/dt: Operation not permitted/);
  assert.ok('bt-btrace.txt' in artifacts);
  await assert.rejects(btraceGenerator.run(ctx('', {})), /btrace needs params.script/);
  await assert.rejects(btraceGenerator.run(ctx('', { script: 'BEGIN {}\0' })), /NUL/);
  await assert.rejects(btraceGenerator.run(ctx('', { script: `/*${'x'.repeat(64 * 1024)}*/` })), /at most 65536/);
  assert.equal(calls.length, 2);
});
