import { rm } from 'node:fs/promises';
import { corrupt, ioError, notFound } from '../util/errors.js';
import { decodeCommit, decodeTree } from '../format/codec.js';
import type { ObjectId } from '../util/hash.js';
import { limiter } from '../util/limiter.js';
import { updateRefs } from '../refs/transaction.js';
import type { Repo } from '../repo/repo.js';
import { readCommit } from '../repo/objects.js';
import { type GenerationPackage, MAX_META, type PackageInfo } from '../format/types.js';
import { baseGeneration, type DeriveResult, installPackages } from '../system/generations/install.js';
import { planClosure } from '../system/packages/closure.js';
import { packageLabel, packageRef } from '../system/packages/model.js';
import type { Candidate } from '../system/packages/resolve.js';
import type { PackageSpec } from '../system/packages/spec.js';
import { DEFAULT_PROFILE, listGenerations } from '../system/profiles.js';
import { readOrigin } from '../system/generations/published.js';
import { assertLocalRepository, getRemote, isHttpUrl, listRemotes } from './config.js';
import { checkPresent } from './present.js';
import { hasPartials, markPartial, readPartial, readPartials } from '../repo/partial.js';
import { completePartials, dropCompleted, settleComplete } from './complete.js';
import { assertViewForLazy } from '../system/activation/activate.js';
import { cacheSummary } from './accepted.js';
import { ObjectFetcher, type ObjectFetcherInit } from './fetch-objects.js';
import { fetchPack, usablePack } from './fetch-pack.js';
import { DiskSpace, isNoSpace } from './disk-space.js';
import { checkHash } from './install.js';
import { deltaName, indexPath, objectPath } from './layout.js';
import { fetchTreesPack } from './trees-pack.js';
import {
  cachedIndexPath,
  type IndexEntry,
  indexCandidates,
  MAX_INDEX_BYTES,
  type PackageIndexFile,
  parseIndex,
  readCachedIndex,
  writeCachedIndex,
} from './package-index.js';
import { fetchSummary, type PullProgress } from './pull.js';
import type { DeltaInfo } from './summary.js';
import { type FetchJobs, fetchJobs, openTransport, type Transport, type TransportInit } from './transport.js';

/** A remote's package index, as refreshed (or read from the cache). */
export interface RemoteIndex {
  remote: string;
  url: string;
  /** SHA-256 of the index; undefined when the remote publishes none. */
  id?: ObjectId;
  packages: IndexEntry[];
  /** True when the index was downloaded now (it changed, or was not cached). */
  downloaded: boolean;
  /** True when the remote could not be reached and the cached index was used. */
  cached?: boolean;
  deltas: DeltaInfo[];
}

/**
 * Reads a remote's summary (verified when the remote has a key) and brings
 * its package index up to date: fetched only when the summary names an id
 * the cache does not hold, verified against that id and its size, validated
 * whole, and only then kept at `<repo>/remotes/<name>/packages.json`
 * (unless `save` is false). Nothing changes when anything is off.
 */
