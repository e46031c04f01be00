import { mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { corrupt, notFound } from '../util/errors.js';
import { hashBytes, type ObjectId } from '../util/hash.js';
import { type DiskStore, writeHashed } from './disk.js';
import { syncfs, tempName } from '../util/fs-atomic.js';
import { copyHashedSync } from '../util/hash-file.js';
import { type ObjectStore, objectFileMode, type PutHint, type PutResult } from './types.js';

/**
 * A write transaction over a disk store. New objects are staged in a private
 * directory and moved into `objects/` by `commit()` in the order they were
 * put — children before parents — so the store never holds an object whose
 * references are missing, and an aborted import leaves the store untouched.
 */
export class Transaction implements ObjectStore {
  private readonly staged = new Map<ObjectId, string>();
  private readonly dir: string;
  private opened = false;
  private done = false;
  /** Objects written (new) by this transaction, and their bytes. */
  stats = { objects: 0, bytes: 0 };

  constructor(private readonly store: DiskStore) {
    this.dir = tempName(store.tmpDir, 'txn');
  }

  private async ensureDir(): Promise<void> {
    if (this.opened) return;
    await mkdir(this.dir, { recursive: true });
    this.opened = true;
  }

  async has(id: ObjectId): Promise<boolean> {
    return this.staged.has(id) || this.store.has(id);
  }

  hasSync(id: ObjectId): boolean {
    return this.staged.has(id) || this.store.hasSync(id);
  }

  putSync(bytes: Uint8Array, hint?: PutHint): PutResult {
    this.assertOpen();
    const id = hashBytes(bytes);
    if (this.hasSync(id)) return { id, size: bytes.length, written: false };
    this.ensureDirSync();
    const path = join(this.dir, id);
    writeFileSync(path, bytes, { mode: objectFileMode(hint) });
    this.record(id, path, bytes.length);
    return { id, size: bytes.length, written: true };
  }

  putFileSync(src: string, hint?: PutHint): PutResult {
    this.assertOpen();
    this.ensureDirSync();
    const tmp = tempName(this.dir, 'part');
    const { id, size } = copyHashedSync(src, tmp, objectFileMode(hint));
    if (this.hasSync(id)) {
      unlinkSync(tmp);
      return { id, size, written: false };
    }
    const path = join(this.dir, id);
    renameSync(tmp, path);
    this.record(id, path, size);
    return { id, size, written: true };
  }

  private ensureDirSync(): void {
    if (this.opened) return;
    mkdirSync(this.dir, { recursive: true });
    this.opened = true;
  }

  async get(id: ObjectId): Promise<Uint8Array> {
    const path = this.staged.get(id);
    if (!path) return this.store.get(id);
    const bytes = await readFile(path);
    if (hashBytes(bytes) !== id) throw corrupt(`staged object ${id} is corrupt`);
    return bytes;
  }

  async put(bytes: Uint8Array): Promise<PutResult> {
    return this.putKnown(hashBytes(bytes), bytes);
  }

  async putVerified(id: ObjectId, bytes: Uint8Array): Promise<PutResult> {
    const actual = hashBytes(bytes);
    if (actual !== id) throw corrupt(`object ${id} refused: its bytes hash to ${actual}`);
    return this.putKnown(id, bytes);
  }

  private async putKnown(id: ObjectId, bytes: Uint8Array): Promise<PutResult> {
    this.assertOpen();
    if (await this.has(id)) return { id, size: bytes.length, written: false };
    await this.ensureDir();
    const path = join(this.dir, id);
    await writeFile(path, bytes, { mode: 0o644 });
    this.record(id, path, bytes.length);
    return { id, size: bytes.length, written: true };
  }

  async putStream(source: AsyncIterable<Uint8Array>, hint?: PutHint): Promise<PutResult> {
    this.assertOpen();
    await this.ensureDir();
    const tmp = tempName(this.dir, 'part');
    const { id, size } = await writeHashed(tmp, source, objectFileMode(hint));
    if (await this.has(id)) {
      await unlink(tmp);
      return { id, size, written: false };
    }
    const path = join(this.dir, id);
    await rename(tmp, path);
    this.record(id, path, size);
    return { id, size, written: true };
  }

  private record(id: ObjectId, path: string, size: number): void {
    this.staged.set(id, path);
    this.stats.objects++;
    this.stats.bytes += size;
  }

  async delete(id: ObjectId): Promise<void> {
    const path = this.staged.get(id);
    if (!path) throw notFound(`object ${id} is not staged in this transaction`);
    this.staged.delete(id);
    await rm(path, { force: true });
  }

  async *list(): AsyncIterable<ObjectId> {
    yield* this.staged.keys();
  }

  /**
   * Moves every staged object into the store, children first. With `sync`,
   * file data is flushed (syncfs) before the renames and again after them.
   */
  async commit(opts: { sync?: boolean } = {}): Promise<void> {
    this.assertOpen();
    this.done = true;
    if (this.staged.size > 0) {
      if (opts.sync) await syncfs(this.dir);
      for (const [id, path] of this.staged) this.store.installSync(path, id);
      if (opts.sync) await syncfs(this.store.objectsDir);
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Drops everything staged; the store is as it was. */
  async abort(): Promise<void> {
    this.done = true;
    await rm(this.dir, { recursive: true, force: true });
  }

  private assertOpen(): void {
    if (this.done) throw new Error('transaction already finished');
  }
}

