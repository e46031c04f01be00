import { notFound } from '../errors.js';
import type { ObjectId } from '../hash/index.js';
import type { Repo } from '../repo.js';
import { type BuildResult, buildGeneration } from './generation-build.js';
import type { GenerationInput } from './generation-tree.js';
import { readCommit } from './objects.js';
import { inputOf, type PackageSpec, resolvePackage } from './pkg-spec.js';
import { DEFAULT_PROFILE, listGenerations, readActive } from './profile.js';

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
 * A new generation from the base one with packages added (or replaced: a
 * package already there under the same name and arch gives way to the new one).
 */
export async function installPackages(repo: Repo, specs: PackageSpec[], opts: { profile?: string } = {}): Promise<BuildResult> {
  const profile = opts.profile ?? DEFAULT_PROFILE;
  const base = await baseGeneration(repo, profile);
  return buildGeneration(repo, {
    profile,
    inputs: async () => {
      const added = await Promise.all(specs.map((s) => resolvePackage(repo, s)));
      const replaced = new Set(added.map((a) => `${a.pkg.name}/${a.pkg.arch}`));
      const kept = (await baseInputs(repo, base)).filter((i) => !replaced.has(`${i.pkg.name}/${i.pkg.arch}`));
      return [...kept, ...added];
    },
    base,
    subject: `${profile}: install ${specs.map((s) => s.name).join(' ')}`,
  });
}

/** A new generation from the base one without the named packages (NAME: every arch; NAME/ARCH: that one). */
export async function removePackages(repo: Repo, specs: PackageSpec[], opts: { profile?: string } = {}): Promise<BuildResult> {
  const profile = opts.profile ?? DEFAULT_PROFILE;
  const base = await baseGeneration(repo, profile);
  return buildGeneration(repo, {
    profile,
    inputs: async () => {
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
    },
    base,
    subject: `${profile}: remove ${specs.map((s) => s.name).join(' ')}`,
  });
}
