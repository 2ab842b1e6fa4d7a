// The symbolizer on an ELF with DWARF that the test compiles itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseConsole } from '../../src/ddb/parser.ts';
import { readFunctionSymbols } from '../../src/triage/elf-symbols.ts';
import { symbolizeReport } from '../../src/triage/symbolize.ts';

// Line numbers matter: the assertions below name them.
const SOURCE = `int counter;

static inline __attribute__((always_inline)) int bump(int x)
{
	counter += x;
	return counter;
}

int refcnt_rele(int *r)
{
	int v = *r;
	v = bump(v);
	return v - 1;
}

int main(void)
{
	int r = 2;
	return refcnt_rele(&r);
}
`;

async function have(cmd: string): Promise<boolean> {
  const r = await execa(cmd, ['--version'], { reject: false });
  return r.exitCode === 0;
}

test('func+0xNN frames become file:line, inlined code included, one addr2line run', async (t) => {
  if (!(await have('cc')) || !(await have('nm')) || !(await have('objdump'))) {
    t.skip('needs cc, nm and objdump to build and inspect the test ELF');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'obsdlab-sym-'));
  try {
    writeFileSync(join(dir, 'k.c'), SOURCE);
    await execa('cc', ['-g', '-O0', '-o', join(dir, 'k'), join(dir, 'k.c')]);
    const elf = join(dir, 'k');

    const nm = (await execa('nm', [elf])).stdout;
    const addrOf = (name: string): number => parseInt(new RegExp(`^([0-9a-f]+) T ${name}$`, 'm').exec(nm)![1]!, 16);
    const symbols = await readFunctionSymbols(elf);
    assert.equal(symbols.get('refcnt_rele'), BigInt(addrOf('refcnt_rele')));

    // Offsets read from the disassembly: where bump()'s inlined body starts in refcnt_rele,
    // and the return address of main's call to refcnt_rele.
    const dis = (await execa('objdump', ['-d', '-l', elf])).stdout.split('\n');
    const inlineAt = dis.findIndex((l) => l.startsWith('bump():'));
    const inlineAddr = parseInt(/^\s*([0-9a-f]+):/.exec(dis.slice(inlineAt).find((l) => /^\s*[0-9a-f]+:\t/.test(l))!)![1]!, 16);
    const callAt = dis.findIndex((l) => /call.*<refcnt_rele>/.test(l));
    const retAddr = parseInt(/^\s*([0-9a-f]+):/.exec(dis.slice(callAt + 1).find((l) => /^\s*[0-9a-f]+:\t/.test(l))!)![1]!, 16);
    const inlineOff = (inlineAddr - addrOf('refcnt_rele')).toString(16);
    const retOff = (retAddr - addrOf('main')).toString(16);

    const [report] = parseConsole(
      [
        'panic: test',
        'Stopped at      refcnt_rele+0x' + inlineOff + ':   movl',
        `refcnt_rele(1) at refcnt_rele+0x${inlineOff}`,
        `main() at main+0x${retOff}`,
        'end trace frame: 0x0, count: -2',
        'ddb> ',
      ].join('\n'),
    );
    const sym = await symbolizeReport(report!, elf);
    assert.equal(sym.status, 'ok', sym.reason);
    assert.deepEqual(
      sym.locations[`refcnt_rele+0x${inlineOff}`]!.map((l) => [l.function, l.file.endsWith('/k.c'), l.line]),
      [
        ['bump', true, 5],
        ['refcnt_rele', true, 12],
      ],
    );
    // a return address is looked up one byte back: the line of the call
    assert.deepEqual(sym.locations[`main+0x${retOff}`]!.map((l) => [l.function, l.line]), [['main', 19]]);

    const noTool = await symbolizeReport(report!, elf, { tools: ['obsdlab-no-such-addr2line'] });
    assert.equal(noTool.status, 'unavailable');
    assert.match(noTool.reason!, /obsdlab-no-such-addr2line: not installed/);
    assert.deepEqual(noTool.locations, {});
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing debug file or missing tools leave the report unsymbolized, with the reason', async () => {
  const [report] = parseConsole('panic: x\nStopped at f+0x1: nop\nf(1) at f+0x1\nend trace frame: 0x0, count: -1\n');
  const missing = await symbolizeReport(report!, '/nonexistent/bsd.gdb');
  assert.equal(missing.status, 'unavailable');
  assert.match(missing.reason!, /cannot read symbols: .*ENOENT/);

  const dir = mkdtempSync(join(tmpdir(), 'obsdlab-sym-'));
  try {
    writeFileSync(join(dir, 'not-elf'), 'hello');
    const notElf = await symbolizeReport(report!, join(dir, 'not-elf'));
    assert.match(notElf.reason!, /not an ELF file|truncated/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
