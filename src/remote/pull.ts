import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { badObject, corrupt, notFound } from '../util/errors.js';
import { decodeCommit } from '../format/codec.js';
import { isObjectId, type ObjectId } from '../util/hash.js';
import { syncfs, writeFileAtomic } from '../util/fs-atomic.js';
import { assertRefName } from '../refs/refs.js';
import { assertRefsCanMove, updateRefs } from '../refs/transaction.js';
import type { Repo } from '../repo/repo.js';
import { quarantinedIds } from '../repo/quarantine.js';
import { refRoots } from '../repo/roots.js';
import { assertLocalRepository, getRemote, isHttpUrl, type RemoteConfig } from './config.js';
import { ObjectFetcher } from './fetch-objects.js';
import { fetchTreesPack } from './trees-pack.js';
import { fetchPack, usablePack } from './fetch-pack.js';
import { DiskSpace, isNoSpace } from './disk-space.js';
import { checkHash } from './install.js';
import { type Bases, checkPresent } from './present.js';
import { acceptSummary, type AcceptOptions, cacheSummary } from './accepted.js';
import { healQuarantined } from './repair.js';
import { hasPartials, markPartial, readPartials } from '../repo/partial.js';
import { settleComplete } from './complete.js';
import { commitSigPath, deltaName, deltaPath, objectPath, SUMMARY_PATH, SUMMARY_SIG_PATH } from './layout.js';
import { type FetchedSummary, keepUpstreamSummary, type KeptSummary } from './mirror.js';
import { parsePublicKey, verifySignature } from './sign.js';
import { type DeltaInfo, generationTreesPacks, MAX_SUMMARY, parseSummary, type Summary } from './summary.js';
import { fetchJobs, openTransport, type TransferStats, type Transport, type TransportInit } from './transport.js';
import { crashPoint } from '../util/crash-point.js';

/** Options of a pull; defaults as documented on each field. */
export interface PullOptions extends TransportInit {
  /** Name of a configured remote. */
  remote: string;
  /** Refs to pull (default: every ref the remote's summary lists). */
  refs?: string[];
  /**
   * Copy refs as they are into refs/heads instead of refs/remotes/<remote>/,
   * with the commits' signatures, and keep the upstream's summary,
   * summary.sig and delta packs, so the repository serves what the upstream
   * signed (default false).
   */
  mirror?: boolean;
  /** Use delta packs when one fits (default true; never with `lazy`). */
  deltas?: boolean;
  /**
   * Accept a signed summary older than the last one accepted from the remote,
   * and ref moves to commits that do not descend from what the refs held (default false).
   */
  allowDowngrade?: boolean;
  /** Flush data to disk (syncfs) before refs move (default false). */
  fsync?: boolean;
  onProgress?: (p: PullProgress) => void;
  /** Notices for people: a delta that failed, a resumed pull. */
  onNotice?: (message: string) => void;
  /**
   * Pull commits by id instead of refs: called with the (verified) summary,
   * it returns the commits to bring in; no ref moves, and `refs` is ignored.
   * Their ids come from the summary, so with a key the summary's signature
   * covers them (generation commits carry no signature of their own).
   */
  select?: (summary: Summary) => ObjectId[] | Promise<ObjectId[]>;
  /**
   * For commits `select` chooses: a stored commit each is likely to share
   * most trees with (an upgrade's active generation), read beside it so that
   * unchanged subtrees are not read one by one (ObjectFetcher.fetchCommits).
   * A pulled ref's base is the commit it held before, without this.
   */
  bases?: ReadonlyMap<ObjectId, ObjectId>;
  /**
   * Fetch commits and trees only, and record the commits brought in as
   * partial (repo/partial.ts): their blobs stay on the remote until the view
   * reads them or `trove fetch` brings them (default false; no delta packs).
   */
  lazy?: boolean;
}

