import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip, createGzip, gunzipSync, gzipSync } from 'node:zlib';
import { createDelta } from 'fossil-delta';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCommit, encodeTree } from '../src/format/codec.js';
import { DEFAULT_DIR_META } from '../src/format/types.js';
import { hashBytes } from '../src/util/hash.js';
import { applyPack } from '../src/remote/apply-pack.js';
import { deltaEntries } from '../src/remote/delta.js';
import { PACK_MAGIC, type PackKind, packStream } from '../src/remote/pack.js';
import { Repo } from '../src/repo/repo.js';
import { type Nginx, startNginx } from './helpers/nginx.js';
import { trove, troveOk } from './helpers/cli.js';
import { objectFrame, patchFrame } from './helpers/pack-frames.js';
import { tmpdir } from './helpers/tmp.js';
import { objectIds } from './helpers/objects.js';


function ref(repo: string, name: string): string {
  return readFileSync(join(repo, 'refs', name), 'utf8').trim();
}

/** An uncompressed pack of the given frames, as a stream of small chunks (to exercise reassembly). */
async function* packOf(frames: { kind: PackKind; bytes: Buffer; id?: string }[], count = frames.length): AsyncIterable<Buffer> {
  const head = Buffer.alloc(12);
  PACK_MAGIC.copy(head);
  head.writeUInt32BE(count, 8);
  const parts: Buffer[] = [head];
  for (const f of frames) parts.push(objectFrame(f.kind, f.bytes, f.id));
  parts.push(Buffer.from([0]));
  const all = Buffer.concat(parts);
  for (let i = 0; i < all.length; i += 7) yield all.subarray(i, i + 7);
}

/** Through gzip and back, as a pack travels. */
function gunzipped(src: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  return Readable.from(src).pipe(createGzip()).pipe(createGunzip());
}

const file = (name: string, bytes: Buffer) => ({ name, kind: 'file' as const, id: hashBytes(bytes), mode: 0o644, uid: 0, gid: 0, size: bytes.length, xattrs: [] });
const dir = (name: string, id: string) => ({ name, kind: 'dir' as const, id, mode: 0o755, uid: 0, gid: 0, size: 0, xattrs: [] });

