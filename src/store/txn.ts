import { chmodSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { notFound } from '../util/errors.js';
import type { ObjectId } from '../util/hash.js';
import type { DiskStore } from './disk.js';
import { syncfs, tempName } from '../util/fs-atomic.js';
import { FilePuts } from './file-puts.js';
import { assertIntact } from './verify.js';
import { isPublicMode, publishedMode, type ObjectStore, type PublishStore } from './types.js';
import { crashPoint } from '../util/crash-point.js';

/**
 * A write transaction over a disk store. New objects are staged in a private
 * directory and moved into `objects/` by `commit()` in the order they were
 * put — children before parents — so the store never holds an object whose
 * references are missing, and an aborted import leaves the store untouched.
 */
export class Transaction extends FilePuts implements ObjectStore, PublishStore {
  private readonly staged = new Map<ObjectId, string>();
  private readonly dir: string;
  private opened = false;
  private done = false;
  /** Objects written (new) by this transaction, and their bytes. */
  stats = { objects: 0, bytes: 0 };

  constructor(private readonly store: DiskStore) {
    super();
    this.dir = tempName(store.tmpDir, 'txn');
  }

  async has(id: ObjectId): Promise<boolean> {
    return this.staged.has(id) || this.store.has(id);
  }

  hasSync(id: ObjectId): boolean {
    return this.staged.has(id) || this.store.hasSync(id);
  }

  protected override knownFileFlag = 'w' as const;

  /** `<txn>/<id>` when the id is known, else a temp `part-…` file renamed to that once hashed. */
  protected fileFor(id: ObjectId | undefined): string {
    this.ensureDirSync();
    return id ? join(this.dir, id) : tempName(this.dir, 'part');
  }

  protected async keep(path: string, id: ObjectId, size: number): Promise<void> {
    const staged = join(this.dir, id);
    if (path !== staged) await rename(path, staged);
    this.record(id, staged, size);
  }

  protected keepSync(path: string, id: ObjectId, size: number): void {
    const staged = join(this.dir, id);
    if (path !== staged) renameSync(path, staged);
    this.record(id, staged, size);
  }

  /** A staged object is only this transaction's (no link to it yet): chmod-ed in place. Else the store's. */
  publishSync(id: ObjectId): boolean {
    const staged = this.staged.get(id);
    if (!staged) return this.store.publishSync(id);
    const st = statSync(staged);
    if (isPublicMode(st.mode)) return false;
    chmodSync(staged, publishedMode(st.mode));
    return true;
  }

  protected override assertWritable(): void {
    this.assertOpen();
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
    assertIntact(id, bytes, 'staged object');
    return bytes;
  }

  private record(id: ObjectId, path: string, size: number): void {
    // Two concurrent puts of one object both end here; it is staged (and counted) once.
    if (this.staged.has(id)) return;
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
      crashPoint('txn:staged');
      for (const [id, path] of this.staged) {
        this.store.installSync(path, id);
        crashPoint('txn:install');
      }
      if (opts.sync) await syncfs(this.store.objectsDir);
      crashPoint('txn:installed');
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

