// BlobReader and the view's fetcher: a blob fetched for a read is answered from its verified bytes
// before it is stored; once stored, reads open the file as any other.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlobReader } from '../src/fuse/blobs.js';
import { ERR } from '../src/fuse/errno.js';
import { hashBytes, type ObjectId } from '../src/util/hash.js';
import { tmpdir } from './helpers/tmp.js';

const CONTENT = Buffer.from('the bytes of a file fetched on its first read\n');
const ID = hashBytes(CONTENT);

/** A reader over an empty directory of objects, whose fetcher hands out CONTENT once `release` is called. */
function harness(sync: boolean, handOut: 'bytes' | 'stored') {
  const dir = tmpdir('trove-blob-fetch');
  const pathOf = (id: ObjectId) => join(dir, id);
  const calls: ObjectId[] = [];
  let release: () => void = () => {};
  const arrived = new Promise<void>((r) => (release = r));
  const blobs = new BlobReader({
    pathOf,
    sync,
    fetchMissing: async (id) => {
      calls.push(id);
      await arrived;
      if (handOut === 'bytes') return new Uint8Array(CONTENT);
      writeFileSync(pathOf(id), CONTENT);
      return undefined;
    },
  });
  const read = async (pos: number, len: number) => {
    const buf = Buffer.alloc(len);
    const n = await blobs.read(ID, CONTENT.length, buf, len, pos, `/commits/x/f`);
    return buf.subarray(0, n).toString();
  };
  return { blobs, calls, release, read, store: () => writeFileSync(pathOf(ID), CONTENT), pathOf };
}

describe.each([
  ['blocking reads', true],
  ['reads through the thread pool', false],
])('a blob fetched for a read (%s)', (_, sync) => {
  it('answers every read waiting for it from the verified bytes, at any offset, with one fetch', async () => {
    const h = harness(sync, 'bytes');
    const reads = [h.read(0, 9), h.read(4, 5), h.read(40, 100), h.read(CONTENT.length, 10)];
    h.release();
    expect(await Promise.all(reads)).toEqual([CONTENT.subarray(0, 9).toString(), CONTENT.subarray(4, 9).toString(), CONTENT.subarray(40).toString(), '']);
    expect(h.calls).toEqual([ID]);
  });

  it('until the file is stored, a later read asks the fetcher again; once stored, it reads the file', async () => {
    const h = harness(sync, 'bytes');
    h.release();
    expect(await h.read(0, 3)).toBe('the');
    expect(await h.read(4, 5)).toBe('bytes');
    expect(h.calls).toEqual([ID, ID]);
    h.store();
    expect(await h.read(0, 3)).toBe('the');
    expect(h.calls).toEqual([ID, ID]);
    // The stored file is verified as any other on its first open.
    expect(h.blobs.stats.hashed).toBe(1);
  });

  it('bytes of another length than the tree says are refused with EIO, none of them served', async () => {
    const h = harness(sync, 'bytes');
    h.release();
    const buf = Buffer.alloc(100);
    await expect(h.blobs.read(ID, CONTENT.length + 5, buf, 100, 0, '/commits/x/f')).rejects.toMatchObject({ errno: ERR.EIO, message: expect.stringContaining('the tree says') });
    expect(buf.equals(Buffer.alloc(100))).toBe(true);
  });

  it('a fetcher that stores the blob and hands out nothing: the read opens the file it wrote', async () => {
    const h = harness(sync, 'stored');
    const r = h.read(4, 5);
    h.release();
    expect(await r).toBe('bytes');
    expect(h.calls).toEqual([ID]);
  });
});