describe('delta packs served by nginx', () => {
  const base = tmpdir('trove-delta');
  const src = join(base, 'src');
  const server = join(base, 'server');
  const client = join(base, 'client');
  let nginx: Nginx;

  beforeAll(async () => {
    for (const d of ['a/b', 'c']) mkdirSync(join(src, d), { recursive: true });
    for (let i = 0; i < 30; i++) writeFileSync(join(src, i % 2 ? 'a/b' : 'c', `f${i}`), `content ${i}\n`.repeat(50));
    writeFileSync(join(src, 'big'), Buffer.alloc(3 << 20, 1)); // larger than the in-memory limit: streamed
    writeFileSync(join(src, 'run'), '#!/bin/sh\necho run\n', { mode: 0o755 });
    await troveOk(server, 'init');
    await troveOk(server, 'commit', src, '-r', 'main', '-m', 'one');
    await troveOk(server, 'delta', '--from-empty', 'main');
    await troveOk(server, 'summary');
    nginx = await startNginx(server);
    await troveOk(client, 'init');
    await troveOk(client, 'remote', 'add', 'origin', nginx.url);
  });
  afterAll(async () => nginx?.stop());

  it('a first pull takes the from-empty pack in one request and fetches no single object', async () => {
    const r = JSON.parse(await troveOk(client, 'pull', 'origin', 'main', '--json'));
    expect(nginx.accessLog().map((l) => l.path)).toEqual(['/summary', `/deltas/empty-${ref(server, 'heads/main')}`]);
    expect(r.deltas.used).toHaveLength(1);
    // Packs of 64 KiB to 256 MiB of objects are xz by default.
    expect(readFileSync(join(server, 'deltas', r.deltas.used[0])).subarray(0, 6)).toEqual(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]));
    expect(r.fetched.objects).toBe(objectIds(server).size);
    // Executables' objects are 0755 on both sides, so hard-link checkouts need no per-mode copies.
    const modes = (repo: string) => [...objectIds(repo)].map((id) => `${id} ${(statSync(join(repo, 'objects', id.slice(0, 2), id.slice(2))).mode & 0o777).toString(8)}`).sort();
    expect(modes(client)).toEqual(modes(server));
    expect(modes(client).some((m) => m.endsWith(' 755'))).toBe(true);
    expect(objectIds(client)).toEqual(objectIds(server));
    await troveOk(client, 'fsck');
  });

  it('an update takes the FROM-TO pack: only new objects, one request', async () => {
    writeFileSync(join(src, 'a/b/f1'), 'changed\n');
    const one = ref(server, 'heads/main');
    await troveOk(server, 'commit', src, '-r', 'main', '-m', 'two');
    const d = JSON.parse(await troveOk(server, 'delta', 'main~1', 'main', '--compression', 'gzip', '--json'));
    expect(d.objects).toBe(5); // blob, b, a, root, commit
    expect(readFileSync(join(server, d.path)).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    await troveOk(server, 'summary');
    const before = objectIds(client);
    nginx.clearLog();
    const r = JSON.parse(await troveOk(client, 'pull', 'origin', 'main', '--json'));
    const two = ref(server, 'heads/main');
    expect(nginx.accessLog().map((l) => l.path)).toEqual(['/summary', `/deltas/${one}-${two}`]);
    expect(r.fetched.objects).toBe(5);
    expect([...objectIds(client)].filter((id) => !before.has(id))).toHaveLength(5);
    expect(ref(client, 'remotes/origin/main')).toBe(two);
    await troveOk(client, 'fsck');
  });

  /**
   * Commits a change, writes a pack for it and spoils the pack with `spoil`;
   * the pull must fetch the pack once (retrying cannot mend its bytes), fall
   * back to object pulls and end sound.
   */
  async function corruptPackFallsBack(change: string, compression: 'gzip' | 'xz', spoil: (pack: Buffer) => Buffer, message: RegExp): Promise<void> {
    writeFileSync(join(src, 'c/f0'), change);
    await troveOk(server, 'commit', src, '-r', 'main', '-m', change);
    const d = JSON.parse(await troveOk(server, 'delta', 'main~1', 'main', '--compression', compression, '--json'));
    const path = join(server, d.path);
    writeFileSync(path, spoil(readFileSync(path)));
    await troveOk(server, 'summary');
    nginx.clearLog();
    const r = await trove(['--repo', client, 'pull', 'origin', 'main', '--json']);
    expect(r.code).toBe(0);
    expect(nginx.accessLog().filter((l) => l.path === `/${d.path}`)).toHaveLength(1);
    const out = JSON.parse(r.stdout);
    expect(out.transfer.retries).toBe(0);
    expect(out.deltas.failed).toEqual([d.path.slice('deltas/'.length)]);
    expect(r.stderr).toMatch(/delta .* failed/);
    expect(r.stderr).toMatch(message);
    expect(nginx.accessLog().some((l) => l.path.startsWith('/objects/'))).toBe(true);
    expect(objectIds(client)).toEqual(objectIds(server));
    await troveOk(client, 'fsck');
    // The refused pack's decompressor (an xz process for xz) is not left running in this process.
    expect(await childrenNamed('xz')).toEqual([]);
  }

  /** Child processes of this (test) process with command name `name`, once those being stopped are gone (2 s at most). */
  async function childrenNamed(name: string): Promise<string[]> {
    let found: string[] = [];
    for (let i = 0; i < 20; i++) {
      found = [];
      for (const pid of readdirSync('/proc').filter((p) => /^[0-9]+$/.test(p))) {
        let stat: string;
        try {
          stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        } catch {
          continue; // gone meanwhile
        }
        // pid (comm) state ppid ...
        const m = /^\d+ \((.*)\) \S+ (\d+) /.exec(stat);
        if (m && m[1] === name && Number(m[2]) === process.pid) found.push(pid);
      }
      if (found.length === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return found;
  }

  /** Flips bytes inside the compressed stream, past its header. */
  const flipped = (bytes: Buffer) => {
    const out = Buffer.from(bytes);
    for (let i = 40; i < out.length - 20; i += 50) out[i]! ^= 0xff;
    return out;
  };

  it('a gzip pack that does not decompress is fetched once, then abandoned for object pulls', async () => {
    await corruptPackFallsBack('changed again\n', 'gzip', flipped, /does not decompress: Z_DATA_ERROR/);
  });

  it('an xz pack that does not decompress is fetched once, then abandoned for object pulls', async () => {
    await corruptPackFallsBack('changed once more\n', 'xz', flipped, /does not decompress/);
  });

  it('a pack with bad framing is fetched once, then abandoned for object pulls', async () => {
    // Well-formed gzip around a pack whose magic is wrong.
    await corruptPackFallsBack('changed a fourth time\n', 'gzip', (bytes) => gzipSync(Buffer.concat([Buffer.from('TRVPACK9'), gunzipSync(bytes).subarray(8)])), /bad magic/);
  });

  it('--no-deltas pulls objects even when a pack fits', async () => {
    const other = join(base, 'other');
    await troveOk(other, 'init');
    await troveOk(other, 'remote', 'add', 'origin', nginx.url);
    nginx.clearLog();
    await troveOk(other, 'pull', 'origin', 'main', '--no-deltas');
    expect(nginx.accessLog().some((l) => l.path.startsWith('/deltas/'))).toBe(false);
    expect(objectIds(other)).toEqual(objectIds(server));
  });

  it('pulls objects, asking for no pack, when no listed pack fits', async () => {
    // A pack to the new commit exists, but from a commit the client never pulled;
    // and the client has had main before, so a from-empty pack would not fit either.
    writeFileSync(join(src, 'side'), 'only on the side branch\n');
    // (The summary writes no pack of its own from main's previous tip: --no-update-summary, --no-deltas.)
    await troveOk(server, 'commit', src, '-r', 'side', '-m', 'side', '--no-update-summary');
    rmSync(join(src, 'side'));
    writeFileSync(join(src, 'c/f2'), 'changed for the last time\n');
    await troveOk(server, 'commit', src, '-r', 'main', '-m', 'last', '--no-update-summary');
    await troveOk(server, 'delta', 'side', 'main', '--no-update-summary');
    await troveOk(server, 'delta', '--from-empty', 'main', '--no-update-summary');
    await troveOk(server, 'summary', '--no-deltas');
    const main = ref(server, 'heads/main');
    const listed = JSON.parse(readFileSync(join(server, 'summary'), 'utf8')).deltas.filter((d: { to: string }) => d.to === main);
    expect(listed.map((d: { from: string | null }) => d.from).sort()).toEqual([ref(server, 'heads/side'), null].sort());
    const before = objectIds(client);
    nginx.clearLog();
    const out = JSON.parse(await troveOk(client, 'pull', 'origin', 'main', '--json'));
    const log = nginx.accessLog();
    expect(log.filter((l) => l.path.startsWith('/deltas/'))).toEqual([]);
    expect(out.deltas).toEqual({ used: [], failed: [] });
    const fetched = log.filter((l) => l.path.startsWith('/objects/')).map((l) => l.path.slice('/objects/'.length).replace('/', ''));
    expect(fetched.length).toBeGreaterThan(0);
    expect(fetched.sort()).toEqual([...objectIds(client)].filter((id) => !before.has(id)).sort());
    expect(out.fetched.objects).toBe(fetched.length);
    expect(ref(client, 'remotes/origin/main')).toBe(main);
    await troveOk(client, 'fsck');
  });
});

describe('applying a pack from an untrusted source', () => {
  const blobA = Buffer.from('a\n');
  const blobB = Buffer.from('b\n');
  const sub = Buffer.from(encodeTree({ entries: [file('b', blobB)] }));
  const root = Buffer.from(encodeTree({ entries: [file('a', blobA), dir('sub', hashBytes(sub))] }));
  const top = Buffer.from(encodeCommit({ tree: hashBytes(root), root: DEFAULT_DIR_META, parents: [], timestamp: 1, subject: 's', body: '', metadata: [] }));
  const target = hashBytes(top);

  async function fresh(): Promise<Repo> {
    return Repo.init(join(tmpdir('trove-pack'), 'repo'));
  }

  it('installs a well-ordered pack and nothing else', async () => {
    const repo = await fresh();
    const r = await applyPack({ store: repo.store, target }, packOf([
      { kind: 'blob', bytes: blobA },
      { kind: 'blob', bytes: blobB },
      { kind: 'tree', bytes: sub },
      { kind: 'tree', bytes: root },
      { kind: 'commit', bytes: top },
    ]));
    expect(r).toMatchObject({ objects: 5, installed: 5 });
    expect(objectIds(repo.path).size).toBe(5);
  });

  it('refuses a whole pack holding an object its commit does not reach, and stores nothing from it', async () => {
    const stray = Buffer.from('nothing asked for this\n');
    const strayTree = Buffer.from(encodeTree({ entries: [file('x', stray)] }));
    for (const frames of [
      // a loose blob first, in the middle, last
      [{ kind: 'blob' as const, bytes: stray }, { kind: 'blob' as const, bytes: blobA }, { kind: 'blob' as const, bytes: blobB }, { kind: 'tree' as const, bytes: sub }, { kind: 'tree' as const, bytes: root }, { kind: 'commit' as const, bytes: top }],
      [{ kind: 'blob' as const, bytes: blobA }, { kind: 'blob' as const, bytes: blobB }, { kind: 'blob' as const, bytes: stray }, { kind: 'tree' as const, bytes: strayTree }, { kind: 'tree' as const, bytes: sub }, { kind: 'tree' as const, bytes: root }, { kind: 'commit' as const, bytes: top }],
      // a large blob (streamed to a temp file) that nothing names
      [{ kind: 'blob' as const, bytes: Buffer.alloc(3 << 20, 7) }, { kind: 'blob' as const, bytes: blobA }, { kind: 'blob' as const, bytes: blobB }, { kind: 'tree' as const, bytes: sub }, { kind: 'tree' as const, bytes: root }, { kind: 'commit' as const, bytes: top }],
    ]) {
      const repo = await fresh();
      const err = await applyPack({ store: repo.store, target }, packOf(frames)).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'E_CORRUPT' });
      expect((err as Error).message).toMatch(/does not reach/);
      expect(objectIds(repo.path).size).toBe(0);
      expect(readdirSync(repo.tmpDir)).toEqual([]);
    }
  });

  it('refuses a pack without the commit it is for, and stores nothing from it', async () => {
    const repo = await fresh();
    const other = hashBytes(Buffer.from('another commit'));
    const frames = [{ kind: 'blob' as const, bytes: blobA }, { kind: 'blob' as const, bytes: blobB }, { kind: 'tree' as const, bytes: sub }, { kind: 'tree' as const, bytes: root }, { kind: 'commit' as const, bytes: top }];
    const err = await applyPack({ store: repo.store, target: other }, packOf(frames)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_BAD_OBJECT' });
    const noCommit = await applyPack({ store: repo.store, target }, packOf(frames.slice(0, 4))).catch((e: unknown) => e);
    expect(noCommit).toMatchObject({ code: 'E_BAD_OBJECT' });
    expect(objectIds(repo.path).size).toBe(0);
  });

  it('refuses a tree that arrives before what it references, and stores no such tree', async () => {
    const repo = await fresh();
    const err = await applyPack({ store: repo.store, target }, packOf([
      { kind: 'blob', bytes: blobA },
      { kind: 'tree', bytes: root },
      { kind: 'blob', bytes: blobB },
      { kind: 'tree', bytes: sub },
    ])).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_CORRUPT' });
    expect(await repo.store.has(hashBytes(root))).toBe(false);
  });

  it('refuses a tree sent as a blob and then referenced as a directory', async () => {
    const repo = await fresh();
    const err = await applyPack({ store: repo.store, target }, packOf([
      { kind: 'blob', bytes: blobA },
      { kind: 'blob', bytes: sub }, // its child blobB was never sent
      { kind: 'tree', bytes: root },
    ])).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_BAD_OBJECT' });
    expect(await repo.store.has(hashBytes(root))).toBe(false);
  });

  it('refuses an object whose bytes do not match its id, and stores nothing for it', async () => {
    const repo = await fresh();
    const err = await applyPack({ store: repo.store, target }, packOf([{ kind: 'blob', bytes: Buffer.from('evil'), id: hashBytes(blobA) }])).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_CORRUPT' });
    expect(objectIds(repo.path).size).toBe(0);
  });

  it('refuses a pack that ends early or holds fewer objects than announced', async () => {
    const repo = await fresh();
    const short = await applyPack({ store: repo.store, target }, packOf([{ kind: 'blob', bytes: blobA }], 2)).catch((e: unknown) => e);
    expect(short).toMatchObject({ code: 'E_CORRUPT' });
    async function* cut() {
      let n = 0;
      for await (const c of packOf([{ kind: 'blob', bytes: Buffer.alloc(5000, 3) }])) if ((n += c.length) < 3000) yield c;
    }
    const truncated = await applyPack({ store: repo.store, target }, cut()).catch((e: unknown) => e);
    expect(truncated).toMatchObject({ code: 'E_CORRUPT' });
    expect(await repo.store.has(hashBytes(Buffer.alloc(5000, 3)))).toBe(false);
  });

  it('writes packs children first, so a writer and reader round-trip', async () => {
    const repo = await fresh();
    for (const b of [blobA, blobB, sub, root]) await repo.store.put(b);
    const commit = (await import('../src/repo/objects.js')).writeCommit(repo.store, {
      tree: hashBytes(root), root: { mode: 0o755, uid: 0, gid: 0, xattrs: [] }, parents: [], subject: 's', body: '', timestamp: 1, metadata: [],
    });
    const entries = await deltaEntries(repo.store, null, await commit);
    expect(entries.map((e) => e.kind)).toEqual(['blob', 'blob', 'tree', 'tree', 'commit']);
    const other = await fresh();
    const r = await applyPack({ store: other.store, target: await commit }, gunzipped(packStream(repo.store, entries)));
    expect(r.installed).toBe(5);
    expect(objectIds(other.path)).toEqual(objectIds(repo.path));
  });
});

