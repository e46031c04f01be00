import type { Commit } from '../format/types.js';
import type { ObjectId } from '../util/hash.js';
import type { GetStore } from '../store/types.js';
import { hasGetSync, readCommit, readCommitSync } from './objects.js';

/** First-parent history from `start`, newest first; stops at `limit` or a missing parent. */
export async function firstParentLog(
  store: GetStore & { has(id: ObjectId): Promise<boolean>; hasSync?(id: ObjectId): boolean },
  start: ObjectId,
  limit = Number.POSITIVE_INFINITY,
): Promise<{ id: ObjectId; commit: Commit; parentMissing: boolean }[]> {
  const out: { id: ObjectId; commit: Commit; parentMissing: boolean }[] = [];
  let id: ObjectId | undefined = start;
  // Blocking reads where the store has them: one commit after another, each a round trip through the thread pool otherwise.
  const sync = hasGetSync(store) && store.hasSync !== undefined;
  while (id && out.length < limit) {
    const commit: Commit = sync ? readCommitSync(store, id) : await readCommit(store, id);
    const parent: ObjectId | undefined = commit.parents[0];
    const parentMissing: boolean = parent !== undefined && !(sync ? store.hasSync!(parent) : await store.has(parent));
    out.push({ id, commit, parentMissing });
    id = parentMissing ? undefined : parent;
  }
  return out;
}
