import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isErrno, usage } from '../util/errors.js';
import { isObjectId, type ObjectId } from '../util/hash.js';
import { writeFileAtomicSync } from '../util/fs-atomic.js';
import { listDirSync } from '../util/path-exists.js';
import { decodeCommit, decodeTree } from '../format/codec.js';
import type { GetSyncStore, ObjectFiles } from '../store/types.js';
import type { TreeEntry } from '../format/types.js';

/**
 * Partial commits (docs/distribution.md, "Lazy installs"): commits stored
 * with their trees but not every blob, because a lazy pull left the blobs on
 * a remote. `<repo>/partial/<commit>` names the remotes they are expected
 * from. A record is written before the first tree of its commit is stored
 * and removed only once every blob under the commit is, so a crash in
 * between leaves a record, never an incomplete commit without one.
 *
 * While any record exists, a stored tree no longer implies that everything
 * under it is stored: pulls then walk stored trees too (ObjectFetcher's
 * `descend`), fsck reports the blobs a partial commit lacks as not yet
 * fetched instead of missing, and checkouts of a partial commit are refused.
 */
export interface PartialRecord {
  /** Remotes its missing blobs are expected from, in the order to try them. */
  remotes: string[];
  /** When the lazy pull recorded it (seconds since the epoch). */
  time: number;
}

export const PARTIAL_DIR = 'partial';

const recordPath = (repoPath: string, commit: ObjectId) => join(repoPath, PARTIAL_DIR, commit);

/** Every partial commit of the repository with its record; an unreadable record counts, expected from no remote. */
export function readPartials(repoPath: string): Map<ObjectId, PartialRecord> {
  const out = new Map<ObjectId, PartialRecord>();
  for (const name of listDirSync(join(repoPath, PARTIAL_DIR))) {
    if (!isObjectId(name)) continue;
    const rec = readPartial(repoPath, name);
    if (rec) out.set(name, rec);
  }
  return out;
}

/** The record of `commit`, or undefined when it is complete. */
export function readPartial(repoPath: string, commit: ObjectId): PartialRecord | undefined {
  let text: string;
  try {
    text = readFileSync(recordPath(repoPath, commit), 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  try {
    const r = JSON.parse(text) as Partial<PartialRecord>;
    const remotes = Array.isArray(r.remotes) ? r.remotes.filter((x): x is string => typeof x === 'string') : [];
    return { remotes, time: typeof r.time === 'number' ? r.time : 0 };
  } catch {
    // A torn or edited record still marks the commit partial: only its remotes are unknown.
    return { remotes: [], time: 0 };
  }
}

/**
 * E_USAGE for a checkout of a partial commit: its files are not all here,
 * and only the view can show it (fetching them on read).
 */
export function assertComplete(repoPath: string, commit: ObjectId): void {
  refusePartial(repoPath, commit, ' (a lazy install or upgrade), so it can be shown only through the view; run trove mount first, or bring its files with: trove fetch --wait');
}

/**
 * E_USAGE for an activation of a partial commit that did not ask for one
 * (`--lazy`): it would run through the view, fetching files from the network
 * as they are read.
 */
export function assertNotPartial(repoPath: string, commit: ObjectId): void {
  refusePartial(repoPath, commit, `; trove fetch ${commit.slice(0, 12)} brings them first, or activate it with --lazy (trove switch --lazy) to run it through the view as they arrive`);
}

/** E_USAGE naming where a partial commit's files are, then `what to do`; nothing when `commit` is complete. */
function refusePartial(repoPath: string, commit: ObjectId, whatToDo: string): void {
  const rec = readPartial(repoPath, commit);
  if (rec) throw usage(`commit ${commit} is partial: its files are still on ${rec.remotes.join(', ') || 'a remote'}${whatToDo}`, { id: commit });
}

/** True when some commit of the repository is partial. */
export function hasPartials(repoPath: string): boolean {
  return listDirSync(join(repoPath, PARTIAL_DIR)).some((n) => isObjectId(n));
}

/** Records `commits` as partial, expected from `remotes` (merged with what an existing record names). */
export function markPartial(repoPath: string, tmpDir: string, commits: Iterable<ObjectId>, remotes: string[]): void {
  for (const commit of commits) {
    const had = readPartial(repoPath, commit);
    const rec: PartialRecord = { remotes: [...new Set([...(had?.remotes ?? []), ...remotes])], time: Math.floor(Date.now() / 1000) };
    writeFileAtomicSync(recordPath(repoPath, commit), `${JSON.stringify(rec)}\n`, { tmpDir, tag: 'partial', mkdir: true });
  }
}

/** Removes the records of `commits`: every blob under each is stored. */
export function clearPartial(repoPath: string, commits: Iterable<ObjectId>): void {
  for (const commit of commits) rmSync(recordPath(repoPath, commit), { force: true });
}

/**
 * Records a commit built from others (a generation from its packages) as
 * partial when any of them is, expected from the remotes they are; true when
 * it did. Called right after the commit is stored, before it is activated.
 */
export function inheritPartial(repoPath: string, tmpDir: string, commit: ObjectId, from: Iterable<ObjectId>): boolean {
  if (!hasPartials(repoPath)) return false;
  const remotes: string[] = [];
  let partial = false;
  for (const id of from) {
    const rec = readPartial(repoPath, id);
    if (!rec) continue;
    partial = true;
    remotes.push(...rec.remotes);
  }
  if (partial) markPartial(repoPath, tmpDir, [commit], [...new Set(remotes)]);
  return partial;
}

/**
 * Each file entry of a commit whose blob was not met before under it (so each
 * blob once), walking its trees with blocking reads.
 */
export function* commitFiles(store: GetSyncStore, commit: ObjectId): Generator<TreeEntry> {
  const seenTrees = new Set<ObjectId>();
  const seenBlobs = new Set<ObjectId>();
  const stack = [decodeCommit(store.getSync(commit)).tree];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seenTrees.has(id)) continue;
    seenTrees.add(id);
    for (const e of decodeTree(store.getSync(id)).entries) {
      if (e.kind === 'dir') stack.push(e.id!);
      else if (e.kind === 'file' && !seenBlobs.has(e.id!)) {
        seenBlobs.add(e.id!);
        yield e;
      }
    }
  }
}

