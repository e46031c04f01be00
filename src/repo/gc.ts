import { type OnProgress, progressOf } from '../util/progress.js';
import { closeSync, constants, lstatSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno, isSystemError, isTroveError } from '../util/errors.js';
import { decodeCommit, decodeTree } from '../format/codec.js';
import type { ObjectId } from '../util/hash.js';
import type { Repo } from './repo.js';
import { clearPartial, clearTraces, hasPartials, readPartials } from './partial.js';
import { limiter } from '../util/limiter.js';
import type { Root, RootSource } from './roots.js';
import { crashPoint } from '../util/crash-point.js';
import { mountsUnder, unmount } from '../util/mount-table.js';
import { tempName, writeFileAtomicSync } from '../util/fs-atomic.js';
import { listDirSync } from '../util/path-exists.js';
import { type Commit, MAX_META } from '../format/types.js';
import { IdPrefixSet } from '../util/id-set.js';
import { forgetReach, PrefixList, type ReachRecord, readReach, writeReach } from './reach.js';

export interface GcReport {
  dryRun: boolean;
  /** Objects reachable from the roots. */
  kept: number;
  /**
   * Whether the store was listed. Not when the objects it holds, as counted
   * (see DiskStore.noteAdded), are exactly as many as the objects found
   * reachable: then nothing is garbage, and `kept` is that count.
   */
  listed: boolean;
  /**
   * Whether the mark started from the last gc's record of what it marked
   * (ReachRecord, `<repo>/gc-reach`) and read only what that record does not
   * cover. Only a gc that finds nothing to delete this way uses it.
   */
  reused: boolean;
  /** Commits and trees the mark read. */
  treesRead: number;
  /** Unreachable objects deleted (or, with dryRun, that would be). */
  deleted: { objects: number; bytes: number; commits: number; trees: number; blobs: number };
  /** Checkout directories of commits no longer kept. */
  checkouts: string[];
  /** Variant files no checkout links to any more. */
  variants: { files: number; bytes: number };
  /**
   * Reachable objects that do not decode as what references them (a blob
   * named as a tree, rotted bytes): kept, with everything they might
   * reference, and reported (`trove fsck` says more).
   */
  undecodable: { id: ObjectId; kind: 'commit' | 'tree'; problem: string }[];
}

/**
 * Objects of this size or less are parsed to order their deletion: every tree
 * and commit a store can hold (MAX_META), so that a gc killed between two
 * waves leaves no tree without what it names (remote/present.ts `storedAlike`
 * relies on that).
 */
const PARSE_MAX = MAX_META;

/**
 * The commits a commit keeps: its parents and, for a generation, its package
 * commits (install and remove derive new generations from them).
 */
function commitsOf(c: Commit): ObjectId[] {
  return [...c.parents, ...(c.generation?.packages.map((p) => p.commit) ?? [])];
}

function notFound(err: unknown): boolean {
  return isTroveError(err, 'E_NOT_FOUND');
}

/**
 * Every object reachable from the roots (through parents, trees and a
 * generation's package commits); missing objects are skipped (fsck reports them).
 * An object that does not decode as what references it is kept and noted in
 * `undecodable`, never deleted through: whatever its bytes could reference,
 * read as a commit or a tree (referencesOf), is kept too.
 *
 * Commits and trees are remembered exactly (a tree is read once); blobs, most
 * of a store, by their first 64 bits only (IdPrefixSet: 16-32 bytes each),
 * which can only make gc keep an unreachable blob, never delete a reachable one.
 */
