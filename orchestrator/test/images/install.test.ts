import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ANSWERS, renderResponseFile, renderSiteFiles } from '../../src/images/autoinstall.ts';
import { InstallError, driveInstall, parseResponseFile, promptOf, questionMatches, siteShellCommands, takeAnswer } from '../../src/images/install.ts';
import { InstallerReplay, replaySteps } from './installer-replay.ts';

const transcript = readFileSync(fileURLToPath(new URL('../fixtures/openbsd-tools/installer-7.9-amd64-qemu.txt', import.meta.url)), 'utf8');
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOBSDLABtestkeyOBSDLABtestkeyOBSDLABtestk obsdlab';

test('autoinstall matching rule (install.sub _autorespond): key at a word start, followed by blank, "?" or end', () => {
  assert.ok(questionMatches("System hostname? (short form, e.g. 'foo')", 'System hostname'));
  assert.ok(questionMatches("Network interface to configure? (name, lladdr, '?', or 'done')", 'network interface to configure'));
  assert.ok(questionMatches('Use (W)hole disk MBR, whole disk (G)PT or (E)dit?', 'Use (W)hole disk'));
  assert.ok(!questionMatches('Password for user rado? (will not echo)', 'Password for root account'));
  assert.ok(!questionMatches('Which speed should com0 use?', 'speed should com'));
  const table = parseResponseFile('# comment\nA b = 1\nA b = 2\nno equals sign\n');
  assert.equal(takeAnswer(table, 'A b?'), '1');
  assert.equal(takeAnswer(table, 'A b?'), '2');
  assert.equal(takeAnswer(table, 'A b?'), undefined);
});

test('prompt detection on the real 7.9 installer lines', () => {
  assert.equal(promptOf("x\nSystem hostname? (short form, e.g. 'foo') "), "System hostname? (short form, e.g. 'foo')");
  assert.equal(promptOf('IPv4 address for vio0? (or \'autoconf\' or \'none\') [autoconf] '), "IPv4 address for vio0? (or 'autoconf' or 'none') [autoconf]");
  assert.equal(promptOf('Password for root account? (will not echo) '), 'Password for root account? (will not echo)');
  assert.equal(promptOf('boot> '), 'boot>');
  assert.equal(promptOf('>> OpenBSD/amd64 CDBOOT 3.65\n|/-\\|/boot> '), '|/-\\|/boot>');
  assert.equal(promptOf('Installing base79.tgz   100% |****| 510 MB    05:07\n'), undefined);
  assert.equal(promptOf('Relinking to create unique kernel... '), undefined);
});

test('response file: one "question = answer" per line, keys from the 7.9 installer (autoinstall(8) FORMAT)', () => {
  const rf = renderResponseFile({ ...DEFAULT_ANSWERS, hostname: 'dut', rootSshKey: KEY });
  // autoinstall(8): "question = answer"; 13 '*'s disable password logins
  assert.match(rf, /^System hostname = dut$/m);
  assert.match(rf, /^Password for root account = \*{13}$/m);
  assert.match(rf, new RegExp(`^Public ssh key for root account = ${KEY}$`, 'm'));
  assert.match(rf, /^Which speed should com0 use = 115200$/m);
  assert.match(rf, /^Allow root ssh login = prohibit-password$/m);
  for (const line of rf.trimEnd().split('\n')) assert.match(line, /^[^=]+ = \S.*$/);
  // every question of the real transcript that obsdlab cares about has an answer key
  const table = parseResponseFile(rf);
  for (const q of [
    "System hostname? (short form, e.g. 'foo')",
    'Which disk is the root disk? (\'?\' for details) [sd0]',
    'Use (A)uto layout, (E)dit auto layout, or create (C)ustom layout? [a]',
    "Location of sets? (cd0 disk http nfs or 'done') [http]",
  ]) assert.ok(table.some(([k]) => questionMatches(q, k)), q);
  assert.throws(() => renderResponseFile({ ...DEFAULT_ANSWERS, hostname: 'Bad_Host', rootSshKey: KEY }), /not a valid host name/);
  assert.throws(() => renderResponseFile({ ...DEFAULT_ANSWERS, hostname: 'dut', rootSshKey: 'not a key' }), /not an OpenSSH public key/);
});

