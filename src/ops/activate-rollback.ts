import { notFound } from '../errors.js';
import type { Repo } from '../repo.js';
import { type ActivateResult, activateLocked, chooseLink } from './activate.js';
import { DEFAULT_PROFILE, generationOf, listGenerations, readActive, readGeneration, withProfileLock } from './profile.js';

export interface RollbackOptions {
  profile?: string;
  /** Generation to go back (or forward) to; default the one before the active one. */
  to?: number;
  /** Default: the link the profile was last activated at. */
  link?: string;
}

/** Activates the generation before the active one (or generation `to`). */
export async function rollback(repo: Repo, opts: RollbackOptions = {}): Promise<ActivateResult> {
  const profile = opts.profile ?? DEFAULT_PROFILE;
  return withProfileLock(repo, profile, async () => {
    const link = await chooseLink(repo, profile, opts.link);
    if (opts.to !== undefined) return activateLocked(repo, await readGeneration(repo, profile, opts.to), { profile, link });
    const active = await readActive(repo, profile);
    if (!active) throw notFound(`profile ${profile} has no active generation to roll back from`);
    const current = active.generation ?? (await generationOf(repo, profile, active.commit));
    const gens = await listGenerations(repo, profile);
    // A commit outside the profile (switched to by id) rolls back to the newest generation.
    const prev = current === null ? gens.at(-1) : gens.filter((g) => g.number < current).at(-1);
    if (!prev) throw notFound(`profile ${profile} has no generation before ${current}`);
    return activateLocked(repo, prev.commit, { profile, link });
  });
}
