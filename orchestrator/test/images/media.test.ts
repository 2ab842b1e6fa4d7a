import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { createServer as createHttpServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import {
  fetchInstallMedia,
  fetchListedFile,
  fetchVerifiedListing,
  installImageName,
  parseMirror,
  type MediaSpec,
} from '../../src/images/media.ts';
import { listingLine, makeTestKey } from './signify-keys.ts';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function setup(t: { after(fn: () => void): void }, release = '7.8') {
  const root = mkdtempSync(join(tmpdir(), 'obsdlab-media-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const cache = join(root, 'cache');
  const prevCache = process.env.OBSDLAB_CACHE;
  process.env.OBSDLAB_CACHE = cache;
  t.after(() => {
    if (prevCache === undefined) delete process.env.OBSDLAB_CACHE;
    else process.env.OBSDLAB_CACHE = prevCache;
  });
  const mirror = join(root, 'mirror');
  const dir = join(mirror, release, 'amd64');
  mkdirSync(dir, { recursive: true });
  const image = Buffer.alloc(300_000, 0x5a);
  image.write('OpenBSD install image stand-in', 0);
  const img = release === 'snapshots' ? 'install79.iso' : 'install78.iso';
  writeFileSync(join(dir, img), image);
  writeFileSync(join(dir, 'bsd.rd'), 'ramdisk');
  const key = makeTestKey();
  const listing = listingLine('bsd.rd', sha('ramdisk')) + listingLine(img, sha(image));
  writeFileSync(join(dir, 'SHA256.sig'), key.signEmbedded(listing));
  writeFileSync(join(root, 'openbsd-78-base.pub'), key.pubFile);
  const spec: MediaSpec = { release, arch: 'amd64', mirror, pubkey: join(root, 'openbsd-78-base.pub') };
  return { root, cache, mirror, dir, image, img, key, spec };
}

test('local mirror: verified image lands in the cache under its hash; second fetch is a cache hit', async (t) => {
  const s = setup(t);
  const progress: number[] = [];
  const got = await fetchInstallMedia(s.spec, { onProgress: (p) => progress.push(p.bytes) });
  assert.equal(got.name, 'install78.iso');
  assert.equal(got.sha256, sha(s.image));
  assert.equal(got.path, join(s.cache, 'media', sha(s.image), 'install78.iso'));
  assert.deepEqual(readFileSync(got.path), s.image);
  assert.equal(got.cached, false);
  assert.equal(progress.at(-1), s.image.length);
  const again = await fetchInstallMedia({ ...s.spec, mirror: pathToFileURL(s.mirror).href });
  assert.equal(again.cached, true);
});

test('local mirror: a tampered image is rejected, and nothing is left in the cache', async (t) => {
  const s = setup(t);
  const bad = Buffer.from(s.image);
  bad[1000] = bad[1000]! ^ 1;
  writeFileSync(join(s.dir, s.img), bad);
  await assert.rejects(fetchInstallMedia(s.spec), /install78\.iso: SHA256 mismatch .*not used/);
  const dir = join(s.cache, 'media', sha(s.image));
  assert.deepEqual(existsSync(dir) ? readdirSync(dir) : [], []);
});

test('local mirror: a truncated image is rejected', async (t) => {
  const s = setup(t);
  writeFileSync(join(s.dir, s.img), s.image.subarray(0, 1000));
  await assert.rejects(fetchInstallMedia(s.spec), /SHA256 mismatch \(1000 bytes\)/);
});

test('local mirror: missing image, missing SHA256.sig, unlisted file, missing key', async (t) => {
  const s = setup(t);
  rmSync(join(s.dir, s.img));
  await assert.rejects(fetchInstallMedia(s.spec), /7\.8\/amd64\/install78\.iso is missing \(ENOENT\)/);
  const listing = await fetchVerifiedListing(s.spec);
  await assert.rejects(fetchListedFile(s.spec, listing, 'base78.tgz'), /base78\.tgz is not listed in 7\.8\/amd64\/SHA256\.sig/);
  rmSync(join(s.dir, 'SHA256.sig'));
  await assert.rejects(fetchInstallMedia(s.spec), /SHA256\.sig is missing/);
  await assert.rejects(fetchInstallMedia({ ...s.spec, pubkey: join(s.root, 'nope.pub') }), /cannot read trusted public key .*openbsd-78-base\.pub from \/etc\/signify/);
});

test('local mirror: SHA256.sig signed by another key is refused before any download', async (t) => {
  const s = setup(t);
  writeFileSync(join(s.dir, 'SHA256.sig'), makeTestKey().signEmbedded(listingLine(s.img, sha(s.image))));
  await assert.rejects(fetchInstallMedia(s.spec), /signed with key [0-9a-f]{16}, but the public key is/);
  assert.equal(existsSync(join(s.cache, 'media')), false);
});

test('snapshots: the install image name comes from the signed listing', async (t) => {
  const s = setup(t, 'snapshots');
  const got = await fetchInstallMedia(s.spec);
  assert.equal(got.name, 'install79.iso');
  assert.equal(installImageName('7.8'), 'install78.iso');
  assert.equal(installImageName('7.8', undefined, 'img'), 'install78.img');
  assert.throws(() => installImageName('snapshots', new Map([['bsd.rd', 'x']])), /lists no installNN\.iso/);
});

test('bad specs are clear errors', async () => {
  await assert.rejects(fetchVerifiedListing({ release: '7', arch: 'amd64', mirror: '/x', pubkey: '/x' }), /release must be like "7\.8"/);
  await assert.rejects(fetchVerifiedListing({ release: '7.8', arch: 'sparc', mirror: '/x', pubkey: '/x' }), /arch must be one of amd64, arm64, i386/);
  assert.throws(() => parseMirror('ftp://ftp.example.org/pub/OpenBSD'), /only http:\/\/, https:\/\/, file:\/\//);
});

test('unreachable http mirror fails fast with "cannot reach mirror"', async (t) => {
  const s = setup(t);
  // a port that was free a moment ago: nothing listens there
  const port = await new Promise<number>((res) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => res(p));
    });
  });
  const start = Date.now();
  await assert.rejects(
    fetchInstallMedia({ ...s.spec, mirror: `http://127.0.0.1:${port}/pub/OpenBSD` }, { connectTimeoutMs: 3000 }),
    new RegExp(`cannot reach mirror http://127\\.0\\.0\\.1:${port}/pub/OpenBSD/7\\.8/amd64/SHA256\\.sig: ECONNREFUSED`),
  );
  assert.ok(Date.now() - start < 3000, `took ${Date.now() - start} ms`);
});