export interface PullProgress {
  phase: 'summary' | 'delta' | 'objects';
  /** Objects verified and stored so far. */
  objects: number;
  /** Objects known to be needed so far (grows during an object walk). */
  wanted: number;
  /** Bytes received. */
  bytes: number;
  /** Bytes expected, when known (a delta's size). */
  totalBytes?: number;
}

export interface PulledRef {
  ref: string;
  /** The local ref that was written, e.g. `refs/remotes/origin/main`. */
  local: string;
  commit: ObjectId;
  previous: ObjectId | null;
}

export interface PullResult {
  remote: string;
  url: string;
  refs: PulledRef[];
  /** Objects and object bytes verified and stored by this pull. */
  fetched: { objects: number; bytes: number };
  /** What went over the wire. */
  transfer: TransferStats;
  /** Delta packs applied, and those that failed (the pull then fell back to objects). */
  deltas: { used: string[]; failed: string[] };
  /** Objects quarantine/ recorded as missing (see `fsck --repair`) that this pull fetched again. */
  healed: ObjectId[];
  /** With `mirror`: whether the upstream's summary was kept, and the delta packs fetched for it. */
  mirror?: KeptSummary;
  /** With `select`: the commits it chose (now all stored), and the summary it chose them from. */
  commits?: ObjectId[];
  summary?: Summary;
  /** With `lazy`: the blobs the new trees name, not fetched (each counted once; some may be stored already, from other commits). */
  lazy?: { objects: number; bytes: number };
  seconds: number;
}

/**
 * `resume/<from>-<to>`: a delta pack whose pull began and did not finish.
 * The next pull fetches that commit object by object, keeping what the pack
 * stored, instead of downloading the whole pack again. Plain files, not
 * flushed: a mark lost in a crash only means the pack is tried once more.
 */
const RESUME_DIR = 'resume';

/** One ref to pull: its remote name, the commit the summary gives it, and where it goes here. */
interface Target {
  ref: string;
  commit: ObjectId;
  /** Local name in namespace `ns`: `<remote>/<ref>` under `remotes`, or `<ref>` under `heads` when mirroring. */
  local: string;
  ns: 'heads' | 'remotes';
}

type Report = (p: Partial<PullProgress>) => void;

/** What the steps of one pull share. */
interface PullContext {
  repo: Repo;
  transport: Transport;
  opts: PullOptions;
  result: PullResult;
  report: Report;
  space: DiskSpace;
  /** The remote has a key: the summary was verified, and packs need its SHA-256. */
  signed: boolean;
  /**
   * The stored commits fetched ones are read beside (see present.ts
   * `storedAlike`): each pulled ref's previous tip and the caller's `bases`,
   * all chosen by this client; quarantine/'s ids read under the pull's lock.
   */
  bases: Bases;
}

/**
 * Pulls refs from a remote: reads (and with a key, verifies) its summary,
 * then brings in each missing commit by one delta pack when one fits, else
 * object by object, skipping whatever is already stored. Refs move last.
 */