function mark(repo: Repo, roots: Root[], undecodable: GcReport['undecodable'], onProgress?: OnProgress): Live {
  const visited = new Set<ObjectId>();
  const blobs = new IdPrefixSet(1 << 16);
  // For the record of this mark (ReachRecord): commits and trees read, and those not found.
  const decoded = new PrefixList();
  const missing = new PrefixList();
  const marking = progressOf('marking', 'objects');
  const tick = () => {
    if (!onProgress) return;
    marking.done = visited.size + blobs.size;
    onProgress(marking);
  };
  const keepAll = (start: ObjectId, kind: 'commit' | 'tree', err: unknown): void => {
    undecodable.push({ id: start, kind, problem: err instanceof Error ? err.message : String(err) });
    const todo = [start];
    while (todo.length > 0) {
      const id = todo.pop()!;
      const path = repo.store.pathOf(id);
      let bytes: Uint8Array;
      try {
        if (statSync(path).size > PARSE_MAX) continue;
        bytes = readFileSync(path);
      } catch (e) {
        if (isErrno(e, 'ENOENT')) continue;
        throw e;
      }
      for (const r of referencesOf(bytes).refs) {
        if (visited.has(r)) continue;
        visited.add(r);
        todo.push(r);
      }
    }
  };
  /**
   * The object `id` decoded as a `kind`, with a blocking read (objects are
   * small and mostly in the page cache, where a blocking read takes a
   * fraction of a round trip through libuv's threads and makes no promise);
   * undefined when it is missing, or does not decode (then everything it
   * might reference is kept).
   */
  const read = <T>(id: ObjectId, kind: 'commit' | 'tree', decode: (bytes: Uint8Array) => T): T | undefined => {
    try {
      return decode(repo.store.getSync(id));
    } catch (err) {
      if (notFound(err)) return undefined;
      if (!isTroveError(err, 'E_BAD_OBJECT') && !isTroveError(err, 'E_CORRUPT')) throw err;
      keepAll(id, kind, err);
      return undefined;
    }
  };
  /** The trees below `root`, depth first. */
  const tree = (root: ObjectId): void => {
    const stack = [root];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (visited.has(id)) continue;
      visited.add(id);
      const t = read(id, 'tree', decodeTree);
      if (!t) {
        missing.add(id);
        continue;
      }
      decoded.add(id);
      for (const e of t.entries) {
        if (e.kind === 'dir') stack.push(e.id!);
        else if (e.kind === 'file') blobs.add(e.id!);
      }
      tick();
    }
  };
  const commit = (start: ObjectId): void => {
    const todo = [start];
    while (todo.length > 0) {
      const id = todo.pop()!;
      if (visited.has(id)) continue;
      visited.add(id);
      const c = read(id, 'commit', decodeCommit);
      if (!c) {
        missing.add(id);
        continue;
      }
      decoded.add(id);
      tree(c.tree);
      tick();
      todo.push(...commitsOf(c));
    }
  };
  for (const root of roots) commit(root.commit);
  return {
    has: (id) => visited.has(id) || blobs.has(id),
    count: visited.size + blobs.size,
    read: decoded.length,
    // What keepAll adds has not been read: a mark that met an undecodable object makes no record.
    record: () => {
      if (undecodable.length > 0) return undefined;
      blobs.forEachPrefix((hi, lo) => missing.addPrefix(hi, lo));
      return { roots: [...new Set(roots.map((r) => r.commit))], complete: decoded.sorted(), others: missing.sorted() };
    },
  };
}

/**
 * The mark once more, from the record of an earlier one (ReachRecord): a
 * commit or tree the record calls complete is not read again, for everything
 * it references is in the record. Undefined when the record cannot stand in
 * for what it does not read: one of the record's roots was not met, so
 * some of what it holds may no longer be reachable, or an object does not
 * decode (the full mark keeps and reports it).
 *
 * Its count is what a full mark would count (the record's ids plus those
 * met that it lacks), unless an object the record marked as not found has
 * arrived below one it calls complete: then it is too low, which can only
 * make gc list the store (or, as for the count itself, keep garbage).
 */
