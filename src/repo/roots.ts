import type { ObjectId } from '../util/hash.js';
import type { Repo } from './repo.js';

/** A commit the repository keeps alive, and where that comes from. */
export interface Root {
  /** Where the root comes from, e.g. `refs/heads/main`. */
  name: string;
  commit: ObjectId;
}

/**
 * Where gc and fsck find the roots they keep and check. The repository layer
 * knows only refs ({@link refRoots}); the layer above adds its own state
 * (profiles, bisect) and passes the whole set down.
 */
export type RootSource = (repo: Repo) => Promise<Root[]>;

/** Every ref, local and remote-tracking, as a root. */
export async function refRoots(repo: Repo): Promise<Root[]> {
  const heads = (await repo.refs.list('heads')).map((r) => ({ name: `refs/heads/${r.name}`, commit: r.id }));
  const remotes = (await repo.refs.list('remotes')).map((r) => ({ name: `refs/remotes/${r.name}`, commit: r.id }));
  return [...heads, ...remotes];
}
