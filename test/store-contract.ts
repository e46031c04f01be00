import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ObjectId } from '../src/util/hash.js';
import type { ObjectStore } from '../src/store/types.js';
import { tmpdir } from './helpers/tmp.js';

/** One store implementation under test, fresh and empty. */
export interface StoreUnderTest {
  store: ObjectStore;
  /** Replaces an object's stored bytes behind the store's back (simulated bit rot). */
  tamper(id: ObjectId, bytes: Uint8Array): Promise<void>;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const text = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

async function listAll(store: ObjectStore): Promise<ObjectId[]> {
  const out: ObjectId[] = [];
  for await (const id of store.list()) out.push(id);
  return out.sort();
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

/** Deterministic pseudo-random bytes, in uneven chunks, without holding them all. */
async function* pseudoRandom(total: number, seed: number): AsyncGenerator<Uint8Array> {
  let x = seed >>> 0 || 1;
  let left = total;
  let n = 0;
  while (left > 0) {
    const size = Math.min(left, 65_536 + ((n++ * 7919) % 50_000));
    const chunk = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      chunk[i] = x & 0xff;
    }
    left -= size;
    yield chunk;
  }
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of source) parts.push(c);
  return Buffer.concat(parts);
}

/**
 * The contract every ObjectStore must meet (see src/store/types.ts): run it
 * with a factory that returns a fresh, empty store for each test.
 */