function markAgain(
  repo: Repo,
  roots: Root[],
  rec: ReachRecord,
  onProgress?: OnProgress,
): { count: number; read: number; next: ReachRecord | undefined } | undefined {
  const notMet = new Set(rec.roots);
  const seen = new Set<ObjectId>();
  const blobs = new IdPrefixSet();
  const decoded = new PrefixList();
  const missing = new PrefixList();
  let fresh = 0;
  let bad = false;
  const marking = progressOf('marking', 'objects');
  const known = (id: ObjectId) => rec.complete.has(id) || rec.others.has(id);
  const read = <T>(id: ObjectId, decode: (bytes: Uint8Array) => T): T | undefined => {
    try {
      return decode(repo.store.getSync(id));
    } catch (err) {
      if (notFound(err)) return undefined;
      if (!isTroveError(err, 'E_BAD_OBJECT') && !isTroveError(err, 'E_CORRUPT')) throw err;
      bad = true;
      return undefined;
    }
  };
  /** Whether `id` is to be read: met for the first time, and not complete in the record. */
  const meet = (id: ObjectId): boolean => {
    if (rec.complete.has(id) || seen.has(id)) return false;
    seen.add(id);
    if (!rec.others.has(id)) fresh++;
    return true;
  };
  const readAs = <T>(id: ObjectId, decode: (bytes: Uint8Array) => T): T | undefined => {
    const v = read(id, decode);
    if (v === undefined) missing.add(id);
    else decoded.add(id);
    if (onProgress) {
      marking.done = rec.complete.size + rec.others.size + fresh + blobs.size;
      onProgress(marking);
    }
    return v;
  };
  const tree = (root: ObjectId): void => {
    const stack = [root];
    while (stack.length > 0 && !bad) {
      const id = stack.pop()!;
      if (!meet(id)) continue;
      const t = readAs(id, decodeTree);
      if (!t) continue;
      for (const e of t.entries) {
        if (e.kind === 'dir') stack.push(e.id!);
        else if (e.kind === 'file' && !known(e.id!)) blobs.add(e.id!);
      }
    }
  };
  const todo = roots.map((r) => r.commit);
  while (todo.length > 0 && !bad) {
    const id = todo.pop()!;
    notMet.delete(id);
    if (!meet(id)) continue;
    const c = readAs(id, decodeCommit);
    if (!c) continue;
    tree(c.tree);
    todo.push(...commitsOf(c));
  }
  if (bad) return undefined;
  // A root of the record not met may still be reachable below a commit the record calls complete
  // (a ref deleted whose commit is an ancestor of another root's): the commits alone, walked again
  // without skipping, tell. Trees are not read; a commit that does not decode ends the attempt.
  if (notMet.size > 0) {
    const seenCommits = new Set<ObjectId>();
    const again = roots.map((r) => r.commit);
    while (again.length > 0 && notMet.size > 0) {
      const id = again.pop()!;
      if (seenCommits.has(id)) continue;
      seenCommits.add(id);
      notMet.delete(id);
      const c = read(id, decodeCommit);
      if (bad) return undefined;
      if (c) again.push(...commitsOf(c));
    }
    if (notMet.size > 0) return undefined;
  }
  const count = rec.complete.size + rec.others.size + fresh + blobs.size;
  const rootIds = [...new Set(roots.map((r) => r.commit))];
  // Nothing new and the same roots: the record stands as it is (next undefined).
  const recRoots = new Set(rec.roots);
  if (fresh === 0 && blobs.size === 0 && decoded.length === 0 && rootIds.length === recRoots.size && rootIds.every((r) => recRoots.has(r))) {
    return { count, read: 0, next: undefined };
  }
  const newlyRead = decoded.sorted();
  blobs.forEachPrefix((hi, lo) => missing.addPrefix(hi, lo));
  return {
    count,
    read: newlyRead.size,
    next: {
      roots: rootIds,
      complete: rec.complete.merge(newlyRead),
      // An object not found before and read now moves to the complete ones.
      others: rec.others.merge(missing.sorted(), newlyRead),
    },
  };
}

/**
 * Writes the record of a full mark for the next gc (readReach), or, when the
 * mark made none (an object did not decode), removes the old one. An old
 * record still says what its roots reach, but a full mark that found an
 * object undecodable counted less below it than the record does, and the
 * store's count follows that mark: the two would no longer agree, and the
 * record's larger number could then match a count that includes garbage.
 * A failure to write is ignored (the record only saves work), but not a
 * failure to remove: a stale record must not outlive such a mark.
 */
function recordReach(repo: Repo, rec: ReachRecord | undefined): void {
  if (!rec) {
    forgetReach(repo);
    return;
  }
  try {
    writeReach(repo, rec);
  } catch (err) {
    if (!isSystemError(err)) throw err;
    forgetReach(repo);
  }
}

/** What mark found reachable (blobs by their first 64 bits). */
interface Live {
  has(id: ObjectId): boolean;
  /**
   * How many objects it marked: commits and trees met (missing ones too),
   * blobs by distinct first 64 bits (two that share them count once).
   */
  count: number;
  /** Commits and trees read. */
  read: number;
  /** The record of this mark for the next gc, unless an object did not decode. */
  record(): ReachRecord | undefined;
}

