import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  agentCommand,
  parseAgentReply,
  parseIfconfig,
  parseNetstat,
  parseNm,
  parseProfile,
  parseSpliceStats,
  parseSysctl,
  splitTranscript,
  symbolizeFrame,
  symbolizeProfile,
} from '../../src/guest/openbsd-lab-parse.ts';

// Real serial transcripts of the lab agent (copies of ../shared/corpus/real/).
const fixture = (name: string) => readFileSync(new URL(`../fixtures/corpus/${name}`, import.meta.url), 'latin1');
const basic = splitTranscript(fixture('openbsd-lab-agent-basic-dut.txt'));
const forward = splitTranscript(fixture('openbsd-lab-agent-forward-dut.txt'));

function exchanges(list: ReturnType<typeof splitTranscript>, command: string) {
  const found = list.filter((e) => e.command === command);
  assert.ok(found.length > 0, `transcript has no "${command}"`);
  return found.map((e) => parseAgentReply(e.reply, e.command));
}

describe('splitTranscript / parseAgentReply on the real transcripts', () => {
  it('finds every command of the basic run with its status', () => {
    const cmds = basic.map((e) => e.command);
    assert.deepEqual(cmds.slice(0, 4), ['echo labinit transcript', 'help', 'sysctl kern.osrelease', 'sysctl hw.ncpu']);
    assert.equal(cmds.at(-1), 'halt');
    const echo = parseAgentReply(basic[0]!.reply, basic[0]!.command);
    assert.deepEqual(echo, { output: 'labinit transcript', ok: true, error: '' });
  });

  it('reports the agent errors with their message', () => {
    assert.deepEqual(exchanges(basic, 'bogus-command')[0], { output: '', ok: false, error: 'unknown command' });
    assert.equal(exchanges(basic, 'ifconfig nosuch0 up')[0]!.error, 'SIOCGIFFLAGS: ENXIO (6)');
    assert.equal(exchanges(basic, 'route add 192.0.2.0/24 203.0.113.1')[0]!.error, 'RTM_ADD: ENETUNREACH (51)');
    const pfOn = exchanges(basic, 'pf on');
    assert.deepEqual(
      pfOn.map((r) => r.ok),
      [true, false, true],
    );
    assert.equal(pfOn[1]!.error, 'DIOCSTART: EEXIST (17)');
  });

  it('strips the echoed command when parsing a live reply', () => {
    const r = parseAgentReply('sysctl hw.ncpu\nhw.ncpu=2\nok\nlabinit> ', 'sysctl hw.ncpu');
    assert.deepEqual(r, { output: 'hw.ncpu=2', ok: true, error: '' });
    assert.throws(() => parseAgentReply('sysctl hw.ncpu\nhw.ncpu=2\n', 'sysctl hw.ncpu'), /no ok\/error line/);
  });
});