export async function pull(repo: Repo, opts: PullOptions): Promise<PullResult> {
  const started = Date.now();
  const remote = await getRemote(repo.path, opts.remote);
  if (!isHttpUrl(remote.url)) await assertLocalRepository(remote.url);
  const key = remote.signKey === undefined ? undefined : parsePublicKey(remote.signKey);
  const transport = openTransport(remote.url, opts);
  const progress: PullProgress = { phase: 'summary', objects: 0, wanted: 0, bytes: 0 };
  const report: Report = (p) => {
    Object.assign(progress, p, { bytes: transport.stats.bytes });
    opts.onProgress?.({ ...progress });
  };
  const result: PullResult = {
    remote: opts.remote,
    url: remote.url,
    refs: [],
    fetched: { objects: 0, bytes: 0 },
    transfer: transport.stats,
    deltas: { used: [], failed: [] },
    healed: [],
    seconds: 0,
  };
  try {
    report({});
    const fetched = await fetchSummary(transport, opts.remote, remote, opts.select ? [] : (opts.refs ?? []), opts.mirror === true && !opts.select, {
      repo,
      allowDowngrade: opts.allowDowngrade,
      record: false,
    });
    const selected = opts.select ? [...new Set(await opts.select(fetched.summary))] : undefined;
    const targets = selected ? [] : chooseTargets(fetched.summary, opts);
    if (selected) {
      for (const id of selected) if (!isObjectId(id)) throw corrupt(`not an object id: ${id}`);
      result.commits = selected;
      result.summary = fetched.summary;
    }
    crashPoint('pull:summary');
    const release = await repo.lock('shared');
    try {
      // Refused now when the filesystem is already at its margin; then every download of known size is reserved first.
      const space = new DiskSpace(repo.path);
      const tips = [...new Set(targets.map((t) => t.commit))];
      const { sigs, prefetched } = await checkTips(repo, transport, tips, key, opts);
      const previous = new Map<string, ObjectId | null>();
      for (const t of targets) previous.set(t.ref, (await repo.refs.read(t.local, t.ns)) ?? null);
      const commits = new Map(opts.bases);
      for (const t of targets) {
        // The ref's previous tip; else a local head of the same name (a repository that pulls what it
        // also builds, or a copy of the server's): a commit this client chose, like any base.
        // A base is only a hint: a head that cannot be read is no base, never a failed pull.
        const base = previous.get(t.ref) ?? (t.ns === 'remotes' ? await repo.refs.read(t.ref, 'heads').catch(() => undefined) : undefined);
        if (base && base !== t.commit) commits.set(t.commit, base);
      }
      const bases: Bases = { commits, quarantined: await quarantinedIds(repo) };
      const ctx: PullContext = { repo, transport, opts, result, report, space, signed: key !== undefined, bases };
      // A summary naming `a` and `a/b` (or a ref clashing with a local one) is refused before anything is fetched.
      await assertRefsCanMove(repo.refs, targets.map((t) => ({ name: t.local, ns: t.ns })));
      const savedPacks = await fetchByDeltas(ctx, targets, previous, fetched.summary.deltas);
      if (selected) await fetchSelectedByDeltas(ctx, selected, fetched.summary);
      tips.push(...(selected ?? []));
      await fetchObjects(ctx, tips, prefetched, fetched.summary);
      result.healed = await healQuarantined(repo, transport, opts.onNotice);
      crashPoint('pull:objects-done');
      for (const [id, text] of sigs) await writeFileAtomic(join(repo.path, commitSigPath(id)), text, { tmpDir: repo.tmpDir, tag: 'file' });
      if (!opts.allowDowngrade) await refuseDowngrades(repo, targets, previous, opts.remote);
      if (opts.fsync) await syncfs(repo.path);
      await moveRefs(repo, targets, previous, result);
      crashPoint('pull:refs-moved');
      // Only now is the summary the last one accepted: a refused pull leaves the previous one.
      if (fetched.summary.format !== 'none') await cacheSummary(repo, opts.remote, fetched.summary);
      if (opts.mirror) {
        let stored = 0;
        const base = result.fetched.objects;
        result.mirror = await keepUpstreamSummary(repo, transport, fetched, {
          pulled: new Set(targets.map((t) => t.ref)),
          alreadySaved: savedPacks,
          signed: key !== undefined,
          space,
          jobs: fetchJobs(opts).largeJobs,
          onNotice: opts.onNotice,
          onPack: (d) => report({ phase: 'delta', totalBytes: transport.stats.bytes + d.size }),
          onObject: () => report({ objects: base + ++stored, wanted: base + stored }),
        });
      }
      clearResumeMarks(repo, fetched.summary.deltas);
      crashPoint('pull:done');
    } finally {
      await release();
    }
  } finally {
    await transport.close();
    result.seconds = (Date.now() - started) / 1000;
  }
  return result;
}

