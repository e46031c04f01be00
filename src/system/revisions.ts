import { notFound, type TroveError, usage } from '../util/errors.js';
import type { ObjectId } from '../util/hash.js';
import type { Repo } from '../repo/repo.js';
import { resolveRev, type ResolveOptions, type RevisionScope } from '../repo/resolve.js';
import { DEFAULT_PROFILE, listGenerations, readActive } from './profiles.js';

/** E_NOT_FOUND for a generation number the profile does not have, naming the ones it has. */
export async function noSuchGeneration(repo: Pick<Repo, 'path'>, profile: string, n: string): Promise<TroveError> {
  const gens = await listGenerations(repo, profile);
  const nums = gens.map((g) => g.number);
  const has = nums.length === 0 ? 'it has none' : nums.length <= 8 ? `it has ${nums.join(', ')}` : `it has ${nums.length}, ${nums[0]} to ${nums.at(-1)}`;
  return notFound(`profile ${profile} has no generation ${n} (${has})`, { profile, generation: Number(n) });
}

/**
 * Revisions where a profile is in scope: the repository's spellings (see
 * resolveRev) plus the profile's generation numbers, so `diff 3 7` and
 * `ls 7:usr/bin` work. A number names a generation first, then a ref of
 * that name, then a commit id prefix.
 */
export function revisionScope(repo: Repo, profile: string = DEFAULT_PROFILE): RevisionScope {
  return {
    profile,
    generation: async (n) => (await listGenerations(repo, profile)).find((g) => g.number === n)?.commit,
    noGeneration: (n) => noSuchGeneration(repo, profile, n),
    head: async () => (await defaultRevision(repo, profile)).id,
  };
}

/** The resolve options of a command run with `--profile P` (default: the default profile). */
export function inProfile(repo: Repo, profile?: string): ResolveOptions {
  return { scope: revisionScope(repo, profile) };
}

/** resolveRev with the generation numbers of `profile`. */
export function resolveRevision(repo: Repo, spec: string, profile?: string): Promise<ObjectId> {
  return resolveRev(repo, spec, inProfile(repo, profile));
}

/**
 * The revision a command takes when none is given: the active commit of the
 * profile, else the only local ref; else E_USAGE naming the candidates.
 */
export async function defaultRevision(repo: Repo, profile: string = DEFAULT_PROFILE): Promise<{ id: ObjectId; spelled: string }> {
  const active = await readActive(repo, profile);
  if (active) return { id: active.commit, spelled: active.generation === null ? active.commit : String(active.generation) };
  const refs = await repo.refs.list('heads', { onCorrupt: () => {} });
  if (refs.length === 1) return { id: refs[0]!.id, spelled: refs[0]!.name };
  const why = `profile ${profile} has nothing active`;
  if (refs.length === 0) throw usage(`no revision given, and there is no default: ${why} and the repository has no refs`, { profile });
  const names = refs.slice(0, 8).map((r) => r.name).join(', ');
  throw usage(`no revision given, and there is no default: ${why} and there are ${refs.length} refs (${names}${refs.length > 8 ? ', ...' : ''}); name one`, { profile });
}
