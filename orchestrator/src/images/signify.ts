/**
 * signify(1) file formats and Ed25519 verification, pure (no files, no processes).
 *
 * Public key file:  "untrusted comment: ...\n" + base64("Ed" | keynum[8] | pubkey[32]) + "\n"
 * Signature file:   "untrusted comment: ...\n" + base64("Ed" | keynum[8] | sig[64]) + "\n"
 * Embedded form (`signify -S -e`, OpenBSD's SHA256.sig): the signed message follows
 * the two signature lines verbatim.
 */
import { createHash, createPublicKey, verify as cryptoVerify } from 'node:crypto';

const COMMENT_PREFIX = 'untrusted comment: ';
const PKALG = 'Ed';
const KEYNUM_LEN = 8;
const PUBKEY_LEN = 32;
const SIG_LEN = 64;
/** DER SubjectPublicKeyInfo header for a raw 32-byte Ed25519 key (RFC 8410). */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export class SignifyError extends Error {
  constructor(readonly source: string, detail: string) {
    super(`${source}: ${detail}`);
    this.name = 'SignifyError';
  }
}

export interface SignifyPublicKey {
  comment: string;
  keynum: Buffer;
  key: Buffer;
}

export interface SignifySignature {
  comment: string;
  keynum: Buffer;
  sig: Buffer;
  /** The embedded message (empty for a detached signature file). */
  message: Buffer;
}

function splitHeader(data: Buffer, source: string): { comment: string; blob: Buffer; rest: Buffer } {
  const nl1 = data.indexOf(0x0a);
  if (nl1 < 0) throw new SignifyError(source, 'line 1: missing newline after the comment line (truncated file?)');
  const line1 = data.subarray(0, nl1).toString('utf8');
  if (!line1.startsWith(COMMENT_PREFIX)) {
    throw new SignifyError(source, `line 1: expected "${COMMENT_PREFIX.trim()}" header, got ${JSON.stringify(line1.slice(0, 40))}`);
  }
  const nl2 = data.indexOf(0x0a, nl1 + 1);
  if (nl2 < 0) throw new SignifyError(source, 'line 2: missing newline after the base64 line (truncated file?)');
  const b64 = data.subarray(nl1 + 1, nl2).toString('ascii');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) {
    throw new SignifyError(source, 'line 2: not valid base64');
  }
  return { comment: line1.slice(COMMENT_PREFIX.length), blob: Buffer.from(b64, 'base64'), rest: data.subarray(nl2 + 1) };
}

function checkBlob(blob: Buffer, payloadLen: number, what: string, source: string): void {
  if (blob.length !== 2 + KEYNUM_LEN + payloadLen) {
    throw new SignifyError(source, `line 2: ${what} is ${blob.length} bytes, expected ${2 + KEYNUM_LEN + payloadLen}`);
  }
  const alg = blob.subarray(0, 2).toString('latin1');
  if (alg !== PKALG) throw new SignifyError(source, `line 2: unsupported algorithm ${JSON.stringify(alg)} (only "Ed")`);
}

export function parsePublicKey(data: Buffer | string, source = 'public key'): SignifyPublicKey {
  const { comment, blob } = splitHeader(Buffer.from(data), source);
  checkBlob(blob, PUBKEY_LEN, 'public key', source);
  return { comment, keynum: blob.subarray(2, 2 + KEYNUM_LEN), key: blob.subarray(2 + KEYNUM_LEN) };
}

export function parseSignature(data: Buffer | string, source = 'signature'): SignifySignature {
  const { comment, blob, rest } = splitHeader(Buffer.from(data), source);
  checkBlob(blob, SIG_LEN, 'signature', source);
  return { comment, keynum: blob.subarray(2, 2 + KEYNUM_LEN), sig: blob.subarray(2 + KEYNUM_LEN), message: rest };
}

export function formatPublicKey(comment: string, keynum: Buffer, key: Buffer): string {
  return `${COMMENT_PREFIX}${comment}\n${Buffer.concat([Buffer.from(PKALG), keynum, key]).toString('base64')}\n`;
}

export function formatSignature(comment: string, keynum: Buffer, sig: Buffer, embedded?: Buffer): Buffer {
  const head = `${COMMENT_PREFIX}${comment}\n${Buffer.concat([Buffer.from(PKALG), keynum, sig]).toString('base64')}\n`;
  return Buffer.concat([Buffer.from(head), embedded ?? Buffer.alloc(0)]);
}

/** Verifies `message` against a signature with a public key; throws SignifyError with the reason. */
export function verifyMessage(pub: SignifyPublicKey, sig: SignifySignature, message: Buffer, source = 'signature'): void {
  if (!pub.keynum.equals(sig.keynum)) {
    throw new SignifyError(
      source,
      `signed with key ${sig.keynum.toString('hex')}, but the public key is ${pub.keynum.toString('hex')} (wrong release key?)`,
    );
  }
  const keyObject = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, pub.key]), format: 'der', type: 'spki' });
  if (!cryptoVerify(null, message, keyObject, sig.sig)) {
    throw new SignifyError(source, 'signature verification failed (message or signature altered)');
  }
}

/** Verifies an embedded-message signature (SHA256.sig) and returns the verified message. */
export function verifyEmbedded(pubkeyFile: Buffer | string, sigFile: Buffer | string, names = { pubkey: 'public key', sig: 'signature' }): Buffer {
  const pub = parsePublicKey(pubkeyFile, names.pubkey);
  const sig = parseSignature(sigFile, names.sig);
  if (sig.message.length === 0) throw new SignifyError(names.sig, 'no embedded message (a detached signature, not a SHA256.sig)');
  verifyMessage(pub, sig, sig.message, names.sig);
  return sig.message;
}

/** Parses `SHA256 (name) = hex` lines (the listing signed in SHA256.sig). */
export function parseSha256Listing(text: string, source = 'SHA256 listing'): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line === '') return;
    const m = /^SHA256 \((.+)\) = ([0-9a-f]{64})$/.exec(line);
    if (!m) throw new SignifyError(source, `line ${i + 1}: not a "SHA256 (file) = hex" line: ${JSON.stringify(line.slice(0, 80))}`);
    out.set(m[1]!, m[2]!);
  });
  return out;
}

export function sha256Hex(data: Buffer | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export type FileCheck =
  | { name: string; status: 'ok'; sha256: string }
  | { name: string; status: 'unlisted' }
  | { name: string; status: 'mismatch'; expected: string; actual: string };

/** Compares computed digests against a verified listing. Pure: the caller hashes the files. */
export function checkDigests(listing: Map<string, string>, files: { name: string; sha256: string }[]): FileCheck[] {
  return files.map(({ name, sha256 }) => {
    const expected = listing.get(name);
    if (expected === undefined) return { name, status: 'unlisted' };
    if (expected !== sha256) return { name, status: 'mismatch', expected, actual: sha256 };
    return { name, status: 'ok', sha256 };
  });
}

export function describeCheck(c: FileCheck, sigName: string): string {
  switch (c.status) {
    case 'ok':
      return `${c.name}: OK`;
    case 'unlisted':
      return `${c.name}: FAIL: not listed in ${sigName}`;
    case 'mismatch':
      return `${c.name}: FAIL: SHA256 mismatch (listed ${c.expected}, file has ${c.actual})`;
  }
}