/** The refs to pull (named ones, else all the summary lists), each with its commit and local name. */
function chooseTargets(summary: Summary, opts: PullOptions): Target[] {
  const wanted = opts.refs?.length ? [...new Set(opts.refs)] : Object.keys(summary.refs);
  if (wanted.length === 0) throw notFound(`remote ${opts.remote} has no refs`);
  return wanted.map((ref) => {
    assertRefName(ref);
    const commit = summary.refs[ref];
    if (!commit) {
      if (summary.format === 'none') throw notFound(`remote ${opts.remote} has no ref ${ref} (it serves no refs/heads/${ref})`, { remote: opts.remote, ref });
      // A summary lists what the server had when it was written; the ref may be newer than that.
      const written = new Date(summary.timestamp * 1000).toISOString();
      throw notFound(
        `remote ${opts.remote} has no ref ${ref}: its summary (written ${written}) does not list it; if the server has the ref, ` +
          `its summary is stale (trove pull --check ${opts.remote} ${ref} tells; run trove summary there)`,
        { remote: opts.remote, ref },
      );
    }
    return opts.mirror ? { ref, commit, local: ref, ns: 'heads' } : { ref, commit, local: `${opts.remote}/${ref}`, ns: 'remotes' };
  });
}

/**
 * The signatures of the tip commits (fetched when verifying or mirroring),
 * and with a key each tip's signature checked before anything under it is
 * fetched; the tips fetched for that are returned for the object walk.
 */
async function checkTips(
  repo: Repo,
  transport: Transport,
  tips: ObjectId[],
  key: ReturnType<typeof parsePublicKey> | undefined,
  opts: PullOptions,
): Promise<{ sigs: Map<ObjectId, string>; prefetched: Map<ObjectId, Buffer> }> {
  const sigs = new Map<ObjectId, string>();
  const prefetched = new Map<ObjectId, Buffer>();
  if (key || opts.mirror) {
    for (const id of tips) {
      const sig = await transport.getBytes(commitSigPath(id), { optional: true, maxBytes: 1 << 20 });
      if (sig) sigs.set(id, sig.toString('utf8'));
    }
  }
  if (key) {
    // Nothing under a commit is fetched before its signature is checked.
    for (const id of tips) {
      let bytes: Buffer;
      if (await repo.store.has(id)) bytes = Buffer.from(await repo.store.get(id));
      else {
        const where = transport.describe(objectPath(id));
        bytes = (await transport.getBytes(objectPath(id), { maxBytes: 64 << 20, small: true, check: (b) => checkHash(id, b, where) }))!;
        decodeCommit(bytes);
        prefetched.set(id, bytes);
      }
      verifySignature(sigs.get(id), key, bytes, `commit ${id} of remote ${opts.remote}`);
    }
  }
  return { sigs, prefetched };
}

/** Brings in missing tips by delta packs where one fits (unless `deltas` is false); the names of the packs kept. */
async function fetchByDeltas(ctx: PullContext, targets: Target[], previous: Map<string, ObjectId | null>, deltas: DeltaInfo[]): Promise<Set<string>> {
  const { repo, opts } = ctx;
  const savedPacks = new Set<string>();
  if (opts.deltas === false || opts.lazy) return savedPacks;
  for (const t of targets) {
    if (await repo.store.has(t.commit)) continue;
    const delta = await chooseDelta(repo, deltas, t.commit, previous.get(t.ref) !== null, ctx.signed);
    if (!delta) continue;
    if (await applyDelta(ctx, delta)) savedPacks.add(deltaName(delta.from, delta.to));
  }
  return savedPacks;
}

/**
 * `fetchByDeltas` for commits pulled by id: a pack from a commit we have;
 * a pack from nothing only when the store holds none of the commits the
 * summary lists (nothing it has would be shared).
 */
async function fetchSelectedByDeltas(ctx: PullContext, commits: ObjectId[], summary: Summary): Promise<void> {
  const { repo, opts } = ctx;
  if (opts.deltas === false || opts.lazy) return;
  const hasAny = holdsAnyListed(repo, summary);
  for (const id of commits) {
    if (await repo.store.has(id)) continue;
    const delta = await chooseDelta(repo, summary.deltas, id, hasAny, ctx.signed);
    if (delta) await applyDelta(ctx, delta);
  }
}

