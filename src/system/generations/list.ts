import { notFound } from '../../util/errors.js';
import type { ObjectId } from '../../util/hash.js';
import type { Repo } from '../../repo/repo.js';
import { diffPackages } from './diff.js';
import { readCommit } from '../../repo/objects.js';
import { packageLabel } from '../packages/model.js';
import { type GenerationOrigin, readOrigin } from './published.js';
import { DEFAULT_PROFILE, listGenerations, listProfiles, readActive } from '../profiles.js';

export interface GenerationRow {
  number: number;
  commit: ObjectId;
  /** Seconds since the epoch. */
  timestamp: number;
  active: boolean;
  packages: string[];
  /** Against the previous listed generation (everything is added for the first). */
  added: string[];
  removed: string[];
  changed: { from: string; to: string }[];
  conflicts: number;
  /** Where it came from, when `trove upgrade` recorded it from a remote. */
  origin: GenerationOrigin | null;
}

/**
 * The generations of a profile, oldest first, with package changes against
 * the one before; E_NOT_FOUND when it has none.
 */
export async function listGenerationRows(repo: Repo, opts: { profile?: string } = {}): Promise<GenerationRow[]> {
  const profile = opts.profile ?? DEFAULT_PROFILE;
  const gens = await listGenerations(repo, profile);
  if (gens.length === 0) {
    const profiles = await listProfiles(repo);
    const known = profiles.includes(profile)
      ? ''
      : profiles.length === 0
        ? ' (there are no profiles yet: trove gen build makes one)'
        : ` (no such profile; profiles: ${profiles.join(', ')})`;
    throw notFound(`profile ${profile} has no generations${known}`, { profile });
  }
  const active = await readActive(repo, profile);
  const rows: GenerationRow[] = [];
  let prev: Awaited<ReturnType<typeof readCommit>>['generation'];
  for (const g of gens) {
    const c = await readCommit(repo.store, g.commit);
    const pkgs = c.generation?.packages ?? [];
    const d = diffPackages(prev?.packages ?? [], pkgs);
    rows.push({
      number: g.number,
      commit: g.commit,
      timestamp: c.timestamp,
      active: active?.commit === g.commit && (active.generation === null || active.generation === g.number),
      packages: pkgs.map(packageLabel),
      added: d.added,
      removed: d.removed,
      changed: d.changed,
      conflicts: c.generation?.conflicts.length ?? 0,
      origin: await readOrigin(repo, profile, g.number, g.commit),
    });
    prev = c.generation;
  }
  return rows;
}
