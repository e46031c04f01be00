import { readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { isObjectId, type ObjectId } from '../util/hash.js';
import { decodeCommit, decodeTree } from '../format/codec.js';
import type { ObjectKind } from './fsck.js';
import type { Repo } from './repo.js';
import type { RootSource } from './roots.js';
import { pathExists } from '../util/path-exists.js';

/*
 * `<repo>/quarantine/`: objects `fsck --repair` could not heal. A corrupt
 * object file is moved here (never deleted: its bytes may be evidence), so
 * the store no longer believes it has the object and the next write of the
 * same id (pkg add, commit, pull) stores it again. Each id has a record,
 * `<id>.json`, saying what was wrong and which commits and paths need it.
 * Layout: docs/format.md.
 */

/** A place that needs an object: a root, a commit reachable from it, and a path in that commit's tree. */
export interface Needer {
  /** The root, e.g. `refs/heads/main` or `profiles/system/3`. */
  root: string;
  /** The commit (the object itself, when the object is a commit). */
  commit: ObjectId;
  /** Path in the commit's tree (`/` for the root tree); absent when the object is the commit. */
  path?: string;
}

/** The places that need each object, at most `limit` of them, and how many more there are. */
export interface Needers {
  neededBy: Needer[];
  more: number;
}

/** One attempt to fetch an object from somewhere, as the record keeps it. */
export interface SourceAttempt {
  source: string;
  outcome: 'not-found' | 'did-not-verify' | 'error';
  detail: string;
}

/** `<repo>/quarantine/<id>.json`. */
export interface QuarantineRecord {
  id: ObjectId;
  kind?: ObjectKind;
  /** A blob's size as its tree records it. */
  size?: number;
  /** What fsck found: `corrupt` (the file's bytes hash to something else) or `missing` (no file). */
  problem: 'corrupt' | 'missing';
  detail: string;
  /** Names in quarantine/ of corrupt files moved there for this id, oldest first. */
  files: string[];
  /** When the record was last written (ISO 8601). */
  updated: string;
  neededBy: Needer[];
  /** Needers beyond those listed. */
  moreNeeders: number;
  /** Where the object was looked for, and why each failed. */
  tried: SourceAttempt[];
}

export function quarantineDir(repo: Repo): string {
  return join(repo.path, 'quarantine');
}

/**
 * Where the ids in `bad` are needed from the roots: for each root, every
 * commit in its history whose tree reaches a bad object, with the path
 * (the first `limit` per object; the rest only counted). Bad objects are not
 * read (their bytes cannot be trusted); other unreadable objects are skipped.
 */
export async function findNeeders(repo: Repo, roots: RootSource, bad: Set<ObjectId>, limit = 50): Promise<Map<ObjectId, Needers>> {
  const out = new Map<ObjectId, Needers>();
  for (const id of bad) out.set(id, { neededBy: [], more: 0 });
  const note = (id: ObjectId, n: Needer) => {
    const e = out.get(id)!;
    if (e.neededBy.length < limit) e.neededBy.push(n);
    else e.more++;
  };
  /** Bad ids under each tree, with their paths relative to it. */
  const trees = new Map<ObjectId, { id: ObjectId; path: string }[]>();
  const underTree = async (id: ObjectId): Promise<{ id: ObjectId; path: string }[]> => {
    const known = trees.get(id);
    if (known) return known;
    const found: { id: ObjectId; path: string }[] = [];
    trees.set(id, found); // trees cannot contain themselves, but a corrupt store might claim so
    if (bad.has(id)) {
      found.push({ id, path: '/' });
      return found;
    }
    let entries: ReturnType<typeof decodeTree>['entries'];
    try {
      entries = decodeTree(await repo.store.getUnverified(id)).entries;
    } catch {
      return found; // fsck reports unreadable trees
    }
    for (const e of entries) {
      if (e.kind === 'file' && bad.has(e.id!)) found.push({ id: e.id!, path: `/${e.name}` });
      else if (e.kind === 'dir') {
        for (const sub of await underTree(e.id!)) found.push({ id: sub.id, path: sub.path === '/' ? `/${e.name}` : `/${e.name}${sub.path}` });
      }
    }
    return found;
  };
  const commits = new Map<ObjectId, { bad: { id: ObjectId; path?: string }[]; parents: ObjectId[] }>();
  const readCommit = async (id: ObjectId) => {
    const known = commits.get(id);
    if (known) return known;
    let entry: { bad: { id: ObjectId; path?: string }[]; parents: ObjectId[] } = { bad: [], parents: [] };
    if (bad.has(id)) entry = { bad: [{ id }], parents: [] };
    else {
      try {
        const c = decodeCommit(await repo.store.getUnverified(id));
        entry = { bad: await underTree(c.tree), parents: c.parents };
      } catch {
        // fsck reports unreadable commits
      }
    }
    commits.set(id, entry);
    return entry;
  };
  for (const root of await roots(repo)) {
    const seen = new Set<ObjectId>();
    const todo = [root.commit];
    while (todo.length > 0) {
      const id = todo.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const c = await readCommit(id);
      for (const b of c.bad) note(b.id, b.path === undefined ? { root: root.name, commit: id } : { root: root.name, commit: id, path: b.path });
      todo.push(...[...c.parents].reverse());
    }
  }
  return out;
}


/**
 * The record of `id`, or undefined when there is none or it is not one (not
 * JSON, another id, a kind or size or file list of the wrong shape): a
 * record only ever names what to look for, so a bad one is skipped.
 */
export async function readQuarantineRecord(repo: Repo, id: ObjectId): Promise<QuarantineRecord | undefined> {
  let r: Partial<QuarantineRecord>;
  try {
    r = JSON.parse(await readFile(join(quarantineDir(repo), `${id}.json`), 'utf8')) as Partial<QuarantineRecord>;
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'EISDIR') || err instanceof SyntaxError) return undefined;
    throw err;
  }
  if (typeof r !== 'object' || r === null || r.id !== id) return undefined;
  if (r.kind !== undefined && r.kind !== 'commit' && r.kind !== 'tree' && r.kind !== 'blob') return undefined;
  if (r.size !== undefined && !(Number.isSafeInteger(r.size) && r.size >= 0)) return undefined;
  if (!Array.isArray(r.files) || !r.files.every((f) => typeof f === 'string' && /^[0-9a-f]{64}(\.\d+)?$/.test(f))) return undefined;
  return r as QuarantineRecord;
}

