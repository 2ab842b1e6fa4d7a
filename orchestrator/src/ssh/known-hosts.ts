/**
 * Host keys pinned per VM: the first key a VM offers is written to a small file
 * (`<vm> <type> SHA256:<base64>` per line); later connections must offer the same.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

export type HostKeyVerdict = { ok: true; pinnedNow: boolean } | { ok: false; expected: string; got: string };

/** "ssh-ed25519 SHA256:…" for a public key blob in SSH wire format. */
export function describeHostKey(blob: Buffer): string {
  const len = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  const type = len > 0 && len + 4 <= blob.length ? blob.subarray(4, 4 + len).toString('latin1') : 'unknown';
  const fp = createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
  return `${type} SHA256:${fp}`;
}

/** Parses the store's text into vm → key description; a malformed line is an error naming the line. */
export function parseHostKeys(text: string, file: string): Map<string, string> {
  const keys = new Map<string, string>();
  text.split('\n').forEach((line, i) => {
    const t = line.trim();
    if (!t || t.startsWith('#')) return;
    const m = /^(\S+)\s+(\S+)\s+(SHA256:\S+)$/.exec(t);
    if (!m) throw new Error(`${file}:${i + 1}: not "<vm> <key type> SHA256:<fingerprint>": ${t}`);
    keys.set(m[1]!, `${m[2]} ${m[3]}`);
  });
  return keys;
}

export class HostKeyStore {
  constructor(readonly file: string) {}

  check(vm: string, blob: Buffer): HostKeyVerdict {
    const got = describeHostKey(blob);
    const keys = existsSync(this.file) ? parseHostKeys(readFileSync(this.file, 'utf8'), this.file) : new Map<string, string>();
    const expected = keys.get(vm);
    if (expected === undefined) {
      appendFileSync(this.file, `${vm} ${got}\n`);
      return { ok: true, pinnedNow: true };
    }
    return expected === got ? { ok: true, pinnedNow: false } : { ok: false, expected, got };
  }
}