/**
 * `<repo>/gc-count`: the objects a full sweep kept, and how far the added
 * log (DiskStore.noteAdded, `<repo>/objects-added`) had been read then.
 */
interface StoreCount {
  objects: number;
  logBytes: number;
}

const countPath = (repo: Repo) => join(repo.path, 'gc-count');

/**
 * The number of stored objects as counted (the last full sweep's count plus
 * the added log since), or undefined when there is no count (no full sweep
 * yet, or a record that does not parse).
 */
function countedObjects(repo: Repo): number | undefined {
  let rec: StoreCount;
  try {
    rec = JSON.parse(readFileSync(countPath(repo), 'utf8')) as StoreCount;
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(rec.objects) || !Number.isSafeInteger(rec.logBytes) || rec.objects < 0 || rec.logBytes < 0) return undefined;
  // A full sweep leaves the log there (empty): one that is gone was removed by hand, and
  // one shorter than recorded was replaced. No count either way.
  let log: Buffer;
  try {
    log = readFileSync(repo.store.addedLog ?? '');
  } catch {
    return undefined;
  }
  if (log.length < rec.logBytes) return undefined;
  let added = 0;
  for (const line of log.subarray(rec.logBytes).toString('latin1').split('\n')) {
    if (line === '') continue;
    const n = Number(line);
    if (!Number.isSafeInteger(n) || n < 0) return undefined;
    added += n;
  }
  return rec.objects + added;
}

/**
 * After a full sweep (under the exclusive lock: no writer is adding
 * objects), every stored object is reachable: the count becomes `marked`,
 * the mark's own number. It is the number the next mark is compared with,
 * so reachable objects missing from the store (counted by the mark, not
 * stored) are on both sides and cannot make a later gc skip garbage of the
 * same number. The count is written first, then the log emptied (opened
 * without following a symlink, created when missing); a crash in between
 * leaves a count that the old log's lines make too high. A failure of
 * either write is ignored: the gc has done its work, and an old count with
 * the whole log since it is too high too, so the next gc lists the store.
 */
function recordCount(repo: Repo, marked: number): void {
  try {
    writeFileAtomicSync(countPath(repo), `${JSON.stringify({ objects: marked, logBytes: 0 } satisfies StoreCount)}\n`, { tmpDir: repo.tmpDir, tag: 'gccount' });
    crashPoint('gc:counted');
    if (repo.store.addedLog !== undefined) closeSync(openSync(repo.store.addedLog, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644));
  } catch (err) {
    if (!isSystemError(err)) throw err;
  }
}

/**
 * When gc found the store's count equal to its mark (nothing is garbage),
 * the count becomes that number and the added log is emptied, as after a
 * full sweep (recordCount), so the log does not grow from one gc to the
 * next when none lists the store. Nothing to do when the log is empty.
 */
function foldLog(repo: Repo, marked: number): void {
  let size = 0;
  try {
    size = statSync(repo.store.addedLog ?? '').size;
  } catch {
    return;
  }
  if (size > 0) recordCount(repo, marked);
}

/** What a garbage object references, by trying to read it as a commit, then as a tree. */
function referencesOf(bytes: Uint8Array): { kind: 'commit' | 'tree' | 'blob'; refs: ObjectId[] } {
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch {
      return undefined;
    }
  };
  const c = attempt(() => decodeCommit(bytes));
  if (c) return { kind: 'commit', refs: [c.tree, ...commitsOf(c)] };
  const t = attempt(() => decodeTree(bytes));
  if (t) return { kind: 'tree', refs: t.entries.flatMap((e) => (e.id ? [e.id] : [])) };
  return { kind: 'blob', refs: [] };
}

async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
}

/**
 * Removes `checkouts/<name>` so that no crash leaves part of it there: it is
 * renamed into `tmp/` first (activation takes a directory at
 * `checkouts/<id>` as a whole checkout), then deleted; a crash in between
 * leaves it to the stale-temp sweep. A read-only view mounted there
 * (system/activation/checkouts.ts) is unmounted first, lazily: no link
 * points at it any more, and a process still running from it keeps what it
 * has open.
 */