describe('patches in delta packs', () => {
  // A file of a few KiB at two versions, in a directory that changes with it.
  const v1 = Buffer.from(Array.from({ length: 400 }, (_, i) => `line ${i} of the first version\n`).join(''));
  const v2 = Buffer.concat([v1, Buffer.from('one more line\n')]);
  const other = Buffer.from('a file that does not change\n'.repeat(40));
  const treeOf = (f: Buffer) => Buffer.from(encodeTree({ entries: [file('f', f), file('g', other)] }));
  const rootOf = (t: Buffer) => Buffer.from(encodeTree({ entries: [dir('d', hashBytes(t))] }));
  const commitOf = (r: Buffer, parents: string[], timestamp: number) =>
    Buffer.from(encodeCommit({ tree: hashBytes(r), root: DEFAULT_DIR_META, parents, timestamp, subject: 's', body: '', metadata: [] }));
  const [t1, t2] = [treeOf(v1), treeOf(v2)];
  const [r1, r2] = [rootOf(t1), rootOf(t2)];
  const c1 = commitOf(r1, [], 1);
  const c2 = commitOf(r2, [hashBytes(c1)], 2);

  async function repoWith(objects: Buffer[]): Promise<Repo> {
    const repo = await Repo.init(join(tmpdir('trove-patch'), 'repo'));
    for (const o of objects) await repo.store.put(o);
    return repo;
  }
  const version1 = [v1, other, t1, r1, c1];

  /** All of an async iterable's bytes. */
  async function bytesOf(src: AsyncIterable<Buffer>): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const c of src) parts.push(c);
    return Buffer.concat(parts);
  }

  /** A TRVPACK2 (or, with `magic`, another) pack of plain frames and patch frames, in small chunks. */
  async function* patchPack(frames: ({ kind: PackKind; bytes: Buffer } | { patch: Buffer; id: string; base: string; kind: PackKind })[], magic = 'TRVPACK2'): AsyncIterable<Buffer> {
    const parts: Buffer[] = [Buffer.from(magic), Buffer.alloc(4)];
    parts[1]!.writeUInt32BE(frames.length);
    for (const f of frames) parts.push('patch' in f ? patchFrame(f.kind, f.id, f.base, f.patch) : objectFrame(f.kind, f.bytes));
    parts.push(Buffer.from([0]));
    const all = Buffer.concat(parts);
    for (let i = 0; i < all.length; i += 7) yield all.subarray(i, i + 7);
  }
  const patchOf = (from: Buffer, to: Buffer) => Buffer.from(createDelta(from, to));

  it('sends a changed file and its directories as patches against what the reader has, and the reader rebuilds them', async () => {
    const server = await repoWith([...version1, v2, t2, r2, c2]);
    const entries = await deltaEntries(server.store, hashBytes(c1), hashBytes(c2));
    expect(entries.map((e) => [e.kind, e.base])).toEqual([
      ['blob', hashBytes(v1)],
      ['tree', hashBytes(t1)],
      ['tree', hashBytes(r1)],
      ['commit', undefined],
    ]);
    const pack = await bytesOf(packStream(server.store, entries));
    expect(pack.subarray(0, 8).toString()).toBe('TRVPACK2');
    // The file goes as a patch of a few dozen bytes, not its 12 KiB.
    expect(pack.length).toBeLessThan(v2.length / 10);
    const client = await repoWith(version1);
    const r = await applyPack({ store: client.store, target: hashBytes(c2) }, gunzipped(packStream(server.store, entries)));
    expect(r).toMatchObject({ objects: 4, installed: 4, bytes: v2.length + t2.length + r2.length + c2.length });
    expect(objectIds(client.path)).toEqual(objectIds(server.path));
    expect(client.store.getSync(hashBytes(v2)).equals(v2)).toBe(true);
  });

  it('pairs a directory named after a version with the one it replaces', async () => {
    // corpus-1/f becomes corpus-2/f: no namesake, but the gone directory shares the name's start.
    const old = Buffer.from(encodeTree({ entries: [dir('corpus-1', hashBytes(t1)), dir('zzz', hashBytes(t1))] }));
    const neu = Buffer.from(encodeTree({ entries: [dir('corpus-2', hashBytes(t2)), dir('zzz', hashBytes(t1))] }));
    const from = commitOf(old, [], 1);
    const to = commitOf(neu, [], 2);
    const server = await repoWith([v1, other, t1, old, from, v2, t2, neu, to]);
    const entries = await deltaEntries(server.store, hashBytes(from), hashBytes(to));
    expect(entries.map((e) => [e.kind, e.base])).toEqual([
      ['blob', hashBytes(v1)],
      ['tree', hashBytes(t1)],
      ['tree', hashBytes(old)],
      ['commit', undefined],
    ]);
    const client = await repoWith([v1, other, t1, old, from]);
    await applyPack({ store: client.store, target: hashBytes(to) }, gunzipped(packStream(server.store, entries)));
    expect(objectIds(client.path)).toEqual(objectIds(server.path));
  });

  it('writes a plain TRVPACK1 pack when nothing has a version the reader holds', async () => {
    const server = await repoWith(version1);
    const entries = await deltaEntries(server.store, null, hashBytes(c1));
    expect(entries.every((e) => e.base === undefined)).toBe(true);
    expect((await bytesOf(packStream(server.store, entries))).subarray(0, 8).toString()).toBe('TRVPACK1');
  });

  it('refuses a patch against an object the reader does not have, and stores nothing from the pack', async () => {
    const client = await repoWith([other, t1, r1, c1]);
    const err = await applyPack(
      { store: client.store, target: hashBytes(c2) },
      patchPack([{ patch: patchOf(v1, v2), id: hashBytes(v2), base: hashBytes(v1), kind: 'blob' }, { kind: 'tree', bytes: t2 }, { kind: 'tree', bytes: r2 }, { kind: 'commit', bytes: c2 }]),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_CORRUPT', message: expect.stringContaining('which is not stored here') as unknown as string });
    expect(objectIds(client.path)).toEqual(new Set([other, t1, r1, c1].map(hashBytes)));
  });

  it('refuses a patch whose result is not the object it names, or that would grow past the limit, or that does not apply', async () => {
    const client = await repoWith(version1);
    const before = objectIds(client.path);
    const attempt = (frame: { patch: Buffer; id: string; base: string; kind: PackKind }, magic?: string) =>
      applyPack({ store: client.store, target: hashBytes(c2) }, patchPack([frame], magic)).catch((e: unknown) => e);
    // Applies cleanly, but to other bytes than the id says.
    expect(await attempt({ patch: patchOf(v1, Buffer.concat([v2, Buffer.from('x')])), id: hashBytes(v2), base: hashBytes(v1), kind: 'blob' })).toMatchObject({
      code: 'E_CORRUPT',
      message: expect.stringContaining('wrong bytes') as unknown as string,
    });
    // Claims a 1 GiB result: refused before anything that size is made.
    const huge = Buffer.concat([Buffer.from('ZZZZZ\n'), patchOf(v1, v2).subarray(patchOf(v1, v2).indexOf(0x0a) + 1)]);
    expect(await attempt({ patch: huge, id: hashBytes(v2), base: hashBytes(v1), kind: 'blob' })).toMatchObject({
      code: 'E_CORRUPT',
      message: expect.stringContaining('more than the') as unknown as string,
    });
    // Copies from past the end of its base.
    const bad = Buffer.from(`${v2.length.toString(36).toUpperCase()}\nZZZZ@0,0;`);
    expect(await attempt({ patch: bad, id: hashBytes(v2), base: hashBytes(v1), kind: 'blob' })).toMatchObject({ code: 'E_CORRUPT' });
    // A patch frame in a pack that does not announce them.
    expect(await attempt({ patch: patchOf(v1, v2), id: hashBytes(v2), base: hashBytes(v1), kind: 'blob' }, 'TRVPACK1')).toMatchObject({
      code: 'E_CORRUPT',
      message: expect.stringContaining('unknown object kind 4') as unknown as string,
    });
    expect(objectIds(client.path)).toEqual(before);
  });
});

