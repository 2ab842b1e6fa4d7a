/**
 * OpenBSD install media: where it lives on a mirror, fetching it (HTTP or a local
 * directory laid out like a mirror), verifying it against SHA256.sig with a trusted
 * signify key, and caching it by hash. A file is only ever renamed into the cache
 * after its SHA256 matched the signed listing.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '../util/paths.ts';
import { parseSha256Listing, verifyEmbedded } from './signify.ts';

export const DEFAULT_MIRROR = 'https://cdn.openbsd.org/pub/OpenBSD';
export const SUPPORTED_ARCHES = ['amd64', 'arm64', 'i386'] as const;
export type Arch = (typeof SUPPORTED_ARCHES)[number];

export interface MediaSpec {
  /** "7.8" or "snapshots". */
  release: string;
  arch: string;
  /** http(s) URL, file:// URL or a local directory laid out like a mirror. */
  mirror: string;
  /** Trusted signify public key file (e.g. /etc/signify/openbsd-78-base.pub from an OpenBSD machine). */
  pubkey: string;
}

export class MediaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MediaError';
  }
}

export function checkSpec(spec: MediaSpec): void {
  if (spec.release !== 'snapshots' && !/^\d+\.\d$/.test(spec.release)) {
    throw new MediaError(`release must be like "7.8" or "snapshots", got ${JSON.stringify(spec.release)}`);
  }
  if (!(SUPPORTED_ARCHES as readonly string[]).includes(spec.arch)) {
    throw new MediaError(`arch must be one of ${SUPPORTED_ARCHES.join(', ')}, got ${JSON.stringify(spec.arch)}`);
  }
}

/** "7.8" → "78" (file names: install78.img, base78.tgz, openbsd-78-base.pub). */
export function releaseTag(release: string): string {
  return release.replace('.', '');
}

/** The release's key file name as shipped in /etc/signify on OpenBSD. */
export function expectedKeyName(release: string): string {
  return `openbsd-${releaseTag(release)}-base.pub`;
}

export type InstallFormat = 'iso' | 'img';

/**
 * The install media of a release: installNN.iso (boots as a CD, sets on cd0) or
 * installNN.img (a disk image). For snapshots the name is read from the verified listing.
 */
export function installImageName(release: string, listing?: Map<string, string>, format: InstallFormat = 'iso'): string {
  if (release !== 'snapshots') return `install${releaseTag(release)}.${format}`;
  const re = new RegExp(`^install\\d+\\.${format}$`);
  const names = [...(listing?.keys() ?? [])].filter((n) => re.test(n)).sort();
  if (names.length === 0) throw new MediaError(`snapshots: SHA256.sig lists no installNN.${format}`);
  return names.at(-1)!;
}

/** Path of a file of the release directory relative to the mirror root. */
export function releasePath(release: string, arch: string, file: string): string {
  return `${release}/${arch}/${file}`;
}

export type MirrorLocation = { kind: 'http'; base: string } | { kind: 'dir'; dir: string };

export function parseMirror(mirror: string): MirrorLocation {
  if (/^https?:\/\//.test(mirror)) return { kind: 'http', base: mirror.replace(/\/+$/, '') };
  if (mirror.startsWith('file://')) return { kind: 'dir', dir: fileURLToPath(mirror) };
  if (/^[a-z]+:\/\//i.test(mirror)) throw new MediaError(`mirror ${mirror}: only http://, https://, file:// or a directory`);
  return { kind: 'dir', dir: isAbsolute(mirror) ? mirror : resolve(mirror) };
}

export interface FetchOptions {
  /** Time allowed until the server answers with headers (connect + request). */
  connectTimeoutMs?: number;
  /** Longest pause between two chunks of a download. */
  idleTimeoutMs?: number;
  onProgress?: (p: { file: string; bytes: number; total?: number }) => void;
  signal?: AbortSignal;
}

function reasonOf(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'no answer (timed out)';
  return err.cause?.code ?? err.cause?.message ?? err.message;
}

async function openHttp(url: string, opts: FetchOptions): Promise<{ body: Readable; total?: number }> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(new DOMException('timeout', 'TimeoutError')), opts.connectTimeoutMs ?? 10_000);
  const onAbort = () => ctl.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let res: Response;
  try {
    res = await fetch(url, { signal: ctl.signal, redirect: 'follow' });
  } catch (e) {
    throw new MediaError(`cannot reach mirror ${url}: ${reasonOf(e)}`);
  } finally {
    clearTimeout(timer);
  }
  if (!res.ok || !res.body) throw new MediaError(`mirror ${url}: HTTP ${res.status} ${res.statusText}`);
  const len = Number(res.headers.get('content-length'));
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  const idle = opts.idleTimeoutMs ?? 60_000;
  const stalled = () => new MediaError(`mirror ${url}: download stalled for ${idle / 1000}s`);
  // A Transform (not a 'data' listener) watches progress, so nothing flows before the caller reads.
  let idleTimer: NodeJS.Timeout | undefined;
  const watched = new Transform({
    transform(chunk, _enc, cb) {
      armIdle();
      cb(null, chunk);
    },
  });
  const armIdle = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => watched.destroy(stalled()), idle);
  };
  armIdle();
  body.on('error', (e) => watched.destroy(new MediaError(`mirror ${url}: download failed: ${reasonOf(e)}`)));
  watched.on('close', () => {
    clearTimeout(idleTimer);
    body.destroy();
    opts.signal?.removeEventListener('abort', onAbort);
  });
  body.pipe(watched);
  return { body: watched, total: Number.isFinite(len) && len > 0 ? len : undefined };
}

