import { loadAddon } from './native-addon.js';

/** Calls on many files at once, each run on a pool thread by trove's addon (native/dirscan.c). */
interface FileBatches {
  warm(paths: string[], maxBytes: number): Promise<number>;
  readFiles(paths: string[], maxBytes: number): Promise<(Buffer | number)[]>;
}

/**
 * Asks the kernel to read the first `maxBytes` of each file into the page
 * cache, off this thread (open, posix_fadvise WILLNEED, close on a pool
 * thread); resolves to the number of files it could open. Undefined when the
 * addon is not built: reading ahead is an optimisation, and the caller goes
 * without.
 */
export function warmFiles(paths: string[], maxBytes: number): Promise<number> | undefined {
  return loadAddon<FileBatches>('dirscan')?.warm(paths, maxBytes);
}

/**
 * Each file read whole on a pool thread, all in one call: a Buffer, or a
 * negative errno (-EFBIG past `maxBytes`, -EINVAL for what is not a regular
 * file, -ENOENT, ...). A file shorter than its size said comes back short.
 * Undefined when the addon is not built: the caller reads them itself.
 */
export function readFiles(paths: string[], maxBytes: number): Promise<(Buffer | number)[]> | undefined {
  return loadAddon<FileBatches>('dirscan')?.readFiles(paths, maxBytes);
}
