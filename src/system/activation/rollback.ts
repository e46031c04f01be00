import { notFound } from '../../util/errors.js';
import type { Repo } from '../../repo/repo.js';
import { type ActivateResult, activateLocked, chooseLink, noSuchGeneration } from './activate.js';
import { DEFAULT_PROFILE, generationOf, listGenerations, readActive, withProfileLock } from '../profiles.js';

export interface RollbackOptions {
  profile?: string;
  /** Generation to go back (or forward) to; default the one before the active one. */
  to?: number;
  /** Default: the link the profile was last activated at. */
  link?: string;
}

/**
 * Activates the generation before the active one (or generation `to`). When
 * the active commit is not one of the profile's generations (a ref or commit
 * was switched to), that is the commit active before it (the record's
 * `before`), else the newest generation.
 */
export async function rollback(repo: Repo, opts: RollbackOptions = {}): Promise<ActivateResult> {
  const profile = opts.profile ?? DEFAULT_PROFILE;
  return withProfileLock(repo, profile, async () => {
    const link = await chooseLink(repo, profile, opts.link);
    const gens = await listGenerations(repo, profile);
    if (opts.to !== undefined) {
      const to = gens.find((g) => g.number === opts.to);
      if (!to) throw await noSuchGeneration(repo, profile, String(opts.to));
      return activateLocked(repo, to.commit, { profile, link });
    }
    const active = await readActive(repo, profile);
    if (!active) throw notFound(`profile ${profile} has no active generation to roll back from`, { profile });
    const current = active.generation ?? (await generationOf(repo, profile, active.commit));
    if (current === null) {
      // Switched to by ref or id: back to the commit active before it, if it is still here.
      if (active.before && (await repo.store.has(active.before.commit))) return activateLocked(repo, active.before.commit, { profile, link });
      const newest = gens.at(-1);
      if (!newest) {
        throw notFound(`profile ${profile} has no generations to roll back to (the active commit ${active.commit.slice(0, 12)} was switched to by ref or id)`, { profile, id: active.commit });
      }
      return activateLocked(repo, newest.commit, { profile, link });
    }
    const prev = gens.filter((g) => g.number < current).at(-1);
    if (!prev) throw notFound(`generation ${current} is the oldest of profile ${profile}; there is none before it to roll back to`, { profile, generation: current });
    return activateLocked(repo, prev.commit, { profile, link });
  });
}
