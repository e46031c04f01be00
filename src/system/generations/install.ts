import { notFound } from '../../util/errors.js';
import type { ObjectId } from '../../util/hash.js';
import type { Repo } from '../../repo/repo.js';
import { type ActivateResult, activateLocked, assertNotBisecting, chooseLink } from '../activation/activate.js';
import { type BuildResult, buildGenerationLocked } from './build.js';
import type { GenerationInput } from './tree.js';
import { readCommit } from '../../repo/objects.js';
import { inputOf, type PackageSpec } from '../packages/spec.js';
import { resolveClosure, unneeded } from '../packages/closure.js';
import { packageLabel } from '../packages/model.js';
import type { Candidate } from '../packages/resolve.js';
import { DEFAULT_PROFILE, listGenerations, readActive, withProfileLock } from '../profiles.js';

export interface DeriveOptions {
  profile?: string;
  /** install: exactly the named packages, no dependencies; remove: no autoremove. */
  noDeps?: boolean;
  /**
   * Activate the new generation at this link (default: the profile's last
   * link, else /ro); without it nothing is activated.
   */
  activate?: { link?: string };
  /** Activate a partial generation through the view (ActivateOptions.lazy; a lazy install). */
  lazy?: boolean;
  /** install: more candidates than the stored ones (a remote's packages, already fetched); see ClosureOptions. */
  candidates?: Candidate[];
}

export interface DeriveResult extends BuildResult {
  /** The activation, when asked for. */
  activated: ActivateResult | null;
  /** remove: the packages named, and the dependencies nothing asked for needs any more (labels). */
  removed?: string[];
  autoremoved?: string[];
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
  return Promise.all(
    (g?.packages ?? []).map(async (p) => {
      const i = await inputOf(repo, p.commit, p.priority);
      return p.dependency ? { ...i, pkg: { ...i.pkg, dependency: true } } : i;
    }),
  );
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
  extra: () => Partial<DeriveResult> = () => ({}),
): Promise<DeriveResult> {
  const profile = opts.profile ?? DEFAULT_PROFILE;
  return withProfileLock(repo, profile, async () => {
    const link = opts.activate ? await chooseLink(repo, profile, opts.activate.link) : null;
    // Refused before anything is built: a bisect step or reset would undo the activation.
    if (link) await assertNotBisecting(repo, link);
    const base = await baseGeneration(repo, profile);
    const built = await buildGenerationLocked(repo, { profile, base, subject, inputs: () => inputs(base) });
    const activated = link ? await activateLocked(repo, built.commit, { profile, link, lazy: opts.lazy }) : null;
    return { ...built, ...extra(), activated };
  });
}

/**
 * A new generation from the base one with packages added (or replaced: a
 * package already there under the same name and arch gives way to the new
 * one), and what they depend on: a dependency the base generation already
 * satisfies stays as it is. Asked-for packages are marked so (even one that
 * was there as a dependency); one that was asked for stays so.
 */
export async function installPackages(repo: Repo, specs: PackageSpec[], opts: DeriveOptions = {}): Promise<DeriveResult> {
  const profile = opts.profile ?? DEFAULT_PROFILE;
  return derive(repo, opts, `${profile}: install ${specs.map((s) => s.name).join(' ')}`, async (base) => {
    const current = await baseInputs(repo, base);
    const added = await resolveClosure(repo, specs, { base: current.map((i) => i.pkg), noDeps: opts.noDeps, candidates: opts.candidates });
    const key = (i: GenerationInput) => `${i.pkg.name}/${i.pkg.arch}`;
    const asked = new Set(current.filter((i) => !i.pkg.dependency).map(key));
    const replaced = new Set(added.map(key));
    const kept = current.filter((i) => !replaced.has(key(i)));
    const fresh = added.map((i) => {
      if (!i.pkg.dependency || !asked.has(key(i))) return i;
      const { dependency: _d, ...pkg } = i.pkg;
      return { ...i, pkg };
    });
    return [...kept, ...fresh];
  });
}

/**
 * A new generation from the base one without the named packages (NAME: every
 * arch; NAME/ARCH: that one), and then without every dependency that no
 * asked-for package needs any more (unless `noDeps`).
 */
export async function removePackages(repo: Repo, specs: PackageSpec[], opts: DeriveOptions = {}): Promise<DeriveResult> {
  const profile = opts.profile ?? DEFAULT_PROFILE;
  const removed: string[] = [];
  const autoremoved: string[] = [];
  return derive(
    repo,
    opts,
    `${profile}: remove ${specs.map((s) => s.name).join(' ')}`,
    async (base) => {
      removed.length = 0;
      autoremoved.length = 0;
      let inputs = await baseInputs(repo, base);
      for (const s of specs) {
        const match = (i: GenerationInput) => i.pkg.name === s.name && (s.arch === undefined || i.pkg.arch === s.arch);
        if (!inputs.some(match)) {
          const where = s.arch ? `${s.name}/${s.arch}` : s.name;
          throw notFound(`${where} is not in ${base ? `generation ${base.slice(0, 12)}` : 'any generation'} of ${profile}, which the new one derives from`);
        }
        removed.push(...inputs.filter(match).map((i) => packageLabel(i.pkg)));
        inputs = inputs.filter((i) => !match(i));
      }
      if (!opts.noDeps) {
        const gone = new Set((await unneeded(repo, inputs.map((i) => i.pkg))).map((p) => p.commit));
        autoremoved.push(...inputs.filter((i) => gone.has(i.pkg.commit)).map((i) => packageLabel(i.pkg)));
        inputs = inputs.filter((i) => !gone.has(i.pkg.commit));
      }
      removed.sort();
      autoremoved.sort();
      return inputs;
    },
    () => ({ removed, autoremoved }),
  );
}
