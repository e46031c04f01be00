import { readFileSync } from 'node:fs';
import { notFound } from '../util/errors.js';
import { hashBytes, newHasher, type ObjectId } from '../util/hash.js';
import { assertIntact, refuseUnlessId } from './verify.js';
import type { ObjectStore, PutResult } from './types.js';

/** An in-memory store, for tests and scratch work. */
export class MemoryStore implements ObjectStore {
  private readonly objects = new Map<ObjectId, Uint8Array>();

  async has(id: ObjectId): Promise<boolean> {
    return this.objects.has(id);
  }

  async get(id: ObjectId): Promise<Uint8Array> {
    const bytes = this.objects.get(id);
    if (!bytes) throw notFound(`object ${id} not found`);
    assertIntact(id, bytes);
    return bytes;
  }

  hasSync(id: ObjectId): boolean {
    return this.objects.has(id);
  }

  putSync(bytes: Uint8Array): PutResult {
    const id = hashBytes(bytes);
    const written = !this.objects.has(id);
    if (written) this.objects.set(id, Uint8Array.from(bytes));
    return { id, size: bytes.length, written };
  }

  putFileSync(path: string): PutResult {
    return this.putSync(readFileSync(path));
  }

  async put(bytes: Uint8Array): Promise<PutResult> {
    return this.putSync(bytes);
  }

  async putVerified(id: ObjectId, bytes: Uint8Array): Promise<PutResult> {
    refuseUnlessId(id, bytes);
    return this.put(bytes);
  }

  async putStream(source: AsyncIterable<Uint8Array>): Promise<PutResult> {
    const chunks: Uint8Array[] = [];
    const h = newHasher();
    for await (const c of source) {
      h.update(c);
      chunks.push(c);
    }
    return this.put(Buffer.concat(chunks));
  }

  async delete(id: ObjectId): Promise<void> {
    this.objects.delete(id);
  }

  async *list(): AsyncIterable<ObjectId> {
    yield* [...this.objects.keys()];
  }

  /** Test hook: replaces an object's bytes without re-hashing, to simulate corruption. */
  tamper(id: ObjectId, bytes: Uint8Array): void {
    this.objects.set(id, bytes);
  }
}
