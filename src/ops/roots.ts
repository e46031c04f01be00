import type { ObjectId } from '../hash/index.js';
import type { Repo } from '../repo.js';

export interface Root {
  /** Where the root comes from, e.g. `refs/heads/main`. */
  name: string;
  commit: ObjectId;
}

/** Every commit the repository keeps alive: refs (local and remote tracking). fsck and gc start here. */
export async function repoRoots(repo: Repo): Promise<Root[]> {
  const heads = (await repo.refs.list('heads')).map((r) => ({ name: `refs/heads/${r.name}`, commit: r.id }));
  const remotes = (await repo.refs.list('remotes')).map((r) => ({ name: `refs/remotes/${r.name}`, commit: r.id }));
  return [...heads, ...remotes];
}
