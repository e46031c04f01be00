import { open } from 'node:fs/promises';
import { promisify } from 'node:util';
import { isErrno, locked } from '../util/errors.js';

type Flock = (fd: number, flags: string) => Promise<void>;
let flockFn: Promise<Flock> | undefined;

/** flock(2) from fs-ext, loaded on first use: read-only commands and the FUSE daemon never lock. */
function flock(fd: number, flags: string): Promise<void> {
  flockFn ??= import('fs-ext').then((m) => promisify(m.default.flock) as Flock);
  return flockFn.then((f) => f(fd, flags));
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
  const fh = await open(path, 'a');
  const base = mode === 'shared' ? 'sh' : 'ex';
  try {
    await flock(fh.fd, `${base}nb`);
  } catch (err) {
    if (!isErrno(err, 'EAGAIN') && !isErrno(err, 'EWOULDBLOCK')) {
      await fh.close();
      throw err;
    }
    if (opts.wait === false) {
      await fh.close();
      throw locked(`repository is locked (${mode} lock held elsewhere): ${path}`, { path });
    }
    opts.onWait?.();
    await flock(fh.fd, base);
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    await fh.close();
  };
}
