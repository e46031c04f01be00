import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BlobReader } from '../src/fuse/blobs.js';
import { ERR } from '../src/fuse/errno.js';
import { getBaseHandlers } from '../src/fuse/handlers.js';
import { RepoSource } from '../src/fuse/source.js';
import { TroveView } from '../src/fuse/view.js';
import type { TreeEntry } from '../src/format/types.js';
import { writeCommit, writeTree } from '../src/repo/objects.js';
import { Repo } from '../src/repo/repo.js';
import type { ObjectId } from '../src/util/hash.js';
import { mountpoints, mountRepo, skipFuse } from './helpers/fuse.js';
import { tmpdir } from './helpers/tmp.js';

const bytes = (s: string) => new Uint8Array(Buffer.from(s));

/** A repository whose one commit holds the named files. */
async function fixture(files: Record<string, string>): Promise<{ repo: Repo; commit: ObjectId; ids: Record<string, ObjectId> }> {
  const repo = await Repo.init(join(tmpdir('trove-verify'), 'repo'));
  const ids: Record<string, ObjectId> = {};
  const entries: TreeEntry[] = [];
  for (const [name, content] of Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1))) {
    ids[name] = (await repo.store.put(bytes(content))).id;
    entries.push({ name, kind: 'file', id: ids[name]!, mode: 0o644, uid: 0, gid: 0, size: Buffer.byteLength(content), target: '', xattrs: [] });
  }
  const tree = await writeTree(repo.store, { entries });
  const commit = await writeCommit(repo.store, { tree, root: { mode: 0o755, uid: 0, gid: 0, xattrs: [] }, parents: [], subject: 's', body: '', timestamp: 1, metadata: [] });
  await repo.refs.write('main', commit);
  return { repo, commit, ids };
}

/** Overwrites an object file in place with other bytes of the same length. */
function tamper(repo: Repo, id: ObjectId): void {
  const path = repo.store.pathOf(id);
  const old = readFileSync(path);
  writeFileSync(path, Buffer.from(old.toString('latin1').toUpperCase(), 'latin1'), { flag: 'r+' });
  expect(readFileSync(path).equals(old)).toBe(false);
}

function harness(repo: Repo, opts: { sync?: boolean; maxOpen?: number } = {}) {
  const logged: string[] = [];
  const blobs = new BlobReader({ pathOf: (id) => repo.store.pathOf(id), ...opts });
  const h = getBaseHandlers(new TroveView(new RepoSource(repo.store, repo.path)), blobs, { log: (m) => logged.push(m) });
  const read = (path: string, len = 4096, pos = 0) =>
    new Promise<{ n: number; data: string }>((r) => {
      const buf = Buffer.alloc(len);
      h.read(path, 0, buf, len, pos, (n) => r({ n, data: buf.subarray(0, Math.max(n, 0)).toString() }));
    });
  return { blobs, logged, read };
}

describe.each([
  ['blocking reads', true],
  ['reads through the thread pool', false],
])('verified reads in the FUSE view (%s)', (_label, sync) => {
  it('serves no byte of an object whose bytes do not match its id: EIO and one line naming the object and the path', async () => {
    const { repo, commit, ids } = await fixture({ good: 'good bytes\n', rotted: 'these bytes rot\n' });
    tamper(repo, ids.rotted!);
    const { blobs, logged, read } = harness(repo, { sync });
    expect(await read(`/commits/${commit}/rotted`)).toEqual({ n: ERR.EIO, data: '' });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain(`/commits/${commit}/rotted`);
    expect(logged[0]).toContain(`object ${ids.rotted} is corrupt`);
    expect(blobs.stats.corrupt).toBe(1);
    // A read at any offset is refused too, and the verdict is remembered, not recomputed.
    expect((await read(`/commits/${commit}/rotted`, 4, 8)).n).toBe(ERR.EIO);
    expect(blobs.stats.hashed).toBe(1);
    // Every other file is served.
    expect(await read(`/commits/${commit}/good`)).toEqual({ n: 11, data: 'good bytes\n' });
    await repo.close();
  });

  it('hashes an object file once however often it is opened, and again after anything writes to it', async () => {
    const { repo, commit, ids } = await fixture({ a: 'first file\n', b: 'second file\n', c: 'third file\n' });
    const { blobs, read } = harness(repo, { sync, maxOpen: 1 });
    for (let round = 0; round < 3; round++) {
      for (const name of ['a', 'b', 'c']) expect((await read(`/commits/${commit}/${name}`)).n).toBeGreaterThan(0);
    }
    // maxOpen 1 closed and reopened every file each round: the verdicts were kept.
    expect(blobs.stats.hashed).toBe(3);
    expect(blobs.stats.hashedBytes).toBe(11 + 12 + 11);
    // Written in place while open and verified: the next read notices and refuses it.
    expect((await read(`/commits/${commit}/c`)).data).toBe('third file\n');
    tamper(repo, ids.c!);
    expect((await read(`/commits/${commit}/c`)).n).toBe(ERR.EIO);
    expect(blobs.stats.corrupt).toBe(1);
    await repo.close();
  });
});

describe('verified reads through a real mount', () => {
  const skip = skipFuse();
  let repo: Repo;
  let commit: ObjectId;
  let ids: Record<string, ObjectId>;
  let mnt: string;

  beforeAll(async () => {
    if (skip) return;
    ({ repo, commit, ids } = await fixture({ fine: 'fine\n', rotted: 'rotted bytes\n' }));
    await repo.close();
    tamper(repo, ids.rotted!);
    mnt = tmpdir('trove-verify-mnt');
    await mountRepo(repo.path, mnt);
  });

  it.skipIf(skip)('cat of a rotted file fails with an I/O error and the mount log names the object and the path', () => {
    expect(mountpoints().has(mnt)).toBe(true);
    expect(readFileSync(join(mnt, 'commits', commit, 'fine'), 'utf8')).toBe('fine\n');
    expect(() => readFileSync(join(mnt, 'commits', commit, 'rotted'))).toThrow(/EIO/);
    const log = readFileSync(join(repo.path, 'mount.log'), 'utf8');
    expect(log).toMatch(new RegExp(`read /commits/${commit}/rotted: object ${ids.rotted} is corrupt`));
    // The kernel may ask more than once; the log says it once.
    expect(() => readFileSync(join(mnt, 'commits', commit, 'rotted'))).toThrow(/EIO/);
    expect(readFileSync(join(repo.path, 'mount.log'), 'utf8').split('\n').filter((l) => l.includes(ids.rotted!))).toHaveLength(1);
  });
});
