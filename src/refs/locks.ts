import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLock, type Release } from '../store/lock.js';
import { hashBytes } from '../util/hash.js';

/** `<repo>/locks`: one empty file per ref or profile that has been updated. */
export function locksDir(repoPath: string): string {
  return join(repoPath, 'locks');
}

// Waiters inside one process queue here, not in flock(2): a blocked flock
// holds a libuv thread-pool thread, and four of them would starve the holder.
const queues = new Map<string, Promise<void>>();

/**
 * Takes the update lock of one ref or profile (`kind` is `ref` or
 * `profile`; `file` for a repository file rewritten from the refs, like the summary), an exclusive flock(2) on `<repo>/locks/<kind>-<key>`, waiting
 * for the holder. A read-modify-write of the ref or profile (read the tip,
 * compute the next revision or generation from it, write it) holds it from
 * the read to the write, so concurrent updates serialise instead of losing
 * one another. The kernel drops it when the process dies.
 */
export async function lockUpdates(repoPath: string, kind: 'ref' | 'profile' | 'file', key: string): Promise<Release> {
  const dir = locksDir(repoPath);
  // Ref names hold no `%`, so `/` -> `%` is unambiguous; long keys are hashed to stay under NAME_MAX.
  const flat = key.replaceAll('/', '%');
  const name = Buffer.byteLength(flat) <= 200 ? `${kind}-${flat}` : `${kind}-${hashBytes(Buffer.from(key, 'utf8'))}`;
  const path = join(dir, name);
  const before = queues.get(path) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((resolve) => (done = resolve));
  const tail = before.then(() => mine);
  queues.set(path, tail);
  await before;
  let release: Release;
  try {
    mkdirSync(dir, { recursive: true });
    release = await acquireLock(path, 'exclusive');
  } catch (err) {
    done();
    if (queues.get(path) === tail) queues.delete(path);
    throw err;
  }
  return async () => {
    try {
      await release();
    } finally {
      done();
      if (queues.get(path) === tail) queues.delete(path);
    }
  };
}