test('a mirror that accepts but never answers times out at the connect timeout', async (t) => {
  const s = setup(t);
  const sockets: import('node:net').Socket[] = [];
  const srv = createServer((sock) => sockets.push(sock));
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', () => res()));
  t.after(() => {
    sockets.forEach((x) => x.destroy());
    srv.close();
  });
  const port = (srv.address() as { port: number }).port;
  const start = Date.now();
  await assert.rejects(
    fetchInstallMedia({ ...s.spec, mirror: `http://127.0.0.1:${port}` }, { connectTimeoutMs: 500 }),
    /cannot reach mirror .*: no answer \(timed out\)/,
  );
  assert.ok(Date.now() - start < 2500);
});


/** A mirror over HTTP on 127.0.0.1 that serves the test's directory, with per-path misbehaviour. */
async function httpMirror(t: { after(fn: () => void): void }, root: string, misbehave: Record<string, 'truncate' | 'stall'> = {}) {
  const server: Server = createHttpServer((req, res) => {
    const rel = decodeURIComponent(req.url!.replace(/^\/pub\/OpenBSD\//, ''));
    let data: Buffer;
    try {
      data = readFileSync(join(root, rel));
    } catch {
      res.writeHead(404).end('not found');
      return;
    }
    const mode = misbehave[rel];
    res.writeHead(200, { 'content-length': String(data.length) });
    if (mode === 'truncate') {
      res.write(data.subarray(0, 1000));
      setTimeout(() => res.socket?.destroy(), 20);
    } else if (mode === 'stall') {
      res.write(data.subarray(0, 1000));
    } else {
      res.end(data);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/pub/OpenBSD`;
}

test('http mirror on loopback: good download verified and cached; 404 named', async (t) => {
  const s = setup(t);
  const mirror = await httpMirror(t, s.mirror);
  const got = await fetchInstallMedia({ ...s.spec, mirror });
  assert.equal(got.sha256, sha(s.image));
  assert.deepEqual(readFileSync(got.path), s.image);
  const listing = await fetchVerifiedListing({ ...s.spec, mirror });
  await assert.rejects(fetchListedFile({ ...s.spec, mirror }, new Map([...listing, ['base78.tgz', 'a'.repeat(64)]]), 'base78.tgz'), /base78\.tgz: HTTP 404/);
});

test('http mirror on loopback: a connection cut mid-file and a stalled transfer are refused, nothing cached', async (t) => {
  const s = setup(t);
  const cut = await httpMirror(t, s.mirror, { '7.8/amd64/install78.iso': 'truncate' });
  await assert.rejects(fetchInstallMedia({ ...s.spec, mirror: cut }), /install78\.iso: download failed/);
  const stall = await httpMirror(t, s.mirror, { '7.8/amd64/install78.iso': 'stall' });
  await assert.rejects(fetchInstallMedia({ ...s.spec, mirror: stall }, { idleTimeoutMs: 300 }), /download stalled for 0\.3s/);
  const dir = join(s.cache, 'media', sha(s.image));
  assert.deepEqual(existsSync(dir) ? readdirSync(dir) : [], []);
});
