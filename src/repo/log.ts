import type { Commit } from '../format/types.js';
import type { ObjectId } from '../util/hash.js';
import type { GetStore } from '../store/types.js';
import { readCommit } from './objects.js';

/** First-parent history from `start`, newest first; stops at `limit` or a missing parent. */
export async function firstParentLog(
  store: GetStore & { has(id: ObjectId): Promise<boolean> },
  start: ObjectId,
  limit = Number.POSITIVE_INFINITY,
): Promise<{ id: ObjectId; commit: Commit; parentMissing: boolean }[]> {
  const out: { id: ObjectId; commit: Commit; parentMissing: boolean }[] = [];
  let id: ObjectId | undefined = start;
  while (id && out.length < limit) {
    const commit = await readCommit(store, id);
    const parent: ObjectId | undefined = commit.parents[0];
    const parentMissing = parent !== undefined && !(await store.has(parent));
    out.push({ id, commit, parentMissing });
    id = parentMissing ? undefined : parent;
  }
  return out;
}
