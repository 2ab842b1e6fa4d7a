import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { describeHostKey, HostKeyStore, parseHostKeys } from '../../src/ssh/known-hosts.ts';

function blob(): Buffer {
  const pub = ssh2.utils.generateKeyPairSync('ed25519').public;
  return Buffer.from(pub.split(' ')[1]!, 'base64');
}

test('first key is pinned, the same key passes, another key is a mismatch', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'obsdlab-kh-')), 'known_hosts');
  const store = new HostKeyStore(file);
  const a = blob();
  const b = blob();
  assert.deepEqual(store.check('router', a), { ok: true, pinnedNow: true });
  assert.deepEqual(store.check('router', a), { ok: true, pinnedNow: false });
  const v = store.check('router', b);
  assert.equal(v.ok, false);
  assert.deepEqual(store.check('sink', b), { ok: true, pinnedNow: true });
  assert.match(readFileSync(file, 'utf8'), /^router ssh-ed25519 SHA256:\S+\nsink ssh-ed25519 SHA256:\S+\n$/);
});

test('key description: type from the blob, OpenSSH-style SHA256 fingerprint', () => {
  const b = blob();
  const d = describeHostKey(b);
  assert.match(d, /^ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}$/);
});

test('a malformed store line is an error naming file and line', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'obsdlab-kh-')), 'known_hosts');
  writeFileSync(file, 'router ssh-ed25519 SHA256:abc\ngarbage\n');
  assert.throws(() => parseHostKeys(readFileSync(file, 'utf8'), file), new RegExp(`${file}:2: not`));
});