async function openSource(mirror: MirrorLocation, rel: string, opts: FetchOptions): Promise<{ body: Readable; total?: number; where: string }> {
  if (mirror.kind === 'http') {
    const url = `${mirror.base}/${rel}`;
    return { ...(await openHttp(url, opts)), where: url };
  }
  const path = join(mirror.dir, rel);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw new MediaError(`mirror directory ${mirror.dir}: ${rel} is missing (${(e as NodeJS.ErrnoException).code})`);
  }
  return { body: createReadStream(path), total: size, where: path };
}

async function readSmall(mirror: MirrorLocation, rel: string, opts: FetchOptions): Promise<Buffer> {
  const { body } = await openSource(mirror, rel, opts);
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Fetches and verifies the release's SHA256.sig; returns the signed listing. */
export async function fetchVerifiedListing(spec: MediaSpec, opts: FetchOptions = {}): Promise<Map<string, string>> {
  checkSpec(spec);
  let pub: Buffer;
  try {
    pub = await readFile(spec.pubkey);
  } catch (e) {
    throw new MediaError(
      `cannot read trusted public key ${spec.pubkey} (${(e as NodeJS.ErrnoException).code}); ` +
        `copy ${spec.release === 'snapshots' ? 'the next release\'s key' : expectedKeyName(spec.release)} from /etc/signify on an OpenBSD machine you trust`,
    );
  }
  const mirror = parseMirror(spec.mirror);
  const sigRel = releasePath(spec.release, spec.arch, 'SHA256.sig');
  const sig = await readSmall(mirror, sigRel, opts);
  const message = verifyEmbedded(pub, sig, { pubkey: spec.pubkey, sig: `${spec.mirror}/${sigRel}` });
  return parseSha256Listing(message.toString('utf8'), `${spec.mirror}/${sigRel}`);
}

export interface FetchedFile {
  name: string;
  path: string;
  sha256: string;
  /** Already in the cache: nothing was downloaded. */
  cached: boolean;
}

/** Cache location of a verified file: cacheDir('media', sha256, name). */
export function cachedMediaPath(sha256: string, name: string): string {
  return cacheDir('media', sha256, name);
}

/**
 * Downloads one listed file into the cache. Streams into a temporary name while
 * hashing; renames only when the digest equals the signed one, else deletes it.
 */
export async function fetchListedFile(spec: MediaSpec, listing: Map<string, string>, name: string, opts: FetchOptions = {}): Promise<FetchedFile> {
  const expected = listing.get(name);
  if (!expected) throw new MediaError(`${name} is not listed in ${spec.release}/${spec.arch}/SHA256.sig`);
  const dest = cachedMediaPath(expected, name);
  try {
    await stat(dest);
    return { name, path: dest, sha256: expected, cached: true };
  } catch {
    // not cached yet
  }
  await mkdir(cacheDir('media', expected), { recursive: true });
  const tmp = `${dest}.part-${process.pid}`;
  const { body, total, where } = await openSource(parseMirror(spec.mirror), releasePath(spec.release, spec.arch, name), opts);
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    await new Promise<void>((res, rej) => {
      const out = createWriteStream(tmp);
      body.on('data', (c: Buffer) => {
        hash.update(c);
        bytes += c.length;
        opts.onProgress?.({ file: name, bytes, total });
      });
      body.on('error', rej);
      out.on('error', rej);
      out.on('finish', () => res());
      body.pipe(out);
    });
    const actual = hash.digest('hex');
    if (actual !== expected) {
      const size = total !== undefined && bytes < total ? ` (truncated: ${bytes} of ${total} bytes)` : ` (${bytes} bytes)`;
      throw new MediaError(`${where}: SHA256 mismatch${size}: SHA256.sig says ${expected}, download is ${actual}; not used`);
    }
    await rename(tmp, dest);
    return { name, path: dest, sha256: expected, cached: false };
  } finally {
    await rm(tmp, { force: true });
  }
}

/** SHA256.sig → verify → install image (fetched or from the cache). */
export async function fetchInstallMedia(spec: MediaSpec, opts: FetchOptions & { format?: InstallFormat } = {}): Promise<FetchedFile> {
  const listing = await fetchVerifiedListing(spec, opts);
  return fetchListedFile(spec, listing, installImageName(spec.release, listing, opts.format), opts);
}
