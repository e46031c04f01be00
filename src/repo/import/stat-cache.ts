import type { Xattr } from '../../format/types.js';
import type { ObjectId } from '../../util/hash.js';

/**
 * What the stat cache remembers of one directory entry, as stored: its
 * name, kind (0 file, 1 directory, 2 symlink), size, mtimeMs, ctimeMs, inode,
 * the file's blob id, the directory's tree id or the symlink's target, and
 * its xattrs as [name, base64 value] pairs when it has any. A tuple, not an
 * object: a commit compares each entry of a whole system with its lstat,
 * and loading 28,000 of these as objects took longer than the comparisons.
 */
export type CachedEntry = [name: string, kind: number, size: number, mtimeMs: number, ctimeMs: number, ino: number, ref: string, xattrs?: [string, string][]];

/** A cached entry's xattrs, decoded. */
export function cachedXattrs(e: CachedEntry): Xattr[] {
  return (e[7] ?? []).map(([name, v]) => ({ name, value: Buffer.from(v, 'base64') }));
}

/** Xattrs as a cached entry stores them: undefined for none. */
export function storedXattrs(xattrs: Xattr[]): [string, string][] | undefined {
  return xattrs.length === 0 ? undefined : xattrs.map((x) => [x.name, Buffer.from(x.value).toString('base64')]);
}

/** One directory's record: its tree id and its entries, in the order trees sort names (compareNames). */
export interface DirRecord {
  tree: ObjectId;
  entries: CachedEntry[];
}

/**
 * The stat cache as the importer sees it, like git's index: one record per
 * directory, loaded once before the walk and replaced per changed directory.
 * A directory whose entries all stat the same as recorded keeps its tree id
 * without a single file being read or a tree being encoded.
 */
export interface StatCache {
  /**
   * Loads every record under `root`. Keys are directory paths, possibly with
   * a prefix of the importer's (records made with different settings must
   * never meet), so `root` and its descendants share the prefix.
   */
  load(root: string): Promise<void>;
  /** The record of directory `dir`; `trusted` is false when objects may have been collected since. */
  lookup(dir: string): { record: DirRecord; trusted: boolean } | undefined;
  /** Replaces the record of `dir` (kept in memory until flushed). */
  record(dir: string, record: DirRecord): void;
}
