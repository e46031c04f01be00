/**
 * Inode numbers, unique and stable for the life of a mount. Fixed numbers for
 * the top level; a commit root gets one when first seen; a directory inside a
 * commit gets a contiguous block the first time it is looked into, and its
 * i-th entry (trees are sorted and immutable) is block + i. So only one number
 * per directory is remembered, not one per file. fuse-native passes 32 bits.
 */
export class Inodes {
  private next = 16;
  private readonly blocks = new Map<string, number>();
  private readonly commits = new Map<string, number>();
  private readonly pointers = new Map<string, number>();

  private take(count: number): number {
    const base = this.next;
    this.next += Math.max(count, 1);
    // Wrap past 2^32 (after four billion names), skipping the fixed numbers.
    if (this.next >= 2 ** 32) this.next = 16;
    return base;
  }

  /** The i-th entry of the `count` entries of the directory at `dirPath`. */
  entry(dirPath: string, count: number, i: number): number {
    let base = this.blocks.get(dirPath);
    if (base === undefined) {
      base = this.take(count);
      this.blocks.set(dirPath, base);
    }
    return (base + i) % 2 ** 32;
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
}
