import { loadAddon } from './native-addon.js';

interface Warm {
  warm(paths: string[], maxBytes: number): Promise<number>;
}

/**
 * Asks the kernel to read the first `maxBytes` of each file into the page
 * cache, off this thread (native/dirscan.c: open, posix_fadvise WILLNEED,
 * close on a pool thread); resolves to the number of files it could open.
 * Undefined when the addon is not built: reading ahead is an optimisation,
 * and the caller goes without.
 */
export function warmFiles(paths: string[], maxBytes: number): Promise<number> | undefined {
  return loadAddon<Warm>('dirscan')?.warm(paths, maxBytes);
}
