import { createReadStream, type ReadStream } from 'node:fs';
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { corrupt, isErrno, notFound } from '../util/errors.js';
import { hashBytes, isObjectId, newHasher, type ObjectId } from '../util/hash.js';
import { copyHashedSync } from '../util/hash-file.js';
import { tempName } from '../util/fs-atomic.js';
import { type ObjectStore, objectFileMode, type PutHint, type PutResult } from './types.js';

/** Options of a disk store; defaults as documented on each field. */
export interface DiskStoreInit {
  /** Directory holding `ab/<62 hex>` object files. */
  objectsDir: string;
  /** Scratch directory on the same filesystem, for temp files. */
  tmpDir: string;
}

const OBJECT_MODE = 0o644;

/**
 * Streams `source` into a new file at `path`, hashing as it goes.
 * Returns the SHA-256 and size; the caller renames or removes the file.
 */
export async function writeHashed(
  path: string,
  source: AsyncIterable<Uint8Array>,
  mode = OBJECT_MODE,
): Promise<{ id: ObjectId; size: number }> {
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

/** Loose objects on disk: `objects/ab/<62 hex>`, written by temp file and rename. */
export class DiskStore implements ObjectStore {
  readonly objectsDir: string;
  readonly tmpDir: string;

  constructor(init: DiskStoreInit) {
    this.objectsDir = init.objectsDir;
    this.tmpDir = init.tmpDir;
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
    return join(this.objectsDir, id.slice(0, 2), id.slice(2));
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

  putSync(bytes: Uint8Array, hint?: PutHint): PutResult {
    const id = hashBytes(bytes);
    if (this.hasSync(id)) return { id, size: bytes.length, written: false };
    const tmp = tempName(this.tmpDir);
    writeFileSync(tmp, bytes, { mode: objectFileMode(hint), flag: 'wx' });
    this.installSync(tmp, id);
    return { id, size: bytes.length, written: true };
  }

  putFileSync(path: string, hint?: PutHint): PutResult {
    const tmp = tempName(this.tmpDir);
    const { id, size } = copyHashedSync(path, tmp, objectFileMode(hint));
    if (this.hasSync(id)) {
      unlinkSync(tmp);
      return { id, size, written: false };
    }
    this.installSync(tmp, id);
    return { id, size, written: true };
  }

  /** Synchronous `install`. */
  installSync(tmpPath: string, id: ObjectId): void {
    const dest = this.pathOf(id);
    try {
      renameSync(tmpPath, dest);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      mkdirSync(join(this.objectsDir, id.slice(0, 2)), { recursive: true });
      renameSync(tmpPath, dest);
    }
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
    const actual = hashBytes(bytes);
    if (actual !== id) throw corrupt(`object ${id} is corrupt: its bytes hash to ${actual}`);
    return bytes;
  }

  /** Synchronous, verified `get`. */
  getSync(id: ObjectId): Buffer {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.pathOf(id));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw notFound(`object ${id} not found`);
      throw err;
    }
    const actual = hashBytes(bytes);
    if (actual !== id) throw corrupt(`object ${id} is corrupt: its bytes hash to ${actual}`);
    return bytes;
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

  async put(bytes: Uint8Array): Promise<PutResult> {
    const id = hashBytes(bytes);
    return this.putKnown(id, bytes);
  }

  async putVerified(id: ObjectId, bytes: Uint8Array): Promise<PutResult> {
    const actual = hashBytes(bytes);
    if (actual !== id) throw corrupt(`object ${id} refused: its bytes hash to ${actual}`);
    return this.putKnown(id, bytes);
  }

  private async putKnown(id: ObjectId, bytes: Uint8Array): Promise<PutResult> {
    if (await this.has(id)) return { id, size: bytes.length, written: false };
    const tmp = tempName(this.tmpDir);
    await writeFile(tmp, bytes, { mode: OBJECT_MODE, flag: 'wx' });
    await this.install(tmp, id);
    return { id, size: bytes.length, written: true };
  }

  async putStream(source: AsyncIterable<Uint8Array>, hint?: PutHint): Promise<PutResult> {
    const tmp = tempName(this.tmpDir);
    const { id, size } = await writeHashed(tmp, source, objectFileMode(hint));
    if (await this.has(id)) {
      await unlink(tmp);
      return { id, size, written: false };
    }
    await this.install(tmp, id);
    return { id, size, written: true };
  }

  /** Moves a finished temp file into place; rename is atomic, so readers see all or nothing. */
  async install(tmpPath: string, id: ObjectId): Promise<void> {
    const dest = this.pathOf(id);
    try {
      await rename(tmpPath, dest);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      await mkdir(join(this.objectsDir, id.slice(0, 2)), { recursive: true });
      await rename(tmpPath, dest);
    }
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
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      const names = (await readdir(join(this.objectsDir, shard))).sort();
      for (const name of names) {
        const id = shard + name;
        if (isObjectId(id)) yield id;
      }
    }
  }
}
