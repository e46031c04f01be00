import { unlinkSync, writeFileSync } from 'node:fs';
import { open, unlink, writeFile } from 'node:fs/promises';
import { hashBytes, newHasher, type ObjectId } from '../util/hash.js';
import { copyHashedSync } from '../util/hash-file.js';
import { refuseUnlessId } from './verify.js';
import { objectFileMode, type PutHint, type PutResult } from './types.js';

/**
 * Streams `source` into a new file at `path`, hashing as it goes.
 * Returns the SHA-256 and size; the caller renames or removes the file.
 */
export async function writeHashed(path: string, source: AsyncIterable<Uint8Array>, mode = objectFileMode()): Promise<{ id: ObjectId; size: number }> {
  const h = newHasher();
  let size = 0;
  const fh = await open(path, 'wx', mode);
  try {
    for await (const chunk of source) {
      h.update(chunk);
      size += chunk.length;
      let off = 0;
      while (off < chunk.length) {
        const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
        off += bytesWritten;
      }
    }
  } catch (err) {
    await fh.close();
    await unlink(path).catch(() => {});
    throw err;
  }
  await fh.close();
  return { id: h.digest('hex'), size };
}

/**
 * The put methods of a store that keeps each object in a file of its own
 * (the disk store, and a transaction staging into a directory). Every put
 * writes the bytes to a new file, hashing them on the way when the id is
 * not known yet; drops the file when the object is already present; and
 * otherwise hands it to `keep`, which moves it into place or records it.
 */
export abstract class FilePuts {
  abstract has(id: ObjectId): Promise<boolean>;
  abstract hasSync(id: ObjectId): boolean;

  /** A path for a new object file: for object `id`, or (undefined) for bytes whose id is not known yet. */
  protected abstract fileFor(id: ObjectId | undefined, hint?: PutHint): string;
  /**
   * Takes a complete object file written at a path from `fileFor`. A put with
   * a hint is file content, an object that references no other (a leaf).
   */
  protected abstract keep(path: string, id: ObjectId, size: number, hint?: PutHint): Promise<void>;
  protected abstract keepSync(path: string, id: ObjectId, size: number, hint?: PutHint): void;
  /**
   * The open flag for a file from `fileFor(id)`: `wx` (a fresh temp name) by
   * default; `w` where the path is the object's own name, so that concurrent
   * puts of one object write the same bytes over each other instead of failing.
   */
  protected knownFileFlag: 'w' | 'wx' = 'wx';
  /** Writes a file from `fileFor(id)` for putSync (a transaction may hand file content to another thread). */
  protected writeFileSync(path: string, bytes: Uint8Array, mode: number, _hint: PutHint | undefined): void {
    writeFileSync(path, bytes, { mode, flag: this.knownFileFlag });
  }
  /** Copies `src` to a new file `dest` for putFileSync, hashing it (a transaction may write through another thread). */
  protected copyHashedSync(src: string, dest: string, mode: number, _hint: PutHint | undefined): { id: ObjectId; size: number } {
    return copyHashedSync(src, dest, mode);
  }
  /** Removes a file from `copyHashedSync` whose object is stored already. */
  protected dropSync(path: string): void {
    unlinkSync(path);
  }
  /** Called before every put; throws when the store takes no more writes. */
  protected assertWritable(): void {}
  /** Makes a stored (or staged) private object readable by others; see PutHint. */
  abstract publishSync(id: ObjectId): boolean;

  /** A put of content already stored: a public hint publishes it (its content is public now). */
  private present(id: ObjectId, hint: PutHint | undefined): void {
    if (hint && !hint.private) this.publishPresentSync(id);
  }
  /** publishSync for a put of content stored already, whose answer nobody reads (a transaction may publish later). */
  protected publishPresentSync(id: ObjectId): void {
    this.publishSync(id);
  }

  async put(bytes: Uint8Array): Promise<PutResult> {
    return this.putKnown(hashBytes(bytes), bytes);
  }

  async putVerified(id: ObjectId, bytes: Uint8Array): Promise<PutResult> {
    refuseUnlessId(id, bytes);
    return this.putKnown(id, bytes);
  }

  private async putKnown(id: ObjectId, bytes: Uint8Array): Promise<PutResult> {
    this.assertWritable();
    if (await this.has(id)) return { id, size: bytes.length, written: false };
    const path = this.fileFor(id);
    try {
      await writeFile(path, bytes, { mode: objectFileMode(), flag: this.knownFileFlag });
    } catch (err) {
      // A short file named by its id must not stay where a transaction moves whole shard directories in.
      await unlink(path).catch(() => {});
      throw err;
    }
    await this.keep(path, id, bytes.length);
    return { id, size: bytes.length, written: true };
  }

  putSync(bytes: Uint8Array, hint?: PutHint): PutResult {
    this.assertWritable();
    const id = hashBytes(bytes);
    if (this.hasSync(id)) {
      this.present(id, hint);
      return { id, size: bytes.length, written: false };
    }
    const path = this.fileFor(id, hint);
    try {
      this.writeFileSync(path, bytes, objectFileMode(hint), hint);
    } catch (err) {
      // As in putKnown.
      try {
        unlinkSync(path);
      } catch {
        // Not there, or not ours to remove: the write's error is the one to report.
      }
      throw err;
    }
    this.keepSync(path, id, bytes.length, hint);
    return { id, size: bytes.length, written: true };
  }

  putFileSync(src: string, hint?: PutHint): PutResult {
    this.assertWritable();
    const tmp = this.fileFor(undefined);
    const { id, size } = this.copyHashedSync(src, tmp, objectFileMode(hint), hint);
    if (this.hasSync(id)) {
      this.dropSync(tmp);
      this.present(id, hint);
      return { id, size, written: false };
    }
    this.keepSync(tmp, id, size, hint);
    return { id, size, written: true };
  }

  async putStream(source: AsyncIterable<Uint8Array>, hint?: PutHint): Promise<PutResult> {
    this.assertWritable();
    const tmp = this.fileFor(undefined);
    const { id, size } = await writeHashed(tmp, source, objectFileMode(hint));
    if (await this.has(id)) {
      await unlink(tmp);
      this.present(id, hint);
      return { id, size, written: false };
    }
    await this.keep(tmp, id, size, hint);
    return { id, size, written: true };
  }
}
