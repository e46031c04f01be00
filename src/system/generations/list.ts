import { notFound, usage } from '../../util/errors.js';
import type { Conflict, GenerationPackage } from '../../format/types.js';
import { resolveActivation } from '../activation/activate.js';
import type { ObjectId } from '../../util/hash.js';
import type { Repo } from '../../repo/repo.js';
import { diffPackages } from './diff.js';
import { readCommit } from '../../repo/objects.js';
import { packageLabel } from '../packages/model.js';
import { type GenerationOrigin, readOrigin } from './published.js';
import { DEFAULT_PROFILE, listGenerations, listProfiles, readActive } from '../profiles.js';
import { readPartial } from '../../repo/partial.js';

export interface GenerationRow {
  number: number;
  commit: ObjectId;
  /** Seconds since the epoch. */
  timestamp: number;
  active: boolean;
  packages: string[];
  /** The packages asked for, and those that came in only as their dependencies (together: `packages`). */
  asked: string[];
  dependencies: string[];
  /** Against the previous listed generation (everything is added for the first). */
  added: string[];
  removed: string[];
  changed: { from: string; to: string }[];
  conflicts: Conflict[];
  /** Where it came from, when `trove upgrade` recorded it from a remote. */
  origin: GenerationOrigin | null;
  /** Partial (installed or upgraded --lazy): its files are still on the remotes its record names, which a switch needs --lazy for. */
  lazy: boolean;
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
      asked: pkgs.filter((p) => !p.dependency).map(packageLabel),
      dependencies: pkgs.filter((p) => p.dependency).map(packageLabel),
      added: d.added,
      removed: d.removed,
      changed: d.changed,
      conflicts: c.generation?.conflicts ?? [],
      origin: await readOrigin(repo, profile, g.number, g.commit),
      lazy: readPartial(repo.path, g.commit) !== undefined,
    });
    prev = c.generation;
  }
  return rows;
}

export interface GenerationPackageRow extends GenerationPackage {
  label: string;
  /** False for a package asked for, true for one that came in only as a dependency. */
  dependency: boolean;
}

export interface GenerationShow {
  profile: string;
  /** Null for a generation commit the profile does not number. */
  number: number | null;
  commit: ObjectId;
  timestamp: number;
  active: boolean;
  subject: string;
  packages: GenerationPackageRow[];
  asked: string[];
  dependencies: string[];
  conflicts: Conflict[];
}

/** One generation of a profile (default: the active one, else the newest) with each package marked asked-for or dependency. */
export async function showGeneration(repo: Repo, opts: { profile?: string; generation?: string } = {}): Promise<GenerationShow> {
  const profile = opts.profile ?? DEFAULT_PROFILE;
  let which: { commit: ObjectId; generation: number | null };
  if (opts.generation !== undefined) which = await resolveActivation(repo, profile, opts.generation);
  else {
    const active = await readActive(repo, profile);
    const newest = (await listGenerations(repo, profile)).at(-1);
    if (active) which = { commit: active.commit, generation: active.generation };
    else if (newest) which = { commit: newest.commit, generation: newest.number };
    else throw notFound(`profile ${profile} has no generations`, { profile });
  }
  const c = await readCommit(repo.store, which.commit);
  if (!c.generation) throw usage(`${which.commit} is not a generation commit`, { id: which.commit });
  const active = await readActive(repo, profile);
  const packages = c.generation.packages.map((p) => ({ ...p, label: packageLabel(p), dependency: p.dependency === true }));
  return {
    profile,
    number: which.generation,
    commit: which.commit,
    timestamp: c.timestamp,
    active: active?.commit === which.commit,
    subject: c.subject,
    packages,
    asked: packages.filter((p) => !p.dependency).map((p) => p.label),
    dependencies: packages.filter((p) => p.dependency).map((p) => p.label),
    conflicts: c.generation.conflicts,
  };
}
