import { chmodSync, constants, copyFileSync, createReadStream, type ReadStream, rmSync } from 'node:fs';
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { badObject, isErrno, notFound } from '../util/errors.js';
import { isObjectId, type ObjectId } from '../util/hash.js';
import { tempName } from '../util/fs-atomic.js';
import { FilePuts } from './file-puts.js';
import { assertIntact } from './verify.js';
import { isPublicMode, objectFileMode, publishedMode, type ObjectFiles, type ObjectStore, type PublishStore } from './types.js';

/** Options of a disk store; defaults as documented on each field. */
export interface DiskStoreInit {
  /** Directory holding `ab/<62 hex>` object files. */
  objectsDir: string;
  /** Scratch directory on the same filesystem, for temp files. */
  tmpDir: string;
  /**
   * The intent log of added objects (`<repo>/objects-added`, see
   * noteAdded); none when undefined.
   */
  addedLog?: string;
}

/** Loose objects on disk: `objects/ab/<62 hex>`, written by temp file and rename. */
export class DiskStore extends FilePuts implements ObjectStore, ObjectFiles, PublishStore {
  readonly objectsDir: string;
  readonly tmpDir: string;
  readonly addedLog: string | undefined;
  /** `objectsDir` normalised, with a trailing separator: `pathOf` is on every hot path, path.join is not needed there. */
  private readonly prefix: string;
  /** The added log, opened for appending on the first note. */
  private addedFd: number | undefined;

  constructor(init: DiskStoreInit) {
    super();
    this.objectsDir = init.objectsDir;
    this.tmpDir = init.tmpDir;
    this.addedLog = init.addedLog;
    this.prefix = join(init.objectsDir, '/');
  }

