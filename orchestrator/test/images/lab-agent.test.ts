import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { labReferenceMissing, labTree } from '../lab-reference.ts';
import { abiMismatches, parseAbiHeader, renderAbiCheck } from '../../src/images/lab/abi-check.ts';
import { AGENT_SOURCE_DIR, AgentAbiError, buildAgent } from '../../src/images/lab/agent.ts';
import { findSyscallSites, parsePinTable, verifyLayout, verifyPins } from '../../src/images/lab/agent-verify.ts';
import { parseElf64, sectionBytes } from '../../src/images/lab/elf.ts';

// The reference tree (test/lab-reference.ts): made by the project's builder, not by hand.
const missingTree = labReferenceMissing();
const TREE = missingTree ? '' : await labTree();
const noTree = missingTree;

describe('abi.h constants and the generated check', () => {
  const abi = readFileSync(join(AGENT_SOURCE_DIR, 'abi.h'), 'utf8');
  it('reads every LAB_ constant with its tree expression', () => {
    const cs = parseAbiHeader(abi);
    const byName = new Map(cs.map((c) => [c.name, c]));
    // Syscall numbers and layouts from NOTES-agent.md (checked there against b4c64bc50)
    assert.equal(byName.get('LAB_SYS_sysctl')!.expr, 'SYS_sysctl');
    assert.match(abi, /#define LAB_SYS_sysctl 202 /);
    assert.match(abi, /#define LAB_SIOCAIFADDR_IN6 0x8080691aUL /);
    assert.match(abi, /#define LAB_SIZEOF_DT_EVT 456 /);
    assert.equal(byName.get('LAB_SIZEOF_IF_MSGHDR')!.expr, 'sizeof(struct if_msghdr)');
    // Every syscall number has exactly one stub in syscalls.c, and every stub a number here.
    const stubs = [...readFileSync(join(AGENT_SOURCE_DIR, 'syscalls.c'), 'utf8').matchAll(/^SYSCALL_STUB\((\w+), (LAB_SYS_\w+)\);/gm)];
    assert.deepEqual(stubs.map((m) => `LAB_SYS_${m[1]}`), stubs.map((m) => m[2]));
    assert.deepEqual(new Set(stubs.map((m) => m[2])), new Set(cs.filter((c) => c.name.startsWith('LAB_SYS_')).map((c) => c.name)));
  });

  it('renders one named _Static_assert per constant and reads clang failures back', () => {
    const cs = parseAbiHeader('#define LAB_SYS_read 3 /* = SYS_read */\n#define LAB_OTHER 1\n', 'x.h');
    assert.equal(cs.length, 1);
    const c = renderAbiCheck(cs, '/a/abi.h');
    assert.match(c, /#include <sys\/syscall.h>/);
    assert.match(c, /_Static_assert\(\(LAB_SYS_read\) == \(SYS_read\), "agent ABI mismatch: LAB_SYS_read \(abi.h:1\) != SYS_read in this tree"\);/);
    const stderr =
      "abi-check.c:40:1: error: static assertion failed due to requirement '(4) == (3)': agent ABI mismatch: LAB_SYS_read (abi.h:1) != SYS_read in this tree\n";
    assert.deepEqual(abiMismatches(stderr), ['agent ABI mismatch: LAB_SYS_read (abi.h:1) != SYS_read in this tree']);
    assert.throws(() => parseAbiHeader('#define LAB_A 1 /* = A */\n#define LAB_A 2 /* = A */\n', 'd.h'), /d.h:2: LAB_A defined twice/);
  });
});

describe('post-link verification (pure)', () => {
  const dis = [
    '0000000000204fd0 <sys_exit>:',
    '  204fd0:      \tmovq\t%rcx, %r10',
    '  204fd3:      \tmovl\t$0x1, %eax',
    '  204fd8:      \tsyscall',
    '  204fda:      \tjb\t0x204fdd <sys_exit+0xd>',
    '0000000000204fe0 <sys_read>:',
    '  204fe0:      \tmovl\t$0x3, %eax',
    '  204fe5:      \tsyscall',
  ].join('\n');
  it('pairs every syscall with the %eax set before it', () => {
    const sites = findSyscallSites(dis);
    assert.deepEqual(sites, [
      { addr: 0x204fd8, eax: 1 },
      { addr: 0x204fe5, eax: 3 },
    ]);
    assert.equal(verifyPins(sites, [{ addr: 0x204fd8, sysno: 1 }, { addr: 0x204fe5, sysno: 3 }]).ok, true);
  });
  it('reports unpinned, mismatched and duplicate pins', () => {
    const sites = findSyscallSites(dis);
    const r = verifyPins(sites, [
      { addr: 0x204fd8, sysno: 4 },
      { addr: 0x205000, sysno: 4 },
    ]);
    assert.equal(r.ok, false);
    assert.ok(r.problems.some((p) => /syscall at 0x204fd8: %eax is 1 but the pin table says 4/.test(p)));
    assert.ok(r.problems.some((p) => /syscall at 0x204fe5 is not in the pin table/.test(p)));
    assert.ok(r.problems.some((p) => /sysno 4 pinned twice/.test(p)));
    assert.ok(r.problems.some((p) => /0x205000 is not a syscall instruction/.test(p)));
  });
  it('decodes {u32 addr, u32 sysno} pairs', () => {
    const b = Buffer.alloc(16);
    b.writeUInt32LE(0x202018, 0);
    b.writeUInt32LE(1, 4);
    b.writeUInt32LE(0x2021d8, 8);
    b.writeUInt32LE(202, 12);
    assert.deepEqual(parsePinTable(b), [
      { addr: 0x202018, sysno: 1 },
      { addr: 0x2021d8, sysno: 202 },
    ]);
    assert.throws(() => parsePinTable(Buffer.alloc(12)), /not a multiple of 8/);
  });
});

describe('buildAgent against the tree', { skip: noTree }, () => {
  const cache = mkdtempSync(join(tmpdir(), 'lab-agent-'));
  after(() => rmSync(cache, { recursive: true, force: true }));

  it('builds, pins one syscall per stub, has the OpenBSD segments, and caches', async () => {
    const a = await buildAgent({ tree: TREE, cacheRoot: cache });
    const stubCount = readFileSync(join(AGENT_SOURCE_DIR, 'syscalls.c'), 'utf8').match(/^SYSCALL_STUB\(/gm)!.length;
    assert.equal(a.pinned, stubCount);
    assert.equal(a.cached, false);
    const buf = readFileSync(a.path);
    const elf = parseElf64(buf, a.path);
    assert.deepEqual(verifyLayout(elf), []);
    const pins = parsePinTable(sectionBytes(buf, elf, '.openbsd.syscalls')!);
    assert.deepEqual(
      pins.map((p) => p.sysno).sort((x, y) => x - y),
      // abi.h's numbers, which the build's ABI check has just compared with the tree's sys/syscall.h
      [...readFileSync(join(AGENT_SOURCE_DIR, 'abi.h'), 'utf8').matchAll(/^#define LAB_SYS_\w+ (\d+) /gm)].map((m) => Number(m[1])).sort((x, y) => x - y),
    );
    const again = await buildAgent({ tree: TREE, cacheRoot: cache });
    assert.equal(again.cached, true);
    assert.equal(again.sha256, a.sha256);
  });

  it('fails with the constant named when the agent disagrees with the tree', async () => {
    const src = mkdtempSync(join(tmpdir(), 'lab-agent-src-'));
    try {
      cpSync(AGENT_SOURCE_DIR, src, { recursive: true });
      const abiPath = join(src, 'abi.h');
      const abi = readFileSync(abiPath, 'utf8');
      const wrong = abi.replace('#define LAB_SYS_read 3 /* = SYS_read */', '#define LAB_SYS_read 4 /* = SYS_read */');
      assert.notEqual(wrong, abi);
      writeFileSync(abiPath, wrong.replace('#define LAB_SIZEOF_IFREQ 32 ', '#define LAB_SIZEOF_IFREQ 40 '));
      await assert.rejects(buildAgent({ tree: TREE, sourceDir: src, cacheRoot: cache }), (e: unknown) => {
        assert.ok(e instanceof AgentAbiError);
        assert.ok(e.mismatches.some((m) => m.startsWith('agent ABI mismatch: LAB_SYS_read (abi.h:')));
        assert.ok(e.mismatches.some((m) => m.includes('LAB_SIZEOF_IFREQ') && m.includes('sizeof(struct ifreq)')));
        return true;
      });
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });
});
