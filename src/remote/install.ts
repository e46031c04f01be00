import { closeSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { badObject } from '../util/errors.js';
import { hashBytes, newHasher, type ObjectId } from '../util/hash.js';
import { type ObjectInstaller, type ObjectStore, objectFileMode, type PutHint } from '../store/types.js';
import { TransferError } from './retry.js';
import type { DiskSpace } from './disk-space.js';
import { crashPoint } from '../util/crash-point.js';
import type { ObjectStream, ObjectWriteWorker } from '../store/write-worker.js';

/** What installing fetched objects needs of the store. */
export type InstallTarget = Pick<ObjectStore, 'hasSync'> & ObjectInstaller;

/** Throws a retryable E_CORRUPT unless `bytes` hash to `id`. */
export function checkHash(id: ObjectId, bytes: Uint8Array, where: string): void {
  const actual = hashBytes(bytes);
  if (actual !== id) throw new TransferError('E_CORRUPT', `${where}: wrong bytes for object ${id} (they hash to ${actual})`, true);
}

/**
 * Installs bytes already verified against `id`: temp file, then rename into
 * objects/ (mode 0755 for a blob first met as an executable, see PutHint). Blocking calls: for small objects in the page cache they cost
 * less than a trip through the thread pool, and they keep fetched bytes from
 * piling up in memory while writes wait their turn.
 */
export function installVerifiedSync(store: InstallTarget, id: ObjectId, bytes: Uint8Array, hint?: PutHint): void {
  const tmp = store.tempPath('pull');
  writeFileSync(tmp, bytes, { mode: objectFileMode(hint), flag: 'wx' });
  try {
    store.installSync(tmp, id);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  crashPoint('pull:install');
}

/**
 * Streams the bytes of object `id` into a temp file, hashing as they come,
 * and installs it only when the hash matches (else a retryable E_CORRUPT;
 * more than `size` bytes are a final one, and reading stops at once) and the
 * length is `size`. With `space`, the `size` bytes it reserved are given
 * back as they are written, and free space is checked on the way. Each
 * chunk is written as it arrives (blocking writes, like installVerifiedSync,
 * or by `writer`'s thread when given), so no object is ever held whole in
 * memory.
 */
export async function installStream(
  store: InstallTarget,
  id: ObjectId,
  body: AsyncIterable<Buffer>,
  size: number,
  where: string,
  hint?: PutHint,
  space?: DiskSpace,
  writer?: ObjectWriteWorker,
): Promise<void> {
  const tmp = store.tempPath('pull');
  let sink: ObjectStream | undefined;
  let n = 0;
  try {
    // Inside the try: a temp file that cannot be made still gives back what `space` reserved.
    sink = writer?.stream(tmp, objectFileMode(hint)) ?? fileSink(store, tmp, objectFileMode(hint));
    const h = newHasher();
    for await (const c of body) {
      n += c.length;
      if (n > size) throw new TransferError('E_CORRUPT', `${where}: object ${id} is longer than the ${size} bytes expected; download stopped`, false);
      h.update(c);
      const wait = sink.push(c);
      if (wait) await wait;
      space?.wrote(c.length, `object ${id}`, true);
    }
    const actual = h.digest('hex');
    if (actual !== id) throw new TransferError('E_CORRUPT', `${where}: wrong bytes for object ${id} (they hash to ${actual})`, true);
    if (n !== size) throw badObject(`${where}: a tree says ${size} bytes, object ${id} has ${n}`);
    const done = sink;
    sink = undefined;
    await done.finish(id);
    crashPoint('pull:install');
  } catch (err) {
    if (sink) await sink.abort();
    throw err;
  } finally {
    space?.release(Math.max(0, size - Math.min(n, size)));
  }
}

/** An ObjectStream written in this thread, by blocking calls. */
function fileSink(store: InstallTarget, tmp: string, mode: number): ObjectStream {
  const fd = openSync(tmp, 'wx', mode);
  let closed = false;
  const close = (): void => {
    if (!closed) closeSync(fd);
    closed = true;
  };
  return {
    push(c) {
      for (let off = 0; off < c.length; ) off += writeSync(fd, c, off);
      return undefined;
    },
    finish(id) {
      try {
        close();
        store.installSync(tmp, id);
      } catch (err) {
        rmSync(tmp, { force: true });
        throw err;
      }
      return Promise.resolve();
    },
    abort() {
      close();
      rmSync(tmp, { force: true });
      return Promise.resolve();
    },
  };
}

