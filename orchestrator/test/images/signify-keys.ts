/** Test helper: an Ed25519 key pair written in signify's exact formats with Node's crypto. */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { formatPublicKey, formatSignature } from '../../src/images/signify.ts';

export interface TestKey {
  keynum: Buffer;
  pubFile: string;
  /** SHA256.sig-style file: signature lines followed by the signed message. */
  signEmbedded(message: Buffer | string): Buffer;
}

export function makeTestKey(keynum: Buffer = randomBytes(8)): TestKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  return {
    keynum,
    pubFile: formatPublicKey('test key public key', keynum, raw),
    signEmbedded(message) {
      const msg = Buffer.from(message);
      return formatSignature('verify with test.pub', keynum, sign(null, msg, privateKey), msg);
    },
  };
}

export function listingLine(name: string, sha256: string): string {
  return `SHA256 (${name}) = ${sha256}\n`;
}
