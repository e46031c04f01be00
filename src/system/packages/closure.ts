import { notFound } from '../../util/errors.js';
import type { GenerationPackage } from '../../format/types.js';
import type { ObjectId } from '../../util/hash.js';
import type { Repo } from '../../repo/repo.js';
import type { GenerationInput } from '../generations/tree.js';
import { firstParentLog } from '../../repo/log.js';
import { readCommit } from '../../repo/objects.js';
import { hostArch, listPackages, pickArch } from './list.js';
import { packageRef } from './model.js';
import { type Candidate, PackageIndex, type Request, resolve, requiredBy } from './resolve.js';
import type { PackageSpec } from './spec.js';

/**
 * The local candidates: the tip of every `pkg/<name>/<arch>`, plus the
 * packages of the base generation (which may be older revisions). Older
 * revisions are not candidates unless asked for by `NAME@REVISION`.
 */
async function localCandidates(repo: Repo, base: GenerationPackage[]): Promise<Candidate[]> {
  const out: Candidate[] = (await listPackages(repo)).map((r) => ({ info: r.info, commit: r.commit, source: 'local' }));
  const seen = new Set(out.map((c) => c.commit));
  for (const p of base) {
    if (seen.has(p.commit)) continue;
    seen.add(p.commit);
    const c = await readCommit(repo.store, p.commit);
    if (c.package) out.push({ info: c.package, commit: p.commit, source: 'local' });
  }
  return out;
}

/** The request a spec makes; `NAME@REVISION` pins the commit of that revision (added to the candidates). */
async function requestOf(repo: Repo, spec: PackageSpec, extra: Candidate[]): Promise<Request> {
  const arch = spec.arch ?? (await pickArch(repo, spec.name));
  if (spec.revision === undefined) return { name: spec.name, arch };
  const ref = packageRef(spec.name, arch);
  const tip = await repo.refs.read(ref);
  if (!tip) throw notFound(`no package ${spec.name}/${arch} (add it with: trove pkg add)`, { package: spec.name, ref });
  const hit = (await firstParentLog(repo.store, tip)).find((e) => e.commit.package?.revision === spec.revision);
  if (!hit) throw notFound(`package ${spec.name}/${arch} has no revision ${spec.revision}`, { package: spec.name, ref });
  extra.push({ info: hit.commit.package!, commit: hit.id, source: 'local' });
  return { name: spec.name, arch, commit: hit.id };
}

export interface ClosureOptions {
  /** Packages of the generation this one derives from: preferred when they satisfy a dependency. */
  base?: GenerationPackage[];
  /** Exactly the specs, no dependencies. */
  noDeps?: boolean;
}

/**
 * The generation inputs of `specs` and everything they depend on, over the
 * local packages; dependencies have `dependency: true` and priority 0 (a
 * package of the base generation keeps its priority). Throws, with the chain
 * that needs it, when a dependency cannot be satisfied.
 */
export async function resolveClosure(repo: Repo, specs: PackageSpec[], opts: ClosureOptions = {}): Promise<GenerationInput[]> {
  // A generation upgraded from a remote brings its merged tree, not the
  // server's package commits: those are no candidates until they are fetched.
  const base: GenerationPackage[] = [];
  for (const p of opts.base ?? []) if (await repo.store.has(p.commit)) base.push(p);
  const extra: Candidate[] = [];
  const requests: Request[] = [];
  for (const s of specs) requests.push(await requestOf(repo, s, extra));
  const candidates = [...(await localCandidates(repo, base)), ...extra];
  const res = resolve(candidates, requests, { base: base.map((p) => p.commit), noDeps: opts.noDeps, hostArch: hostArch() });
  const priority = new Map<string, number>();
  for (const s of specs) priority.set(s.name, s.priority);
  const basePriority = new Map(base.map((p) => [p.commit, p.priority]));
  const trees = new Map<ObjectId, GenerationInput>();
  const out: GenerationInput[] = [];
  for (const r of res.packages) {
    const { name, arch, version, revision } = r.candidate.info;
    const commit = r.candidate.commit;
    let input = trees.get(commit);
    if (!input) {
      const c = await readCommit(repo.store, commit);
      input = { pkg: { name, arch, version, revision, commit, priority: 0 }, tree: c.tree, root: c.root };
    }
    const pri = r.dependency ? (basePriority.get(commit) ?? 0) : (priority.get(name) ?? 0);
    out.push({ ...input, pkg: { ...input.pkg, priority: pri, ...(r.dependency ? { dependency: true } : {}) } });
  }
  return out;
}

/**
 * The packages of `packages` that nothing asked for needs any more: those
 * marked as dependencies and not reachable from an asked-for one by
 * following every alternative any of them satisfies.
 */
export async function unneeded(repo: Repo, packages: GenerationPackage[]): Promise<GenerationPackage[]> {
  const candidates: Candidate[] = [];
  for (const p of packages) {
    const c = await readCommit(repo.store, p.commit);
    if (c.package) candidates.push({ info: c.package, commit: p.commit, source: 'local' });
  }
  const index = new PackageIndex(candidates);
  const roots = packages.filter((p) => !p.dependency).map((p) => p.commit);
  const keep = requiredBy(index, roots, { hostArch: hostArch() });
  return packages.filter((p) => p.dependency && !keep.has(p.commit));
}