describe('parseNetstat', () => {
  it('reads the counters after the fragmented pings (forward run, pf on)', () => {
    const snaps = exchanges(forward, 'netstat').map((r) => parseNetstat(r.output));
    assert.equal(snaps.length, 6);
    const afterFrags = snaps[2]!;
    assert.equal(afterFrags['ip.forward'], 46);
    assert.equal(afterFrags['ip.fragmented'], 40);
    assert.equal(afterFrags['ip.ofragments'], 120);
    assert.equal(afterFrags['ip.fragments'], undefined, 'pf reassembles before ip_input counts fragments');
    assert.equal(afterFrags['ip6.forward'], 126);
    assert.equal(afterFrags['ip6.ofragments'], 120);
    assert.equal(afterFrags['if.vio0.ipkts'], 142);
    assert.equal(afterFrags['if.vio0.obytes'], 168278);
    assert.equal(afterFrags['if.vio1.ibytes'], 167892);
    assert.equal(afterFrags['if.lo0.opkts'], 0);
    assert.equal(afterFrags['mbstat.mt_data'], 141);
    assert.equal(afterFrags['mbstat.mt_header'], 6);
    // pf off, 5+5 more fragmented pings: ip6 forward +30, ofragments unchanged
    const pfOff = snaps[3]!;
    assert.equal(pfOff['ip6.forward']! - afterFrags['ip6.forward']!, 30);
    assert.equal(pfOff['ip6.ofragments'], 120);
    assert.equal(pfOff['mbstat.prepend_alloc'], 30);
  });

  it('accepts an empty ip: line (basic run)', () => {
    const s = parseNetstat(exchanges(basic, 'netstat')[0]!.output);
    assert.equal(Object.keys(s).filter((k) => k.startsWith('ip.')).length, 0);
    assert.equal(s['ip6.localout'], 9);
    assert.equal(s['if.vio1.obytes'], 370);
    assert.equal(Object.keys(s).filter((k) => k.startsWith('mbstat.')).length, 17);
  });

  it('rejects output that is not the agent netstat', () => {
    assert.throws(() => parseNetstat('hello'), /no "Name Ipkts/);
    const good = exchanges(basic, 'netstat')[0]!.output;
    assert.throws(() => parseNetstat(good.replace(/^ip6:.*$/m, '')), /no "ip6:" line/);
    assert.throws(() => parseNetstat(good.replace('vio0                0', 'vio0                x')), /bad interface line/);
  });
});

describe('parseIfconfig / parseSysctl', () => {
  it('reads interfaces, flags, addresses and counters', () => {
    const all = parseIfconfig(exchanges(basic, 'ifconfig')[0]!.output);
    assert.deepEqual(
      all.map((i) => [i.name, i.index, i.mtu, i.linkState]),
      [
        ['lo0', 3, 32768, 0],
        ['vio0', 1, 1500, 6],
        ['vio1', 2, 1500, 6],
      ],
    );
    assert.equal(all[0]!.lladdr, undefined);
    const [vio0] = parseIfconfig(exchanges(forward, 'ifconfig vio0').at(-1)!.output);
    assert.equal(vio0!.flags, 0x8843);
    assert.deepEqual(vio0!.flagNames, ['UP', 'BROADCAST', 'RUNNING', 'SIMPLEX', 'MULTICAST']);
    assert.equal(vio0!.lladdr, '52:54:00:00:01:01');
    assert.deepEqual(vio0!.inet, ['192.0.2.1/24']);
    assert.deepEqual(vio0!.inet6, ['fe80::5054:ff:fe00:101/64', '2001:db8:1::1/64']);
    assert.equal(vio0!.counters.ipkts, 5569);
    assert.equal(vio0!.counters.obytes, 3569344);
  });

  it('reads sysctl listings', () => {
    const all = parseSysctl(exchanges(basic, 'sysctl')[0]!.output);
    assert.deepEqual(all, {
      'net.inet.ip.forwarding': '0',
      'net.inet6.ip6.forwarding': '0',
      'ddb.console': '1',
      'ddb.panic': '1',
      'kern.allowdt': '0',
      'kern.securelevel': '0',
      'hw.ncpu': '2',
    });
    assert.deepEqual(parseSysctl(exchanges(basic, 'sysctl kern.osrelease')[0]!.output), { 'kern.osrelease': '7.9' });
  });
});

describe('parseProfile', () => {
  it('reads the idle profile of the basic run', () => {
    const p = parseProfile(exchanges(basic, 'profile 2')[0]!.output);
    assert.equal(p.total, 402);
    assert.equal(p.probes, 463);
    assert.equal(p.pbn, 1);
    assert.equal(p.seconds, 2);
    assert.equal(p.hz, 100);
    assert.equal(p.dropevt, 0);
    assert.deepEqual(
      p.stacks.map((s) => s.count),
      [1, 2, 4, 5, 390],
    );
    assert.equal(p.stacks.reduce((a, s) => a + s.count, 0), 402);
    assert.deepEqual(p.stacks[4]!.frames, ['0xffffffff810d7158', '0xffffffff811f505c', '0xffffffff810e81e0']);
    assert.equal(p.stacks[2]!.frames.length, 11);
  });

  it('reads the loaded profile of the forward run (top 20 of 37 stacks)', () => {
    const p = parseProfile(exchanges(forward, 'profile 5')[0]!.output);
    assert.equal(p.total, 1002);
    assert.equal(p.distinctStacks, 37);
    assert.equal(p.stacks.length, 20);
    assert.equal(p.stacks.at(-1)!.count, 935);
    assert.equal(p.stacks[4]!.frames.length, 14);
  });

  it('symbolizes frames with llvm-nm -n output', () => {
    const syms = parseNm(
      ['ffffffff81001000 T start', 'ffffffff810d7000 t acpicpu_idle', 'ffffffff810d7100 D not_text', 'ffffffff811f5000 T sched_idle', '                 U undefined_sym'].join('\n'),
    );
    assert.deepEqual(
      syms.map((s) => s.name),
      ['start', 'acpicpu_idle', 'sched_idle'],
    );
    assert.equal(symbolizeFrame('0xffffffff810d7158', syms), 'acpicpu_idle+0x158');
    assert.equal(symbolizeFrame('0xffffffff811f5000', syms), 'sched_idle');
    assert.equal(symbolizeFrame('0xffffffff80000000', syms), '0xffffffff80000000');
    const p = symbolizeProfile({ total: 1, stacks: [{ frames: ['0xffffffff811f505c'], count: 1 }] }, syms);
    assert.deepEqual(p.stacks[0]!.frames, ['sched_idle+0x5c']);
  });
});

describe('agentCommand renders what the transcripts typed', () => {
  const typed = new Set([...basic, ...forward].map((e) => e.command));
  it('renders the setup commands exactly', () => {
    const rendered = [
      agentCommand.ifconfigShow(),
      agentCommand.ifconfigShow('vio0'),
      agentCommand.ifconfigAddr('vio0', '192.0.2.1/24'),
      agentCommand.ifconfigAddr('vio0', '2001:db8:1::1/64'),
      agentCommand.ifconfigAddr('vio1', '198.51.100.1/24'),
      agentCommand.ifconfigUp('vio1'),
      agentCommand.routeAdd('203.0.113.0/24', '198.51.100.2'),
      agentCommand.routeAdd('2001:db8:3::/48', '2001:db8:2::2'),
      agentCommand.sysctlSet('net.inet.ip.forwarding', 1),
      agentCommand.sysctlSet('net.inet6.ip6.forwarding', '1'),
      agentCommand.sysctlSet('kern.allowdt', 1),
      agentCommand.sysctlGet('ddb.panic'),
      agentCommand.sysctlGet(),
      agentCommand.pf(true),
      agentCommand.pf(false),
      agentCommand.netstat(),
      agentCommand.profile(2),
      agentCommand.profile(5),
      agentCommand.sleep(3),
      agentCommand.ddb(),
      agentCommand.halt(),
    ];
    for (const r of rendered) assert.ok(typed.has(r), `"${r}" was not typed in the real transcripts`);
    assert.equal(agentCommand.ifconfigMtu('vio0', 1400), 'ifconfig vio0 mtu 1400');
    assert.equal(agentCommand.routeAdd('default', '192.0.2.2'), 'route add default 192.0.2.2');
    assert.equal(agentCommand.profile(2, 5), 'profile 2 5');
  });

  it('refuses arguments that would break the one-line protocol', () => {
    assert.throws(() => agentCommand.ifconfigAddr('vio0', '192.0.2.1'), /not ADDR\/LEN/);
    assert.throws(() => agentCommand.ifconfigAddr('vio0; halt', '192.0.2.1/24'), /bad interface/);
    assert.throws(() => agentCommand.sysctlSet('kern.osrelease', 'x y'), /integers only/);
    assert.throws(() => agentCommand.routeAdd('203.0.113.0/24', '198.51.100.2 extra'), /bad gateway/);
    assert.throws(() => agentCommand.echo('a\nhalt'), /newline/);
    assert.throws(() => agentCommand.profile(0), /outside 1\.\.3600/);
    assert.throws(() => agentCommand.ifconfigMtu('vio0', 20), /bad mtu/);
  });
});

describe('the splice relay (splice.c) on a real run', () => {
  // The DUT console of a real mbuf-extref-lab-ci run (fixtures/guest/README.md).
  const run = splitTranscript(readFileSync(new URL('../fixtures/guest/openbsd-lab-splice-dut.txt', import.meta.url), 'latin1'));

  it('renders the start command the agent answered there', () => {
    // Kernel messages (e.g. arpresolve) can come between the prompt and the echo of a command.
    const text = run.map((e) => `${e.command}\n${e.reply}`).find((t) => /^splice start /m.test(t))!;
    const command = /^splice start .*$/m.exec(text)![0];
    assert.equal(agentCommand.spliceStart(5201, '2001:db8:2::2', 5201, 65), command);
    assert.match(parseAgentReply(text.slice(text.indexOf(command) + command.length + 1), command).output, /^splice: relay pid \d+$/);
    assert.throws(() => agentCommand.spliceStart(0, '192.0.2.2', 5201, 5), /port 0 outside/);
    assert.throws(() => agentCommand.spliceStart(5201, '192.0.2.2; halt', 5201, 5), /bad splice target/);
    assert.throws(() => agentCommand.spliceStart(5201, '192.0.2.2', 5201, 0), /seconds 0 outside/);
  });

  it('reads the counters of "splice stop"', () => {
    const stop = run.find((e) => e.command === agentCommand.spliceStop())!;
    const reply = parseAgentReply(stop.reply, stop.command);
    assert.equal(reply.ok, true);
    // Values as printed in the transcript: iperf3 -P 4 is one control and four data connections.
    assert.deepEqual(parseSpliceStats(reply.output), {
      state: 'ended',
      accepted: 5,
      connected: 5,
      connectFailed: 0,
      spliceFailed: 0,
      bytes: 17947278,
    });
  });

  it('ignores lines that are not counters, and a cut-off transcript keeps what it has', () => {
    assert.deepEqual(parseSpliceStats('splice: relay killed\nsplice state running\nsplice accepted 3\nsplice byt'), { state: 'running', accepted: 3 });
    assert.deepEqual(parseSpliceStats(''), {});
  });
});
