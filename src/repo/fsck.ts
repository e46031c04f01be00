import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, type Stats, statSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { IdPrefixMap, IdPrefixSet } from '../util/id-set.js';
import { decodeCommit, decodeTree } from '../format/codec.js';
import { hashBytes, isObjectId, type ObjectId } from '../util/hash.js';
import { hashFileSync } from '../util/hash-file.js';
import { isPublicMode, type ObjectFiles } from '../store/types.js';
import type { Repo } from './repo.js';
import { listRefsChecked } from './resolve.js';
import { readPartials } from './partial.js';
import type { RootSource } from './roots.js';
import { type OnProgress, progressOf } from '../util/progress.js';

export type ObjectKind = 'commit' | 'tree' | 'blob';

export interface FsckProblem {
  /** The object; absent for an `invalid-ref` (a ref file that holds no id). */
  id?: ObjectId;
  kind?: ObjectKind;
  /** Where it is referenced from: a root name and a path. */
  where?: string;
  /** A blob's size as its tree records it. */
  size?: number;
  problem: 'corrupt' | 'missing' | 'invalid' | 'size-mismatch' | 'invalid-ref' | 'corrupt-variant' | 'readable-private';
  detail: string;
}

export interface FsckReport {
  objects: number;
  bytes: number;
  commits: number;
  trees: number;
  blobs: number;
  problems: FsckProblem[];
  /**
   * Blobs some tree shows to other users whose object file is still private
   * (pulled or fetched before a public reference was met): not a problem,
   * but a server refuses them; `fsck --repair` publishes them.
   */
  unpublished: ObjectId[];
  /**
   * With `since`: when the clean check this one went from started (seconds
   * since the epoch), and what it took as checked then and unchanged since:
   * objects not re-hashed, trees not walked again. null for a full check.
   */
  since: number | null;
  unchangedSince: { objects: number; trees: number } | null;
  /**
   * Blobs of partial commits (a lazy install or upgrade, see repo/partial.ts)
   * not fetched yet: no problem, the view fetches them on read and `trove
   * fetch` brings the rest. `commits`: the partial commits.
   */
  notFetched: { objects: number; bytes: number; commits: ObjectId[] };
  ok: boolean;
}

export interface FsckOptions {
  roots: RootSource;
  /**
   * Progress: phase `hashing` (objects and bytes re-hashed, total unknown),
   * then `checking` (commits, trees and blobs reached from the roots).
   */
  onProgress?: OnProgress;
  /**
   * Check only what changed since the last clean check (`fsck --since`, see
   * CleanRecord): objects whose file changed since it are re-hashed, trees it
   * walked are not walked again. Without a record, a full check.
   */
  since?: boolean;
}

/**
 * What a clean check leaves for `fsck --since` in `<repo>/fsck-clean.json`:
 * when it started (ms) and every tree it walked. A check that finds any
 * problem deletes it, so that a later `--since` never goes from a state that
 * was not sound.
 */
interface CleanRecord {
  started: number;
  trees: ObjectId[];
}

const CLEAN_FILE = 'fsck-clean.json';

/**
 * Object files changed in the second before a check started may not show a
 * later time than its start (coarse file timestamps): they are re-hashed.
 */
const SINCE_MARGIN_MS = 2000;

