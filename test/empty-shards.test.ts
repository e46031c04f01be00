// Shards that held no object when a fetch first looked (src/store/shards.ts): an object of one is
// known absent without a stat of its own, which a pull into a new repository would make 25,000
// times for nothing; one the fetch stored itself and meets again is still found, not fetched twice.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DIR_META } from '../src/format/types.js';
import { ObjectFetcher } from '../src/remote/fetch-objects.js';
import { openTransport } from '../src/remote/transport.js';
import { writeCommit, writeTree } from '../src/repo/objects.js';
import { Repo } from '../src/repo/repo.js';
import { EmptyShards, FULL_AFTER } from '../src/store/shards.js';
import { hashBytes } from '../src/util/hash.js';
import { trove } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';

const fileEntry = (name: string, bytes: Buffer) => ({ name, kind: 'file' as const, id: hashBytes(bytes), mode: 0o644, uid: 0, gid: 0, size: bytes.length, xattrs: [] });
const dirEntry = (name: string, id: string) => ({ name, kind: 'dir' as const, id, mode: 0o755, uid: 0, gid: 0, size: 0, xattrs: [] });

describe('EmptyShards', () => {
  it('takes a shard with no entry or no directory for empty, remembers its first answer, and stops looking once the store looks full', () => {
    const objects = join(tmpdir('trove-shards'), 'objects');
    mkdirSync(join(objects, 'ab'), { recursive: true });
    mkdirSync(join(objects, 'cd'));
    writeFileSync(join(objects, 'cd', 'x'.repeat(62)), '');
    const shards = new EmptyShards();
    const file = (shard: string) => join(objects, shard, '0'.repeat(62));
    expect(shards.emptyFor(file('ab'))).toBe(true);
    expect(shards.emptyFor(file('cd'))).toBe(false);
    expect(shards.emptyFor(file('ef'))).toBe(true);
    // The first answer stands: what lands in the shard later is this writer's own, or put over with the same bytes.
    writeFileSync(join(objects, 'ab', '1'.repeat(62)), '');
    expect(shards.emptyFor(file('ab'))).toBe(true);
    // After FULL_AFTER shards holding objects, every shard not asked before is taken to hold some.
    for (let i = 1; i < FULL_AFTER; i++) {
      const shard = (0x10 + i).toString(16);
      mkdirSync(join(objects, shard));
      writeFileSync(join(objects, shard, 'y'.repeat(62)), '');
      expect(shards.emptyFor(file(shard))).toBe(false);
    }
    mkdirSync(join(objects, 'ee'));
    expect(shards.emptyFor(file('ee'))).toBe(false);
    expect(shards.emptyFor(file('ab'))).toBe(true);
  });
});

describe('a fetch into a new repository', () => {
  it('fetches each object once, though trees and a blob are named twice, and stores them all', async () => {
    const dir = tmpdir('trove-shards-fetch');
    const server = await Repo.init(join(dir, 'server'));
    const shared = Buffer.from('the same bytes under two names\n');
    await server.store.put(shared);
    const files = Array.from({ length: 40 }, (_, i) => Buffer.from(`file ${i}\n`));
    for (const f of files) await server.store.put(f);
    // A tree of a symlink alone is stored as soon as it is fetched (no blob to wait for), and named
    // again two levels down, found only after that: the fetch must find it stored, not fetch it again.
    const link = await writeTree(server.store, { entries: [{ name: 'l', kind: 'symlink', target: '../a', mode: 0o777, uid: 0, gid: 0, size: 4, xattrs: [] }] });
    const deep = await writeTree(server.store, { entries: [dirEntry('again', link)] });
    const middle = await writeTree(server.store, { entries: [dirEntry('deep', deep)] });
    // One subtree named twice, the blob twice within it and once more at the top.
    const sub = await writeTree(server.store, { entries: [fileEntry('a', shared), fileEntry('b', shared), ...files.map((f, i) => fileEntry(`f${String(i).padStart(2, '0')}`, f))] });
    const tree = await writeTree(server.store, {
      entries: [dirEntry('link', link), dirEntry('middle', middle), dirEntry('one', sub), dirEntry('two', sub), fileEntry('z', shared)],
    });
    const commit = await writeCommit(server.store, { tree, root: DEFAULT_DIR_META, parents: [], subject: 'v1', body: '', timestamp: 1, metadata: [] });
    await server.close();

    const clientPath = join(dir, 'client');
    const client = await Repo.init(clientPath);
    const transport = openTransport(join(dir, 'server'));
    const asked: string[] = [];
    for (const method of ['getBytes', 'getStream'] as const) {
      const original = transport[method].bind(transport) as (path: string, ...rest: unknown[]) => Promise<unknown>;
      (transport as unknown as Record<string, unknown>)[method] = (path: string, ...rest: unknown[]) => {
        asked.push(path);
        return original(path, ...rest);
      };
    }
    try {
      // One request at a time: the symlink's tree is stored before the tree two levels down is fetched.
      await new ObjectFetcher({ store: client.store as never, transport, jobs: 1 }).fetchCommits([commit]);
    } finally {
      await transport.close();
      await client.close();
    }
    expect(asked.length).toBe(new Set(asked).size);
    // The commit, five trees, the shared blob and the 40 files.
    expect(asked).toHaveLength(1 + 5 + 1 + 40);
    const fsck = await trove(['fsck', '--repo', clientPath, '--json']);
    expect(fsck.code, fsck.stderr).toBe(0);
    expect((await trove(['cat', `${commit}:two/b`, '--repo', clientPath])).stdout).toBe(shared.toString());
  });
});
