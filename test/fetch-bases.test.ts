// Bases of pulls (ObjectFetcher's and applyPack's): a fetched tree read beside the stored tree at
// its path, so that entries both name alike are known stored without reading them, and nothing
// else is trusted.
import { chmodSync, createReadStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DIR_META } from '../src/format/types.js';
import { applyPack } from '../src/remote/apply-pack.js';
import { ObjectFetcher } from '../src/remote/fetch-objects.js';
import { deltaPath } from '../src/remote/layout.js';
import { openTransport } from '../src/remote/transport.js';
import { pull } from '../src/remote/pull.js';
import { readCommit, writeCommit, writeTree } from '../src/repo/objects.js';
import { quarantinedIds } from '../src/repo/quarantine.js';
import { Repo } from '../src/repo/repo.js';
import type { DiskStore } from '../src/store/disk.js';
import { hashBytes, type ObjectId } from '../src/util/hash.js';
import { trove } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';

const fileEntry = (name: string, bytes: Buffer) => ({ name, kind: 'file' as const, id: hashBytes(bytes), mode: 0o644, uid: 0, gid: 0, size: bytes.length, xattrs: [] });
const dirEntry = (name: string, id: string) => ({ name, kind: 'dir' as const, id, mode: 0o755, uid: 0, gid: 0, size: 0, xattrs: [] });

/** A commit of `dirs` directories of 5 files each; `change` alters one file of directory 0. */
async function version(repo: Repo, dirs: number, change: string, parents: ObjectId[]): Promise<{ commit: ObjectId; subtrees: ObjectId[] }> {
  const subtrees: ObjectId[] = [];
  for (let d = 0; d < dirs; d++) {
    const files = Array.from({ length: 5 }, (_, i) => Buffer.from(`dir ${d} file ${i}${d === 0 && i === 0 ? change : ''}\n`));
    for (const f of files) await repo.store.put(f);
    subtrees.push(await writeTree(repo.store, { entries: files.map((f, i) => fileEntry(`f${i}`, f)) }));
  }
  const tree = await writeTree(repo.store, { entries: subtrees.map((t, d) => dirEntry(`d${String(d).padStart(2, '0')}`, t)) });
  const commit = await writeCommit(repo.store, { tree, root: DEFAULT_DIR_META, parents, subject: change, body: '', timestamp: 1, metadata: [] });
  return { commit, subtrees };
}