async function readClean(repo: Repo): Promise<CleanRecord | undefined> {
  try {
    const r = JSON.parse(await readFile(join(repo.path, CLEAN_FILE), 'utf8')) as Partial<CleanRecord>;
    if (typeof r.started !== 'number' || !Array.isArray(r.trees) || !r.trees.every((t) => typeof t === 'string' && isObjectId(t))) return undefined;
    return { started: r.started, trees: r.trees };
  } catch (err) {
    if (isErrno(err, 'ENOENT') || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/**
 * Writes (or, with null, deletes) the record. A user who may read the
 * repository but not write it still gets the check, and the record stays as
 * it was: a problem such a user's check found is seen by a later `--since` of
 * the owner only if the bad object's file changed since the record (a full
 * fsck sees it).
 */
async function recordClean(repo: Repo, record: CleanRecord | null): Promise<void> {
  try {
    if (record) await writeFileAtomic(join(repo.path, CLEAN_FILE), JSON.stringify(record), { tmpDir: repo.tmpDir });
    else await rm(join(repo.path, CLEAN_FILE), { force: true });
  } catch (err) {
    if (!isErrno(err, 'EACCES') && !isErrno(err, 'EPERM') && !isErrno(err, 'EROFS')) throw err;
  }
}

/**
 * Checks the whole repository: re-hashes every stored object against its
 * name, then walks every commit reachable from the roots and checks that each
 * referenced object exists, decodes, and (for blobs) has the recorded size.
 */
export async function fsck(repo: Repo, opts: FsckOptions): Promise<FsckReport> {
  const started = Date.now();
  const clean = opts.since ? await readClean(repo) : undefined;
  /** Files changed after this (ms) are checked again; undefined: everything is. */
  const after = clean ? clean.started - SINCE_MARGIN_MS : undefined;
  const cleanTrees = new Set(clean?.trees);
  const report: FsckReport = {
    objects: 0,
    bytes: 0,
    commits: 0,
    trees: 0,
    blobs: 0,
    problems: [],
    unpublished: [],
    since: clean ? Math.floor(clean.started / 1000) : null,
    unchangedSince: clean ? { objects: 0, trees: 0 } : null,
    notFetched: { objects: 0, bytes: 0, commits: [] },
    ok: true,
  };
  const partials = readPartials(repo.path);
  // Object files are re-hashed as streams and blob sizes read by stat, without loading the bytes.
  const files: ObjectFiles = repo.store;
  const corrupt = new Set<ObjectId>();
  const onProgress = opts.onProgress;
  const hashing = progressOf('hashing', 'objects');
  /** Whether a file with these times changed since the clean check (always true for a full check). */
  const changedSince = (st: Stats): boolean => after === undefined || Math.max(st.ctimeMs, st.mtimeMs) > after;
  const changed = (path: string): boolean => {
    if (after === undefined) return true;
    const st = statSync(path, { throwIfNoEntry: false });
    return !st || changedSince(st);
  };
  for (const id of repo.store.listSync()) {
    const path = files.pathOf(id);
    if (!changed(path)) {
      report.unchangedSince!.objects++;
      continue;
    }
    const { id: actual, size } = hashFileSync(path);
    report.objects++;
    report.bytes += size;
    if (onProgress) {
      hashing.done = report.objects;
      hashing.bytes = report.bytes;
      onProgress(hashing);
    }
    if (actual !== id) {
      corrupt.add(id);
      report.problems.push({ id, problem: 'corrupt', detail: `content hashes to ${actual}` });
    }
  }

  // Commits and trees exactly, one set per kind: an id first met as a tree must still be checked when
  // a ref claims it is a commit. Blobs, most of a store, by their first 64 bits (IdPrefixMap, 24-48
  // bytes each), with the size the first tree naming them gave: met again with that size, not again.
  const seen = { commit: new Set<ObjectId>(), tree: new Set<ObjectId>(), blob: new IdPrefixMap(1 << 16) };
  const problem = (p: FsckProblem) => report.problems.push(p);
  const checking = progressOf('checking', 'objects');
  const tick = () => {
    if (!onProgress) return;
    checking.done = report.commits + report.trees + report.blobs;
    onProgress(checking);
  };
  // Blocking throughout: trees and commits are small, and a read through libuv's threads costs more.
  const load = (id: ObjectId, kind: ObjectKind, where: string, size?: number): Uint8Array | undefined => {
    if (corrupt.has(id)) {
      const prev = report.problems.find((p) => p.id === id && p.problem === 'corrupt');
      if (prev && !prev.where) Object.assign(prev, size === undefined ? { kind, where } : { kind, where, size });
      return undefined;
    }
    try {
      return readFileSync(files.pathOf(id));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) {
        problem({ id, kind, where, problem: 'missing', detail: `${kind} is not in the store` });
        return undefined;
      }
      throw err;
    }
  };
  /** Walked by the clean check, and its object unchanged since (else it was re-hashed above). */
  const trusted = (tree: ObjectId) => cleanTrees.has(tree) && !corrupt.has(tree) && existsSync(files.pathOf(tree));

  /**
   * Private files (docs/security.md): a blob is public when some reachable
   * tree shows it to other users (the file readable by others, every
   * directory above it, the root included, searchable by others), else
   * private; a private blob's object file must not be readable by others.
   * `shown` holds the blobs some tree shows, found before the walk below
   * judges each blob it meets. With `since`, only trees not trusted are
   * looked at, so a blob shown only through trusted trees is not known to
   * be shown: the walk then reports no `readable-private` (a full check does).
   */
  const shown = new IdPrefixSet(1 << 16);
  const findShown = (openRoots: ObjectId[]): void => {
    const walked = new Set<ObjectId>();
    const stack = [...openRoots];
    while (stack.length > 0) {
      const tree = stack.pop()!;
      if (walked.has(tree) || corrupt.has(tree) || trusted(tree)) continue;
      walked.add(tree);
      let entries: ReturnType<typeof decodeTree>['entries'];
      try {
        entries = decodeTree(readFileSync(files.pathOf(tree))).entries;
      } catch {
        continue; // reported by the walk below
      }
      for (const e of entries) {
        if (e.kind === 'dir' && (e.mode & 0o001) !== 0) stack.push(e.id!);
        else if (e.kind === 'file' && (e.mode & 0o004) !== 0) shown.add(e.id!);
      }
    }
  };
  const judgePrivacy = (id: ObjectId, where: string, st: Stats) => {
    if (!changedSince(st)) return;
    if (isPublicMode(st.mode) && !shown.has(id)) {
      if (after !== undefined) return;
      problem({
        id,
        kind: 'blob',
        where,
        problem: 'readable-private',
        detail: `no tree shows this content to other users, but its object file is mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')} (readable by them); fsck --repair makes it private`,
      });
    } else if (!isPublicMode(st.mode) && shown.has(id)) report.unpublished.push(id);
  };

  /** Trees walked under partial commits: not recorded as clean, since blobs below them are still to come. */
  const lazyTrees = new Set<ObjectId>();
  const checkTree = (id: ObjectId, where: string, lazy = false): void => {
    if (seen.tree.has(id)) return;
    seen.tree.add(id);
    if (lazy) lazyTrees.add(id);
    if (trusted(id)) {
      report.unchangedSince!.trees++;
      return;
    }
    report.trees++;
    tick();
    const bytes = load(id, 'tree', where);
    if (!bytes) return;
    let entries: ReturnType<typeof decodeTree>['entries'];
    try {
      entries = decodeTree(bytes).entries;
    } catch (err) {
      problem({ id, kind: 'tree', where, problem: 'invalid', detail: (err as Error).message });
      return;
    }
    // One entry after another, depth first: only the trees on the path down are held decoded.
    for (const e of entries) {
      const path = `${where}/${e.name}`;
      if (e.kind === 'dir') {
        checkTree(e.id!, path, lazy);
        continue;
      }
      if (e.kind !== 'file') continue;
      const met = seen.blob.get(e.id!);
      if (met === e.size) continue;
      const first = met === undefined;
      if (first) seen.blob.set(e.id!, e.size!);
      report.blobs++;
      tick();
      if (corrupt.has(e.id!)) {
        load(e.id!, 'blob', path, e.size);
        continue;
      }
      const st = statSync(files.pathOf(e.id!), { throwIfNoEntry: false });
      if (!st) {
        if (lazy) {
          report.notFetched.objects++;
          report.notFetched.bytes += e.size!;
        } else problem({ id: e.id!, kind: 'blob', where: path, size: e.size, problem: 'missing', detail: 'blob is not in the store' });
        continue;
      }
      if (st.size !== e.size) problem({ id: e.id!, kind: 'blob', where: path, size: e.size, problem: 'size-mismatch', detail: `tree says ${e.size} bytes, object has ${st.size}` });
      if (first) judgePrivacy(e.id!, path, st);
    }
  };

  /** Reachable commits, checked; their trees are walked once every commit is known (see `shown`). */
  const walks: { tree: ObjectId; where: string; lazy: boolean }[] = [];
  const openRoots: ObjectId[] = [];
  const checkCommit = (id: ObjectId, where: string): void => {
    while (!seen.commit.has(id)) {
      seen.commit.add(id);
      report.commits++;
      tick();
      const bytes = load(id, 'commit', where);
      if (!bytes) return;
      let commit: ReturnType<typeof decodeCommit>;
      try {
        commit = decodeCommit(bytes);
      } catch (err) {
        problem({ id, kind: 'commit', where, problem: 'invalid', detail: `does not decode as a commit: ${(err as Error).message}` });
        return;
      }
      walks.push({ tree: commit.tree, where: `${where}@${id.slice(0, 12)}:`, lazy: partials.has(id) });
      if (partials.has(id)) report.notFetched.commits.push(id);
      if ((commit.root.mode & 0o001) !== 0) openRoots.push(commit.tree);
      for (const other of commit.parents.slice(1)) checkCommit(other, where);
      const parent = commit.parents[0];
      if (!parent) return;
      id = parent;
    }
  };

  for (const v of checkVariants(repo.path)) problem(v);
  for (const ns of ['heads', 'remotes']) {
    for (const bad of (await listRefsChecked(repo, ns)).bad) problem({ where: `refs/${ns}/${bad.name}`, problem: 'invalid-ref', detail: bad.error });
  }
  for (const root of await opts.roots(skippingBadRefs(repo))) checkCommit(root.commit, root.name);
  findShown(openRoots);
  // Partial commits' trees first: a blob they lack is not yet fetched, wherever else it is met.
  for (const w of walks) if (w.lazy) checkTree(w.tree, w.where, true);
  for (const w of walks) if (!w.lazy) checkTree(w.tree, w.where);
  report.ok = report.problems.length === 0;
  await recordClean(repo, report.ok ? { started, trees: [...seen.tree].filter((t) => !lazyTrees.has(t)) } : null);
  return report;
}

/**
 * Re-checks the checkout variants (docs/format.md): a file variant must hash
 * to the object id it is named by, a symlink variant's target to its name.
 * They are hard-linked into checkouts, so a write through a `--hardlink`
 * checkout lands in them; `fsck --repair` deletes a bad one (derived data:
 * the next checkout makes it again from the object).
 */
export function checkVariants(repoPath: string): FsckProblem[] {
  const out: FsckProblem[] = [];
  const base = join(repoPath, 'variants');
  const list = (dir: string) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  for (const key of list(base)) {
    for (const shard of list(join(base, key))) {
      for (const rest of list(join(base, key, shard))) {
        const path = join(base, key, shard, rest);
        const name = `${shard}${rest}`;
        if (!isObjectId(name)) continue;
        const st = lstatSync(path);
        const actual = st.isSymbolicLink() ? hashBytes(Buffer.from(readlinkSync(path), 'utf8')) : st.isFile() ? hashFileSync(path).id : null;
        if (actual === name) continue;
        const where = `variants/${key}/${shard}/${rest}`;
        out.push({ id: name, where, problem: 'corrupt-variant', detail: actual === null ? 'not a file or symlink' : `content hashes to ${actual}` });
      }
    }
  }
  return out;
}

/**
 * `repo` seen through refs whose listing skips ref files that hold no id
 * (fsck reports those itself), so that every other root is still checked.
 * The roots themselves are the caller's, the very set gc keeps.
 */
export function skippingBadRefs(repo: Repo): Repo {
  const list = async (ns = 'heads') => (await listRefsChecked(repo, ns)).refs;
  return Object.create(repo, { refs: { value: Object.create(repo.refs, { list: { value: list } }) } }) as Repo;
}

