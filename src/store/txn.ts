import { chmodSync, lstatSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno, notFound } from '../util/errors.js';
import type { ObjectId } from '../util/hash.js';
import type { DiskStore } from './disk.js';
import { syncfs, tempName } from '../util/fs-atomic.js';
import { FilePuts } from './file-puts.js';
import { assertIntact } from './verify.js';
import { isPublicMode, publishedMode, type ObjectStore, type PublishStore, type PutHint } from './types.js';
import { crashPoint } from '../util/crash-point.js';
import { StagedFileWriter } from './staged-writer.js';
import { FULL_AFTER, shardEmptySync } from './shards.js';

/**
 * File content written by putSync in the transaction's own thread before
 * the rest goes to a second one (StagedFileWriter): below this, starting
 * the thread costs more than it saves.
 */
const WRITER_AFTER = 512;

/**
 * A write transaction over a disk store. New objects are staged in a private
 * directory and moved into `objects/` by `commit()` in the order they were
 * put — children before parents — so the store never holds an object whose
 * references are missing, and an aborted import leaves the store untouched.
 *
 * File content (a put with a hint: an object that references no other)
 * whose shard `objects/ab/` was empty when the transaction first staged
 * into it is staged in a shard directory of its own, `<txn>/shards/ab/`,
 * and moved in by one rename of that directory over the empty one: a first
 * commit into a new repository renames 256 directories instead of every
 * file. A shard another writer filled meanwhile refuses the rename
 * (ENOTEMPTY) and its files are moved one by one. All content goes in
 * before any tree or commit, so children still precede their parents.
 */
export class Transaction extends FilePuts implements ObjectStore, PublishStore {
  private readonly staged = new Map<ObjectId, string>();
  /** Shard name to whether its `objects/` shard was empty when first asked (then staged under `<txn>/shards/`). */
  private readonly shardEmpty = new Map<string, boolean>();
  /** Shards found holding objects: after a few, the store is taken to be full (see stagedPath). */
  private fullShards = 0;
  private readonly dir: string;
  private opened = false;
  private done = false;
  /** Objects written (new) by this transaction, and their bytes. */
  stats = { objects: 0, bytes: 0 };
  /** Content written by putSync so far, until the writer starts. */
  private writtenHere = 0;
  /** The thread writing staged content, once WRITER_AFTER files were written here (null: none can be made). */
  private writer: StagedFileWriter | null | undefined;
  /** Temp files of large content the writer thread writes; it renames or removes them too, in order. */
  private readonly inWriter = new Set<string>();

  constructor(private readonly store: DiskStore) {
    super();
    this.dir = tempName(store.tmpDir, 'txn');
  }

  async has(id: ObjectId): Promise<boolean> {
    return this.staged.has(id) || this.store.has(id);
  }

  hasSync(id: ObjectId): boolean {
    if (this.staged.has(id)) return true;
    // A shard that was empty when this transaction first staged into it holds nothing this transaction
    // did not stage, but for what another writer adds meanwhile: that is staged again here, and goes in
    // as any object both put does (the same bytes, renamed over). No stat for each object of a new store.
    if (this.shardEmpty.get(id.slice(0, 2)) === true) return false;
    return this.store.hasSync(id);
  }

  protected override knownFileFlag = 'w' as const;

  /** File content of putSync goes to the writer thread once it runs; trees and commits are written here. */
  protected override writeFileSync(path: string, bytes: Uint8Array, mode: number, hint: PutHint | undefined): void {
    if (hint && this.writer === undefined && ++this.writtenHere > WRITER_AFTER) {
      try {
        this.writer = new StagedFileWriter();
      } catch {
        // No thread to be had (a limit on threads, memory): this thread writes.
        this.writer = null;
      }
    }
    if (hint && this.writer) this.writer.write(path, bytes, mode);
    else super.writeFileSync(path, bytes, mode, hint);
  }

  /**
   * Room to read file content of `size` bytes into, which a putSync of them
   * that follows stages without copying them (StagedFileWriter.lend); only
   * once the writer thread runs.
   */
  lendForRead(size: number): Uint8Array | undefined {
    return this.writer?.lend(size);
  }

  /** Files of content the writer thread wrote (for `--verbose` and tests). */
  get writtenByThread(): number {
    return this.writer?.counts.there ?? 0;
  }

  /** A large file of content: read and hashed here, written by the writer thread once it runs. */
  protected override copyHashedSync(src: string, dest: string, mode: number, hint: PutHint | undefined): { id: ObjectId; size: number } {
    if (hint && this.writer?.running()) {
      this.inWriter.add(dest);
      return this.writer.copyHashed(src, dest, mode);
    }
    return super.copyHashedSync(src, dest, mode, hint);
  }

  /** Waits for the writer thread's files (before any staged file is read, changed or moved); throws its error. */
  private settleWrites(): void {
    this.writer?.flush();
  }

  /** `<txn>/<id>` (or `<txn>/shards/ab/<rest>`) when the id is known, else a temp `part-...` file renamed to that once hashed. */
  protected fileFor(id: ObjectId | undefined, hint?: PutHint): string {
    this.ensureDirSync();
    return id ? this.stagedPath(id, hint) : tempName(this.dir, 'part');
  }

  protected async keep(path: string, id: ObjectId, size: number, hint?: PutHint): Promise<void> {
    const staged = this.stagedPath(id, hint);
    if (path !== staged) await rename(path, staged);
    this.record(id, staged, size);
  }

