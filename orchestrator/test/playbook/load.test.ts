import { strict as assert } from 'node:assert';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadPlaybook, parsePlaybook, type LoadOptions } from '../../src/playbook/load.ts';
import { formatPath, formatProblem, PlaybookError, type Problem } from '../../src/playbook/problems.ts';

const FILE = '/tmp/obsdlab-test/pb.yaml';

/** Problems of a playbook text (fails the test if it is accepted). */
function problemsOf(text: string, opts: Omit<LoadOptions, 'checkFiles'> & { checkFiles?: boolean } = {}): Problem[] {
  try {
    parsePlaybook(text, FILE, { checkFiles: false, ...opts });
  } catch (err) {
    assert.ok(err instanceof PlaybookError, `expected PlaybookError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('playbook was accepted');
}

function find(problems: Problem[], path: string): Problem {
  const p = problems.find((x) => x.path === path);
  assert.ok(p, `no problem at ${path}; got:\n${problems.map(formatProblem).join('\n')}`);
  return p;
}

function at(problems: Problem[], path: string, line: number, column: number, message: RegExp): void {
  const p = find(problems, path);
  assert.deepEqual([p.line, p.column], [line, column], `position of ${path}: ${formatProblem(p)}`);
  assert.match(p.message, message);
}

// Two test guests joined by one link: the smallest valid playbook.
const VALID = [
  'name: t', //                      1
  'kernels:', //                     2
  '  linux: {kernel: vmlinuz}', //   3
  'vms:', //                         4
  '  a:', //                         5
  '    guest: testguest', //         6
  '    kernel: linux', //            7
  '    nics:', //                    8
  '      - link: ab', //             9
  '        addrs: [192.0.2.1/24]', // 10
  '  b:', //                         11
  '    guest: testguest', //         12
  '    kernel: linux', //            13
  '    nics:', //                    14
  '      - link: ab', //             15
  '        addrs: [192.0.2.2/24]', // 16
].join('\n');

describe('playbook loading', () => {
  it('accepts the minimal playbook', () => {
    const loaded = parsePlaybook(VALID, FILE, { checkFiles: false });
    assert.equal(loaded.playbook.name, 't');
    assert.equal(loaded.file, FILE);
  });

  it('reports YAML syntax errors with their position', () => {
    const problems = problemsOf(['name: t', 'kernels: {}', 'name: u'].join('\n'));
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.line, 3);
    assert.equal(problems[0]!.column, 1);
    assert.match(problems[0]!.message, /^YAML: .*unique/);
  });

  it('reports an unclosed flow sequence as a YAML error, not a schema error', () => {
    const problems = problemsOf(['name: t', 'kernels: {}', 'vms: [a, b', 'x: 1'].join('\n'));
    assert.ok(problems.length >= 1);
    assert.ok(problems.every((p) => p.message.startsWith('YAML: ')));
    assert.ok(problems.every((p) => p.line >= 3));
  });

  it('reports every schema problem at the offending value or key', () => {
    const text = [
      'name: t', //                        1
      'kernels:', //                       2
      '  linux: {kernel: vmlinuz}', //     3
      'vms:', //                           4
      '  a:', //                           5
      '    guest: freebsd', //             6
      '    kernel: linux', //              7
      '    cpus: two', //                  8
      '    memory: 12X', //                9
      '    colour: red', //                10
      '    nics:', //                      11
      '      - link: ab', //               12
      '        mtu: 100', //               13
      '  b:', //                           14
      '    guest: testguest', //           15
      'order: {random: -1}', //            16
    ].join('\n');
    const problems = problemsOf(text);
    at(problems, 'vms.a.guest', 6, 12, /must be one of "testguest", "openbsd", "openbsd-lab", not "freebsd"/);
    at(problems, 'vms.a.cpus', 8, 11, /must be an integer, not "two"/);
    at(problems, 'vms.a.memory', 9, 13, /must be MiB as a number, or a size such as "512M" or "1G", not "12X"/);
    at(problems, 'vms.a.colour', 10, 5, /unknown key "colour"; allowed keys: guest, cpus/);
    at(problems, 'vms.a.nics[0].mtu', 13, 14, /must be >= 576, not 100/);
    at(problems, 'vms.b', 15, 5, /missing required key "kernel"/);
    at(problems, 'order.random', 16, 17, /must be >= 0, not -1/);
    assert.equal(problems.length, 7, problems.map(formatProblem).join('\n'));
    // file order
    assert.deepEqual(
      problems.map((p) => p.line),
      [...problems.map((p) => p.line)].sort((x, y) => x - y),
    );
  });

  it('reports schema and semantic problems together, dropping semantic noise about malformed values', () => {
    const text = [
      'name: t', //                                  1
      'kernels:', //                                 2
      '  linux: {kernel: vmlinuz, colour: red}', //  3
      'vms:', //                                     4
      '  a:', //                                     5
      '    guest: testguest', //                     6
      '    kernel: linux', //                        7
      '    cpus: 0', //                              8
      '    nics: [{link: ab, addrs: [10.0.0.1/8]}]', // 9
    ].join('\n');
    const problems = problemsOf(text);
    at(problems, 'kernels.linux.colour', 3, 28, /unknown key "colour"/);
    at(problems, 'vms.a.cpus', 8, 11, /must be >= 1, not 0/);
    at(problems, 'vms.a.nics[0].link', 9, 19, /link "ab" must join exactly two NICs, but 1 use it/);
    at(problems, 'vms.a.nics[0].addrs[0]', 9, 31, /10\.0\.0\.1\/8 is outside/);
    assert.equal(problems.length, 4, problems.map(formatProblem).join('\n'));
  });

  it('picks the union branch the author meant', () => {
    const text = [
      'name: t', //                                       1
      'kernels:', //                                      2
      '  k:', //                                          3
      '    source: {git: ../sys.bundle, rev: 7}', //      4
      '    config: LAB', //                               5
      '    builder: {ssh: "bluhm@ot1:22", key: 5}', //    6
      'vms: {}', //                                       7
    ].join('\n');
    const problems = problemsOf(text);
    at(problems, 'kernels.k.source.rev', 4, 39, /must be a string, not 7/);
    at(problems, 'kernels.k.builder.key', 6, 41, /must be a string, not 5/);
    assert.equal(problems.length, 2, problems.map(formatProblem).join('\n'));
  });

  it('reports a union that matches no branch once', () => {
    const text = VALID.replace('    kernel: linux\n    nics:\n      - link: ab\n        addrs: [192.0.2.1/24]', '    kernel: linux\n    forwarding: maybe\n    nics:\n      - link: ab\n        addrs: [192.0.2.1/24]');
    const problems = problemsOf(text);
    assert.equal(problems.length, 1);
    at(problems, 'vms.a.forwarding', 8, 17, /must be true, false or \{inet: BOOL, inet6: BOOL\}, not "maybe"/);
  });

  it('rejects addresses outside the documentation ranges, with the address path', () => {
    const text = [
      'name: t', //                                    1
      'kernels:', //                                   2
      '  linux: {kernel: vmlinuz}', //                 3
      'vms:', //                                       4
      '  dut:', //                                     5
      '    guest: testguest', //                       6
      '    kernel: linux', //                          7
      '    nics:', //                                  8
      '      - link: ab', //                           9
      '        addrs: [192.0.2.1/24]', //              10
      '      - link: cd', //                           11
      '        addrs: [10.1.2.3/8, "2001:db9::1/64"]', // 12
      '    routes:', //                                13
      '      - dest: 0.0.0.0/0', //                    14
      '        gateway: 8.8.8.8', //                   15
      '  b:', //                                       16
      '    guest: testguest', //                       17
      '    kernel: linux', //                          18
      '    nics:', //                                  19
      '      - {link: ab, addrs: [192.0.2.0/16]}', //  20
      '      - {link: cd, addrs: [198.51.100.2/24]}', // 21
    ].join('\n');
    const problems = problemsOf(text);
    at(problems, 'vms.dut.nics[1].addrs[0]', 12, 17, /10\.1\.2\.3\/8 is outside the documentation ranges/);
    at(problems, 'vms.dut.nics[1].addrs[1]', 12, 29, /2001:db9::1\/64 is outside the documentation ranges/);
    at(problems, 'vms.dut.routes[0].dest', 14, 15, /0\.0\.0\.0\/0 is outside/);
    at(problems, 'vms.dut.routes[0].gateway', 15, 18, /8\.8\.8\.8 is outside/);
    at(problems, 'vms.b.nics[0].addrs[0]', 20, 28, /prefix \/16 reaches outside 192\.0\.2\.0\/24/);
    assert.equal(problems.length, 5, problems.map(formatProblem).join('\n'));
  });

  it('checks MTU against IPv6 and gateways against the VM links', () => {
    const text = [
      'name: t', //                                              1
      'kernels:', //                                             2
      '  linux: {kernel: vmlinuz}', //                           3
      'vms:', //                                                 4
      '  a:', //                                                 5
      '    guest: testguest', //                                 6
      '    kernel: linux', //                                    7
      '    nics:', //                                            8
      '      - {link: ab, addrs: ["2001:db8:1::1/64"], mtu: 1000}', // 9
      '    routes:', //                                          10
      '      - {dest: 198.51.100.0/24, gateway: 203.0.113.1}', // 11
      '      - {dest: "2001:db8:2::/64", gateway: 192.0.2.1}', // 12
      '  b:', //                                                 13
      '    guest: testguest', //                                 14
      '    kernel: linux', //                                    15
      '    nics:', //                                            16
      '      - {link: ab, addrs: ["2001:db8:1::2/64"]}', //      17
    ].join('\n');
    const problems = problemsOf(text);
    at(problems, 'vms.a.nics[0].mtu', 9, 54, /MTU 1000 is below 1280/);
    at(problems, 'vms.a.routes[0].gateway', 11, 42, /gateway 203\.0\.113\.1 is on none of a's links/);
    at(problems, 'vms.a.routes[1].gateway', 12, 44, /gateway 192\.0\.2\.1 is IPv4 but destination 2001:db8:2::\/64 is IPv6/);
    assert.equal(problems.length, 3, problems.map(formatProblem).join('\n'));
  });

  it('requires every link to join exactly two NICs', () => {
    const text = [
      'name: t', //                                    1
      'kernels:', //                                   2
      '  linux: {kernel: vmlinuz}', //                 3
      'links:', //                                     4
      '  - {name: ab, mtu: 9000}', //                  5
      '  - {name: unused}', //                         6
      'vms:', //                                       7
      '  a:', //                                       8
      '    guest: testguest', //                       9
      '    kernel: linux', //                          10
      '    nics: [{link: ab}, {link: lonely}]', //     11
      '  b:', //                                       12
      '    guest: testguest', //                       13
      '    kernel: linux', //                          14
      '    nics: [{link: ab}]', //                     15
      '  c:', //                                       16
      '    guest: testguest', //                       17
      '    kernel: linux', //                          18
      '    nics: [{link: ab}]', //                     19
    ].join('\n');
    const problems = problemsOf(text);
    at(problems, 'links[1].name', 6, 12, /link "unused" is used by no NIC/);
    at(problems, 'vms.a.nics[0].link', 11, 19, /link "ab" must join exactly two NICs, but 3 use it/);
    at(problems, 'vms.a.nics[1].link', 11, 31, /unknown link "lonely" \(links: ab, unused\)/);
    at(problems, 'vms.b.nics[0].link', 15, 19, /but 3 use it/);
    at(problems, 'vms.c.nics[0].link', 19, 19, /but 3 use it/);
    const lonely = problems.filter((p) => p.path === 'vms.a.nics[1].link');
    assert.equal(lonely.length, 2, 'unknown link and a single end are both reported');
    assert.ok(lonely.some((p) => /"lonely" must join exactly two NICs, but 1 use it/.test(p.message)));
  });

  it('reports unknown names: kernels, VMs, variants, axes, generators; duplicate phases', () => {
    const text = [
      'name: t', //                                                     1
      'kernels:', //                                                    2
      '  linux: {kernel: vmlinuz}', //                                  3
      '  p: {extends: nope}', //                                        4
      'vms:', //                                                        5
      '  a:', //                                                        6
      '    guest: testguest', //                                        7
      '    kernel: ${variant}', //                                      8
      '    nics: [{link: ab, addrs: [192.0.2.1/24]}]', //               9
      '  b:', //                                                        10
      '    guest: testguest', //                                        11
      '    kernel: linus', //                                           12
      '    nics: [{link: ab, addrs: [192.0.2.2/24]}]', //               13
      'setup:', //                                                      14
      '  - {vm: c, op: exec, args: {command: "true"}}', //              15
      '  - {vm: a, op: sleep, args: {seconds: 1}, when: {btrace: maybe}}', // 16
      'load:', //                                                       17
      '  - {name: t, generator: iperf3, from: a, to: zz}', //           18
      '  - {name: t, generator: nc, from: a}', //                       19
      '  - {name: u, generator: iperf3, from: "${bogus}", when: {foo: 1}}', // 20
      'variants:', //                                                   21
      '  linux: {}', //                                                 22
      '  q: {vms: {zz: {cpus: 2}}}', //                                 23
      'matrix:', //                                                     24
      '  variant: [linux, q, r]', //                                    25
      '  btrace: ["off", "on"]', //                                     26
      'expect:', //                                                     27
      '  nothere: {outcome: panic}', //                                 28
    ].join('\n');
    const problems = problemsOf(text, { generators: ['iperf3', 'ping'] });
    at(problems, 'kernels.p.extends', 4, 16, /extends unknown kernel "nope"/);
    at(problems, 'vms.a.kernel', 8, 13, /unknown kernel "q" .*; from "\$\{variant\}" in cells variant=q,btrace=off; variant=q,btrace=on$/);
    at(problems, 'vms.b.kernel', 12, 13, /unknown kernel "linus" \(kernels: linux, p\)$/);
    at(problems, 'setup[0].vm', 15, 10, /unknown VM "c" \(vms: a, b\)/);
    at(problems, 'setup[1].when.btrace', 16, 59, /axis "btrace" has no value "maybe" \(values: off, on\)/);
    at(problems, 'load[0].to', 18, 47, /unknown VM "zz"/);
    at(problems, 'load[1].name', 19, 12, /duplicate load phase name "t" \(also at load\[0\]\)/);
    at(problems, 'load[1].generator', 19, 26, /unknown generator "nc" \(known: iperf3, ping\)/);
    at(problems, 'load[2].when.foo', 20, 59, /condition on unknown axis "foo"/);
    at(problems, 'load[2].from', 20, 40, /"\$\{bogus\}" names no matrix axis \(axes: variant, btrace\)/);
    at(problems, 'variants.q.vms.zz', 23, 13, /unknown VM "zz"/);
    at(problems, 'matrix.variant[2]', 25, 23, /unknown variant "r" \(variants: linux, q\)/);
    at(problems, 'expect.nothere', 28, 3, /expectation for unknown variant "nothere"/);
    // The unknown variant "r" is still checked against the base playbook, so its kernel is unknown too.
    assert.ok(problems.some((p) => p.path === 'vms.a.kernel' && /unknown kernel "r" .*in cells variant=r,btrace=off; variant=r,btrace=on$/.test(p.message)));
    assert.equal(problems.length, 14, problems.map(formatProblem).join('\n'));
  });

  it('checks relayed phases: a target, an OpenBSD relay that is neither end, a TCP generator', () => {
    const text = [
      VALID, //                                                                  1-16
      '  r:', //                                                                 17
      '    guest: openbsd-lab', //                                               18
      '    kernel: linux', //                                                    19
      'load:', //                                                                20
      '  - {name: a1, generator: iperf3, from: a, to: b, via: r}', //           21
      '  - {name: a2, generator: iperf3, from: a, via: r}', //                  22
      '  - {name: a3, generator: iperf3, from: a, to: b, via: b}', //           23
      '  - {name: a4, generator: ping, from: a, to: b, via: r}', //             24
      '  - {name: a5, generator: iperf3, from: a, to: b, via: r, params: {udp: true}}', // 25
      '  - {name: a6, generator: iperf3, from: a, to: r, via: nosuch}', //      26
    ].join('\n');
    const problems = problemsOf(text, { generators: ['iperf3', 'ping'], relayableGenerators: ['iperf3'] });
    at(problems, 'load[1].via', 22, 49, /a relayed phase needs "to"/);
    at(problems, 'load[2].via', 23, 56, /the relay VM "b" must be neither the client \("from"\) nor the server \("to"\)/);
    assert.ok(problems.some((p) => p.path === 'load[2].via' && /"b" is a testguest guest; splice relays run on openbsd or openbsd-lab guests/.test(p.message)));
    at(problems, 'load[3].generator', 24, 27, /generator "ping" cannot run through a splice relay \(can: iperf3\)/);
    at(problems, 'load[4].via', 25, 56, /a splice relay carries TCP; this phase asks for UDP/);
    at(problems, 'load[5].via', 26, 56, /unknown VM "nosuch"/);
    assert.ok(!problems.some((p) => p.path.startsWith('load[0]')), problems.map(formatProblem).join('\n'));
    assert.equal(problems.length, 6, problems.map(formatProblem).join('\n'));
  });

  it('checks that a generator runs its client and server on the guest kinds of "from" and "to"', () => {
    const text = [
      VALID, //                                                                  1-16
      'load:', //                                                                17
      '  - {name: a1, generator: tcpbench, from: a, to: b}', //                  18
      '  - {name: a2, generator: ping, from: a, to: b}', //                      19
    ].join('\n');
    const generatorGuests = { tcpbench: { client: ['openbsd'], server: ['openbsd'] }, ping: { client: ['testguest'] } };
    const problems = problemsOf(text, { generators: ['tcpbench', 'ping'], generatorGuests });
    at(problems, 'load[0].from', 18, 43, /generator tcpbench runs its client on openbsd guests; VM "a" is a testguest guest/);
    at(problems, 'load[0].to', 18, 50, /generator tcpbench runs its server on openbsd guests; VM "b" is a testguest guest/);
    assert.equal(problems.length, 2, problems.map(formatProblem).join('\n'));
  });

  it('points at the variant when the variant wrote the bad value', () => {
    const text = [
      VALID, //                                         1-16
      'variants:', //                                   17
      '  base: {}', //                                  18
      '  other:', //                                    19
      '    vms:', //                                    20
      '      a: {kernel: missing}', //                  21
      '      b:', //                                    22
      '        nics: [{link: ab, addrs: [10.0.0.2/24]}]', // 23
    ].join('\n');
    const problems = problemsOf(text);
    at(problems, 'variants.other.vms.a.kernel', 21, 19, /unknown kernel "missing"/);
    at(problems, 'variants.other.vms.b.nics[0].addrs[0]', 23, 35, /10\.0\.0\.2\/24 is outside/);
    assert.equal(problems.length, 2, problems.map(formatProblem).join('\n'));
  });

  it('checks kernel kinds after extends', () => {
    const text = [
      'name: t', //                                                   1
      'kernels:', //                                                  2
      '  linux: {kernel: vmlinuz, patches: [a.diff]}', //             3
      '  empty: {}', //                                               4
      '  built: {source: {tree: /usr/src/sys}}', //                   5
      '  loop1: {extends: loop2, kernel: x}', //                      6
      '  loop2: {extends: loop1}', //                                 7
      'vms: {}', //                                                   8
    ].join('\n');
    const problems = problemsOf(text);
    at(problems, 'kernels.linux', 3, 10, /patches only apply to kernels built from source/);
    at(problems, 'kernels.empty', 4, 10, /needs "kernel" .* or "image" .* or "source"/);
    at(problems, 'kernels.built', 5, 10, /needs "config"/);
    at(problems, 'kernels.loop1.extends', 6, 20, /extends cycle: loop1 → loop2 → loop1/);
    at(problems, 'vms', 8, 6, /no VMs defined/);
  });

  it('checks guest kinds against their kernels, disks and console', () => {
    const text = [
      'name: t', //                                                               1
      'kernels:', //                                                              2
      '  bsd: {source: {tree: /usr/src/sys}, config: LAB}', //                    3
      'vms:', //                                                                  4
      '  a: {guest: testguest, kernel: bsd, nics: [{link: ab}]}', //              5
      '  b: {guest: openbsd, kernel: bsd, nics: [{link: ab}]}', //                6
      '  c: {guest: openbsd-lab, kernel: bsd, consoleOnly: false}', //            7
    ].join('\n');
    const problems = problemsOf(text);
    at(problems, 'vms.a.kernel', 5, 33, /testguest boots a prebuilt Linux kernel directly; kernel "bsd" has no "kernel" file/);
    at(problems, 'vms.b', 6, 6, /guest openbsd needs "disk"/);
    at(problems, 'vms.c.consoleOnly', 7, 53, /consoleOnly cannot be false/);
    assert.equal(problems.length, 3, problems.map(formatProblem).join('\n'));
  });

  it('checks that input files exist and inlines pf rules files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'obsdlab-pb-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'fix'));
    writeFileSync(join(dir, 'ok.diff'), 'Index: kern/x.c\n');
    writeFileSync(join(dir, 'pf.conf'), 'set reassemble yes\npass\n');
    const text = [
      'name: t', //                                                          1
      'kernels:', //                                                         2
      '  linux: {kernel: vmlinuz}', //                                       3
      '  k:', //                                                             4
      '    source: {tree: fix}', //                                          5
      '    patches: [ok.diff, missing.diff, fix]', //                        6
      '    fixups: [fix, ok.diff]', //                                       7
      '    config: conf/NOPE', //                                            8
      'vms:', //                                                             9
      '  a:', //                                                             10
      '    guest: testguest', //                                             11
      '    kernel: linux', //                                                12
      '    pf: {rulesFile: pf.conf}', //                                     13
      '    nics: [{link: ab, addrs: [192.0.2.1/24]}]', //                    14
      '  b:', //                                                             15
      '    guest: testguest', //                                             16
      '    kernel: linux', //                                                17
      '    pf: {rulesFile: nope.conf}', //                                   18
      '    nics: [{link: ab, addrs: [192.0.2.2/24]}]', //                    19
    ].join('\n');
    const file = join(dir, 'pb.yaml');
    writeFileSync(file, text);
    let problems: Problem[] = [];
    try {
      loadPlaybook(file);
      assert.fail('accepted');
    } catch (err) {
      assert.ok(err instanceof PlaybookError);
      problems = err.problems;
    }
    at(problems, 'kernels.k.patches[1]', 6, 24, /file not found: .*\/missing\.diff$/);
    at(problems, 'kernels.k.patches[2]', 6, 38, /is a directory, not a file/);
    at(problems, 'kernels.k.fixups[1]', 7, 19, /is a file, not a directory/);
    at(problems, 'kernels.k.config', 8, 13, /file not found: .*\/conf\/NOPE$/);
    at(problems, 'vms.b.pf.rulesFile', 18, 21, /file not found: .*\/nope\.conf$/);
    assert.equal(problems.length, 5, problems.map(formatProblem).join('\n'));
    assert.ok(problems.every((p) => p.file === file));

    writeFileSync(file, text.replace('missing.diff, fix', 'ok.diff').replace('fix, ok.diff', 'fix').replace('conf/NOPE', 'GENERIC.MP').replace('nope.conf', 'pf.conf'));
    const loaded = loadPlaybook(file);
    assert.equal(loaded.playbook.vms.a!.pf!.rules, 'set reassemble yes\npass\n');
    assert.equal(loaded.playbook.vms.a!.pf!.rulesFile, undefined);
  });

  it('names a missing playbook file', () => {
    assert.throws(
      () => loadPlaybook('/nonexistent/obsdlab/pb.yaml'),
      (err: unknown) => err instanceof PlaybookError && /pb\.yaml:1:1: cannot read playbook: no such file/.test(err.message),
    );
  });

  it('formats paths like JSON paths, quoting keys that are not identifiers', () => {
    assert.equal(formatPath(['vms', 'dut', 'nics', 1, 'addrs', 0]), 'vms.dut.nics[1].addrs[0]');
    assert.equal(formatPath(['vms', 'dut', 'sysctls', 'net.inet.ip.forwarding']), 'vms.dut.sysctls["net.inet.ip.forwarding"]');
    assert.equal(formatPath([]), '');
  });
});
