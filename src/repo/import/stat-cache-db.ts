import { compareNames } from '../../format/names.js';
import type { IndexDb } from '../../refs/index-db.js';
import type { CachedEntry, DirRecord, StatCache } from './stat-cache.js';

const PREFIX = 'stat:';

/** A record as stored before entries were tuples with their names: entries by name, each without it. */
type OldEntries = Record<string, [number, number, number, number, number, string, [string, string][]?]>;
type Stored = [epoch: number, tree: string, entries: CachedEntry[] | OldEntries];

/**
 * The stat cache in the LevelDB index: key `stat:<absolute dir>`, value the
 * gc epoch it was recorded in, the dir's tree id and its entries as tuples
 * in name order.
 */
export class IndexStatCache implements StatCache {
  /**
   * Each record's JSON text, parsed when the walk comes to its directory:
   * parsed all at once, a whole system's records (28,000 entries) lived
   * through every young-generation collection of the walk and were copied
   * by each; parsed one by one, a record is garbage once its directory is done.
   */
  private readonly loaded = new Map<string, string>();
  private readonly pending: [string, Stored][] = [];

  constructor(
    private readonly db: IndexDb,
    private readonly epoch: number,
  ) {}

  async load(root: string): Promise<void> {
    // Directories below `root`: `/a/b` for root `/a`, `/etc` for root `/` itself.
    const below = root.endsWith('/') ? root : `${root}/`;
    for await (const [key, text] of this.db.rawEntries(PREFIX + root)) {
      const dir = key.slice(PREFIX.length);
      if (dir === root || dir.startsWith(below)) this.loaded.set(dir, text);
    }
  }

  lookup(dir: string) {
    const text = this.loaded.get(dir);
    if (text === undefined) return undefined;
    const [epoch, tree, stored] = JSON.parse(text) as Stored;
    const entries = Array.isArray(stored)
      ? stored
      : Object.entries(stored)
          .map(([name, t]): CachedEntry => [name, ...t])
          .sort((a, b) => compareNames(a[0], b[0]));
    return { record: { tree, entries }, trusted: epoch === this.epoch };
  }

  record(dir: string, record: DirRecord): void {
    this.pending.push([PREFIX + dir, [this.epoch, record.tree, record.entries]]);
  }

  /** Writes the records of this import. */
  flush(): Promise<void> {
    return this.db.putMany(this.pending);
  }
}
