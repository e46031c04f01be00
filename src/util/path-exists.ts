import { lstatSync, readdirSync } from 'node:fs';
import { access, lstat } from 'node:fs/promises';
import { isErrno } from './errors.js';

/** Whether something exists at `path` (a dangling symlink does not); errors other than ENOENT are thrown. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
}

/** Whether `path` is a directory itself (not a symlink to one); errors other than ENOENT and ENOTDIR are thrown. */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return false;
    throw err;
  }
}

/** isDirectory in this thread, for a path where no FUSE daemon or network can hang the call. */
export function isDirectorySync(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
  } catch (err) {
    if (isErrno(err, 'ENOTDIR')) return false;
    throw err;
  }
}

/** The names in directory `path`, or none when it does not exist; other errors are thrown. */
export function listDirSync(path: string): string[] {
  try {
    return readdirSync(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
}
