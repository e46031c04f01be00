import type { ObjectId } from '../hash/index.js';
import type { Repo } from '../repo.js';
import { readBisectState } from './bisect-state.js';
import { listGenerations, listProfiles, readActive } from './profile.js';

export interface Root {
  /** Where the root comes from, e.g. `refs/heads/main`. */
  name: string;
  commit: ObjectId;
}

/**
 * Every commit the repository keeps alive: refs (local and remote tracking),
 * every profile's generations and active commit, and the commits of a bisect in
 * progress. fsck and gc start here.
 */
export async function repoRoots(repo: Repo): Promise<Root[]> {
  const heads = (await repo.refs.list('heads')).map((r) => ({ name: `refs/heads/${r.name}`, commit: r.id }));
  const remotes = (await repo.refs.list('remotes')).map((r) => ({ name: `refs/remotes/${r.name}`, commit: r.id }));
  const profiles: Root[] = [];
  for (const p of await listProfiles(repo)) {
    for (const g of await listGenerations(repo, p)) profiles.push({ name: `profiles/${p}/${g.number}`, commit: g.commit });
    const active = await readActive(repo, p);
    if (active) profiles.push({ name: `profiles/${p}/active`, commit: active.commit });
  }
  const bisect = await readBisectState(repo);
  const bisecting = bisect ? [bisect.good, ...bisect.commits].map((commit) => ({ name: 'bisect', commit })) : [];
  return [...heads, ...remotes, ...profiles, ...bisecting];
}
