// A DiskSpace lives as long as the view's fetcher and is shared by every download in flight, so a
// download must give back all it reserved however it ends: a reservation left behind would count
// against every later one until reads fail for want of space that is there.
import { rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskSpace } from '../src/remote/disk-space.js';
import { installStream } from '../src/remote/install.js';
import { Repo } from '../src/repo/repo.js';
import { hashBytes } from '../src/util/hash.js';
import { removeTree, tmpdir } from './helpers/tmp.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeTree(d);
});

async function setup(): Promise<{ repo: Repo; space: DiskSpace }> {
  const dir = tmpdir();
  dirs.push(dir);
  const repo = await Repo.init(`${dir}/repo`);
  return { repo, space: new DiskSpace(repo.path) };
}

const body = (b: Buffer) => Readable.from([b.subarray(0, 1000), b.subarray(1000)]);

describe('installStream and a shared DiskSpace', () => {
  it('gives back what it reserved when the object is installed', async () => {
    const { repo, space } = await setup();
    const bytes = Buffer.alloc(5000, 7);
    const id = hashBytes(bytes);
    space.reserve(bytes.length, 'a blob');
    await installStream(repo.store, id, body(bytes), bytes.length, 'test', undefined, space);
    expect(space.planned).toBe(0);
    expect(repo.store.hasSync(id)).toBe(true);
    await repo.close();
  });

  it('gives back what it reserved when the bytes are wrong', async () => {
    const { repo, space } = await setup();
    const bytes = Buffer.alloc(5000, 7);
    const id = hashBytes(Buffer.alloc(5000, 8));
    space.reserve(bytes.length, 'a blob');
    await expect(installStream(repo.store, id, body(bytes), bytes.length, 'test', undefined, space)).rejects.toThrow(/wrong bytes/);
    expect(space.planned).toBe(0);
    expect(repo.store.hasSync(id)).toBe(false);
    await repo.close();
  });

  it('gives back what it reserved when its temp file cannot be made', async () => {
    const { repo, space } = await setup();
    const bytes = Buffer.alloc(5000, 7);
    const id = hashBytes(bytes);
    rmSync(`${repo.path}/tmp`, { recursive: true });
    space.reserve(bytes.length, 'a blob');
    await expect(installStream(repo.store, id, body(bytes), bytes.length, 'test', undefined, space)).rejects.toThrow(/ENOENT/);
    expect(space.planned).toBe(0);
    expect(repo.store.hasSync(id)).toBe(false);
    await repo.close();
  });
});