export function storeContract(name: string, factory: () => Promise<StoreUnderTest>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    it('put stores bytes under their SHA-256 and get returns them', async () => {
      const { store } = await factory();
      const bytes = text('hello\n');
      const r = await store.put(bytes);
      expect(r).toEqual({ id: sha256(bytes), size: 6, written: true });
      expect(r.id).toBe('5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03');
      expect(await store.has(r.id)).toBe(true);
      expect(Buffer.from(await store.get(r.id)).equals(Buffer.from(bytes))).toBe(true);
    });

    it('stores the empty object', async () => {
      const { store } = await factory();
      const r = await store.put(new Uint8Array());
      expect(r.id).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
      expect(r.size).toBe(0);
      expect(await store.get(r.id)).toHaveLength(0);
    });

    it('put of an object already present is a no-op returning written: false', async () => {
      const { store } = await factory();
      const bytes = text('twice');
      const first = await store.put(bytes);
      const second = await store.put(Buffer.from(bytes));
      expect(first.written).toBe(true);
      expect(second).toEqual({ id: first.id, size: 5, written: false });
      expect(await listAll(store)).toEqual([first.id]);
    });

    it('keeps its own copy: changing the caller buffer after put changes nothing', async () => {
      const { store } = await factory();
      const bytes = text('original');
      const { id } = await store.put(bytes);
      bytes.fill(0x78);
      expect(Buffer.from(await store.get(id)).toString()).toBe('original');
    });

    it('has is false and get fails with E_NOT_FOUND for a missing object', async () => {
      const { store } = await factory();
      const missing = sha256(text('never stored'));
      expect(await store.has(missing)).toBe(false);
      expect(await codeOf(store.get(missing))).toBe('E_NOT_FOUND');
    });

    it('list yields exactly the stored ids', async () => {
      const { store } = await factory();
      expect(await listAll(store)).toEqual([]);
      const ids: ObjectId[] = [];
      for (let i = 0; i < 50; i++) ids.push((await store.put(text(`object ${i}`))).id);
      expect(await listAll(store)).toEqual([...ids].sort());
    });

    it('delete removes an object', async () => {
      const { store } = await factory();
      const a = await store.put(text('a'));
      const b = await store.put(text('b'));
      await store.delete(a.id);
      expect(await store.has(a.id)).toBe(false);
      expect(await codeOf(store.get(a.id))).toBe('E_NOT_FOUND');
      expect(await listAll(store)).toEqual([b.id]);
      // and it can be stored again
      expect((await store.put(text('a'))).written).toBe(true);
      expect(await store.has(a.id)).toBe(true);
    });

    it('putStream stores a multi-MiB stream under its SHA-256', async () => {
      const { store } = await factory();
      const size = 9 * 1024 * 1024 + 123;
      const expected = await collect(pseudoRandom(size, 42));
      const r = await store.putStream(pseudoRandom(size, 42));
      expect(r).toEqual({ id: sha256(expected), size, written: true });
      const back = await store.get(r.id);
      expect(back.length).toBe(size);
      expect(Buffer.from(back).equals(expected)).toBe(true);
      const again = await store.putStream(pseudoRandom(size, 42));
      expect(again).toEqual({ id: r.id, size, written: false });
      expect(await listAll(store)).toEqual([r.id]);
    });

    it('putStream and put agree on ids', async () => {
      const { store } = await factory();
      const bytes = text('same content either way');
      const streamed = await store.putStream((async function* () {
        yield bytes.subarray(0, 4);
        yield bytes.subarray(4);
      })());
      expect(streamed.id).toBe(sha256(bytes));
      expect((await store.put(bytes)).written).toBe(false);
    });

    it('a putStream whose source fails stores nothing', async () => {
      const { store } = await factory();
      const before = await listAll(store);
      const failing = (async function* () {
        yield text('partial content');
        throw new Error('source broke');
      })();
      await expect(store.putStream(failing)).rejects.toThrow('source broke');
      expect(await listAll(store)).toEqual(before);
      expect(await store.has(sha256(text('partial content')))).toBe(false);
    });

    it('putVerified stores bytes that match the claimed id', async () => {
      const { store } = await factory();
      const bytes = text('trusted after checking');
      const r = await store.putVerified(sha256(bytes), bytes);
      expect(r).toEqual({ id: sha256(bytes), size: bytes.length, written: true });
      expect(await store.has(r.id)).toBe(true);
    });

    it('putVerified refuses wrong bytes with E_CORRUPT and stores nothing', async () => {
      const { store } = await factory();
      const claimed = sha256(text('what the server promised'));
      const actual = text('what the server sent');
      expect(await codeOf(store.putVerified(claimed, actual))).toBe('E_CORRUPT');
      expect(await store.has(claimed)).toBe(false);
      expect(await store.has(sha256(actual))).toBe(false);
      expect(await listAll(store)).toEqual([]);
    });

    it('get of an object whose bytes changed fails with E_CORRUPT', async () => {
      const sut = await factory();
      const { id } = await sut.store.put(text('pristine'));
      await sut.tamper(id, text('pristinE'));
      expect(await codeOf(sut.store.get(id))).toBe('E_CORRUPT');
    });

    it('putSync and hasSync agree with put and has', async () => {
      const { store } = await factory();
      const bytes = text('synchronous');
      expect(store.hasSync(sha256(bytes))).toBe(false);
      expect(store.putSync(bytes)).toEqual({ id: sha256(bytes), size: bytes.length, written: true });
      expect(store.hasSync(sha256(bytes))).toBe(true);
      expect(await store.has(sha256(bytes))).toBe(true);
      expect(store.putSync(bytes).written).toBe(false);
      expect((await store.put(bytes)).written).toBe(false);
      const viaAsync = await store.put(text('asynchronous'));
      expect(store.hasSync(viaAsync.id)).toBe(true);
      expect(store.putSync(text('asynchronous')).written).toBe(false);
      expect(Buffer.from(await store.get(sha256(bytes))).toString()).toBe('synchronous');
    });

    it('putFileSync stores a multi-MiB file under its SHA-256', async () => {
      const { store } = await factory();
      const content = await collect(pseudoRandom(5 * 1024 * 1024 + 3, 7));
      const path = join(tmpdir('trove-contract'), 'file');
      writeFileSync(path, content);
      const r = store.putFileSync(path);
      expect(r).toEqual({ id: sha256(content), size: content.length, written: true });
      expect(Buffer.from(await store.get(r.id)).equals(content)).toBe(true);
      expect(store.putFileSync(path)).toEqual({ id: r.id, size: content.length, written: false });
      expect(await listAll(store)).toEqual([r.id]);
    });

    it('putFileSync of a missing file throws and stores nothing', async () => {
      const { store } = await factory();
      expect(() => store.putFileSync(join(tmpdir('trove-contract'), 'missing'))).toThrow(/ENOENT/);
      expect(await listAll(store)).toEqual([]);
    });

    it('concurrent puts of the same bytes agree', async () => {
      const { store } = await factory();
      const bytes = text('raced');
      const results = await Promise.all(Array.from({ length: 8 }, () => store.put(bytes)));
      expect(new Set(results.map((r) => r.id))).toEqual(new Set([sha256(bytes)]));
      expect(results.some((r) => r.written)).toBe(true);
      expect(await listAll(store)).toEqual([sha256(bytes)]);
      expect(Buffer.from(await store.get(sha256(bytes))).toString()).toBe('raced');
    });
  });
}