test('typed install against the real 7.9 installer transcript answers every question right', async () => {
  const rf = renderResponseFile({ ...DEFAULT_ANSWERS, hostname: 'obsdlab-base', rootSshKey: KEY });
  const site = renderSiteFiles({ debugSysctls: false, rootSshKey: KEY });
  const steps = replaySteps(transcript);
  const boot = [{ prompt: 'boot> ', human: 'set tty com0' }, { out: 'switching console to com0\n>> OpenBSD/amd64 CDBOOT 3.65\n' }, { prompt: 'boot> ', human: '' }];
  const con = new InstallerReplay([...boot, ...steps]);
  await driveInstall(con, { answers: parseResponseFile(rf), siteFiles: site, quietMs: 5, pollMs: 2, stallMs: 5000 });
  const got = new Map<string, string[]>();
  for (const a of con.answers) got.set(a.prompt, [...(got.get(a.prompt) ?? []), a.input]);
  const answer = (prefix: string) => con.answers.filter((a) => a.prompt.startsWith(prefix)).map((a) => a.input);
  assert.deepEqual(answer('boot>'), ['set tty com0', 'boot']);
  assert.deepEqual(answer('(I)nstall'), ['I']);
  assert.deepEqual(answer('Terminal type?'), ['']);
  assert.deepEqual(answer('System hostname?'), ['obsdlab-base']);
  assert.deepEqual(answer('Network interface to configure?'), ['vio0', 'done']);
  assert.deepEqual(answer('IPv4 address for vio0?'), ['autoconf']);
  assert.deepEqual(answer('IPv6 address for vio0?'), ['none']);
  assert.deepEqual(answer('Password for root account?'), ['*************', '*************']);
  assert.deepEqual(answer('Do you expect to run the X Window System?'), ['no']);
  assert.deepEqual(answer('Which speed should com0 use?'), ['115200']);
  assert.deepEqual(answer('Setup a user?'), ['no']);
  assert.deepEqual(answer('Allow root ssh login?'), ['prohibit-password']);
  assert.deepEqual(answer('What timezone are you in?'), ['UTC']);
  assert.deepEqual(answer('Which disk is the root disk?'), ['sd0']);
  assert.deepEqual(answer('Encrypt the root disk'), ['no']);
  assert.deepEqual(answer('Use (W)hole disk'), ['whole']);
  assert.deepEqual(answer('Use (A)uto layout'), ['a']);
  assert.deepEqual(answer('Location of sets?'), ['cd0', 'done']);
  assert.deepEqual(answer('Pathname to the sets?'), ['']);
  assert.deepEqual(answer('Set name(s)?'), ['-game* -x*']);
  assert.deepEqual(answer('Directory does not contain SHA256.sig'), ['yes']);
  assert.deepEqual(answer('Exit to (S)hell'), ['s']);
  // the transcript's user-account questions never come up because "Setup a user" got "no" — the replay still
  // walks through them as printed, and they get their defaults
  assert.deepEqual(answer('Full name for user rado?'), ['']);
  // installer shell: site files, install.site in the chroot, then power off
  assert.equal(con.shellCommands.at(-1), 'halt -p');
  assert.ok(con.shellCommands.some((c) => c.startsWith("print -rn -- 'stty com0 115200\nset tty com0\n' > '/mnt/etc/boot.conf'")));
  assert.ok(con.shellCommands.includes('chroot /mnt /install.site || echo OBSDLAB-STEP-FAILED-$((1+1))'));
  assert.equal(con.closed, true);
});

test('a silent installer fails after stallMs with the last screen', async () => {
  const con = new InstallerReplay([{ out: 'Installing base79.tgz    45% |*********           |   230 MB    02:17 ETA\n' }]);
  await assert.rejects(
    driveInstall(con, { answers: [], siteFiles: [], quietMs: 5, pollMs: 5, stallMs: 100 }),
    (e: Error) => e instanceof InstallError && /no console output for/.test(e.message) && /Installing base79\.tgz/.test(e.message),
  );
});

test('installer that ends without CONGRATULATIONS is an error', async () => {
  const con = new InstallerReplay([{ out: 'Installing base79.tgz: Input/output error\n' }, { prompt: 'Exit to (S)hell, (H)alt or (R)eboot? [reboot] ', human: '' }]);
  await assert.rejects(driveInstall(con, { answers: [], siteFiles: [], quietMs: 5, pollMs: 2, stallMs: 2000 }), /without "CONGRATULATIONS!"/);
});

test('site files: boot.conf(5), sysctl.conf(5), root key, install.site', () => {
  const files = renderSiteFiles({ debugSysctls: true, rootSshKey: KEY });
  const byPath = new Map(files.map((f) => [f.path, f]));
  // boot.conf(5) EXAMPLES: "stty com0 19200" / "set tty com0" (obsdlab uses 115200)
  assert.equal(byPath.get('etc/boot.conf')!.content, 'stty com0 115200\nset tty com0\n');
  assert.equal(
    byPath.get('etc/sysctl.conf')!.content,
    'ddb.console=1\nddb.max_line=0\nddb.max_width=0\nkern.allowdt=1\nkern.pool_debug=1\nkern.splassert=3\nkern.witness.watch=3\n',
  );
  assert.equal(byPath.get('root/.ssh/authorized_keys')!.mode, 0o600);
  assert.match(byPath.get('install.site')!.content, /rcctl enable sshd/);
  assert.match(byPath.get('install.site')!.content, /reorder_kernel/);
  assert.equal(siteShellCommands(files)[0], 'mkdir -p /mnt/root/.ssh');
});

test('a failing site command in the installer shell stops the install with the screen', async () => {
  const con = new InstallerReplay([
    { out: 'CONGRATULATIONS! Your OpenBSD install has been successfully completed!\n' },
    { prompt: 'Exit to (S)hell, (H)alt or (R)eboot? [reboot] ', human: '' },
  ]);
  const origSend = con.sendLine.bind(con);
  con.sendLine = async (line: string) => {
    await origSend(line);
    if (line.startsWith('mkdir')) con['emit']('ksh: mkdir: /mnt/root/.ssh: Read-only file system\nOBSDLAB-STEP-FAILED-2\n# ');
  };
  await assert.rejects(
    driveInstall(con, { answers: [], siteFiles: renderSiteFiles({ debugSysctls: false, rootSshKey: KEY }), quietMs: 5, pollMs: 2, stallMs: 2000 }),
    /a site command failed[\s\S]*Read-only file system/,
  );
});
