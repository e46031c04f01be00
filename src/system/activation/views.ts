import { dirname, resolve } from 'node:path';
import type { ObjectId } from '../../util/hash.js';
import type { Repo } from '../../repo/repo.js';
import { readBisectState, writeBisectState } from '../bisect/state.js';
import { listProfiles, readActive, withProfileLock, writeActive } from '../profiles.js';
import { activationTarget } from './activate.js';
import { linkPointsAt, swapLink, switchCommand, targetShows } from './link.js';

/*
 * Links that go through a FUSE view, for `trove umount` (which moves them
 * off the view first) and `trove mount` (which names those that resolve
 * again).
 */

/** A link of this repository that points into a view. */
export interface ViewLink {
  /** The profile whose link it is. */
  profile: string;
  /** `active`: the link the profile's record names; `bisect`: a bisect session's link. */
  role: 'active' | 'bisect';
  link: string;
  /** `<mountpoint>/commits/<id>`. */
  pointsAt: string;
  commit: ObjectId;
  /** How to get the link off the view without mounting it: `trove switch N`. */
  fix: string;
}

/** A link `repointOffView` moved. */
export interface Repointed extends ViewLink {
  /** The checkout it points at now. */
  to: string;
  /** True when that checkout was made by this umount. */
  made: boolean;
  /** True when this is the profile's recorded link and its record, which named a target in the view, was rewritten too. */
  recordUpdated: boolean;
}

/** The links of this repository (every profile's recorded link, a bisect session's link) that point into the view at `mountpoint`. */
export async function linksIntoView(repo: Pick<Repo, 'path'>, mountpoint: string): Promise<ViewLink[]> {
  const out: ViewLink[] = [];
  const consider = async (profile: string, role: ViewLink['role'], link: string, fix: string) => {
    if (out.some((l) => l.link === link)) return;
    const at = await linkPointsAt(link).catch(() => null);
    const shows = at === null ? undefined : targetShows(repo, at);
    if (shows?.kind === 'view' && shows.mountpoint === mountpoint) out.push({ profile, role, link, pointsAt: at!, commit: shows.commit, fix });
  };
  for (const profile of await listProfiles(repo)) {
    const active = await readActive(repo, profile);
    if (active?.link) await consider(profile, 'active', active.link, switchCommand(active));
  }
  const bisect = await readBisectState(repo);
  if (bisect) await consider(bisect.profile, 'bisect', bisect.link, 'trove bisect reset');
  return out;
}

/**
 * Moves everything of this repository off the view at `mountpoint`, each
 * profile under its lock and the shared repository lock: every link into
 * the view is pointed at a checkout of the commit it shows there (made when
 * missing), with the atomic swap; an active record whose target is in the
 * view is rewritten to name the checkout of its commit, before any link
 * moves (the record before the link, as in activation); and a bisect
 * session's "before" target in the view is moved to a checkout too, so
 * `bisect reset` does not restore a link into a view that is gone.
 */
export async function repointOffView(repo: Repo, mountpoint: string): Promise<Repointed[]> {
  const inView = (target: string, base = '/') => {
    const shows = targetShows(repo, resolve(base, target));
    return shows.kind === 'view' && shows.mountpoint === mountpoint ? shows.commit : null;
  };
  const found = await linksIntoView(repo, mountpoint);
  const profiles = new Set(found.map((l) => l.profile));
  for (const p of await listProfiles(repo)) {
    const rec = await readActive(repo, p);
    if (rec?.target && inView(rec.target)) profiles.add(p);
  }
  const session = await readBisectState(repo);
  if (session?.before && inView(session.before, dirname(session.link))) profiles.add(session.profile);

  const out: Repointed[] = [];
  const made = new Set<ObjectId>();
  const checkoutOf = async (commit: ObjectId) => {
    const t = await activationTarget(repo, commit, { mount: false });
    if (t.made) made.add(commit);
    return t.target;
  };
  for (const profile of profiles) {
    await withProfileLock(repo, profile, async () => {
      const release = await repo.lock('shared');
      try {
        // Read again under the lock: a switch may have moved things since.
        const rec = await readActive(repo, profile);
        const recCommit = rec?.target ? inView(rec.target) : null;
        if (rec && recCommit) await writeActive(repo, { ...rec, target: await checkoutOf(recCommit) });
        for (const l of found.filter((f) => f.profile === profile)) {
          const at = await linkPointsAt(l.link).catch(() => null);
          if (at !== l.pointsAt) continue;
          const target = await checkoutOf(l.commit);
          await swapLink(l.link, target);
          out.push({ ...l, to: target, made: made.has(l.commit), recordUpdated: recCommit !== null && rec?.link === l.link });
        }
        const bisect = await readBisectState(repo);
        const beforeCommit = bisect?.profile === profile && bisect.before ? inView(bisect.before, dirname(bisect.link)) : null;
        if (bisect && beforeCommit) {
          await writeBisectState(repo, { ...bisect, before: await checkoutOf(beforeCommit) });
        }
      } finally {
        await release();
      }
    });
  }
  return out;
}
