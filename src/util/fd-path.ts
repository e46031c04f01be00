import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync } from 'node:fs';
import type { Stats } from 'node:fs';

/**
 * Descriptor-relative paths. Node has no openat(2) or fstatat(2); on Linux,
 * `/proc/self/fd/N/NAME` resolves NAME inside the very directory that
 * descriptor N holds (the magic link is not looked up by name again), which
 * gives their semantics: renaming the directory, or any of its parents, or
 * swapping one for a symlink, does not redirect the lookup. Without /proc
 * (not mounted, or not Linux) the plain path is used and the callers check
 * the directory's identity before and after instead.
 */

let procFd: boolean | undefined;

/** True when `/proc/self/fd` works here. */
export function hasProcFd(): boolean {
  procFd ??= process.platform === 'linux' && existsSync('/proc/self/fd');
  return procFd;
}

/** A path naming what descriptor `fd` holds, or `fallback` without /proc. */
export function fdPath(fd: number, fallback: string): string {
  return hasProcFd() ? `/proc/self/fd/${fd}` : fallback;
}

/** What names a file: its device, inode and type (a node:fs Stats has them). */
export type FileIdentity = Pick<Stats, 'dev' | 'ino' | 'mode'>;

/** The same inode and file type. */
export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && (a.mode & constants.S_IFMT) === (b.mode & constants.S_IFMT);
}

/** Flags to open something for reading without following a final symlink, blocking on a fifo, or taking a terminal. */
export const READ_NOFOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;
/** Flags to open a directory (never through a final symlink). */
export const DIR_NOFOLLOW = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * Opens `path` with `flags` (which include O_NOFOLLOW) and returns the
 * descriptor with its fstat, after checking that it is the inode `expected`
 * (an lstat made before) names; undefined, with nothing left open, when it
 * is not: the entry was swapped between the two.
 */
export function openExpected(path: string, flags: number, expected: FileIdentity): { fd: number; st: Stats } | undefined {
  let fd: number;
  try {
    fd = openSync(path, flags);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ELOOP: a symlink now; ENOTDIR: not a directory now; ENXIO: a socket now; ENOENT: gone.
    if (code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENXIO' || code === 'ENOENT') return undefined;
    throw err;
  }
  const st = fstatSync(fd);
  if (!sameFile(st, expected)) {
    closeSync(fd);
    return undefined;
  }
  return { fd, st };
}

/** lstat of `path`, compared with `expected`: false when the entry was swapped. */
export function stillSame(path: string, expected: FileIdentity): boolean {
  try {
    return sameFile(lstatSync(path), expected);
  } catch {
    return false;
  }
}
