import { closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import type fsExtModule from 'fs-ext';
import { isErrno, locked } from '../util/errors.js';

let fsExt: typeof fsExtModule | undefined;

/**
 * fs-ext (flock(2)), loaded on first use: read-only commands and the FUSE
 * daemon never lock. Through require, which loads a CommonJS addon directly,
 * where an import would first scan its source for named exports.
 */
function flockApi(): typeof fsExtModule {
  fsExt ??= createRequire(import.meta.url)('fs-ext') as typeof fsExtModule;
  return fsExt;
}

/** Releases a held lock. */
export type Release = () => Promise<void>;

/**
 * The repository lock, a kernel flock(2) on `<repo>/lock`: writers hold it
 * shared (they never conflict: every write is a temp file plus rename), gc
 * holds it exclusive. The kernel drops it when a process dies, so a killed
 * writer never leaves a stale lock behind.
 */
export async function acquireLock(
  path: string,
  mode: 'shared' | 'exclusive',
  opts: { wait?: boolean; onWait?: () => void } = {},
): Promise<Release> {
  const fd = openSync(path, 'a');
  const base = mode === 'shared' ? 'sh' : 'ex';
  const api = flockApi();
  try {
    // The usual case, a lock nobody holds, without a trip through the thread pool.
    api.flockSync(fd, `${base}nb`);
  } catch (err) {
    if (!isErrno(err, 'EAGAIN') && !isErrno(err, 'EWOULDBLOCK')) {
      closeSync(fd);
      throw err;
    }
    if (opts.wait === false) {
      closeSync(fd);
      throw locked(`repository is locked (${mode} lock held elsewhere): ${path}`, { path });
    }
    opts.onWait?.();
    try {
      await promisify(api.flock)(fd, base);
    } catch (waitErr) {
      closeSync(fd);
      throw waitErr;
    }
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    closeSync(fd);
  };
}
