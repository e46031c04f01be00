import { DEFAULT_DIR_META, type Commit, type Conflict, type GenerationInfo } from '../../format/types.js';
import type { ObjectId } from '../../util/hash.js';
import type { Repo } from '../../repo/repo.js';
import { type GenerationInput, buildGenerationTree } from './tree.js';
import { inheritPartial } from '../../repo/partial.js';
import { readCommit, writeCommit } from '../../repo/objects.js';
import { packageLabel } from '../packages/model.js';
import type { PackageSpec } from '../packages/spec.js';
import { resolveClosure } from '../packages/closure.js';
import { addGeneration, DEFAULT_PROFILE, listGenerations, withProfileLock } from '../profiles.js';
import { crashPoint } from '../../util/crash-point.js';

export interface BuildOptions {
  profile?: string;
  /**
   * Packages by spec, with everything they depend on (resolved under the
   * repository lock, preferring the base generation's packages) ...
   */
  specs?: PackageSpec[];
  /** Exactly the specs, no dependencies. */
  noDeps?: boolean;
  /** ... or already resolved, or both. */
  inputs?: (repo: Repo) => Promise<GenerationInput[]>;
  /**
   * The generation this one derives from (default the profile's newest; null
   * for none). When the result is the same, no new generation is recorded.
   * Generation commits have no parents: a profile's history is its numbered
   * generations, so pruning one lets gc free what only it used.
   */
  base?: ObjectId | null;
  subject?: string;
  /** Seconds since the epoch; default now. */
  timestamp?: number;
}

export interface BuildResult {
  profile: string;
  number: number;
  commit: ObjectId;
  tree: ObjectId;
  base: ObjectId | null;
  /** True when the result equals the base generation: no new generation was made. */
  unchanged: boolean;
  packages: string[];
  /** The packages that came in only as dependencies (a subset of `packages`). */
  dependencies: string[];
  conflicts: Conflict[];
  treesRead: number;
  written: { objects: number; bytes: number };
}

function samePackages(a: GenerationInfo, b: GenerationInfo): boolean {
  const key = (g: GenerationInfo) => g.packages.map((p) => `${p.commit}:${p.priority}:${p.dependency ? 'dep' : 'asked'}`).sort().join(',');
  return a.profile === b.profile && key(a) === key(b);
}

/**
 * Builds a generation from packages and records it as the profile's next
 * numbered generation. Everything happens under the repository lock, so gc
 * never sees the new objects without the generation that keeps them, and
 * under the profile's update lock, so the base it compares with is the
 * newest generation when it records its own.
 */
export async function buildGeneration(repo: Repo, opts: BuildOptions): Promise<BuildResult> {
  return withProfileLock(repo, opts.profile ?? DEFAULT_PROFILE, () => buildGenerationLocked(repo, opts));
}

/** `buildGeneration` for a caller that holds the profile's update lock (`withProfileLock`). */
export async function buildGenerationLocked(repo: Repo, opts: BuildOptions): Promise<BuildResult> {
  const profile = opts.profile ?? DEFAULT_PROFILE;
  let result: BuildResult | undefined;
  await repo.write(
    async (txn) => {
      const base = opts.base !== undefined ? opts.base : ((await listGenerations(repo, profile)).at(-1)?.commit ?? null);
      const inputs = [...(opts.inputs ? await opts.inputs(repo) : [])];
      if (opts.specs?.length) {
        const basePackages = base ? ((await readCommit(repo.store, base)).generation?.packages ?? []) : [];
        inputs.push(...(await resolveClosure(repo, opts.specs, { base: basePackages, noDeps: opts.noDeps })));
      }
      const built = await buildGenerationTree(txn, inputs);
      const generation: GenerationInfo = { profile, packages: built.ordered.map((i) => i.pkg), conflicts: built.conflicts };
      const packages = built.ordered.map((i) => packageLabel(i.pkg)).sort();
      const dependencies = built.ordered.filter((i) => i.pkg.dependency).map((i) => packageLabel(i.pkg)).sort();
      const common = { profile, tree: built.tree, base, packages, dependencies, conflicts: built.conflicts, treesRead: built.treesRead };
      if (base) {
        const bc = await readCommit(repo.store, base);
        if (bc.tree === built.tree && bc.generation && samePackages(bc.generation, generation)) {
          result = { ...common, number: 0, commit: base, unchanged: true, written: { ...txn.stats } };
          return;
        }
      }
      const commit: Commit = {
        tree: built.tree,
        root: { ...DEFAULT_DIR_META },
        parents: [],
        subject: opts.subject ?? `${profile}: ${packages.length} packages`,
        body: '',
        timestamp: opts.timestamp ?? Math.floor(Date.now() / 1000),
        metadata: [],
        generation,
      };
      const id = await writeCommit(txn, commit);
      // Built from packages whose files are still on a remote (a lazy install): partial as they are,
      // recorded before the transaction publishes the commit (a record without its commit is dropped by gc).
      inheritPartial(repo.path, repo.tmpDir, id, generation.packages.map((p) => p.commit));
      result = { ...common, number: 0, commit: id, unchanged: false, written: { ...txn.stats } };
    },
    {
      after: async () => {
        const r = result!;
        if (!r.unchanged) r.number = await addGeneration(repo, profile, r.commit);
        else r.number = (await listGenerations(repo, profile)).findLast((g) => g.commit === r.commit)?.number ?? 0;
        crashPoint('gen-build:claimed');
      },
    },
  );
  return result!;
}
