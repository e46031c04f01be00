import { createRequire } from 'node:module';
import type { Xattr } from '../../format/types.js';
import { loadAddon } from '../../util/native-addon.js';

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

/** The names of the xattrs of the file open at `fd` (native/dirscan.c): NUL-terminated, or a negative errno. */
type XattrNames = { xattrNames(fd: number): string | number };

/**
 * Extended attributes of a file or directory (never a symlink: the library
 * follows links). Filesystems without xattr support yield none. With `fd`,
 * the file open at `path`, the names come from one flistxattr on it, which
 * is most of the cost for a file without xattrs (native/dirscan.c).
 */
export function readXattrs(path: string, fd?: number): Xattr[] {
  let names: string[];
  const listed = fd === undefined ? undefined : loadAddon<XattrNames>('dirscan')?.xattrNames(fd);
  if (listed === '') return [];
  if (typeof listed === 'string') names = listed.slice(0, -1).split('\0');
  else {
    try {
      names = fsXattr().listAttributesSync(path);
    } catch {
      return [];
    }
  }
  const { getAttributeSync } = fsXattr();
  return names.map((name) => ({ name, value: getAttributeSync(path, name) }));
}

/** Sets every xattr on `path` (a file or directory). */
export function writeXattrs(path: string, xattrs: Xattr[]): void {
  for (const x of xattrs) fsXattr().setAttributeSync(path, x.name, Buffer.from(x.value));
}
