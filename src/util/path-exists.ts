import { access } from 'node:fs/promises';
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
