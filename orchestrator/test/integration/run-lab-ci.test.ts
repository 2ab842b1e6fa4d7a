/**
 * The seed scenario for real, CI-sized: `obsdlab run playbooks/mbuf-extref-lab-ci.yaml`
 * cross-builds three OpenBSD kernels from the sys/ bundle (unpatched, the proxy-refs
 * diff, the other refcounting diff), boots each as the ramdisk router between two
 * Linux guests, forwards TCP and fragmented IPv4/IPv6 through pf, profiles the DUT,
 * and in a fourth run drops it into ddb mid-load and captures the session.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/util/paths.ts';

// Reports of this run are kept for a look with OBSDLAB_KEEP_RUNS=1.
const tempDirs: string[] = [];
after(() => {
  if (!process.env.OBSDLAB_KEEP_RUNS) for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

type Summary = {
  runs: { id: string; variant: string; outcome: string; superseded: boolean; dir: string; crashes: { vm: string; title: string }[] }[];
  throughput: { measurement: string; perVariant: { variant: string; median: number }[] }[];
  measurements: { measurement: string; perVariant: { variant: string; median: number }[] }[];
  counters: { vm: string; counter: string; perVariant: { variant: string; median: number }[] }[];
};

test('mbuf-extref-lab-ci: three real OpenBSD kernels forward through pf; ddb captured on demand', { timeout: 60 * 60_000 }, async () => {
  const reports = mkdtempSync(join(tmpdir(), 'obsdlab-labci-'));
  tempDirs.push(reports);
  const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/obsdlab.mjs'), 'run', 'playbooks/mbuf-extref-lab-ci.yaml', '--reports', reports, '--budget', 'cpus=4'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CI: '1' },
    });
    let text = '';
    child.stdout.on('data', (b: Buffer) => (text += b.toString()));
    child.stderr.on('data', (b: Buffer) => (text += b.toString()));
    child.on('exit', (code) => resolve({ code, text }));
  });
  assert.equal(out.code, 0, out.text.slice(-5000));
  const dir = /^report: (\S+)$/m.exec(out.text)![1]!;
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
  const final = s.runs.filter((r) => !r.superseded);
  assert.deepEqual(final.map((r) => [r.variant, r.outcome]), [['unpatched', 'pass'], ['proxy', 'pass'], ['refs', 'pass'], ['ddb', 'panic']]);

  for (const r of final) {
    const boot = JSON.parse(readFileSync(join(r.dir, 'dut', 'boot.json'), 'utf8')) as { kernelVersion: string; devices: string[] };
    assert.match(boot.kernelVersion, /^OpenBSD \d+\.\d+\S* \(LAB\) #\d+/, `${r.variant}: the lab kernel booted`);
  }
  const tcp4 = s.throughput.find((t) => t.measurement === 'tcp4.throughput')!;
  for (const v of ['unpatched', 'proxy', 'refs']) assert.ok(tcp4.perVariant.find((p) => p.variant === v)!.median > 0, `${v}: TCP through the DUT`);

  // Socket splicing on the DUT: every iperf3 connection (-P 4: a control and four data
  // connections) was accepted by the agent's relay and spliced to the sink, and the kernel
  // moved at least the bytes the sink's server received.
  const measured = (name: string) => s.measurements.find((m) => m.measurement === name)?.perVariant ?? [];
  for (const r of final.filter((x) => x.variant !== 'ddb')) {
    const value = (name: string) => measured(name).find((p) => p.variant === r.variant)?.median;
    assert.ok((value('splice6.splice.connected') ?? 0) >= 5, `${r.variant}: spliced connections`);
    assert.equal(value('splice6.splice.splice-failed'), 0, `${r.variant}: no SO_SPLICE failed`);
    const server = JSON.parse(readFileSync(join(r.dir, 'splice6.splice6-iperf3-server.json'), 'utf8')) as { end: { sum_received: { bytes: number } } };
    assert.ok(server.end.sum_received.bytes > 0, `${r.variant}: data through the relay`);
    assert.ok(value('splice6.splice.bytes')! >= server.end.sum_received.bytes, `${r.variant}: spliced bytes cover what the sink received`);
  }

  // With pf reassembling and refragmenting on the DUT, IPv6 replies lose two hops on
  // one router (ip6_forward, then pf_refragment6 → ip6_forward again); IPv4 loses one.
  // Both facts are from the lab's real transcripts (../shared/openbsd-lab/README.md).
  const ttl = (name: string) => s.measurements.find((m) => m.measurement === name)!.perVariant;
  for (const v of ttl('frag6.ttl').filter((p) => p.variant !== 'ddb')) assert.equal(v.median, 62, `${v.variant}: frag6 hop limit`);
  for (const v of ttl('frag4.ttl').filter((p) => p.variant !== 'ddb')) assert.equal(v.median, 63, `${v.variant}: frag4 ttl`);
  // pf reassembled what arrived and the kernel refragmented it on the way out.
  const counter = (name: string) => s.counters.find((c) => c.vm === 'dut' && c.counter === name)!.perVariant;
  for (const v of counter('ip.fragmented').filter((p) => p.variant !== 'ddb')) assert.ok(v.median > 0, `${v.variant}: ip.fragmented`);
  for (const v of counter('ip6.ofragments').filter((p) => p.variant !== 'ddb')) assert.ok(v.median > 0, `${v.variant}: ip6.ofragments`);

  // Profiles were taken and kept as folded stacks.
  const unpatched = final[0]!;
  const folded = readdirSync(unpatched.dir).find((f) => f.endsWith('.folded'));
  assert.ok(folded, 'profile kept');
  assert.ok(readFileSync(join(unpatched.dir, folded!), 'utf8').trim().split('\n').length > 0);

  // The ddb run: entered ddb mid-load, the script ran, the crash was triaged.
  const ddb = final[3]!;
  assert.equal(ddb.crashes[0]?.vm, 'dut');
  const diagnosis = JSON.parse(readFileSync(join(ddb.dir, 'dut', 'diagnosis.json'), 'utf8')) as { commands: { command: string; status: string }[] };
  const commands = diagnosis.commands.map((c) => c.command);
  for (const c of ['show panic', 'trace', 'ps']) assert.ok(commands.includes(c), `ddb script ran ${c}`);
  assert.ok(diagnosis.commands.some((c) => c.command === 'trace' && c.status === 'ok'));
  const consoleText = readFileSync(join(ddb.dir, 'dut', 'console.txt'), 'utf8');
  assert.match(consoleText, /ddb\{\d\}> /);
});