/** Whether the store holds any commit the summary lists (a ref's or a published generation's): else nothing it has would be shared. */
function holdsAnyListed(repo: Repo, summary: Summary): boolean {
  const listed = [...Object.values(summary.refs), ...Object.values(summary.generations ?? {}).flatMap((gs) => gs.map((g) => g.commit))];
  // Blocking, and the first one found is enough: a summary lists every ref and generation.
  return listed.some((id) => repo.store.hasSync(id));
}

/**
 * Brings in whatever tips are still missing, object by object; for a
 * published generation with no base to be read beside, and for a ref's tip
 * in a first pull, its commit and trees from the trees pack the summary
 * gives (one request instead of one per tree).
 */
async function fetchObjects(ctx: PullContext, tips: ObjectId[], prefetched: Map<ObjectId, Buffer>, summary: Summary): Promise<void> {
  const { repo, transport, opts, result, report } = ctx;
  const partials = readPartials(repo.path);
  const missing: ObjectId[] = [];
  // A tip already stored must be a commit (not a tree or blob a remote names as one); a partial one is
  // completed, unless this pull is lazy too.
  for (const id of new Set(tips)) {
    const stored = checkPresent(repo.store, id, 'commit', undefined, `remote ${opts.remote}`);
    if (!stored || (partials.has(id) && !opts.lazy)) missing.push(id);
  }
  if (!missing.length) return;
  const packed = new Map<ObjectId, Buffer>();
  const packs = generationTreesPacks(summary);
  // A ref tip's pack only when the store holds none of the commits the summary lists (a first pull):
  // one that holds some shares most trees with them, and a walk fetches only those it lacks.
  if (summary.treesPacks && !holdsAnyListed(repo, summary)) for (const [id, size] of Object.entries(summary.treesPacks)) packs.set(id, size);
  for (const id of missing) {
    // Not for a partial commit being completed: its trees are stored.
    const size = packs.get(id);
    if (size !== undefined && !ctx.bases.commits.has(id) && !repo.store.hasSync(id)) await fetchTreesPack(transport, id, size, packed, opts.onNotice);
  }
  const fetcher = new ObjectFetcher({
    store: repo.store,
    transport,
    ...fetchJobs(opts),
    prefetched,
    packed,
    space: ctx.space,
    lazy: opts.lazy === true,
    // Recorded before anything under it is stored: a crash leaves a record, never a commit without its blobs and one.
    onLazyCommit: (id) => markPartial(repo.path, repo.tmpDir, [id], [opts.remote]),
    partialsNow: () => hasPartials(repo.path),
    onProgress: (p) => report({ phase: 'objects', objects: result.fetched.objects + p.stored, wanted: result.fetched.objects + p.wanted, totalBytes: undefined }),
  });
  try {
    await fetcher.fetchCommits(missing, ctx.bases);
  } finally {
    result.fetched.objects += fetcher.progress.stored;
    result.fetched.bytes += fetcher.progress.bytes;
    if (opts.lazy) result.lazy = { objects: (result.lazy?.objects ?? 0) + fetcher.skipped.objects, bytes: (result.lazy?.bytes ?? 0) + fetcher.skipped.bytes };
  }
  // Every blob under each tip is stored now (the walk went through stored trees too); those the view
  // stored private and a tree shows to others are published, as trove fetch does.
  if (!opts.lazy) settleComplete(repo, missing.filter((id) => partials.has(id)));
}

/**
 * Refuses (E_BAD_OBJECT, `refused: ...`) to move a ref to a commit that does
 * not descend from the one it holds: a remote serving an old commit (a
 * replayed summary) or a rewritten history. `pull --allow-downgrade` skips this.
 */
