import { rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { badObject } from '../errors.js';
import { hashBytes, type ObjectId } from '../hash/index.js';
import { type DiskStore, tempName, writeHashed } from '../store/disk.js';
import { TransferError } from './transport.js';

/** Throws a retryable E_CORRUPT unless `bytes` hash to `id`. */
export function checkHash(id: ObjectId, bytes: Uint8Array, where: string): void {
  const actual = hashBytes(bytes);
  if (actual !== id) throw new TransferError('E_CORRUPT', `${where}: wrong bytes for object ${id} (they hash to ${actual})`, true);
}

/**
 * Installs bytes already verified against `id`: temp file, then rename into
 * objects/. Blocking calls: for small objects in the page cache they cost
 * less than a trip through the thread pool, and they keep fetched bytes from
 * piling up in memory while writes wait their turn.
 */
export function installVerifiedSync(store: DiskStore, id: ObjectId, bytes: Uint8Array): void {
  const tmp = tempName(store.tmpDir, 'pull');
  writeFileSync(tmp, bytes, { mode: 0o644, flag: 'wx' });
  try {
    store.installSync(tmp, id);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Streams the bytes of object `id` into a temp file, hashing as they come,
 * and installs it only when the hash matches (else a retryable E_CORRUPT,
 * also when more than `size` bytes arrive) and the length is `size`.
 */
export async function installStream(store: DiskStore, id: ObjectId, body: AsyncIterable<Buffer>, size: number, where: string): Promise<void> {
  const maxBytes = size;
  const tmp = tempName(store.tmpDir, 'pull');
  const capped = async function* () {
    let n = 0;
    for await (const c of body) {
      n += c.length;
      if (n > maxBytes) throw new TransferError('E_CORRUPT', `${where}: object ${id} is longer than the ${maxBytes} bytes expected`, true);
      yield c;
    }
  };
  const got = await writeHashed(tmp, capped());
  try {
    if (got.id !== id) throw new TransferError('E_CORRUPT', `${where}: wrong bytes for object ${id} (they hash to ${got.id})`, true);
    if (got.size !== size) throw badObject(`${where}: a tree says ${size} bytes, object ${id} has ${got.size}`);
    await store.install(tmp, id);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
