import { ERR, FsError } from './errno.js';

/** The first number handed out; 1 is the mount's root, 2-4 its top directories. */
const FIRST = 16;

/**
 * Inode numbers, unique and stable for the life of a mount. Fixed numbers for
 * the top level; a commit root gets one when first seen; a directory inside a
 * commit gets a contiguous block the first time it is looked into, and its
 * i-th entry (trees are sorted and immutable) is block + i. So only one number
 * per directory is remembered, not one per file, keyed by the directory's own
 * inode number (unique, so as good as its path, and far smaller). Nothing is
 * forgotten while mounted: a number once shown must not change. fuse-native
 * passes 32 bits; when they run out, new numbers are refused, never reused.
 */
export class Inodes {
  private next = FIRST;
  private readonly blocks = new Map<number, number>();
  private readonly commits = new Map<string, number>();
  private readonly pointers = new Map<string, number>();

  /** `limit`: one past the highest number handed out (default 2^32, all fuse-native can pass). */
  constructor(private readonly limit = 2 ** 32) {}

  private take(count: number): number {
    const base = this.next;
    const end = base + Math.max(count, 1);
    if (end > this.limit) {
      throw new FsError(ERR.EOVERFLOW, `out of inode numbers (${this.used} handed out, ${count} more wanted); remount to number afresh`);
    }
    this.next = end;
    return base;
  }

  /** The i-th entry of the `count` entries of the directory whose inode number is `dir`. */
  entry(dir: number, count: number, i: number): number {
    let base = this.blocks.get(dir);
    if (base === undefined) {
      base = this.take(count);
      this.blocks.set(dir, base);
    }
    return base + i;
  }

  /** The root directory of a commit. */
  commit(id: string): number {
    return this.one(this.commits, id);
  }

  /** A ref or profile path (these come and go; each path keeps its number). */
  mutable(path: string): number {
    return this.one(this.pointers, path);
  }

  private one(map: Map<string, number>, key: string): number {
    let n = map.get(key);
    if (n === undefined) {
      n = this.take(1);
      map.set(key, n);
    }
    return n;
  }

  /** Directories and names holding numbers (for memory accounting). */
  get size(): number {
    return this.blocks.size + this.commits.size + this.pointers.size;
  }

  /** Numbers handed out so far. */
  get used(): number {
    return this.next - FIRST;
  }
}