async function refuseDowngrades(repo: Repo, targets: Target[], previous: Map<string, ObjectId | null>, remote: string): Promise<void> {
  for (const t of targets) {
    const before = previous.get(t.ref) ?? null;
    if (before === null || before === t.commit || (await descendsFrom(repo, t.commit, before))) continue;
    throw badObject(
      `refused: remote ${remote} would move ${t.ns === 'heads' ? t.local : `remotes/${t.local}`} from ${before} to ${t.commit}, ` +
        `which does not descend from it (an old commit or a rewritten history); trove pull --allow-downgrade accepts it`,
      { remote, ref: t.ref },
    );
  }
}

/** Whether `ancestor` is reachable from commit `tip` through parents (all stored: a pull fetches whole histories). */
async function descendsFrom(repo: Repo, tip: ObjectId, ancestor: ObjectId): Promise<boolean> {
  const seen = new Set<ObjectId>([tip]);
  const todo = [tip];
  while (todo.length > 0) {
    const id = todo.pop()!;
    for (const p of decodeCommit(await repo.store.get(id)).parents) {
      if (p === ancestor) return true;
      if (!seen.has(p) && (await repo.store.has(p))) {
        seen.add(p);
        todo.push(p);
      }
    }
  }
  return false;
}

/**
 * Moves every target's ref from what it held when the pull started to its
 * new commit, all or none (updateRefs): a commit or another pull that moved
 * one of them meanwhile is not overwritten, and no ref moves without the others.
 */
async function moveRefs(repo: Repo, targets: Target[], previous: Map<string, ObjectId | null>, result: PullResult): Promise<void> {
  await updateRefs(
    repo.refs,
    targets.map((t) => ({ name: t.local, ns: t.ns, expected: previous.get(t.ref)!, id: t.commit })),
    { retry: 'pull again' },
  );
  for (const t of targets) result.refs.push({ ref: t.ref, local: `refs/${t.ns}/${t.local}`, commit: t.commit, previous: previous.get(t.ref)! });
}

/**
 * The summary (verified when the remote has a key) with its bytes and
 * signature file (fetched when verifying or mirroring), or one made from
 * `refs/heads/<ref>` files when the remote has none. With `accept`, an
 * expired summary, or a signed one older than the last accepted, is refused
 * and an accepted one recorded (acceptSummary).
 */
export async function fetchSummary(
  transport: Transport,
  name: string,
  remote: RemoteConfig,
  refs: string[],
  mirror: boolean,
  accept?: AcceptOptions,
): Promise<FetchedSummary> {
  const bytes = await transport.getBytes(SUMMARY_PATH, { optional: true, maxBytes: MAX_SUMMARY });
  const key = remote.signKey === undefined ? undefined : parsePublicKey(remote.signKey);
  if (key && !bytes) throw badObject(`refused: remote ${name} has no summary, so there is no signed summary to verify`);
  const sig = bytes && (key || mirror) ? await transport.getBytes(SUMMARY_SIG_PATH, { optional: true, maxBytes: 1 << 20 }) : undefined;
  if (key) verifySignature(sig?.toString('utf8'), key, bytes!, `summary of remote ${name}`);
  if (bytes) {
    const summary = parseSummary(bytes);
    // Expired, or (signed) older than the last one accepted: refused before anything is fetched.
    if (accept) await acceptSummary(name, summary, key !== undefined, accept);
    return { summary, bytes, sig };
  }
  if (refs.length === 0) throw notFound(`remote ${name} (${remote.url}) has no summary; name the refs to pull (or run trove summary there)`);
  const summary: Summary = { format: 'none', timestamp: 0, refs: {}, deltas: [] };
  for (const ref of refs) {
    assertRefName(ref);
    const text = await transport.getBytes(`refs/heads/${ref}`, { optional: true, maxBytes: 4096 });
    if (!text) continue;
    const id = text.toString('utf8').trim();
    if (!isObjectId(id)) throw corrupt(`remote ${name}: refs/heads/${ref} holds no valid id`, { remote: name, ref });
    summary.refs[ref] = id;
  }
  return { summary };
}

