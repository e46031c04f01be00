import { createRequire } from 'node:module';
import type { Xattr } from '../../format/types.js';

type FsXattr = typeof import('fs-xattr');
let loaded: FsXattr | undefined;

/**
 * fs-xattr, loaded on first use: a checkout loads this module, and most
 * trees it writes have no xattrs; loading the native library cost every
 * checkout about 5 ms before its first file.
 */
function fsXattr(): FsXattr {
  loaded ??= createRequire(import.meta.url)('fs-xattr') as FsXattr;
  return loaded;
}

/**
 * Extended attributes of a file or directory (never a symlink: the library
 * follows links). Filesystems without xattr support yield none.
 */
export function readXattrs(path: string): Xattr[] {
  let names: string[];
  try {
    names = fsXattr().listAttributesSync(path);
  } catch {
    return [];
  }
  const { getAttributeSync } = fsXattr();
  return names.map((name) => ({ name, value: getAttributeSync(path, name) }));
}

/** Sets every xattr on `path` (a file or directory). */
export function writeXattrs(path: string, xattrs: Xattr[]): void {
  for (const x of xattrs) fsXattr().setAttributeSync(path, x.name, Buffer.from(x.value));
}
