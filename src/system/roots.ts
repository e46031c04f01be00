import type { Repo } from '../repo/repo.js';
import { refRoots, type Root } from '../repo/roots.js';
import { readBisectState } from './bisect/state.js';
import { listGenerations, listProfiles, readActive } from './profiles.js';

/**
 * Every commit a system keeps alive: refs (local and remote tracking), every
 * profile's generations and active commit, and the commits of a bisect in
 * progress. The CLI hands this to fsck and gc.
 */
export async function systemRoots(repo: Repo): Promise<Root[]> {
  const profiles: Root[] = [];
  for (const p of await listProfiles(repo)) {
    for (const g of await listGenerations(repo, p)) profiles.push({ name: `profiles/${p}/${g.number}`, commit: g.commit });
    const active = await readActive(repo, p);
    if (active) profiles.push({ name: `profiles/${p}/active`, commit: active.commit });
  }
  const bisect = await readBisectState(repo);
  const bisecting = bisect ? [bisect.good, ...bisect.commits].map((commit) => ({ name: 'bisect', commit })) : [];
  return [...(await refRoots(repo)), ...profiles, ...bisecting];
}