async function removeCheckout(repo: Repo, name: string): Promise<void> {
  const path = join(repo.path, 'checkouts', name);
  for (const m of mountsUnder(path)) unmount(m, { lazy: true });
  // A view mounted twice (two activations racing) is two mounts on one point.
  while (mountsUnder(path).length > 0) unmount(path, { lazy: true });
  const doomed = tempName(repo.tmpDir, 'oldcheckout');
  try {
    await rename(path, doomed);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return;
    throw err;
  }
  crashPoint('gc:checkout-moved');
  await rm(doomed, { recursive: true, force: true });
}

/**
 * Removes variant files and symlinks that no checkout links to (link count
 * 1). Blocking, as fsck's walk of the same directories: a system's
 * variants are a few thousand entries (a symlink for each target and
 * owner), which one promise each made about 0.2 s of every gc.
 */
function sweepVariants(repo: Repo, dryRun: boolean, onRemove: GcOptions['onRemove']): { files: number; bytes: number } {
  const out = { files: 0, bytes: 0 };
  const base = join(repo.path, 'variants');
  for (const key of listDirSync(base)) {
    for (const shard of listDirSync(join(base, key))) {
      for (const name of listDirSync(join(base, key, shard))) {
        const path = join(base, key, shard, name);
        const st = lstatSync(path, { throwIfNoEntry: false });
        if (!st || (!st.isFile() && !st.isSymbolicLink()) || st.nlink > 1) continue;
        out.files++;
        out.bytes += st.size;
        onRemove?.('variant', `${key}/${shard}${name}`, st.size);
        if (!dryRun) rmSync(path, { force: true });
      }
    }
  }
  return out;
}

/**
 * Deletes every object unreachable from the roots that `opts.roots` lists (read
 * under the exclusive repository lock; the CLI passes every ref, profile
 * generation, active commit and bisect in progress).
 * Garbage is deleted referrers first (commits, then trees, then blobs, in
 * dependency order), so a gc killed midway never leaves an object whose
 * references are gone. Also removes checkouts of commits no longer kept and
 * variant files no checkout uses.
 */
export interface GcOptions {
  roots: RootSource;
  dryRun?: boolean;
  onWait?: () => void;
  /**
   * Progress: phase `marking` (objects found reachable, total unknown),
   * `scanning` (stored objects looked at, bytes of garbage found), then
   * `deleting` (garbage objects and bytes deleted, against their totals).
   */
  onProgress?: OnProgress;
  /** List the store even when the count says every object is reachable (see GcReport.listed). */
  full?: boolean;
  /** Each thing removed (or, with dryRun, that would be): an object by kind, a checkout, a variant file. */
  onRemove?: (what: 'commit' | 'tree' | 'blob' | 'checkout' | 'variant', name: string, bytes: number) => void;
}