/** Every record in quarantine/. */
export async function listQuarantine(repo: Repo): Promise<QuarantineRecord[]> {
  const out: QuarantineRecord[] = [];
  for (const id of [...(await quarantinedIds(repo))].sort()) {
    const r = await readQuarantineRecord(repo, id);
    if (r) out.push(r);
  }
  return out;
}

/**
 * The ids quarantine/ has a record for, from the file names alone: objects
 * `fsck --repair` moved out of the store or found missing. Whatever a stored
 * tree names is stored, but for these (see remote/present.ts `storedAlike`).
 */
export async function quarantinedIds(repo: Repo): Promise<Set<ObjectId>> {
  let names: string[];
  try {
    names = await readdir(quarantineDir(repo));
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return new Set();
    throw err;
  }
  const ids = new Set<ObjectId>();
  for (const name of names) {
    const id = name.slice(0, -'.json'.length);
    if (name.endsWith('.json') && isObjectId(id)) ids.add(id);
  }
  return ids;
}

/**
 * Records that object `record.id` could not be healed and, when its file is
 * in the store (a corrupt object), moves the file into quarantine/ as
 * `<id>` (or `<id>.1`, `<id>.2`… when an earlier one is there). The record is
 * written first (atomically) and the file moved by rename, so an
 * interrupted run leaves either the object where it was or the object
 * moved with its record beside it. Returns the name the file got, if any.
 * Call under the repository lock, and bump the gc epoch afterwards so the
 * stat cache stops vouching for the object.
 */
export async function quarantine(repo: Repo, record: Omit<QuarantineRecord, 'files' | 'updated'>): Promise<string | undefined> {
  const dir = quarantineDir(repo);
  const source = repo.store.pathOf(record.id);
  const previous = await readQuarantineRecord(repo, record.id);
  const files = [...(previous?.files ?? [])];
  let moved: string | undefined;
  if (await pathExists(source)) {
    moved = record.id;
    for (let n = 1; (await pathExists(join(dir, moved))) || files.includes(moved); n++) moved = `${record.id}.${n}`;
    files.push(moved);
  }
  const full: QuarantineRecord = { ...record, files, updated: new Date().toISOString() };
  await writeFileAtomic(join(dir, `${record.id}.json`), `${JSON.stringify(full, null, 2)}\n`, { tmpDir: repo.tmpDir, tag: 'quarantine' });
  if (moved) await rename(source, join(dir, moved));
  return moved;
}
