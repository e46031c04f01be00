import { decodeCommit, decodeTree, encodeCommit, encodeTree } from '../format/codec.js';
import type { Commit, Tree } from '../format/types.js';
import type { ObjectId } from '../util/hash.js';
import type { GetStore, GetSyncStore, ObjectStore } from '../store/types.js';

/** Reads and validates a tree object. */
export async function readTree(store: GetStore, id: ObjectId): Promise<Tree> {
  return decodeTree(await store.get(id));
}

/** Reads and validates a commit object. */
export async function readCommit(store: GetStore, id: ObjectId): Promise<Commit> {
  return decodeCommit(await store.get(id));
}

/** readTree, blocking: for walks of many trees, where each promise costs a round trip through the thread pool. */
export function readTreeSync(store: GetSyncStore, id: ObjectId): Tree {
  return decodeTree(store.getSync(id));
}

/** readCommit, blocking. */
export function readCommitSync(store: GetSyncStore, id: ObjectId): Commit {
  return decodeCommit(store.getSync(id));
}

/** Whether `store` also reads blocking (a disk store does; a transaction or a view over one may not). */
export function hasGetSync(store: GetStore): store is GetStore & GetSyncStore {
  return typeof (store as Partial<GetSyncStore>).getSync === 'function';
}

/** Writes a tree object; returns its id. */
export async function writeTree(store: Pick<ObjectStore, 'put'>, tree: Tree): Promise<ObjectId> {
  return (await store.put(encodeTree(tree))).id;
}

/** Writes a commit object; returns its id. */
export async function writeCommit(store: Pick<ObjectStore, 'put'>, commit: Commit): Promise<ObjectId> {
  return (await store.put(encodeCommit(commit))).id;
}

/** A store view that memoises decoded trees (immutable, so always valid). */
export class TreeCache {
  private readonly trees = new Map<ObjectId, Tree>();
  constructor(
    private readonly store: GetStore,
    private readonly max = 50_000,
  ) {}

  async get(id: ObjectId): Promise<Tree> {
    let t = this.trees.get(id);
    if (!t) {
      // Blocking where the store can (a disk store): walks that await each tree in turn (diff, show)
      // otherwise pay a round trip through the thread pool per tree.
      t = hasGetSync(this.store) ? readTreeSync(this.store, id) : await readTree(this.store, id);
      if (this.trees.size >= this.max) this.trees.clear();
      this.trees.set(id, t);
    }
    return t;
  }
}
