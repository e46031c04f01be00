import { createRequire } from 'node:module';
import type * as FsXattr from 'fs-xattr';
import type { Xattr } from '../../format/types.js';

let addon: typeof FsXattr | undefined;

/**
 * fs-xattr, a native addon, loaded when first needed: a checkout or switch
 * whose entries carry no xattrs (nearly all) never pays for loading it.
 */
function fsXattr(): typeof FsXattr {
  return (addon ??= createRequire(import.meta.url)('fs-xattr') as typeof FsXattr);
}

/**
 * Extended attributes of a file or directory (never a symlink: the library
 * follows links). Filesystems without xattr support yield none.
 */
export function readXattrs(path: string): Xattr[] {
  const { getAttributeSync, listAttributesSync } = fsXattr();
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
  if (xattrs.length === 0) return;
  const { setAttributeSync } = fsXattr();
  for (const x of xattrs) setAttributeSync(path, x.name, Buffer.from(x.value));
}