/**
 * A delta that brings in `to`: one from a commit we have (by the store's
 * invariant we then have all of it), else one from nothing when we had no
 * copy of the ref before. Smallest first. From a remote with a key, only a
 * pack its signed summary gives a SHA-256 for.
 */
async function chooseDelta(repo: Repo, deltas: DeltaInfo[], to: ObjectId, hadRef: boolean, signed: boolean): Promise<DeltaInfo | undefined> {
  const fits = deltas.filter((d) => d.to === to && usablePack(d, signed)).sort((a, b) => a.size - b.size);
  // A partial commit is no base: the pack leaves out the blobs it shares with it, which this store lacks.
  const partials = readPartials(repo.path);
  for (const d of fits) if (d.from !== null && !partials.has(d.from) && (await repo.store.has(d.from))) return d;
  return hadRef ? undefined : fits.find((d) => d.from === null);
}

/**
 * Whether `from` is a commit this client chose: one of the bases (PullContext
 * `bases`), or the tip of one of its own refs, local or remote-tracking (a
 * client at `v1` pulling `v2` for the first time). A ref moves only to a
 * commit stored with everything under it, so its tip vouches for its trees
 * as a ref's previous tip does. The refs are read only when the bases do not
 * name `from`.
 */
async function chosenBase(ctx: PullContext, from: ObjectId | null): Promise<boolean> {
  if (from === null) return false;
  for (const b of ctx.bases.commits.values()) if (b === from) return true;
  return (await refRoots(ctx.repo)).some((r) => r.commit === from);
}

/** Brings in a commit by one delta pack; false (and a notice) when the pack failed. With `mirror`, the pack file is kept. */
async function applyDelta(ctx: PullContext, delta: DeltaInfo): Promise<boolean> {
  const { repo, transport, opts, result, report } = ctx;
  const name = deltaName(delta.from, delta.to);
  const mark = join(repo.path, RESUME_DIR, name);
  if (existsSync(mark)) {
    opts.onNotice?.(`delta ${name} was interrupted before; fetching only the objects still missing`);
    return false;
  }
  mkdirSync(dirname(mark), { recursive: true });
  writeFileSync(mark, `${JSON.stringify({ started: Date.now() })}\n`);
  crashPoint('pull:delta-mark');
  const base = transport.stats.bytes;
  let stored = 0;
  try {
    report({ phase: 'delta', totalBytes: base + delta.size });
    const r = await fetchPack({
      store: repo.store,
      transport,
      delta,
      signed: ctx.signed,
      space: ctx.space,
      // The server names a pack's `from`; its trees are read beside only when this client chose
      // that commit itself (a base, a ref's tip).
      quarantined: (await chosenBase(ctx, delta.from)) ? ctx.bases.quarantined : undefined,
      saveAs: opts.mirror ? join(repo.path, deltaPath(delta.from, delta.to)) : undefined,
      onObject: () => report({ objects: result.fetched.objects + ++stored, wanted: result.fetched.objects + stored }),
    });
    result.fetched.objects += r.installed;
    result.fetched.bytes += r.installedBytes;
    result.deltas.used.push(name);
    crashPoint('pull:delta-applied');
    return true;
  } catch (err) {
    // Out of disk space is final: fetching object by object would not fit either.
    if (isNoSpace(err)) throw err;
    result.deltas.failed.push(name);
    opts.onNotice?.(`delta ${name} failed (${(err as Error).message}); fetching objects instead`);
    return false;
  }
}

/** Removes the resume marks of the summary's packs (see RESUME_DIR). */
function clearResumeMarks(repo: Repo, deltas: DeltaInfo[]): void {
  const dir = join(repo.path, RESUME_DIR);
  if (!existsSync(dir)) return;
  const listed = new Set(deltas.map((d) => deltaName(d.from, d.to)));
  for (const name of readdirSync(dir)) if (listed.has(name)) rmSync(join(dir, name), { force: true });
}
