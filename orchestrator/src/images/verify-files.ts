/** Effectful shell around signify.ts: reads the key, the SHA256.sig and hashes files on disk. */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { createHash } from 'node:crypto';
import { checkDigests, describeCheck, parseSha256Listing, verifyEmbedded, type FileCheck } from './signify.ts';

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function readNamed(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new Error(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Verifies SHA256.sig with the key and returns the signed listing (name → hex). Throws SignifyError. */
export async function readVerifiedListing(pubkeyPath: string, sigPath: string): Promise<Map<string, string>> {
  const [pub, sig] = await Promise.all([readNamed(pubkeyPath, 'public key'), readNamed(sigPath, 'signature file')]);
  const message = verifyEmbedded(pub, sig, { pubkey: pubkeyPath, sig: sigPath });
  return parseSha256Listing(message.toString('utf8'), sigPath);
}

export interface VerifyFilesResult {
  ok: boolean;
  checks: (FileCheck | { name: string; status: 'unreadable'; reason: string })[];
  lines: string[];
}

/**
 * `signify -C` semantics: the signature must be good, and every given file must be listed
 * (by its base name, as in OpenBSD's SHA256 files) with a matching digest.
 */
export async function verifyFiles(pubkeyPath: string, sigPath: string, files: string[]): Promise<VerifyFilesResult> {
  const listing = await readVerifiedListing(pubkeyPath, sigPath);
  const checks: VerifyFilesResult['checks'] = [];
  for (const file of files) {
    let digest: string;
    try {
      digest = await sha256File(file);
    } catch (e) {
      checks.push({ name: file, status: 'unreadable', reason: (e as NodeJS.ErrnoException).code ?? (e as Error).message });
      continue;
    }
    const [check] = checkDigests(listing, [{ name: basename(file), sha256: digest }]);
    checks.push({ ...check!, name: file });
  }
  const lines = checks.map((c) =>
    c.status === 'unreadable' ? `${c.name}: FAIL: cannot read (${c.reason})` : describeCheck(c, sigPath),
  );
  return { ok: checks.every((c) => c.status === 'ok'), checks, lines };
}
