import { opendirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Whether the shard directory `dir` (`objects/ab/`) holds no entry: one
 * getdents, however many it holds. Undefined when it cannot be opened
 * (missing, not a directory).
 */
export function shardEmptySync(dir: string): boolean | undefined {
  let d;
  try {
    d = opendirSync(dir);
  } catch {
    return undefined;
  }
  try {
    return d.readSync() === null;
  } finally {
    d.closeSync();
  }
}

/** Shards found holding objects after which a store is taken to be full: most of its 256 shards hold some. */
export const FULL_AFTER = 8;

/**
 * Which shards of a store held no object when first asked, so that an
 * object of one is known absent without a stat of its own: a pull into a
 * new repository skips 25,000 `stat`s that would each say ENOENT. Once
 * FULL_AFTER shards held objects the store is taken to be full and no
 * shard is looked at again. Only ever a guess of absence made at the
 * start: an object another writer stores meanwhile is fetched again and
 * installed over with the same bytes.
 */
export class EmptyShards {
  private readonly known = new Map<string, boolean>();
  private full = 0;

  /** Whether the shard of object file `path` held nothing (or did not exist) when first asked. */
  emptyFor(path: string): boolean {
    const dir = dirname(path);
    let empty = this.known.get(dir);
    if (empty === undefined) {
      empty = this.full < FULL_AFTER && shardEmptySync(dir) !== false;
      if (!empty) this.full++;
      this.known.set(dir, empty);
    }
    return empty;
  }
}