export async function refreshIndex(repo: Repo, name: string, transport: Transport, opts: { save?: boolean } = {}): Promise<RemoteIndex> {
  const remote = await getRemote(repo.path, name);
  // Expired, or (signed) older than the last accepted: refused; recorded as accepted once the index checks out.
  const { summary } = await fetchSummary(transport, name, remote, [], false, { repo, record: false });
  // From a remote with a key, only packs its signed summary gives a SHA-256 for.
  const deltas = summary.deltas.filter((d) => usablePack(d, remote.signKey !== undefined));
  const out: RemoteIndex = { remote: name, url: remote.url, packages: [], downloaded: false, deltas };
  const p = summary.packages;
  if (!p) {
    if (opts.save !== false) {
      await rm(cachedIndexPath(repo, name), { force: true });
      await cacheSummary(repo, name, summary);
    }
    return out;
  }
  out.id = p.index;
  const cached = await readCachedIndex(repo, name).catch(() => undefined);
  let index: PackageIndexFile;
  if (cached?.id === p.index) index = cached.index;
  else {
    const where = transport.describe(indexPath(p.index));
    const bytes = (await transport.getBytes(indexPath(p.index), { maxBytes: Math.min(p.size, MAX_INDEX_BYTES), check: (b) => checkHash(p.index, b, where) }))!;
    if (!bytes) throw notFound(`remote ${name}: its summary names package index ${p.index}, which it does not serve (run trove summary there)`);
    if (bytes.length !== p.size) throw corrupt(`remote ${name}: package index is ${bytes.length} bytes, its summary says ${p.size}`);
    index = parseIndex(bytes, `remote ${name}`);
    if (index.packages.length !== p.count) throw corrupt(`remote ${name}: package index lists ${index.packages.length} packages, its summary says ${p.count}`);
    if (opts.save !== false) await writeCachedIndex(repo, name, bytes);
    out.downloaded = true;
  }
  for (const e of index.packages) {
    const ref = summary.refs[packageRef(e.name, e.arch)];
    if (ref !== undefined && ref !== e.commit) {
      throw corrupt(`remote ${name}: package index gives ${e.name}/${e.arch} commit ${e.commit}, its summary ${ref}`);
    }
  }
  out.packages = index.packages;
  if (opts.save !== false) await cacheSummary(repo, name, summary);
  return out;
}

export interface InstallFromRemoteOptions extends TransportInit {
  /** Only this remote (default: every configured one, after the local packages). */
  remote?: string;
  profile?: string;
  noDeps?: boolean;
  /** Activate the new generation (see DeriveOptions.activate). */
  activate?: { link?: string };
  /** Resolve and count, fetch no package object and record nothing. */
  dryRun?: boolean;
  /**
   * Fetch the packages' commits and trees only: their files stay on the
   * remote, fetched by the view as they are read (PullOptions.lazy); an
   * activation then needs a mounted view.
   */
  lazy?: boolean;
  onProgress?: (p: PullProgress) => void;
  onNotice?: (message: string) => void;
}

/** A package of the resolution, and what installing it costs. */
export interface PlannedPackage {
  label: string;
  /** `local` or the remote it comes from. */
  source: string;
  commit: ObjectId;
  dependency: boolean;
  /** `new`: not in the base generation; `kept`: there already. */
  state: 'new' | 'kept';
  /** True when its objects must be fetched. */
  fetch: boolean;
  /** Objects and bytes this package adds to the fetch (shared ones counted once, with the first). */
  objects: number;
  bytes: number;
}

export interface InstallFromRemoteResult {
  dryRun: boolean;
  remotes: { remote: string; url: string; index?: ObjectId; packages: number; downloaded: boolean; cached?: boolean }[];
  packages: PlannedPackage[];
  /** What the plan counted as missing: objects and their bytes (a delta pack's size when one is used). */
  plan: { objects: number; bytes: number; deltas: string[] };
  /** What was verified and stored, and what went over the wire (index and trees included). */
  fetched: { objects: number; bytes: number };
  transfer: { requests: number; bytes: number };
  /** Local refs written: `refs/remotes/<remote>/pkg/<name>/<arch>`. */
  refs: string[];
  /** The install itself; null on a dry run. */
  install: DeriveResult | null;
  /** With `lazy`: the files left on the remotes until the view reads them (or trove fetch brings them). */
  lazy?: { objects: number; bytes: number };
}

/** Commits and trees fetched for the plan (verified), and the blobs the store lacks. */
interface Walk {
  metas: Map<ObjectId, Buffer>;
  blobs: Map<ObjectId, number>;
  /** What each commit or tree of `metas` references (trees, parents, blobs), as met. */
  children: Map<ObjectId, ObjectId[]>;
}

/** What `Walk.metas` holds for an object while it is fetched: not its bytes (the empty tree has zero bytes too). */
const ON_ITS_WAY = Buffer.alloc(0);

const newWalk = (): Walk => ({ metas: new Map(), blobs: new Map(), children: new Map() });

/**
 * What each of `tips` brings that the store lacks, charged in their order:
 * a commit, tree or blob under two tips is charged to the first. The same
 * sums as walking the tips one after another, from a walk of all at once.
 */
