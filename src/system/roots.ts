import { dirname, resolve } from 'node:path';
import type { Repo } from '../repo/repo.js';
import { refRoots, type Root } from '../repo/roots.js';
import { readBisectState } from './bisect/state.js';
import { linkPointsAt, targetShows } from './activation/link.js';
import { listGenerations, listProfiles, readActive } from './profiles.js';

/**
 * Every commit a system keeps alive: refs (local and remote tracking), every
 * profile's generations and active commit, the commit each recorded link
 * (a profile's, a bisect session's) really points at, and the commits of a
 * bisect in progress (those here, for a bisect of a remote's generations). The CLI hands this to fsck and gc; gc keeps the
 * checkouts of every root but refs, so a link never loses its checkout.
 *
 * The link's own commit matters after a crash: activation writes the record
 * before it swaps the link, so a switch killed in between leaves a record
 * naming the new commit while the link still shows the old one.
 */
export async function systemRoots(repo: Repo): Promise<Root[]> {
  const profiles: Root[] = [];
  const linked = async (name: string, link: string) => {
    const at = await linkPointsAt(link).catch(() => null);
    const shows = at === null ? undefined : targetShows(repo, at);
    if (shows && shows.kind !== 'other') profiles.push({ name, commit: shows.commit });
  };
  for (const p of await listProfiles(repo)) {
    for (const g of await listGenerations(repo, p)) profiles.push({ name: `profiles/${p}/${g.number}`, commit: g.commit });
    const active = await readActive(repo, p);
    if (active) profiles.push({ name: `profiles/${p}/active`, commit: active.commit });
    if (active?.link) await linked(`profiles/${p}/link`, active.link);
  }
  const bisect = await readBisectState(repo);
  if (bisect) await linked('bisect/link', bisect.link);
  // What `bisect reset` will point the link back at.
  const before = bisect?.before ? targetShows(repo, resolve(dirname(bisect.link), bisect.before)) : undefined;
  if (before && before.kind !== 'other') profiles.push({ name: 'bisect/before', commit: before.commit });
  const bisecting: Root[] = [];
  for (const commit of bisect ? [bisect.good, ...bisect.commits] : []) {
    // A bisect of a remote's generations pulls a candidate only when it is tested: the others are not here.
    if (bisect?.remote && !(await repo.store.has(commit))) continue;
    bisecting.push({ name: 'bisect', commit });
  }
  return [...(await refRoots(repo)), ...profiles, ...bisecting];
}