/** The blobs of a partial commit still missing from the store (each counted once). */
export function remainingOf(repo: { store: GetSyncStore & Pick<ObjectFiles, 'pathOf'> }, commit: ObjectId): { objects: number; bytes: number } {
  const out = { objects: 0, bytes: 0 };
  for (const e of commitFiles(repo.store, commit)) {
    if (statSync(repo.store.pathOf(e.id!), { throwIfNoEntry: false })) continue;
    out.objects++;
    out.bytes += e.size!;
  }
  return out;
}

/**
 * `<repo>/traces/<commit>`: the blobs the view saw read first after a lazy
 * activation of the commit, one id per line (written by fuse/trace.ts).
 */
export const TRACES_DIR = 'traces';

/**
 * The order to fetch blobs in when completing `commit`: its own trace
 * first, then the other traces, newest first (they name the same blobs
 * when the generations share packages). Maps each blob id to its rank.
 */
export function traceRank(repoPath: string, commit: ObjectId): Map<ObjectId, number> {
  const rank = new Map<ObjectId, number>();
  for (const e of traceEntries(repoPath, commit)) rank.set(e.id, rank.size);
  return rank;
}

/** Removes the traces of the commits `gone` says are gone. */
export function clearTraces(repoPath: string, gone: (commit: ObjectId) => boolean): void {
  for (const n of listDirSync(join(repoPath, TRACES_DIR))) if (isObjectId(n) && gone(n)) rmSync(join(repoPath, TRACES_DIR, n), { force: true });
}

/** The bytes of `traces/<commit>`, or undefined when the view recorded none. */
export function readTraceFile(repoPath: string, commit: ObjectId): Buffer | undefined {
  try {
    return readFileSync(join(repoPath, TRACES_DIR, commit));
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

/** Writes `traces/<commit>` (a trace fetched from the server that published the generation). */
export function writeTraceFile(repoPath: string, tmpDir: string, commit: ObjectId, bytes: Uint8Array): void {
  writeFileAtomicSync(join(repoPath, TRACES_DIR, commit), bytes, { tmpDir, tag: 'trace' });
}

/**
 * The blobs of `traceRank`, in its order, with their sizes where the trace
 * gives them (`<id> <size>` per line; a line of an id alone has none).
 */
export function traceEntries(repoPath: string, commit: ObjectId): { id: ObjectId; size?: number }[] {
  const dir = join(repoPath, TRACES_DIR);
  const names = listDirSync(dir).filter((n) => isObjectId(n));
  const mtime = (n: string) => statSync(join(dir, n), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const ordered = names.filter((n) => n !== commit).sort((a, b) => mtime(b) - mtime(a));
  if (names.includes(commit)) ordered.unshift(commit);
  const seen = new Set<ObjectId>();
  const out: { id: ObjectId; size?: number }[] = [];
  for (const n of ordered) {
    let text = '';
    try {
      text = readFileSync(join(dir, n), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const [id, size] = line.split(' ');
      if (id === undefined || !isObjectId(id) || seen.has(id)) continue;
      seen.add(id);
      const n = Number(size);
      out.push(size !== undefined && Number.isSafeInteger(n) && n >= 0 ? { id, size: n } : { id });
    }
  }
  return out;
}