function chargeTips(walk: Walk, tips: ObjectId[]): Map<ObjectId, { objects: number; bytes: number }> {
  const charged = new Set<ObjectId>();
  const out = new Map<ObjectId, { objects: number; bytes: number }>();
  for (const tip of tips) {
    const cost = { objects: 0, bytes: 0 };
    const stack = [tip];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (charged.has(id)) continue;
      const meta = walk.metas.get(id);
      const size = meta?.length ?? walk.blobs.get(id);
      if (size === undefined) continue;
      charged.add(id);
      cost.objects++;
      cost.bytes += size;
      for (const next of walk.children.get(id) ?? []) stack.push(next);
    }
    out.set(tip, cost);
  }
  return out;
}

/**
 * Fetches the commits (with their history, as pull keeps it) and trees under
 * `tips` that the store lacks, into memory, verified, and notes every blob
 * the store lacks: exactly what an install must fetch.
 */
async function walkMissing(
  repo: Repo,
  transport: Transport,
  tips: ObjectId[],
  walk: Walk,
  jobs: number,
  opts: { blobs?: boolean; treesPacks?: ReadonlyMap<ObjectId, number>; onNotice?: (message: string) => void } = {},
): Promise<void> {
  // A lazy install fetches no blob: which ones the store lacks (a stat each) is not asked.
  const blobs = opts.blobs !== false;
  // Each commit or tree is fetched as soon as its parent is read (no waiting for a whole level), `jobs` at a time.
  const run = limiter(jobs);
  const pending: Promise<void>[] = [];
  let failure: { err: unknown } | undefined;
  // Verified objects of the trees packs fetched so far: a tree found here is not requested.
  const packed = new Map<ObjectId, Buffer>();
  const take = (id: ObjectId, kind: 'commit' | 'tree', bytes: Buffer): void => {
    walk.metas.set(id, bytes);
    const children: ObjectId[] = [];
    walk.children.set(id, children);
    if (kind === 'commit') {
      const c = decodeCommit(bytes);
      children.push(c.tree, ...c.parents);
      visit(c.tree, 'tree');
      for (const p of c.parents) visit(p, 'commit');
    } else {
      for (const e of decodeTree(bytes).entries) {
        if (e.kind === 'dir') {
          children.push(e.id!);
          visit(e.id!, 'tree');
        } else if (blobs && e.kind === 'file') {
          children.push(e.id!);
          if (!walk.blobs.has(e.id!) && !repo.store.hasSync(e.id!)) walk.blobs.set(e.id!, e.size);
        }
      }
    }
  };
  const visit = (id: ObjectId, kind: 'commit' | 'tree'): void => {
    if (failure || walk.metas.has(id) || repo.store.hasSync(id)) return;
    walk.metas.set(id, ON_ITS_WAY);
    // One already in a trees pack is taken on a later microtask, without a request: no recursion however deep.
    const ready = packed.get(id);
    const task = ready
      ? Promise.resolve().then(() => take(id, kind, ready))
      : run(async () => {
          const pack = kind === 'commit' ? opts.treesPacks?.get(id) : undefined;
          if (pack !== undefined) await fetchTreesPack(transport, id, pack, packed, opts.onNotice);
          const where = transport.describe(objectPath(id));
          const bytes = packed.get(id) ?? (await transport.getBytes(objectPath(id), { maxBytes: MAX_META, small: true, check: (b) => checkHash(id, b, where) }))!;
          take(id, kind, bytes);
        });
    pending.push(task.catch((err: unknown) => void (failure ??= { err })));
  };
  for (const id of tips) visit(id, 'commit');
  // Settle everything (children are added while parents settle), then fail with the first error.
  for (let i = 0; i < pending.length; i++) await pending[i];
  if (failure) throw failure.err;
}

/** The commits and trees a finished walk fetched, for an ObjectFetcher's `prefetched`. */
const fetchedMetas = (walk: Walk): Map<ObjectId, Buffer> => new Map([...walk.metas].filter(([, b]) => b !== ON_ITS_WAY));