  /**
   * Notes, before they are renamed into place, that `n` objects may be added
   * to the store: one line `<n>` appended to the added log (O_APPEND, so
   * writers in several processes never mix their lines). gc counts the
   * stored objects as the number it kept at its last full sweep plus these
   * notes, and skips listing the store when it marks exactly that many
   * (repo/gc.ts). A note is made before the rename, so a crash, or a rename
   * over an object already there, can only make the count too high, which
   * makes gc list the store. A note that cannot be written is skipped: the
   * count is then too low, which can only make gc keep garbage until a full
   * sweep (`gc --full`), never delete a reachable object.
   */
  noteAdded(n: number): void {
    if (this.addedLog === undefined || n <= 0) return;
    try {
      this.addedFd ??= openSync(this.addedLog, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
      writeSync(this.addedFd, `${n}\n`);
    } catch {
      // See above: a missing note only keeps garbage longer.
    }
  }

  /** Closes the added log if a note opened it. */
  close(): void {
    if (this.addedFd === undefined) return;
    closeSync(this.addedFd);
    this.addedFd = undefined;
  }

  /** Creates the 256 shard directories (idempotent). */
  async create(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
    await Promise.all(
      Array.from({ length: 256 }, (_, i) => mkdir(join(this.objectsDir, i.toString(16).padStart(2, '0')), { recursive: true })),
    );
  }

  /** Path of the object file for `id` (whether or not it exists). */
  pathOf(id: ObjectId): string {
    if (!isObjectId(id)) throw notFound(`not an object id: ${id}`);
    return `${this.prefix}${id.slice(0, 2)}/${id.slice(2)}`;
  }

  async has(id: ObjectId): Promise<boolean> {
    try {
      await stat(this.pathOf(id));
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw err;
    }
  }

  hasSync(id: ObjectId): boolean {
    // throwIfNoEntry: a miss is the common case on import, and exceptions are slow.
    return statSync(this.pathOf(id), { throwIfNoEntry: false }) !== undefined;
  }

  /** A new temp path beside the objects, for a file to hand to `install` or `installSync`. */
  tempPath(tag = 'tmp'): string {
    return tempName(this.tmpDir, tag);
  }

  /** Every new object is written to a temp file and installed by rename. */
  protected fileFor(): string {
    return this.tempPath();
  }

  protected keep(path: string, id: ObjectId): Promise<void> {
    return this.install(path, id);
  }

  protected keepSync(path: string, id: ObjectId): void {
    this.installSync(path, id);
  }

  /**
   * Makes a private object file readable by others (0644, 0755 when it was
   * 0700). An object file that is hard-linked elsewhere (a hard-link checkout
   * or activation shares its inode) is never chmod-ed: a copy with the new
   * mode is renamed over it, so those links keep the mode their tree gave them.
   */
  publishSync(id: ObjectId): boolean {
    const st = statSync(this.pathOf(id), { throwIfNoEntry: false });
    if (!st || isPublicMode(st.mode)) return false;
    this.setModeSync(id, st.nlink, publishedMode(st.mode));
    return true;
  }

  /**
   * Makes a public object file private (0600, 0700 when executable), as
   * `publishSync` does the other way round: hard links elsewhere keep their
   * inode and mode. For `fsck --repair` on objects written before private
   * objects existed.
   */
  concealSync(id: ObjectId): boolean {
    const st = statSync(this.pathOf(id), { throwIfNoEntry: false });
    if (!st || !isPublicMode(st.mode)) return false;
    this.setModeSync(id, st.nlink, objectFileMode({ private: true, executable: (st.mode & 0o100) !== 0 }));
    return true;
  }

  private setModeSync(id: ObjectId, nlink: number, mode: number): void {
    const path = this.pathOf(id);
    if (nlink === 1) return chmodSync(path, mode);
    const tmp = this.tempPath('mode');
    try {
      copyFileSync(path, tmp, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
      chmodSync(tmp, mode);
      renameSync(tmp, path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }

  /** Synchronous `install`. */
  installSync(tmpPath: string, id: ObjectId): void {
    this.noteAdded(1);
    this.placeSync(tmpPath, id);
  }

  /** Renames a complete object file into place as `id` (making its shard directory when missing), without noting it as added. */
  placeSync(tmpPath: string, id: ObjectId): void {
    const dest = this.pathOf(id);
    try {
      renameSync(tmpPath, dest);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      mkdirSync(join(this.objectsDir, id.slice(0, 2)), { recursive: true });
      renameSync(tmpPath, dest);
    }
  }

  /** Size in bytes of a stored object, blocking: one stat, where the promise costs a round trip through the thread pool. */
  sizeOfSync(id: ObjectId): number {
    const st = statSync(this.pathOf(id), { throwIfNoEntry: false });
    if (!st) throw notFound(`object ${id} not found`);
    return st.size;
  }

  /** Size in bytes of a stored object. */
  async sizeOf(id: ObjectId): Promise<number> {
    try {
      return (await stat(this.pathOf(id))).size;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw notFound(`object ${id} not found`);
      throw err;
    }
  }

  async get(id: ObjectId): Promise<Uint8Array> {
    const bytes = await this.getUnverified(id);
    assertIntact(id, bytes);
    return bytes;
  }

  /** Synchronous, verified `get`; an object file of more than `maxBytes` is refused unread. */
  getSync(id: ObjectId, maxBytes?: number): Buffer {
    const bytes = this.getUnverifiedSync(id, maxBytes);
    assertIntact(id, bytes);
    return bytes;
  }

  /** getUnverified, blocking; an object file of more than `maxBytes` is refused unread (its size from the open file, no second lookup). */
  getUnverifiedSync(id: ObjectId, maxBytes?: number): Buffer {
    try {
      return maxBytes === undefined ? readFileSync(this.pathOf(id)) : readAtMostSync(this.pathOf(id), maxBytes, id);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw notFound(`object ${id} not found`);
      throw err;
    }
  }

  /** The bytes without re-hashing; for callers that verify themselves. */
  async getUnverified(id: ObjectId): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(id));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw notFound(`object ${id} not found`);
      throw err;
    }
  }

  /** A read stream of the object's bytes (not re-hashed). */
  openRead(id: ObjectId, opts?: { start?: number; end?: number }): ReadStream {
    return createReadStream(this.pathOf(id), opts);
  }

  /** Moves a finished temp file into place; rename is atomic, so readers see all or nothing. */
  async install(tmpPath: string, id: ObjectId): Promise<void> {
    const dest = this.pathOf(id);
    this.noteAdded(1);
    try {
      await rename(tmpPath, dest);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      await mkdir(join(this.objectsDir, id.slice(0, 2)), { recursive: true });
      await rename(tmpPath, dest);
    }
  }

  /** The stored ids that start with `prefix` (at least 2 hex digits), sorted. */
  async idsWithPrefix(prefix: string): Promise<ObjectId[]> {
    if (!/^[0-9a-f]{2,64}$/.test(prefix)) return [];
    const rest = prefix.slice(2);
    const names = await readdir(join(this.objectsDir, prefix.slice(0, 2))).catch(() => [] as string[]);
    return names
      .filter((n) => n.startsWith(rest))
      .map((n) => prefix.slice(0, 2) + n)
      .filter(isObjectId)
      .sort();
  }

  async delete(id: ObjectId): Promise<void> {
    await rm(this.pathOf(id), { force: true });
  }

  async *list(): AsyncIterable<ObjectId> {
    let shards: string[];
    try {
      shards = (await readdir(this.objectsDir)).sort();
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      throw err;
    }
    for (const shard of shards) {
      if (SHARD.test(shard)) yield* objectIds(shard, await readdir(join(this.objectsDir, shard)));
    }
  }

  /** `list` with blocking reads of the shard directories: for a walk of a whole store, without a promise per id. */
  *listSync(): Generator<ObjectId> {
    let shards: string[];
    try {
      shards = readdirSync(this.objectsDir).sort();
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      throw err;
    }
    for (const shard of shards) {
      if (SHARD.test(shard)) yield* objectIds(shard, readdirSync(join(this.objectsDir, shard)));
    }
  }

}

const SHARD = /^[0-9a-f]{2}$/;

/** The object ids a shard directory's names spell, in order (other names are skipped). */
function* objectIds(shard: string, names: string[]): Generator<ObjectId> {
  for (const name of names.sort()) {
    const id = shard + name;
    if (isObjectId(id)) yield id;
  }
}

/** The bytes of the file at `path`, refused (badObject) when its open file holds more than `maxBytes`. */
function readAtMostSync(path: string, maxBytes: number, id: ObjectId): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) throw badObject(`object ${id} is ${size} bytes, more than the ${maxBytes} its reader takes`);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
