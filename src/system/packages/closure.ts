import { notFound, usage } from '../../util/errors.js';
import type { GenerationPackage } from '../../format/types.js';
import type { ObjectId } from '../../util/hash.js';
import type { Repo } from '../../repo/repo.js';
import type { GenerationInput } from '../generations/tree.js';
import { firstParentLog } from '../../repo/log.js';
import { readCommitSync } from '../../repo/objects.js';
import { hostArch, listPackages, listPulledPackages } from './list.js';
import { packageRef } from './model.js';
import { type Candidate, PackageIndex, type Request, type Resolution, resolve, requiredBy } from './resolve.js';
import type { PackageSpec } from './spec.js';

/**
 * The candidates stored here: the tip of every `pkg/<name>/<arch>` (source
 * `local`), the tip of every pulled package ref
 * `refs/remotes/<remote>/pkg/<name>/<arch>` (source: the remote), plus the
 * packages of the base generation (which may be older revisions). Older
 * revisions are not candidates unless asked for by `NAME@REVISION`. The
 * commits here and below are read blocking: one after another, a promise
 * each would cost a round trip through the thread pool per package.
 */
async function storedCandidates(repo: Repo, base: GenerationPackage[]): Promise<Candidate[]> {
  const out: Candidate[] = (await listPackages(repo)).map((r) => ({ info: r.info, commit: r.commit, source: 'local' }));
  for (const r of await listPulledPackages(repo)) out.push({ info: r.info, commit: r.commit, source: r.remote });
  const seen = new Set(out.map((c) => c.commit));
  for (const p of base) {
    if (seen.has(p.commit)) continue;
    seen.add(p.commit);
    const c = readCommitSync(repo.store, p.commit);
    if (c.package) out.push({ info: c.package, commit: p.commit, source: 'local' });
  }
  return out;
}

/** The arch to use for `name` when none is given, over the candidates (as `pickArch` decides). */
function archOf(candidates: Candidate[], name: string): string {
  const arches = [...new Set(candidates.filter((c) => c.info.name === name).map((c) => c.info.arch))].sort();
  if (arches.length === 0) throw notFound(`no package named ${name} (add it with: trove pkg add)`, { package: name });
  if (arches.length === 1) return arches[0]!;
  for (const a of [hostArch(), 'all']) if (arches.includes(a)) return a;
  throw usage(`package ${name} exists for several arches (${arches.join(', ')}): say which, as ${name}/ARCH`);
}

/**
 * The request a spec makes; `NAME@REVISION` pins the commit of that revision:
 * from the local ref's history when there is one (added to the candidates),
 * else the candidate of that revision.
 */
async function requestOf(repo: Repo, spec: PackageSpec, candidates: Candidate[], extra: Candidate[]): Promise<Request> {
  const arch = spec.arch ?? archOf(candidates, spec.name);
  if (spec.revision === undefined) return { name: spec.name, arch };
  const ref = packageRef(spec.name, arch);
  const tip = await repo.refs.read(ref);
  if (!tip) {
    const hit = candidates.find((c) => c.info.name === spec.name && c.info.arch === arch && c.info.revision === spec.revision);
    if (hit) return { name: spec.name, arch, commit: hit.commit };
    if (!candidates.some((c) => c.info.name === spec.name && c.info.arch === arch)) {
      throw notFound(`no package ${spec.name}/${arch} (add it with: trove pkg add)`, { package: spec.name, ref });
    }
    throw notFound(`package ${spec.name}/${arch} has no revision ${spec.revision}`, { package: spec.name, ref });
  }
  const hit = (await firstParentLog(repo.store, tip)).find((e) => e.commit.package?.revision === spec.revision);
  if (!hit) throw notFound(`package ${spec.name}/${arch} has no revision ${spec.revision}`, { package: spec.name, ref });
  extra.push({ info: hit.commit.package!, commit: hit.id, source: 'local' });
  return { name: spec.name, arch, commit: hit.id };
}

/**
 * The base generation's packages whose commits are stored. A generation
 * upgraded from a remote brings its merged tree, not the server's package
 * commits: those are no candidates until they are fetched.
 */
async function presentBase(repo: Repo, base: GenerationPackage[] = []): Promise<GenerationPackage[]> {
  const out: GenerationPackage[] = [];
  for (const p of base) if (repo.store.hasSync(p.commit)) out.push(p);
  return out;
}

export interface ClosureOptions {
  /** Packages of the generation this one derives from: preferred when they satisfy a dependency. */
  base?: GenerationPackage[];
  /** Exactly the specs, no dependencies. */
  noDeps?: boolean;
  /**
   * More candidates, after the stored ones (a remote's index, given by the
   * layer that fetched it). A commit already among the stored candidates
   * keeps its stored entry.
   */
  candidates?: Candidate[];
}

/**
 * What `specs` and everything they depend on resolve to, over the stored
 * candidates and `opts.candidates`, without reading the chosen packages:
 * the chosen ones may still be on a server. Throws, with the chain that needs
 * it, when a dependency cannot be satisfied.
 */
export async function planClosure(repo: Repo, specs: PackageSpec[], opts: ClosureOptions = {}): Promise<Resolution> {
  const base = await presentBase(repo, opts.base);
  const stored = await storedCandidates(repo, base);
  const seen = new Set(stored.map((c) => c.commit));
  const candidates = [...stored, ...(opts.candidates ?? []).filter((c) => !seen.has(c.commit) && (seen.add(c.commit), true))];
  const extra: Candidate[] = [];
  const requests: Request[] = [];
  for (const s of specs) requests.push(await requestOf(repo, s, candidates, extra));
  return resolve([...candidates, ...extra], requests, { base: base.map((p) => p.commit), noDeps: opts.noDeps, hostArch: hostArch() });
}

/**
 * The generation inputs of `specs` and everything they depend on, over the
 * stored packages (and `opts.candidates`, which must be stored by now);
 * dependencies have `dependency: true` and priority 0 (a package of the base
 * generation keeps its priority). Throws, with the chain that needs it, when
 * a dependency cannot be satisfied.
 */
export async function resolveClosure(repo: Repo, specs: PackageSpec[], opts: ClosureOptions = {}): Promise<GenerationInput[]> {
  const base = await presentBase(repo, opts.base);
  const res = await planClosure(repo, specs, { ...opts, base });
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
      const c = readCommitSync(repo.store, commit);
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
    const c = readCommitSync(repo.store, p.commit);
    if (c.package) candidates.push({ info: c.package, commit: p.commit, source: 'local' });
  }
  const index = new PackageIndex(candidates);
  const roots = packages.filter((p) => !p.dependency).map((p) => p.commit);
  const keep = requiredBy(index, roots, { hostArch: hostArch() });
  return packages.filter((p) => p.dependency && !keep.has(p.commit));
}