/** The sizes of the trees packs remote `remote`'s index lists, by package commit. */
function treesPacksOf(indexes: RemoteIndex[], remote: string): Map<ObjectId, number> {
  const out = new Map<ObjectId, number>();
  for (const e of indexes.find((i) => i.remote === remote)?.packages ?? []) if (e.treesPack !== undefined) out.set(e.commit, e.treesPack);
  return out;
}

/**
 * A generation upgraded from a remote brings its merged tree, not the package
 * commits it was built from; a new generation derived from it keeps those
 * packages, so the ones the store lacks are fetched first (with their trees,
 * whose blobs the merged tree mostly brought already), from the remote the
 * generation came from, else the first remote. A dry run counts them in the
 * plan instead.
 */
async function baseCommits(
  repo: Repo,
  profile: string,
  baseId: ObjectId | null,
  base: GenerationPackage[],
  transports: Map<string, Transport>,
  indexes: RemoteIndex[],
  opts: InstallFromRemoteOptions,
  result: InstallFromRemoteResult,
  jobs: FetchJobs,
  report: (p: Partial<PullProgress>) => void,
): Promise<void> {
  const lacking = [...new Set(base.map((p) => p.commit))].filter((id) => !repo.store.hasSync(id));
  if (baseId === null || lacking.length === 0) return;
  const number = (await listGenerations(repo, profile)).findLast((g) => g.commit === baseId)?.number;
  const origin = number === undefined ? null : await readOrigin(repo, profile, number, baseId);
  const remote = origin !== null && transports.has(origin.remote) ? origin.remote : [...transports.keys()][0];
  if (remote === undefined) return;
  const t = transports.get(remote)!;
  // Commits and trees first, from the packages' trees packs where the index has them.
  if (!opts.dryRun) report({ phase: 'objects' });
  const walk = newWalk();
  await walkMissing(repo, t, lacking, walk, jobs.jobs, { blobs: opts.dryRun === true, treesPacks: treesPacksOf(indexes, remote), onNotice: opts.onNotice });
  if (opts.dryRun) {
    for (const b of walk.metas.values()) result.plan.bytes += b.length;
    for (const size of walk.blobs.values()) result.plan.bytes += size;
    result.plan.objects += walk.metas.size + walk.blobs.size;
    return;
  }
  const release = await repo.lock('shared');
  try {
    const got = await fetchCommitsInto(repo, t, lacking, { ...jobs, space: new DiskSpace(repo.path), prefetched: fetchedMetas(walk) }, result, report);
    // Counted in the plan too, as the dry run counts them.
    result.plan.objects += got.objects;
    result.plan.bytes += got.bytes;
  } finally {
    await release();
  }
}

/**
 * Fetches `commits` and everything under them the store lacks, with the
 * progress bar counting on from what `result` fetched so far, and adds what
 * was stored (also when it fails halfway) to `result.fetched`; returns that.
 */
async function fetchCommitsInto(
  repo: Repo,
  transport: Transport,
  commits: ObjectId[],
  init: Pick<ObjectFetcherInit, 'prefetched' | 'lazy' | 'onLazyCommit' | 'partialsNow'> & FetchJobs & { space: DiskSpace },
  result: InstallFromRemoteResult,
  report: (p: Partial<PullProgress>) => void,
): Promise<{ objects: number; bytes: number }> {
  const done = result.fetched.objects;
  const fetcher = new ObjectFetcher({
    store: repo.store,
    transport,
    ...init,
    onProgress: (p) => report({ phase: 'objects', objects: done + p.stored, wanted: done + p.wanted, totalBytes: undefined }),
  });
  try {
    await fetcher.fetchCommits(commits);
  } finally {
    result.fetched.objects += fetcher.progress.stored;
    result.fetched.bytes += fetcher.progress.bytes;
    if (result.lazy) {
      result.lazy.objects += fetcher.skipped.objects;
      result.lazy.bytes += fetcher.skipped.bytes;
    }
  }
  return { objects: fetcher.progress.stored, bytes: fetcher.progress.bytes };
}

