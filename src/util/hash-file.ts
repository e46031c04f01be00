import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { newHasher, type ObjectId } from './hash.js';

const CHUNK = 1 << 20;

let shared: Buffer | undefined;
/**
 * One 1 MiB buffer for every blocking copy and hash of this thread: nothing
 * else runs while one of them does, and allocating (then collecting) a
 * buffer per file costs more than hashing a small one.
 */
const chunkBuffer = (): Buffer => (shared ??= Buffer.allocUnsafe(CHUNK));

/**
 * Copies the file at `src` to a new file `dest` in 1 MiB chunks, hashing as
 * it goes; returns the SHA-256 and size. `dest` is removed on failure.
 */
export function copyHashedSync(src: string, dest: string, mode = 0o644): { id: ObjectId; size: number } {
  const h = newHasher();
  const buf = chunkBuffer();
  const fin = openSync(src, 'r');
  let fout: number | undefined;
  let size = 0;
  try {
    fout = openSync(dest, 'wx', mode);
    for (;;) {
      const n = readSync(fin, buf, 0, CHUNK, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      let off = 0;
      while (off < n) off += writeSync(fout, buf, off, n - off);
      size += n;
    }
  } catch (err) {
    if (fout !== undefined) {
      closeSync(fout);
      fout = undefined;
      unlinkSync(dest);
    }
    throw err;
  } finally {
    closeSync(fin);
    if (fout !== undefined) closeSync(fout);
  }
  return { id: h.digest('hex'), size };
}

/** SHA-256 and size of a file, read in 1 MiB chunks with blocking reads. */
export function hashFileSync(path: string): { id: ObjectId; size: number } {
  const h = newHasher();
  const buf = chunkBuffer();
  const fd = openSync(path, 'r');
  let size = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      size += n;
    }
  } finally {
    closeSync(fd);
  }
  return { id: h.digest('hex'), size };
}