  protected keepSync(path: string, id: ObjectId, size: number, hint?: PutHint): void {
    const staged = this.stagedPath(id, hint);
    // A file the writer thread is still writing is renamed by it, after its last chunk.
    if (path !== staged) {
      if (this.inWriter.delete(path)) this.writer!.rename(path, staged);
      else renameSync(path, staged);
    }
    this.record(id, staged, size);
  }

  protected override dropSync(path: string): void {
    if (this.inWriter.delete(path)) this.writer!.unlink(path);
    else super.dropSync(path);
  }

  /** Where object `id` is staged: content of a shard that was empty in its own shard directory, else `<txn>/<id>`. */
  private stagedPath(id: ObjectId, hint: PutHint | undefined): string {
    // A put of an object staged already writes over the same file, wherever it went.
    const known = this.staged.get(id);
    if (known) return known;
    if (!hint) return join(this.dir, id);
    const shard = id.slice(0, 2);
    let empty = this.shardEmpty.get(shard);
    if (empty === undefined) {
      // Only a guess of where to stage, never of what is stored: installShardSync moves a shard only
      // onto an empty one, file by file otherwise. Once 8 shards held objects, the store is taken to be
      // full (a commit into a store of any size touches most of its 256 shards: 20-30 ms of opendir).
      empty = this.fullShards < FULL_AFTER && this.storeShardEmpty(shard);
      if (!empty) this.fullShards++;
      if (empty) mkdirSync(join(this.dir, 'shards', shard), { recursive: true });
      this.shardEmpty.set(shard, empty);
    }
    return empty ? join(this.dir, 'shards', shard, id.slice(2)) : join(this.dir, id);
  }

  /** Whether `objects/<shard>` exists and holds nothing (one entry read, not the listing). */
  private storeShardEmpty(shard: string): boolean {
    return shardEmptySync(join(this.store.objectsDir, shard)) === true;
  }

  /**
   * Renames `<txn>/shards/<shard>` over the empty `objects/<shard>`, with
   * that directory's mode; false (nothing moved) when the shard is not
   * empty any more, or not a directory of ours. `n`: the objects staged in
   * it, noted in the store's added log first.
   */
  private installShardSync(shard: string, n: number): boolean {
    const from = join(this.dir, 'shards', shard);
    const to = join(this.store.objectsDir, shard);
    const st = lstatSync(to, { throwIfNoEntry: false });
    if (!st?.isDirectory() || st.uid !== process.geteuid?.()) return false;
    const mode = st.mode & 0o7777;
    if ((lstatSync(from).mode & 0o7777) !== mode) chmodSync(from, mode);
    this.store.noteAdded(n);
    try {
      renameSync(from, to);
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOTEMPTY') || isErrno(err, 'EEXIST')) return false;
      throw err;
    }
  }

  /**
   * A second put of content staged here, with a public hint: published by
   * the thread that writes the file, in order after its write, instead of
   * waiting here for every file in flight (a commit meets the same content
   * many times over).
   */
  protected override publishPresentSync(id: ObjectId): void {
    const staged = this.staged.get(id);
    if (staged && this.writer?.running()) this.writer.publish(staged);
    else this.publishSync(id);
  }

  /** A staged object is only this transaction's (no link to it yet): chmod-ed in place. Else the store's. */
  publishSync(id: ObjectId): boolean {
    const staged = this.staged.get(id);
    if (!staged) return this.store.publishSync(id);
    this.settleWrites();
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
    this.settleWrites();
    const bytes = await readFile(path);
    assertIntact(id, bytes, 'staged object');
    return bytes;
  }

  /** `get`, blocking: for walks that read many small trees in turn (a generation's build), which the thread pool would slow. */
  getSync(id: ObjectId, maxBytes?: number): Uint8Array {
    const path = this.staged.get(id);
    if (!path) return this.store.getSync(id, maxBytes);
    this.settleWrites();
    const bytes = readFileSync(path);
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
    this.settleWrites();
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
    try {
      this.settleWrites();
    } finally {
      await this.writer?.close();
    }
    if (this.staged.size > 0) {
      if (opts.sync) await syncfs(this.dir);
      crashPoint('txn:staged');
      // Content first: whole shard directories where that works, else file by file.
      const shardsDir = join(this.dir, 'shards');
      const moved = new Set<string>();
      const perShard = new Map<string, number>();
      for (const [id, path] of this.staged) if (path.startsWith(shardsDir)) perShard.set(id.slice(0, 2), (perShard.get(id.slice(0, 2)) ?? 0) + 1);
      for (const [shard, empty] of this.shardEmpty) {
        if (empty && this.installShardSync(shard, perShard.get(shard) ?? 0)) moved.add(shard);
        crashPoint('txn:install');
      }
      const later: [ObjectId, string][] = [];
      for (const [id, path] of this.staged) {
        if (!path.startsWith(shardsDir)) later.push([id, path]);
        else if (!moved.has(id.slice(0, 2))) {
          this.store.installSync(path, id);
          crashPoint('txn:install');
        }
      }
      for (const [id, path] of later) {
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
    // The thread stops before its directory goes: it writes into it.
    await this.writer?.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  private assertOpen(): void {
    if (this.done) throw new Error('transaction already finished');
  }
}

