/**
 * The SSH builder against a real sshd on 127.0.0.1 (throwaway keys in a temp
 * dir, run as a tracked child and killed by PID), with stand-in `config` and
 * `make` first in the remote PATH: shipping, patching, building, fetching and
 * error reporting all run for real.
 */
import assert from 'node:assert/strict';
import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { buildPrepared, prepareBuild } from '../../src/build/prepare.ts';
import { SshBackend } from '../../src/build/ssh-builder.ts';
import { BuildError, type BuildSpec } from '../../src/build/types.ts';

const SSHD = '/usr/sbin/sshd';
const haveSshd = await access(SSHD).then(() => true, () => false);
let privsepOk = await access('/run/sshd').then(() => true, () => false);
if (haveSshd && !privsepOk && process.getuid?.() === 0) {
  // sshd refuses to start without its privilege separation directory
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  privsepOk = true;
}
const skip = !haveSshd ? `${SSHD} not installed (apt-get install openssh-server)` : !privsepOk ? '/run/sshd missing and not root' : false;

let dir: string;
let sshd: ResultPromise | undefined;
let port = 0;
const savedCache = process.env.OBSDLAB_CACHE;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

async function waitForPort(p: number, ms: number): Promise<void> {
  const { connect } = await import('node:net');
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((res) => {
      const c = connect(p, '127.0.0.1', () => {
        c.destroy();
        res(true);
      });
      c.on('error', () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd did not listen on 127.0.0.1:${p} within ${ms} ms`);
}

const git = (repo: string, ...args: string[]) =>
  execa('git', ['-C', repo, ...args], { env: { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.org', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.org' } });

async function put(root: string, rel: string, text: string) {
  await mkdir(dirname(join(root, rel)), { recursive: true });
  await writeFile(join(root, rel), text);
}

const FAKE_CONFIG = `#!/bin/sh
# stand-in for config(8): creates ../compile/CONF like the real one
mkdir -p ../compile/"$1" && echo "config $1" > ../compile/"$1"/Makefile
`;
const FAKE_MAKE = `#!/bin/sh
# stand-in for make: fails like clang when the tree carries the break marker
tree=$(cd ../../../.. && pwd)
if grep -q obsdlab_break "$tree/kern/uipc_mbuf.c"; then
  echo "$tree/kern/uipc_mbuf.c:3:9: error: use of undeclared identifier 'obsdlab_break'" >&2
  echo "1 error generated." >&2
  echo "*** Error 1 in $(pwd) (Makefile:1 'uipc_mbuf.o')" >&2
  exit 1
fi
echo "make $*"
printf 'fake bsd at %s\\n' "$(cat "$tree/.obsdlab-commit")" > bsd
cat "$tree/kern/uipc_mbuf.c" > bsd.gdb
printf 'const char version[] =\\n    "OpenBSD 7.9 (LABTEST) #1: Wed Nov 25 20:00:00 UTC 2026\\\\n";\\n' > vers.c
`;

let repo: string;
let remoteTree: string;
let backend: SshBackend;
let commit1: string;
let commit2: string;

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'obsdlab-sshb-'));
  process.env.OBSDLAB_CACHE = join(dir, 'cache');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'hostkey')]);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client')]);
  await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'client.pub')));
  port = await freePort();
  const user = (await execa('id', ['-un'])).stdout.trim();
  await writeFile(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'hostkey')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AllowUsers ${user}`,
      'LogLevel ERROR',
    ].join('\n') + '\n',
  );
  sshd = execa(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { reject: false, stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForPort(port, 10_000);

  const bin = join(dir, 'remote-bin');
  await put(bin, 'config', FAKE_CONFIG);
  await put(bin, 'make', FAKE_MAKE);
  await chmod(join(bin, 'config'), 0o755);
  await chmod(join(bin, 'make'), 0o755);

  repo = join(dir, 'sys');
  await mkdir(repo);
  await git(repo, 'init', '-q');
  await put(repo, 'kern/a.c', 'int a;\n');
  await put(repo, 'kern/uipc_mbuf.c', 'int\nm_free(void)\n{\n\treturn 0;\n}\n');
  await put(repo, 'net/old.c', 'int old_function(void) { return 1; }\n/* long enough to be found as a rename */\n/* line 3 */\n/* line 4 */\n');
  await put(repo, 'sys/gone.h', '#define GONE 1\n');
  await put(repo, 'arch/amd64/isa/clock.c', '/* present, so the mirror fix-up quirk does not apply */\n');
  await git(repo, 'add', '-A');
  await git(repo, 'commit', '-q', '-m', 'one');
  commit1 = (await git(repo, 'rev-parse', 'HEAD')).stdout.trim();
  await put(repo, 'kern/a.c', 'int a = 2;\n');
  await git(repo, 'mv', 'net/old.c', 'net/new.c');
  await git(repo, 'rm', '-q', 'sys/gone.h');
  await put(repo, 'dev/x.c', 'int x;\n');
  await git(repo, 'add', '-A');
  await git(repo, 'commit', '-q', '-m', 'two');
  commit2 = (await git(repo, 'rev-parse', 'HEAD')).stdout.trim();

  await put(dir, 'patches/fix.diff', [
    'diff --git a/kern/uipc_mbuf.c b/kern/uipc_mbuf.c',
    '--- a/kern/uipc_mbuf.c',
    '+++ b/kern/uipc_mbuf.c',
    '@@ -2,4 +2,4 @@ int',
    ' m_free(void)',
    ' {',
    '-\treturn 0;',
    '+\treturn 1;',
    ' }',
    '',
  ].join('\n'));
  await put(dir, 'patches/break.diff', [
    'diff --git a/kern/uipc_mbuf.c b/kern/uipc_mbuf.c',
    '--- a/kern/uipc_mbuf.c',
    '+++ b/kern/uipc_mbuf.c',
    '@@ -2,4 +2,4 @@ int',
    ' m_free(void)',
    ' {',
    '-\treturn 0;',
    '+\treturn obsdlab_break;',
    ' }',
    '',
  ].join('\n'));
  await put(dir, 'LABTEST', 'machine amd64\n');
  remoteTree = join(dir, 'remote-tree');
  backend = new SshBackend({ host: '127.0.0.1', port, user, key: join(dir, 'client'), treeDir: remoteTree, pathPrefix: [bin] });
});

after(async () => {
  if (sshd?.pid) {
    process.kill(sshd.pid, 'SIGTERM');
    await sshd;
  }
  if (savedCache === undefined) delete process.env.OBSDLAB_CACHE;
  else process.env.OBSDLAB_CACHE = savedCache;
  if (dir) await rm(dir, { recursive: true, force: true });
});

function spec(rev: string, patches: string[]): BuildSpec {
  return { kind: 'build', name: 'LABTEST', source: { type: 'git', repo, rev }, fixups: [], patches, config: join(dir, 'LABTEST'), builder: { type: 'ssh', host: '127.0.0.1', port, user: 'x' } };
}

test('ships the whole tree, patches, builds and fetches bsd back', { skip, timeout: 120_000 }, async () => {
  const lines: string[] = [];
  const prep = await prepareBuild(spec(commit1, [join(dir, 'patches/fix.diff')]), backend);
  const k = await buildPrepared(prep, backend, { log: (l) => lines.push(l), jobs: 3 });
  assert.equal(k.cached, false);
  assert.equal(await readFile(k.bsd, 'utf8'), `fake bsd at ${commit1}\n`);
  assert.match(await readFile(k.bsdGdb, 'utf8'), /return 1;/);
  assert.equal(k.version, 'OpenBSD 7.9 (LABTEST) #1: Wed Nov 25 20:00:00 UTC 2026');
  assert.equal(k.treeDir, remoteTree);
  assert.ok(lines.some((l) => /shipping the whole tree/.test(l)), lines.join('\n'));
  assert.match(await readFile(k.log, 'utf8'), /make -j3/);
  assert.equal(await readFile(join(remoteTree, 'arch/amd64/conf/LABTEST'), 'utf8'), 'machine amd64\n');
  assert.equal(await readFile(join(remoteTree, 'net/old.c'), 'utf8').then(() => 'present'), 'present');
  // same spec again: cache hit, no SSH build
  const again = await buildPrepared(await prepareBuild(spec(commit1, [join(dir, 'patches/fix.diff')]), backend), backend, {});
  assert.equal(again.cached, true);
});

test('ships only the difference to the next commit and resets patched files', { skip, timeout: 120_000 }, async () => {
  await writeFile(join(remoteTree, 'untracked-marker'), 'kept by an incremental shipment\n');
  const lines: string[] = [];
  const k = await buildPrepared(await prepareBuild(spec(commit2, []), backend), backend, { log: (l) => lines.push(l) });
  // sent: a.c modified, new.c renamed in, x.c added, uipc_mbuf.c reset (patched last time);
  // deleted: old.c (renamed away), gone.h, and the config file the last build put there
  assert.ok(lines.some((l) => /shipping 4 changed file\(s\), deleting 3,/.test(l)), lines.join('\n'));
  assert.equal(await readFile(join(remoteTree, 'untracked-marker'), 'utf8'), 'kept by an incremental shipment\n');
  assert.equal(await readFile(join(remoteTree, 'kern/a.c'), 'utf8'), 'int a = 2;\n');
  assert.equal(await readFile(join(remoteTree, 'dev/x.c'), 'utf8'), 'int x;\n');
  assert.match(await readFile(join(remoteTree, 'net/new.c'), 'utf8'), /old_function/);
  for (const gone of ['net/old.c', 'sys/gone.h']) {
    await assert.rejects(access(join(remoteTree, gone)), `${gone} deleted on the builder`);
  }
  assert.match(await readFile(join(remoteTree, 'kern/uipc_mbuf.c'), 'utf8'), /return 0;/);
  assert.equal(await readFile(k.bsd, 'utf8'), `fake bsd at ${commit2}\n`);
  assert.equal((await readFile(join(remoteTree, '.obsdlab-commit'), 'utf8')).trim(), commit2);
});

test('a compile error names the file and the patch that touched it', { skip, timeout: 120_000 }, async () => {
  const prep = await prepareBuild(spec(commit2, [join(dir, 'patches/break.diff')]), backend);
  await assert.rejects(buildPrepared(prep, backend, {}), (e: unknown) => {
    assert.ok(e instanceof BuildError);
    assert.equal(e.kind, 'compile');
    assert.match(e.message, /kern\/uipc_mbuf\.c:3: use of undeclared identifier 'obsdlab_break'/);
    assert.match(e.message, /\[file touched by patch .*break\.diff\]/);
    return true;
  });
});

test('an unreachable builder is a clear builder error', { skip, timeout: 60_000 }, async () => {
  const dead = new SshBackend({ host: '127.0.0.1', port: await freePort(), user: 'nobody', key: join(dir, 'client') });
  await assert.rejects(dead.toolchainIdentity(), (e: unknown) => e instanceof BuildError && e.kind === 'builder' && /SSH builder ssh:nobody@127\.0\.0\.1:\d+: .*ECONNREFUSED/.test(e.message));
});
