// Partial commits (src/repo/partial.ts) without a view: a fetch that meets a
// stored tree while some commit is partial walks it; a record of a commit not
// stored yet (a lazy pull still at work) is left alone by trove fetch and
// dropped by gc.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DIR_META } from '../src/format/types.js';
import { ObjectFetcher } from '../src/remote/fetch-objects.js';
import { openTransport } from '../src/remote/transport.js';
import { writeCommit, writeTree } from '../src/repo/objects.js';
import { markPartial, readPartials } from '../src/repo/partial.js';
import { Repo } from '../src/repo/repo.js';
import { hashBytes, type ObjectId } from '../src/util/hash.js';
import { trove } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';

const fileEntry = (name: string, bytes: Buffer) => ({ name, kind: 'file' as const, id: hashBytes(bytes), mode: 0o644, uid: 0, gid: 0, size: bytes.length, xattrs: [] });
const dirEntry = (name: string, id: string) => ({ name, kind: 'dir' as const, id, mode: 0o755, uid: 0, gid: 0, size: 0, xattrs: [] });

describe('partial commits', () => {
  it('a fetch that finds a stored tree after a lazy pull recorded its commit walks it and fetches what it lacks', async () => {
    const dir = tmpdir('trove-partial-descend');
    const server = await Repo.init(join(dir, 'server'));
    const shared = Buffer.from('a file shared by both commits\n');
    const own = Buffer.from('a file only the second commit has\n');
    await server.store.put(shared);
    await server.store.put(own);
    const sub = await writeTree(server.store, { entries: [fileEntry('shared', shared)] });
    const commitOf = async (entries: ReturnType<typeof dirEntry | typeof fileEntry>[], subject: string) =>
      writeCommit(server.store, { tree: await writeTree(server.store, { entries }), root: DEFAULT_DIR_META, parents: [], subject, body: '', timestamp: 1, metadata: [] });
    const a = await commitOf([dirEntry('sub', sub)], 'a');
    const b = await commitOf([dirEntry('sub', sub), fileEntry('own', own)], 'b');
    await server.close();

    const client = await Repo.init(join(dir, 'client'));
    const transport = openTransport(join(dir, 'server'));
    try {
      // A lazy pull of `a`: its trees are stored, `shared` is not, and `a` is recorded partial.
      markPartial(client.path, client.tmpDir, [a], ['origin']);
      await new ObjectFetcher({ store: client.store, transport, lazy: true }).fetchCommits([a]);
      expect(client.store.hasSync(sub)).toBe(true);
      expect(client.store.hasSync(hashBytes(shared))).toBe(false);
      // A fetch of `b` that started before the record (its first question finds none, so it does not walk
      // stored trees) still walks the stored `sub` once it sees a partial commit, and fetches `shared`.
      let asked = 0;
      await new ObjectFetcher({ store: client.store, transport, partialsNow: () => asked++ > 0 && readPartials(client.path).size > 0 }).fetchCommits([b]);
      expect(asked).toBeGreaterThan(1);
      expect(client.store.hasSync(hashBytes(own))).toBe(true);
      expect(client.store.hasSync(hashBytes(shared))).toBe(true);
    } finally {
      await transport.close();
      await client.close();
    }
  });

  it('trove fetch leaves the record of a commit not stored yet; gc, under the exclusive lock, drops it', async () => {
    const dir = tmpdir('trove-partial-unstored');
    const repo = join(dir, 'repo');
    expect((await trove(['--repo', repo, 'init'])).code).toBe(0);
    const id: ObjectId = hashBytes(Buffer.from('a commit a lazy pull is still bringing'));
    mkdirSync(join(repo, 'partial'), { recursive: true });
    writeFileSync(join(repo, 'partial', id), `${JSON.stringify({ remotes: ['origin'], time: 1 })}\n`);
    const f = await trove(['--repo', repo, 'fetch', '--json']);
    expect(f.code, f.stderr).toBe(0);
    expect(JSON.parse(f.stdout)).toMatchObject({ completed: [], remaining: [] });
    expect(existsSync(join(repo, 'partial', id))).toBe(true);
    expect((await trove(['--repo', repo, 'gc'])).code).toBe(0);
    expect(existsSync(join(repo, 'partial', id))).toBe(false);
  });
});