describe('writing a pack from a store with a rotted object', () => {
  it('refuses the pack, writes no pack file, and says which object is corrupt (small objects are read whole, large ones streamed)', async () => {
    const dir = tmpdir('trove-delta-rot');
    const repo = join(dir, 'repo');
    const src = join(dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'small'), 'a small file\n');
    writeFileSync(join(src, 'large'), Buffer.alloc(3 << 20, 7));
    await troveOk(repo, 'init');
    const tip = JSON.parse(await troveOk(repo, 'commit', src, '-r', 'main', '--json')).commit as string;
    for (const content of [Buffer.from('a small file\n'), Buffer.alloc(3 << 20, 7)]) {
      const id = hashBytes(content);
      const obj = join(repo, 'objects', id.slice(0, 2), id.slice(2));
      const saved = readFileSync(obj);
      const rotted = Buffer.from(saved);
      rotted[0] = rotted[0]! ^ 1;
      writeFileSync(obj, rotted);
      try {
        const r = await trove(['--repo', repo, 'delta', '--from-empty', tip, '--no-update-summary']);
        expect(r.stderr).toBe(`trove: object ${id} is corrupt in the local store; the pack is not written\n`);
        expect(r.code).toBe(5);
        expect(readdirSync(join(repo, 'deltas'))).toEqual([]);
      } finally {
        writeFileSync(obj, saved);
      }
    }
    await troveOk(repo, 'delta', '--from-empty', tip, '--no-update-summary');
    expect(readdirSync(join(repo, 'deltas')).length).toBe(1);

    // A changed file goes as a patch against its version in FROM: a rotted new version or base refuses the pack too.
    const v1 = `${'a line of a file that changes a little\n'.repeat(20)}one\n`;
    const v2 = `${'a line of a file that changes a little\n'.repeat(20)}two\n`;
    writeFileSync(join(src, 'patched'), v1);
    const from = JSON.parse(await troveOk(repo, 'commit', src, '-r', 'main', '--json')).commit as string;
    writeFileSync(join(src, 'patched'), v2);
    const to = JSON.parse(await troveOk(repo, 'commit', src, '-r', 'main', '--json')).commit as string;
    for (const content of [v2, v1]) {
      const id = hashBytes(Buffer.from(content));
      const obj = join(repo, 'objects', id.slice(0, 2), id.slice(2));
      const saved = readFileSync(obj);
      writeFileSync(obj, Buffer.from(content.replace('changes', 'chanGes')));
      try {
        const r = await trove(['--repo', repo, 'delta', from, to, '--no-update-summary']);
        expect(r.stderr).toBe(`trove: object ${id} is corrupt in the local store; the pack is not written\n`);
        expect(r.code).toBe(5);
      } finally {
        writeFileSync(obj, saved);
      }
    }
    await troveOk(repo, 'delta', from, to, '--no-update-summary');
  });
});
