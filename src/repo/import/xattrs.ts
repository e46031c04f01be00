import { getAttributeSync, listAttributesSync, setAttributeSync } from 'fs-xattr';
import type { Xattr } from '../../format/types.js';

/**
 * Extended attributes of a file or directory (never a symlink: the library
 * follows links). Filesystems without xattr support yield none.
 */
export function readXattrs(path: string): Xattr[] {
  let names: string[];
  try {
    names = listAttributesSync(path);
  } catch {
    return [];
  }
  return names.map((name) => ({ name, value: getAttributeSync(path, name) }));
}

/** Sets every xattr on `path` (a file or directory). */
export function writeXattrs(path: string, xattrs: Xattr[]): void {
  for (const x of xattrs) setAttributeSync(path, x.name, Buffer.from(x.value));
}
