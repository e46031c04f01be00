import { notFound } from '../../util/errors.js';
import type { ObjectId } from '../../util/hash.js';
import type { Repo } from '../../repo/repo.js';
import { type ActivateResult, activateLocked, assertNotBisecting, chooseLink } from '../activation/activate.js';
import { type BuildResult, buildGenerationLocked } from './build.js';
import type { GenerationInput } from './tree.js';
import { readCommit } from '../../repo/objects.js';
import { inputOf, type PackageSpec, resolvePackage } from '../packages/spec.js';
import { DEFAULT_PROFILE, listGenerations, readActive, withProfileLock } from '../profiles.js';

export interface DeriveOptions {
  profile?: string;
  /**
   * Activate the new generation at this link (default: the profile's last
   * link, else /ro); without it nothing is activated.
   */
  activate?: { link?: string };
}

export interface DeriveResult extends BuildResult {
  /** The activation, when asked for. */
  activated: ActivateResult | null;
}

/** The generation new ones derive from: the active one, else the newest, else none. */
export async function baseGeneration(repo: Repo, profile: string): Promise<ObjectId | null> {
  const active = await readActive(repo, profile);
  if (active && (await readCommit(repo.store, active.commit)).generation) return active.commit;
  return (await listGenerations(repo, profile)).at(-1)?.commit ?? null;
}

async function baseInputs(repo: Repo, base: ObjectId | null): Promise<GenerationInput[]> {
  if (!base) return [];
  const g = (await readCommit(repo.store, base)).generation;
  return Promise.all((g?.packages ?? []).map((p) => inputOf(repo, p.commit, p.priority)));
}

/**
 * Reads the base, builds from it, records and activates the result, all under
 * the profile's update lock: two concurrent installs serialise, the second
 * deriving from what the first made, so neither drops the other's packages.
 */
async function derive(
  repo: Repo,
  opts: DeriveOptions,
  subject: string,
  inputs: (base: ObjectId | null) => Promise<GenerationInput[]>,
): Promise<DeriveResult> {
  const profile = opts.profile ?? DEFAULT_PROFILE;
  return withProfileLock(repo, profile, async () => {
    const link = opts.activate ? await chooseLink(repo, profile, opts.activate.link) : null;
    // Refused before anything is built: a bisect step or reset would undo the activation.
    if (link) await assertNotBisecting(repo, link);
    const base = await baseGeneration(repo, profile);
    const built = await buildGenerationLocked(repo, { profile, base, subject, inputs: () => inputs(base) });
    const activated = link ? await activateLocked(repo, built.commit, { profile, link }) : null;
    return { ...built, activated };
  });
}

/**
 * A new generation from the base one with packages added (or replaced: a
 * package already there under the same name and arch gives way to the new one).
 */
export async function installPackages(repo: Repo, specs: PackageSpec[], opts: DeriveOptions = {}): Promise<DeriveResult> {
  const profile = opts.profile ?? DEFAULT_PROFILE;
  return derive(repo, opts, `${profile}: install ${specs.map((s) => s.name).join(' ')}`, async (base) => {
    const added = await Promise.all(specs.map((s) => resolvePackage(repo, s)));
    const replaced = new Set(added.map((a) => `${a.pkg.name}/${a.pkg.arch}`));
    const kept = (await baseInputs(repo, base)).filter((i) => !replaced.has(`${i.pkg.name}/${i.pkg.arch}`));
    return [...kept, ...added];
  });
}

/** A new generation from the base one without the named packages (NAME: every arch; NAME/ARCH: that one). */
export async function removePackages(repo: Repo, specs: PackageSpec[], opts: DeriveOptions = {}): Promise<DeriveResult> {
  const profile = opts.profile ?? DEFAULT_PROFILE;
  return derive(repo, opts, `${profile}: remove ${specs.map((s) => s.name).join(' ')}`, async (base) => {
    let inputs = await baseInputs(repo, base);
    for (const s of specs) {
      const match = (i: GenerationInput) => i.pkg.name === s.name && (s.arch === undefined || i.pkg.arch === s.arch);
      if (!inputs.some(match)) {
        const where = s.arch ? `${s.name}/${s.arch}` : s.name;
        throw notFound(`${where} is not in ${base ? `generation ${base.slice(0, 12)}` : 'any generation'} of ${profile}, which the new one derives from`);
      }
      inputs = inputs.filter((i) => !match(i));
    }
    return inputs;
  });
}