export async function gc(repo: Repo, opts: GcOptions): Promise<GcReport> {
  const dryRun = opts.dryRun ?? false;
  const release = await repo.lock('exclusive', { onWait: opts.onWait });
  try {
    // Records of partial commits that are not stored (a gc removed them, or the writer that recorded one
    // failed before storing it): no writer is at work under this lock, so none is about to be.
    if (!dryRun) clearPartial(repo.path, [...readPartials(repo.path).keys()].filter((id) => !repo.store.hasSync(id)));
    // And the access traces of commits it does not hold (one is written for every commit the view serves).
    if (!dryRun) clearTraces(repo.path, (id) => !repo.store.hasSync(id));
    const roots = await opts.roots(repo);
    const undecodable: GcReport['undecodable'] = [];
    // When the store's count is known, the last gc's record may show that nothing is garbage
    // without reading what it covers; otherwise (or when it does not match) the full mark.
    // The count takes reachable objects missing from the store on both sides; the blobs a partial commit
    // lacks are many and come and go, so while any commit is partial the store is listed.
    const counted = opts.full || hasPartials(repo.path) ? undefined : countedObjects(repo);
    const rec = counted === undefined ? undefined : readReach(repo);
    let again = rec ? markAgain(repo, roots, rec, opts.onProgress) : undefined;
    if (again && again.count !== counted) again = undefined;
    const live = again ? undefined : mark(repo, roots, undecodable, opts.onProgress);
    const report: GcReport = {
      undecodable,
      dryRun,
      listed: true,
      reused: again !== undefined,
      treesRead: again?.read ?? live!.read,
      kept: 0,
      deleted: { objects: 0, bytes: 0, commits: 0, trees: 0, blobs: 0 },
      checkouts: [],
      variants: { files: 0, bytes: 0 },
    };

    // Checkouts stay for profile generations, active commits and a bisect in progress; not for refs.
    const keep = new Set(roots.filter((r) => !r.name.startsWith('refs/')).map((r) => r.commit));
    // `<id>` and its hard-link tree `<id>.links` go together.
    for (const name of await listDir(join(repo.path, 'checkouts'))) {
      const id = name.slice(0, 64);
      if (keep.has(id)) continue;
      if (!report.checkouts.includes(id)) {
        report.checkouts.push(id);
        opts.onRemove?.('checkout', id, 0);
      }
      if (!dryRun) await removeCheckout(repo, name);
      crashPoint('gc:checkout-removed');
    }
    report.variants = sweepVariants(repo, dryRun, opts.onRemove);
    crashPoint('gc:variants-swept');

    // Every stored object reachable, by the count: nothing to list (see StoreCount).
    if (again) {
      // No next record: nothing new, and the record stands as it is.
      if (!dryRun && again.next) recordReach(repo, again.next);
      if (!dryRun) foldLog(repo, again.count);
      report.listed = false;
      report.kept = again.count;
      return report;
    }
    if (!live) throw new Error('gc: no mark');
    if (counted === live.count) {
      if (!dryRun) recordReach(repo, live.record());
      if (!dryRun) foldLog(repo, live.count);
      report.listed = false;
      report.kept = live.count;
      return report;
    }

    const garbage = new Map<ObjectId, { refs: ObjectId[]; size: number }>();
    const onProgress = opts.onProgress;
    const scanning = progressOf('scanning', 'objects');
    for (const id of repo.store.listSync()) {
      if (onProgress) {
        scanning.done++;
        scanning.bytes = report.deleted.bytes;
        onProgress(scanning);
      }
      if (live.has(id)) {
        report.kept++;
        continue;
      }
      // Blocking: one promise per garbage object cost a round trip through the thread pool each.
      const size = repo.store.sizeOfSync(id);
      const parsed = size <= PARSE_MAX ? referencesOf(repo.store.getUnverifiedSync(id)) : { kind: 'blob' as const, refs: [] };
      garbage.set(id, { refs: parsed.refs, size });
      report.deleted[`${parsed.kind}s`]++;
      report.deleted.objects++;
      report.deleted.bytes += size;
      opts.onRemove?.(parsed.kind, id, size);
    }
    if (dryRun) return report;
    // Before anything is deleted: derived data recorded in an older epoch (the stat cache) stops
    // being trusted to name objects that exist, and the last mark's record goes (written again
    // from this mark at the end; a gc killed in between leaves none, so the next one marks all).
    if (garbage.size > 0) {
      forgetReach(repo);
      await repo.bumpGcEpoch();
    }
    crashPoint('gc:epoch-bumped');

    // Kahn's order over the garbage graph: an object goes only once no remaining garbage references it.
    const referrers = new Map<ObjectId, number>();
    for (const { refs } of garbage.values()) for (const r of refs) if (garbage.has(r)) referrers.set(r, (referrers.get(r) ?? 0) + 1);
    let wave = [...garbage.keys()].filter((id) => !referrers.has(id));
    const io = limiter(16);
    const deleting = progressOf('deleting', 'objects', garbage.size, report.deleted.bytes);
    while (wave.length > 0) {
      await Promise.all(wave.map((id) => io(() => repo.store.delete(id).then(() => crashPoint('gc:delete')))));
      if (onProgress) {
        deleting.done += wave.length;
        for (const id of wave) deleting.bytes += garbage.get(id)!.size;
        onProgress(deleting);
      }
      crashPoint('gc:wave');
      const next: ObjectId[] = [];
      for (const id of wave) {
        for (const r of garbage.get(id)!.refs) {
          const n = referrers.get(r);
          if (n === undefined) continue;
          if (n === 1) {
            referrers.delete(r);
            next.push(r);
          } else referrers.set(r, n - 1);
        }
        garbage.delete(id);
      }
      wave = next;
    }
    recordCount(repo, live.count);
    recordReach(repo, live.record());
    return report;
  } finally {
    await release();
  }
}
