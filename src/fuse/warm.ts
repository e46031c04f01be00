import type { ObjectId } from '../util/hash.js';
import { Lru } from './lru.js';

/** What the warmer needs of the view and the store. */
export interface WarmerInit {
  /** The tree of the directory holding a path, when cached (TroveView.treeAbove). */
  treeAbove(path: string): ObjectId | undefined;
  /** The regular files of a tree, when cached (TroveView.filesOf). */
  filesOf(tree: ObjectId): { blob: ObjectId; size: number }[] | undefined;
  /** The object file of a blob. */
  pathOf(id: ObjectId): string;
  /** Reads the first `maxBytes` of each file into the page cache, off this thread (util/file-batches.ts). */
  warm(paths: string[], maxBytes: number): Promise<number> | undefined;
}

/** Files of a directory whose reads it takes to read the rest ahead. */
const OPENS_BEFORE_WARMING = 2;
/**
 * At most this many files of one directory are read ahead, this much of
 * each, and this much in all: a program that runs two commands of /usr/bin
 * must not read hundreds of megabytes it will never use. The rest of a large
 * file comes with the daemon's own sequential read of it, which the kernel
 * reads ahead by itself.
 */
const MAX_FILES = 1024;
const MAX_BYTES_EACH = 1 << 20;
const MAX_BYTES_DIR = 32 << 20;
/** Files per call into the pool, calls in flight at once, and files waiting at most. */
const BATCH = 16;
const PARALLEL = 4;
const MAX_WAITING = 8192;

/**
 * Reads ahead the object files of a directory whose files are being read one
 * after another. In a plain directory the kernel reads a block of inodes at
 * once, so the files beside the one read are in memory when a program comes
 * to them; in the store, the objects of one directory lie in 256 shard
 * directories in hash order, and each first read of a file in the view
 * waits for its inode and then its data from the disk, one at a time. Once
 * two files of a directory (a tree) have been opened, its other regular files
 * are opened and their first MiB advised (WILLNEED) on pool threads, 32 MiB
 * of a directory at most, a few batches at a time,
 * so that the disk serves many at once and the daemon's own blocking open,
 * hash and read of each find it in memory. A directory is read ahead once
 * while it stays among those remembered; a file missing from the store
 * (a partial commit) is skipped, not fetched.
 */
export class SiblingWarmer {
  /** Distinct files opened per directory tree, until it is read ahead (then Infinity). */
  private readonly opens = new Lru<ObjectId, number>({ maxCost: 4096 });
  private readonly waiting: string[] = [];
  private inFlight = 0;
  /** Files handed to the pool, for tests and the daemon's status line. */
  warmed = 0;

  constructor(private readonly init: WarmerInit) {}

  /** A blob was opened for the first time (since its file left the reader's cache) through `path`. */
  opened(path: string): void {
    const tree = this.init.treeAbove(path);
    if (tree === undefined) return;
    const n = (this.opens.get(tree) ?? 0) + 1;
    this.opens.set(tree, n >= OPENS_BEFORE_WARMING ? Infinity : n);
    if (n !== OPENS_BEFORE_WARMING) return;
    // Each blob once: a directory of copies of one file reads one object.
    const blobs = new Set<ObjectId>();
    let bytes = 0;
    for (const f of this.init.filesOf(tree) ?? []) {
      if (blobs.size >= MAX_FILES || bytes >= MAX_BYTES_DIR || this.waiting.length + blobs.size >= MAX_WAITING) break;
      if (f.size > 0 && !blobs.has(f.blob)) {
        blobs.add(f.blob);
        bytes += Math.min(f.size, MAX_BYTES_EACH);
      }
    }
    for (const blob of blobs) this.waiting.push(this.init.pathOf(blob));
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < PARALLEL && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, BATCH);
      const p = this.init.warm(batch, MAX_BYTES_EACH);
      if (!p) {
        this.waiting.length = 0;
        return;
      }
      this.inFlight++;
      this.warmed += batch.length;
      p.catch(() => {}).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }
}