/**
 * `trove install` over local packages and remotes' indexes: refreshes the
 * index of the remote (or of every configured one), resolves the closure
 * over the stored packages and the indexes (a local package wins over a
 * remote's of the same version), fetches only the objects of the chosen
 * remote packages that the store lacks (one delta pack when the server has
 * one from a commit we hold, else object by object), records each as
 * `refs/remotes/<remote>/pkg/<name>/<arch>`, then builds and activates the
 * generation as a local install does. A dry run fetches the commits and trees
 * it needs to count exactly, and stores and records nothing.
 */
export async function installFromRemotes(repo: Repo, specs: PackageSpec[], opts: InstallFromRemoteOptions = {}): Promise<InstallFromRemoteResult> {
  const profile = opts.profile ?? DEFAULT_PROFILE;
  const names = opts.remote !== undefined ? [opts.remote] : Object.keys(await listRemotes(repo.path)).sort();
  const transports = new Map<string, Transport>();
  const result: InstallFromRemoteResult = {
    dryRun: opts.dryRun === true,
    remotes: [],
    packages: [],
    plan: { objects: 0, bytes: 0, deltas: [] },
    fetched: { objects: 0, bytes: 0 },
    transfer: { requests: 0, bytes: 0 },
    refs: [],
    install: null,
  };
  const progress: PullProgress = { phase: 'summary', objects: 0, wanted: 0, bytes: 0 };
  const wire = () => [...transports.values()].reduce((n, t) => n + t.stats.bytes, 0);
  const report = (p: Partial<PullProgress>) => {
    Object.assign(progress, p, { bytes: wire() });
    opts.onProgress?.({ ...progress });
  };
  const jobs = fetchJobs(opts);
  const lazy = opts.lazy === true && !opts.dryRun;
  if (lazy && opts.activate) await assertViewForLazy(repo);
  if (lazy) result.lazy = { objects: 0, bytes: 0 };
  const partials = readPartials(repo.path);
  try {
    const indexes: RemoteIndex[] = [];
    for (const name of names) {
      const remote = await getRemote(repo.path, name);
      if (!isHttpUrl(remote.url)) await assertLocalRepository(remote.url);
      const t = openTransport(remote.url, opts);
      transports.set(name, t);
      report({});
      try {
        indexes.push(await refreshIndex(repo, name, t, { save: !opts.dryRun }));
      } catch (err) {
        if (opts.remote !== undefined) throw err;
        // Without --remote a remote that cannot be reached does not stop an install: its cached index stands in.
        const cached = await readCachedIndex(repo, name).catch(() => undefined);
        opts.onNotice?.(`remote ${name}: ${(err as Error).message}; ${cached ? 'using its cached package index' : 'skipping it'}`);
        if (cached) indexes.push({ remote: name, url: remote.url, id: cached.id, packages: cached.index.packages, downloaded: false, cached: true, deltas: [] });
      }
    }
    for (const i of indexes) result.remotes.push({ remote: i.remote, url: i.url, index: i.id, packages: i.packages.length, downloaded: i.downloaded, ...(i.cached ? { cached: true } : {}) });
    const candidates: Candidate[] = indexes.flatMap((i) => indexCandidates({ format: '', packages: i.packages }, i.remote));

    const baseId = await baseGeneration(repo, profile);
    const base: GenerationPackage[] = baseId ? ((await readCommit(repo.store, baseId)).generation?.packages ?? []) : [];
    const inBase = new Set(base.map((p) => p.commit));
    await baseCommits(repo, profile, baseId, base, transports, indexes, opts, result, jobs, report);
    const plan = await planClosure(repo, specs, { base, noDeps: opts.noDeps, candidates });

    // What must be fetched, per remote: the chosen packages the store lacks.
    const wanted = new Map<string, Candidate[]>();
    for (const r of plan.packages) {
      const c = r.candidate;
      // A package stored lazily before is fetched whole now, unless this install is lazy too.
      if (c.source === 'local' || (repo.store.hasSync(c.commit) && (lazy || !partials.has(c.commit)))) continue;
      let list = wanted.get(c.source);
      if (!list) wanted.set(c.source, (list = []));
      if (!list.some((x) => x.commit === c.commit)) list.push(c);
    }
    const walks = new Map<string, Walk>();
    const deltas = new Map<string, DeltaInfo[]>();
    const cost = new Map<ObjectId, { objects: number; bytes: number }>();
    for (const [remote, list] of wanted) {
      const t = transports.get(remote)!;
      const offered = indexes.find((i) => i.remote === remote)?.deltas ?? [];
      const walk = newWalk();
      const byObjects: Candidate[] = [];
      for (const c of list) {
        const d = lazy
          ? undefined
          : offered.filter((x) => x.to === c.commit && x.from !== null && !partials.has(x.from) && repo.store.hasSync(x.from)).sort((a, b) => a.size - b.size)[0];
        if (d) {
          let ds = deltas.get(remote);
          if (!ds) deltas.set(remote, (ds = []));
          ds.push(d);
          result.plan.deltas.push(deltaName(d.from, d.to));
          cost.set(c.commit, { objects: 0, bytes: d.size });
          continue;
        }
        byObjects.push(c);
      }
      // Every package at once (a package's trees come one level per round trip), then each
      // charged with the objects it brings first, in the plan's order.
      report({ phase: 'objects' });
      await walkMissing(repo, t, byObjects.map((c) => c.commit), walk, jobs.jobs, { blobs: !lazy, treesPacks: treesPacksOf(indexes, remote), onNotice: opts.onNotice });
      const charges = chargeTips(walk, byObjects.map((c) => c.commit));
      for (const c of byObjects) {
        const { objects, bytes } = charges.get(c.commit)!;
        // A pack of the whole package (`trove delta --from-empty`), when it is no bigger than
        // what it lacks: one request instead of one per object. It may carry objects this
        // repository has (the walk is what tells how many), so it is used only when that
        // costs at most 5 % more bytes than the objects would.
        const full = lazy ? undefined : offered.find((x) => x.from === null && x.to === c.commit);
        if (full && full.size <= bytes * 1.05) {
          let ds = deltas.get(remote);
          if (!ds) deltas.set(remote, (ds = []));
          ds.push(full);
          result.plan.deltas.push(deltaName(null, full.to));
          cost.set(c.commit, { objects: 0, bytes: full.size });
          continue;
        }
        cost.set(c.commit, { objects, bytes });
      }
      walks.set(remote, walk);
    }
    for (const c of cost.values()) {
      result.plan.objects += c.objects;
      result.plan.bytes += c.bytes;
    }
    for (const r of plan.packages) {
      const c = r.candidate;
      const k = cost.get(c.commit);
      result.packages.push({
        label: packageLabel(c.info),
        source: c.source,
        commit: c.commit,
        dependency: r.dependency,
        state: inBase.has(c.commit) ? 'kept' : 'new',
        fetch: k !== undefined,
        objects: k?.objects ?? 0,
        bytes: k?.bytes ?? 0,
      });
    }
    if (opts.dryRun) return result;

    // Fetch, record the refs, under the shared repository lock (gc waits).
    const release = await repo.lock('shared');
    try {
      const space = new DiskSpace(repo.path);
      for (const [remote, list] of wanted) {
        const t = transports.get(remote)!;
        for (const d of deltas.get(remote) ?? []) {
          report({ phase: 'delta', totalBytes: wire() + d.size });
          try {
            const r = await fetchPack({ store: repo.store, transport: t, delta: d, space });
            result.fetched.objects += r.installed;
            result.fetched.bytes += r.installedBytes;
          } catch (err) {
            if (isNoSpace(err)) throw err;
            opts.onNotice?.(`delta ${d.from}-${d.to} failed (${(err as Error).message}); fetching objects instead`);
          }
        }
        // A package commit already stored must be a commit (checkPresent), not a tree or blob.
        const missing = list
          .map((c) => c.commit)
          .filter((id) => !checkPresent(repo.store, id, 'commit', undefined, `remote ${remote}`) || (!lazy && partials.has(id)));
        if (missing.length) {
          const walk = walks.get(remote)!;
          const prefetched = fetchedMetas(walk);
          // Each commit recorded before anything under it is stored (repo/partial.ts).
          const onLazyCommit = (id: ObjectId) => markPartial(repo.path, repo.tmpDir, [id], [remote]);
          await fetchCommitsInto(repo, t, missing, { ...jobs, space, prefetched, lazy, onLazyCommit, partialsNow: () => hasPartials(repo.path) }, result, report);
          if (!lazy) settleComplete(repo, missing.filter((id) => partials.has(id)));
        }
        const moves = [];
        for (const c of list) {
          const name = `${remote}/${packageRef(c.info.name, c.info.arch)}`;
          moves.push({ name, ns: 'remotes' as const, expected: (await repo.refs.read(name, 'remotes')) ?? null, id: c.commit });
        }
        await updateRefs(repo.refs, moves, { retry: 'install again' });
        result.refs.push(...moves.map((m) => `refs/remotes/${m.name}`));
      }
    } finally {
      await release();
    }
    // A package of the plan stored lazily before and not fetched above (a local candidate: a package of the
    // base generation, say) is completed from the remotes its record names, so that this install, which
    // is not lazy, builds a complete generation.
    if (!lazy) {
      const kept = [...plan.packages.map((r) => r.candidate.commit), ...base.map((p) => p.commit)];
      const left = [...new Set(kept)].filter((id) => readPartial(repo.path, id) !== undefined);
      if (left.length > 0) {
        const done = await completePartials(repo, { commits: left, ...opts, onProgress: opts.onProgress, onNotice: opts.onNotice });
        result.fetched.objects += done.fetched.objects;
        result.fetched.bytes += done.fetched.bytes;
        if (done.remaining.length > 0) throw ioError(`packages ${done.remaining.join(', ')} are partial and their files could not be fetched; run trove fetch, or install --lazy`);
        // Generations built from them earlier may lack nothing now: their records go too.
        const held = await repo.lock('shared');
        try {
          dropCompleted(repo);
        } finally {
          await held();
        }
      }
    }
    const stored = candidates.filter((c) => repo.store.hasSync(c.commit));
    result.install = await installPackages(repo, specs, { profile, noDeps: opts.noDeps, activate: opts.activate, candidates: stored, lazy });
    return result;
  } finally {
    for (const t of transports.values()) {
      result.transfer.requests += t.stats.requests;
      result.transfer.bytes += t.stats.bytes;
      await t.close();
    }
  }
}

