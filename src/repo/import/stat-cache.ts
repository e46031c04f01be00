import type { Xattr } from '../../format/types.js';
import type { ObjectId } from '../../util/hash.js';

/** What the stat cache remembers of one directory entry. */
export interface CachedEntry {
  kind: 'file' | 'dir' | 'symlink';
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  /** File: blob id. Directory: tree id. */
  id?: ObjectId;
  /** Symlink target. */
  target?: string;
  xattrs: Xattr[];
}

/** One directory's record: its tree id and its entries by name. */
export interface DirRecord {
  tree: ObjectId;
  entries: Map<string, CachedEntry>;
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