/** `repo`'s store, recording in `looked` every object path asked for. */
function recordingStore(repo: Repo, looked: Set<ObjectId>): DiskStore {
  const store = repo.store as DiskStore;
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'pathOf') {
        return (id: ObjectId) => {
          looked.add(id);
          return target.pathOf(id);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Fetches `tips` into `repo` from `server`, recording every object path the fetch looks up. */
async function fetchRecording(repo: Repo, server: string, tips: ObjectId[], bases?: Map<ObjectId, ObjectId>): Promise<Set<ObjectId>> {
  const looked = new Set<ObjectId>();
  const transport = openTransport(server);
  try {
    const quarantined = await quarantinedIds(repo);
    await new ObjectFetcher({ store: recordingStore(repo, looked), transport }).fetchCommits(tips, bases && { commits: bases, quarantined });
  } finally {
    await transport.close();
  }
  return looked;
}

/** A server repository (under a new temp dir) holding version 1 of `dirs` directories and version 2, which changes one file. */
async function twoVersions(tag: string, dirs: number) {
  const dir = tmpdir(tag);
  const serverPath = join(dir, 'server');
  const server = await Repo.init(serverPath);
  const v1 = await version(server, dirs, '', []);
  const v2 = await version(server, dirs, ' changed', [v1.commit]);
  await server.close();
  return { dir, serverPath, v1, v2 };
}

/** Writes the server's gzip delta pack from `from` to `to` with `trove delta`; returns an opener of its decompressed bytes. */
async function writePack(serverPath: string, from: ObjectId, to: ObjectId): Promise<() => AsyncIterable<Buffer>> {
  // Only this pack: the summary's rewrite would write its own from the ref's previous tip.
  expect((await trove(['--repo', serverPath, 'delta', from, to, '--compression', 'gzip', '--no-update-summary'])).code).toBe(0);
  return () => createReadStream(join(serverPath, deltaPath(from, to))).pipe(createGunzip()) as AsyncIterable<Buffer>;
}

/**
 * A server whose commit c1 has a file `x` and whose c2 (child of c1) names the same blob as a
 * directory `x` (tree t2: a hostile server's tree), and a client that holds c1.
 */
async function hostile(tag: string): Promise<{ serverPath: string; client: Repo; c1: ObjectId; c2: ObjectId; t2: ObjectId }> {
  const dir = tmpdir(tag);
  const serverPath = join(dir, 'server');
  const server = await Repo.init(serverPath);
  const blob = Buffer.from('a file, not a directory\n');
  await server.store.put(blob);
  const t1 = await writeTree(server.store, { entries: [fileEntry('x', blob)] });
  const c1 = await writeCommit(server.store, { tree: t1, root: DEFAULT_DIR_META, parents: [], subject: '1', body: '', timestamp: 1, metadata: [] });
  const t2 = await writeTree(server.store, { entries: [dirEntry('x', hashBytes(blob))] });
  const c2 = await writeCommit(server.store, { tree: t2, root: DEFAULT_DIR_META, parents: [c1], subject: '2', body: '', timestamp: 2, metadata: [] });
  await server.close();
  const client = await Repo.init(join(dir, 'client'));
  await fetchRecording(client, serverPath, [c1]);
  return { serverPath, client, c1, c2, t2 };
}

describe('fetching beside a stored base commit', () => {
  it('does not read the subtrees a stored base names alike, and the result is whole', async () => {
    const { dir, serverPath, v1, v2 } = await twoVersions('trove-bases', 30);
    // Same subtrees but the first.
    expect(v2.subtrees.slice(1)).toEqual(v1.subtrees.slice(1));
    expect(v2.subtrees[0]).not.toBe(v1.subtrees[0]);

    const results: Set<ObjectId>[] = [];
    for (const withBase of [true, false]) {
      const path = join(dir, `client-${withBase}`);
      const client = await Repo.init(path);
      await fetchRecording(client, serverPath, [v1.commit]);
      const looked = await fetchRecording(client, serverPath, [v2.commit], withBase ? new Map([[v2.commit, v1.commit]]) : undefined);
      await client.close();
      expect((await trove(['--repo', path, 'fsck'])).code).toBe(0);
      expect((await trove(['--repo', path, 'ls', '-R', v2.commit])).stdout).toContain('d00/f0');
      results.push(looked);
    }
    const [withBase, without] = results as [Set<ObjectId>, Set<ObjectId>];
    const unchanged = v1.subtrees.slice(1);
    // Without a base, every unchanged subtree is read to check that it is a tree; with one, none is.
    for (const t of unchanged) expect(without.has(t)).toBe(true);
    for (const t of unchanged) expect(withBase.has(t)).toBe(false);
    expect(withBase.has(v2.subtrees[0]!)).toBe(true);
    // The unchanged files beside the changed one: looked at (a stat) without a base, not with one.
    const unchangedBlobs = [1, 2, 3, 4].map((i) => hashBytes(Buffer.from(`dir 0 file ${i}\n`)));
    for (const b of unchangedBlobs) expect(without.has(b)).toBe(true);
    for (const b of unchangedBlobs) expect(withBase.has(b)).toBe(false);
  });

  it('still refuses a stored blob named as a directory where the base names it a file', async () => {
    const { serverPath, client, c1, c2, t2 } = await hostile('trove-bases-hostile');
    await expect(fetchRecording(client, serverPath, [c2], new Map([[c2, c1]]))).rejects.toMatchObject({ code: 'E_BAD_OBJECT', message: expect.stringContaining('is not a tree') as unknown });
    expect(client.store.hasSync(c2)).toBe(false);
    expect(client.store.hasSync(t2)).toBe(false);
    await client.close();
  });
});

describe('a pull without a remote-tracking ref', () => {
  it('reads beside the local head of the same name, when there is one', async () => {
    const { dir, serverPath, v1, v2 } = await twoVersions('trove-bases-head', 30);
    const server = await Repo.open(serverPath);
    await server.refs.write('main', v2.commit);
    await server.close();
    expect((await trove(['--repo', serverPath, 'summary'])).code).toBe(0);
    const results: Set<ObjectId>[] = [];
    for (const withHead of [true, false]) {
      const path = join(dir, `client-head-${withHead}`);
      const client = await Repo.init(path);
      await fetchRecording(client, serverPath, [v1.commit]);
      if (withHead) await client.refs.write('main', v1.commit);
      await client.close();
      expect((await trove(['--repo', path, 'remote', 'add', 'origin', serverPath])).code).toBe(0);
      const again = await Repo.open(path);
      const looked = new Set<ObjectId>();
      Object.defineProperty(again, 'store', { value: recordingStore(again, looked) });
      const r = await pull(again, { remote: 'origin', refs: ['main'], deltas: false });
      await again.close();
      expect(r.refs.map((x) => x.commit)).toEqual([v2.commit]);
      expect((await trove(['--repo', path, 'fsck'])).code).toBe(0);
      results.push(looked);
    }
    const [withHead, without] = results as [Set<ObjectId>, Set<ObjectId>];
    for (const t of v1.subtrees.slice(1)) {
      expect(without.has(t)).toBe(true);
      expect(withHead.has(t)).toBe(false);
    }
  });
});

describe('a local head that is not a commit id', () => {
  it('is no base: the pull goes on without it', async () => {
    const { dir, serverPath, v2 } = await twoVersions('trove-bases-bad-head', 3);
    const server = await Repo.open(serverPath);
    await server.refs.write('main', v2.commit);
    await server.close();
    expect((await trove(['--repo', serverPath, 'summary'])).code).toBe(0);
    const path = join(dir, 'client');
    await (await Repo.init(path)).close();
    writeFileSync(join(path, 'refs', 'heads', 'main'), 'garbage\n');
    expect((await trove(['--repo', path, 'remote', 'add', 'origin', serverPath])).code).toBe(0);
    const r = await trove(['--repo', path, 'pull', 'origin', 'main', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { refs: { commit: string }[] }).refs.map((x) => x.commit)).toEqual([v2.commit]);
  });
});

describe('applying a delta pack beside its base commit', () => {
  it('does not read the subtrees the base names alike, and the result is whole', async () => {
    const { dir, serverPath, v1, v2 } = await twoVersions('trove-pack-bases', 30);
    const pack = await writePack(serverPath, v1.commit, v2.commit);
    const results: Set<ObjectId>[] = [];
    for (const withBase of [true, false]) {
      const path = join(dir, `client-${withBase}`);
      const client = await Repo.init(path);
      await fetchRecording(client, serverPath, [v1.commit]);
      const looked = new Set<ObjectId>();
      const r = await applyPack(
        { store: recordingStore(client, looked), target: v2.commit, base: withBase ? { commit: v1.commit, quarantined: new Set() } : undefined },
        pack(),
      );
      await client.close();
      expect(r.installed).toBeGreaterThan(0);
      expect((await trove(['--repo', path, 'fsck'])).code).toBe(0);
      results.push(looked);
    }
    const [withBase, without] = results as [Set<ObjectId>, Set<ObjectId>];
    for (const t of v1.subtrees.slice(1)) expect(without.has(t)).toBe(true);
    for (const t of v1.subtrees.slice(1)) expect(withBase.has(t)).toBe(false);
    const unchangedBlobs = [1, 2, 3, 4].map((i) => hashBytes(Buffer.from(`dir 0 file ${i}\n`)));
    for (const b of unchangedBlobs) expect(without.has(b)).toBe(true);
    for (const b of unchangedBlobs) expect(withBase.has(b)).toBe(false);
  });

  it('still refuses a stored blob named as a directory where the base names it a file', async () => {
    const { serverPath, client, c1, c2, t2 } = await hostile('trove-pack-bases-hostile');
    const source = (await writePack(serverPath, c1, c2))();
    await expect(applyPack({ store: client.store as DiskStore, target: c2, base: { commit: c1, quarantined: new Set() } }, source)).rejects.toMatchObject({
      code: 'E_BAD_OBJECT',
      message: expect.stringContaining('is not a tree') as unknown,
    });
    expect(client.store.hasSync(c2)).toBe(false);
    expect(client.store.hasSync(t2)).toBe(false);
    await client.close();
  });
});

describe('a delta from the tip of another ref of the client', () => {
  it('is read beside: a client at v1 pulling main for the first time looks at none of the unchanged subtrees', async () => {
    const { dir, serverPath, v1, v2 } = await twoVersions('trove-pack-bases-tip', 30);
    const server = await Repo.open(serverPath);
    await server.refs.write('v1', v1.commit);
    await server.refs.write('main', v2.commit);
    await server.close();
    await writePack(serverPath, v1.commit, v2.commit);
    // No pack from nothing: the only delta to main is from v1.
    expect((await trove(['--repo', serverPath, 'summary', '--no-deltas'])).code).toBe(0);
    const results: Set<ObjectId>[] = [];
    for (const withRef of [true, false]) {
      const path = join(dir, `client-ref-${withRef}`);
      const client = await Repo.init(path);
      await fetchRecording(client, serverPath, [v1.commit]);
      // With the ref, v1 is the tip of refs/remotes/origin/v1; without, the same commit is only stored.
      if (withRef) await client.refs.write('origin/v1', v1.commit, 'remotes');
      await client.close();
      expect((await trove(['--repo', path, 'remote', 'add', 'origin', serverPath])).code).toBe(0);
      const again = await Repo.open(path);
      const looked = new Set<ObjectId>();
      Object.defineProperty(again, 'store', { value: recordingStore(again, looked) });
      const r = await pull(again, { remote: 'origin', refs: ['main'] });
      await again.close();
      expect(r.refs.map((x) => x.commit)).toEqual([v2.commit]);
      expect(r.deltas.used).toHaveLength(1);
      expect((await trove(['--repo', path, 'fsck'])).code).toBe(0);
      results.push(looked);
    }
    const [withRef, without] = results as [Set<ObjectId>, Set<ObjectId>];
    for (const t of v1.subtrees.slice(1)) {
      expect(without.has(t)).toBe(true);
      expect(withRef.has(t)).toBe(false);
    }
  });
});

describe('a base with an object fsck --repair moved out (quarantine/)', () => {
  /** A client holding v1 under a ref, one of whose unchanged objects (`which`) rotted and was quarantined by fsck --repair. */
  async function setup(tag: string, which: 'subtree' | 'blob') {
    const { dir, serverPath, v1, v2 } = await twoVersions(tag, 10);
    const clientPath = join(dir, 'client');
    let client = await Repo.init(clientPath);
    await fetchRecording(client, serverPath, [v1.commit]);
    await client.refs.write('main', v1.commit);
    // An unchanged subtree, or an unchanged file beside the changed one; both still named by the stored v1.
    const gone = which === 'subtree' ? v1.subtrees[5]! : hashBytes(Buffer.from('dir 0 file 3\n'));
    const path = (client.store as DiskStore).pathOf(gone);
    chmodSync(path, 0o644);
    writeFileSync(path, 'rotten');
    await client.close();
    const repair = await trove(['--repo', clientPath, 'fsck', '--repair', '--json']);
    expect(repair.code).not.toBe(0);
    expect(JSON.parse(repair.stdout).quarantined.map((q: { id: string }) => q.id)).toEqual([gone]);
    client = await Repo.open(clientPath);
    expect(client.store.hasSync(gone)).toBe(false);
    expect(await quarantinedIds(client)).toEqual(new Set([gone]));
    return { serverPath, client, v1, v2, gone };
  }

  for (const which of ['subtree', 'blob'] as const) {
    it(`an object pull fetches a quarantined ${which} again instead of trusting the base for it`, async () => {
      const { serverPath, client, v1, v2, gone } = await setup(`trove-bases-gone-${which}`, which);
      await fetchRecording(client, serverPath, [v2.commit], new Map([[v2.commit, v1.commit]]));
      expect(client.store.hasSync(gone)).toBe(true);
      expect(client.store.hasSync(v2.commit)).toBe(true);
      await client.close();
    });

    it(`a delta pack that does not carry a quarantined ${which} is refused, and nothing of it is stored`, async () => {
      const { serverPath, client, v1, v2, gone } = await setup(`trove-pack-bases-gone-${which}`, which);
      const source = (await writePack(serverPath, v1.commit, v2.commit))();
      const base = { commit: v1.commit, quarantined: await quarantinedIds(client) };
      await expect(applyPack({ store: client.store as DiskStore, target: v2.commit, base }, source)).rejects.toMatchObject({
        code: 'E_CORRUPT',
        message: expect.stringContaining(`references ${which === 'subtree' ? 'tree' : 'blob'} ${gone}, which is neither earlier in the pack nor in the store`) as unknown,
      });
      expect(client.store.hasSync(v2.commit)).toBe(false);
      await client.close();
    });
  }

  it('an unreadable base is no base: the pull goes on without it', async () => {
    const { serverPath, client, v1, v2 } = await setup('trove-bases-corrupt', 'subtree');
    // The base's root tree rots on disk: its bytes no longer hash to its id.
    const path = (client.store as DiskStore).pathOf((await readCommit(client.store, v1.commit)).tree);
    chmodSync(path, 0o644);
    writeFileSync(path, 'rotten');
    await fetchRecording(client, serverPath, [v2.commit], new Map([[v2.commit, v1.commit]]));
    expect(client.store.hasSync(v2.commit)).toBe(true);
    await client.close();
  });
});

describe('a delta whose `from` the server chose', () => {
  it('is not read beside: a stored blob shaped like a commit cannot vouch for objects the client lacks', async () => {
    const dir = tmpdir('trove-bases-server-from');
    const serverPath = join(dir, 'server');
    const server = await Repo.init(serverPath);
    // X: an object the client never gets before the last pull. T1 names it; Cfake is a commit of T1.
    const x = Buffer.from('the object the client lacks\n');
    await server.store.put(x);
    const xId = hashBytes(x);
    const t1 = await writeTree(server.store, { entries: [fileEntry('f', x)] });
    const cFake = await writeCommit(server.store, { tree: t1, root: DEFAULT_DIR_META, parents: [], subject: 'fake', body: '', timestamp: 2, metadata: [] });
    const t1Bytes = Buffer.from(server.store.getSync(t1));
    const cFakeBytes = Buffer.from(server.store.getSync(cFake));
    // C0: files whose contents are exactly the bytes of T1 and Cfake, so the client stores them as blobs.
    for (const b of [t1Bytes, cFakeBytes]) await server.store.put(b);
    const t0 = await writeTree(server.store, { entries: [fileEntry('looks-like-a-commit', cFakeBytes), fileEntry('looks-like-a-tree', t1Bytes)] });
    const c0 = await writeCommit(server.store, { tree: t0, root: DEFAULT_DIR_META, parents: [], subject: '0', body: '', timestamp: 1, metadata: [] });
    await server.refs.write('main', c0);
    await server.close();
    expect((await trove(['--repo', serverPath, 'summary'])).code).toBe(0);
    const clientPath = join(dir, 'client');
    await Repo.init(clientPath).then((r) => r.close());
    expect((await trove(['--repo', clientPath, 'remote', 'add', 'origin', serverPath])).code).toBe(0);
    expect((await trove(['--repo', clientPath, 'pull', 'origin', 'main'])).code).toBe(0);

    // C2: a new tree naming X (as T1 does) and Y; the server's only delta to it is from Cfake,
    // which the client has, as a blob.
    const again = await Repo.open(serverPath);
    const y = Buffer.from('new\n');
    const t2 = await writeTree(again.store, { entries: [fileEntry('f', x), fileEntry('g', y)] });
    await again.store.put(y);
    const c2 = await writeCommit(again.store, { tree: t2, root: DEFAULT_DIR_META, parents: [c0], subject: '2', body: '', timestamp: 3, metadata: [] });
    await again.refs.write('main', c2);
    await again.close();
    await writePack(serverPath, cFake, c2);
    // No pack from C0, which the summary would write by default for the moved ref.
    expect((await trove(['--repo', serverPath, 'summary', '--no-deltas'])).code).toBe(0);

    const pull = await trove(['--repo', clientPath, 'pull', 'origin', 'main', '--json']);
    expect(pull.code).toBe(0);
    // Read beside Cfake's "tree", the pack would have been taken without X; it is refused instead
    // (X is neither in it nor stored) and the objects are fetched one by one.
    expect(pull.stderr).toMatch(/fetching objects instead/);
    const client = await Repo.open(clientPath);
    expect(client.store.hasSync(xId)).toBe(true);
    expect(await client.refs.read('main', 'remotes/origin')).toBe(c2);
    await client.close();
    expect((await trove(['--repo', clientPath, 'fsck'])).code).toBe(0);
  });
});