/** A remote's package in `pkg list` (the fields of a local row but `tree` and `timestamp`, which the index does not hold). */
export interface PackageListRow {
  ref: string;
  commit: ObjectId;
  info: PackageInfo;
  /** The remote's name. */
  source: string;
  /** True when its objects are in this repository. */
  stored: boolean;
  /** The bytes of its objects (index `bytes`). */
  bytes: number;
}

/**
 * The packages of a remote's index, refreshed from the network when `remote`
 * is named; else the cached index of every configured remote (no network).
 */
export async function remotePackageRows(repo: Repo, opts: TransportInit & { remote?: string } = {}): Promise<PackageListRow[]> {
  const row = (e: IndexEntry, source: string): PackageListRow => {
    const { commit, bytes, objects: _o, ...info } = e;
    return { ref: packageRef(e.name, e.arch), commit, info, source, stored: repo.store.hasSync(commit), bytes };
  };
  if (opts.remote !== undefined) {
    const remote = await getRemote(repo.path, opts.remote);
    if (!isHttpUrl(remote.url)) await assertLocalRepository(remote.url);
    const t = openTransport(remote.url, opts);
    try {
      return (await refreshIndex(repo, opts.remote, t)).packages.map((e) => row(e, opts.remote!));
    } finally {
      await t.close();
    }
  }
  const out: PackageListRow[] = [];
  for (const name of Object.keys(await listRemotes(repo.path)).sort()) {
    const cached = await readCachedIndex(repo, name);
    if (cached) out.push(...cached.index.packages.map((e) => row(e, name)));
  }
  return out;
}
