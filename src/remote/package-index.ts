import { statSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { corrupt, isErrno } from '../util/errors.js';
import { hashBytes, isObjectId, type ObjectId } from '../util/hash.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { refNameProblem } from '../refs/refs.js';
import type { Repo } from '../repo/repo.js';
import { decodeCommit, decodeTree } from '../format/codec.js';
import { listPackages } from '../system/packages/list.js';
import { packageRef } from '../system/packages/model.js';
import { parseProvides, parseRelations } from '../system/packages/relations.js';
import { versionProblem } from '../system/packages/version.js';
import type { PackageInfo } from '../format/types.js';
import type { Candidate } from '../system/packages/resolve.js';
import { indexPath, PACKAGES_DIR, TREES_PACK_SUFFIX, treesPackPath } from './layout.js';
import { MAX_TREES_PACK, writeTreesPack } from './trees-pack.js';

/**
 * The package index a server publishes: every package ref with what a
 * resolver needs (name, arch, version, revision, relations), its commit and
 * the bytes of its objects, so a client resolves and plans an install
 * without fetching any package commit. It is one JSON file,
 * `packages/<id>`, named by its SHA-256 and by the summary
 * (`packages.index`): a signed summary covers it through that id.
 */

/** Format tag of the index file. */
export const INDEX_FORMAT = 'trove-packages-1';

/** The most an index may weigh, whatever the summary says. */
export const MAX_INDEX_BYTES = 256 << 20;

/** What the summary says of the index (its `packages` key). */
export interface SummaryPackages {
  /** SHA-256 of the index file, served at `packages/<index>`. */
  index: ObjectId;
  /** Number of entries. */
  count: number;
  /** Size of the index file in bytes. */
  size: number;
}

/** One package of the index: the tip of `pkg/<name>/<arch>`. */
export interface IndexEntry extends PackageInfo {
  /** The package commit (the tip of its ref). */
  commit: ObjectId;
  /** Bytes of the commit, its trees and its blobs (each counted once), without older revisions. */
  bytes: number;
  /** Number of those objects. */
  objects: number;
  /**
   * Size of the commit's trees pack, `packages/<commit>.trees` (trees-pack.ts);
   * absent from indexes written before trees packs, whose clients walk the
   * trees object by object.
   */
  treesPack?: number;
}

export interface PackageIndexFile {
  format: string;
  /** Sorted by name, then arch. */
  packages: IndexEntry[];
}

const NAME = /^[a-z0-9][a-z0-9+.-]*$/;
const ARCH = /^[a-z0-9][a-z0-9-]*$/;
const MULTI_ARCH = new Set(['', 'same', 'foreign', 'allowed', 'no']);

/** The bytes of an index: stable JSON, keys sorted, one line. */
export function encodeIndex(packages: IndexEntry[]): Buffer {
  const sorted = [...packages].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0));
  const entries = sorted.map((p) => ({
    arch: p.arch,
    bytes: p.bytes,
    commit: p.commit,
    depends: p.depends,
    multiArch: p.multiArch,
    name: p.name,
    objects: p.objects,
    preDepends: p.preDepends,
    provides: p.provides,
    revision: p.revision,
    ...(p.treesPack === undefined ? {} : { treesPack: p.treesPack }),
    version: p.version,
  }));
  return Buffer.from(`${JSON.stringify({ format: INDEX_FORMAT, packages: entries })}\n`);
}

function strings(v: unknown, what: string, check: (s: string) => void): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw corrupt(`${what} is not a list of strings`);
  for (const s of v as string[]) {
    try {
      check(s);
    } catch (err) {
      throw corrupt(`${what}: ${(err as Error).message}`);
    }
  }
  return v as string[];
}

const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Parses and validates an index from an untrusted source: every field of
 * every entry, one entry per name and arch. E_CORRUPT, naming the remote and
 * the entry, when anything is off.
 */
export function parseIndex(bytes: Uint8Array, where: string): PackageIndexFile {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw corrupt(`${where}: package index is not valid JSON`);
  }
  const o = raw as { format?: unknown; packages?: unknown };
  if (typeof o !== 'object' || o === null || o.format !== INDEX_FORMAT) throw corrupt(`${where}: package index has an unknown format (expected ${INDEX_FORMAT})`);
  if (!Array.isArray(o.packages)) throw corrupt(`${where}: package index has no package list`);
  const seen = new Set<string>();
  const packages = (o.packages as unknown[]).map((x, i): IndexEntry => {
    const e = (typeof x === 'object' && x !== null ? x : {}) as Record<string, unknown>;
    const at = `${where}: package index entry ${i}`;
    if (typeof e.name !== 'string' || !NAME.test(e.name) || e.name.length > 255) throw corrupt(`${at} has no valid name`);
    if (typeof e.arch !== 'string' || !ARCH.test(e.arch) || e.arch.length > 64) throw corrupt(`${at} (${e.name}) has no valid arch`);
    const label = `${where}: package ${e.name}/${e.arch}`;
    if (refNameProblem(packageRef(e.name, e.arch)) !== null) throw corrupt(`${label} makes an invalid ref name`);
    if (typeof e.version !== 'string' || versionProblem(e.version) !== null) throw corrupt(`${label} has an invalid version`);
    if (typeof e.revision !== 'number' || !Number.isSafeInteger(e.revision) || e.revision < 1) throw corrupt(`${label} has an invalid revision`);
    if (typeof e.commit !== 'string' || !isObjectId(e.commit)) throw corrupt(`${label} has no valid commit id`);
    if (!count(e.bytes) || !count(e.objects)) throw corrupt(`${label} has invalid bytes or objects`);
    if (e.treesPack !== undefined && (!count(e.treesPack) || (e.treesPack as number) > MAX_TREES_PACK)) throw corrupt(`${label} has an invalid treesPack size`);
    if (typeof e.multiArch !== 'string' || !MULTI_ARCH.has(e.multiArch)) throw corrupt(`${label} has an invalid multiArch`);
    const depends = strings(e.depends, `${label} depends`, (s) => void parseRelations(s, e.name as string));
    const preDepends = strings(e.preDepends, `${label} preDepends`, (s) => void parseRelations(s, e.name as string));
    const provides = strings(e.provides, `${label} provides`, (s) => void parseProvides(s));
    const key = `${e.name}/${e.arch}`;
    if (seen.has(key)) throw corrupt(`${label} is listed twice`);
    seen.add(key);
    return {
      name: e.name,
      arch: e.arch,
      version: e.version,
      revision: e.revision,
      depends,
      preDepends,
      provides,
      multiArch: e.multiArch,
      commit: e.commit,
      bytes: e.bytes as number,
      objects: e.objects as number,
      ...(e.treesPack === undefined ? {} : { treesPack: e.treesPack as number }),
    };
  });
  return { format: INDEX_FORMAT, packages };
}

/** Validates the `packages` key of a summary (untrusted). */
export function parseSummaryPackages(v: unknown): SummaryPackages {
  const p = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (typeof p.index !== 'string' || !isObjectId(p.index) || !count(p.count) || !count(p.size) || (p.size as number) > MAX_INDEX_BYTES) {
    throw corrupt('remote summary has a malformed packages entry');
  }
  return { index: p.index, count: p.count as number, size: p.size as number };
}

const BYTES_KEY = 'pkgbytes:';

/**
 * Bytes and number of the objects of one package commit (commit, trees,
 * blobs; each once). Blocking reads: a first summary of a server walks the
 * trees of every package, and a read through the thread pool per tree cost
 * an event-loop round trip each.
 */
function packageSize(repo: Repo, commit: ObjectId): { bytes: number; objects: number } {
  const commitBytes = repo.store.getSync(commit);
  let bytes = commitBytes.length;
  let objects = 1;
  const seen = new Set<ObjectId>();
  const trees = [decodeCommit(commitBytes).tree];
  while (trees.length) {
    const id = trees.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const treeBytes = repo.store.getSync(id);
    bytes += treeBytes.length;
    objects++;
    for (const e of decodeTree(treeBytes).entries) {
      if (e.kind === 'dir') trees.push(e.id!);
      else if (e.kind === 'file' && !seen.has(e.id!)) {
        seen.add(e.id!);
        bytes += e.size;
        objects++;
      }
    }
  }
  return { bytes, objects };
}

const TOO_LARGE_KEY = 'treespack-too-large:';

/**
 * The size of `commit`'s trees pack, written now when the repository lacks
 * it; undefined when it would be too large for clients (trees-pack.ts),
 * which the LevelDB index remembers, so that later summaries do not read
 * every tree again to learn it.
 */
export async function treesPackSize(repo: Repo, commit: ObjectId): Promise<number | undefined> {
  try {
    const st = statSync(join(repo.path, treesPackPath(commit)));
    if (st.isFile() && st.size > 0 && st.size <= MAX_TREES_PACK) return st.size;
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  const db = await repo.indexDb();
  if ((await db?.getJson<boolean>(TOO_LARGE_KEY + commit)) === true) return undefined;
  await mkdir(join(repo.path, PACKAGES_DIR), { recursive: true });
  const size = await writeTreesPack(repo, commit);
  if (size === undefined) await db?.putMany([[TOO_LARGE_KEY + commit, true]]);
  return size;
}

/**
 * The index entries of a repository's package refs (`pkg/<name>/<arch>`),
 * with their trees packs written where missing. The sizes are kept in the
 * LevelDB index by commit id, so a summary refresh walks only the packages
 * that changed.
 */
export async function buildIndexEntries(repo: Repo): Promise<IndexEntry[]> {
  const rows = await listPackages(repo);
  if (rows.length === 0) return [];
  const db = await repo.indexDb();
  const cached = db ? await db.getManyJson<{ bytes: number; objects: number }>(rows.map((r) => BYTES_KEY + r.commit)) : [];
  const fresh: [string, unknown][] = [];
  const out: IndexEntry[] = [];
  for (const [i, r] of rows.entries()) {
    let size = cached[i];
    if (!size || !count(size.bytes) || !count(size.objects)) {
      size = packageSize(repo, r.commit);
      fresh.push([BYTES_KEY + r.commit, size]);
    }
    const { name, arch, version, revision, depends, preDepends, provides, multiArch } = r.info;
    const treesPack = await treesPackSize(repo, r.commit);
    out.push({ name, arch, version, revision, depends, preDepends, provides, multiArch: multiArch ?? '', commit: r.commit, ...size, ...(treesPack === undefined ? {} : { treesPack }) });
  }
  await db?.putMany(fresh);
  return out;
}

/**
 * Writes the index of the repository's packages as `packages/<id>` (unless
 * there already) and returns what the summary says of it; undefined when
 * the repository has no package refs.
 */
export async function writeIndex(repo: Repo): Promise<SummaryPackages | undefined> {
  const entries = await buildIndexEntries(repo);
  if (entries.length === 0) return undefined;
  const bytes = encodeIndex(entries);
  const id = hashBytes(bytes);
  await mkdir(join(repo.path, PACKAGES_DIR), { recursive: true });
  await writeFileAtomic(join(repo.path, indexPath(id)), bytes, { tmpDir: repo.tmpDir, tag: 'file' });
  return { index: id, count: entries.length, size: bytes.length };
}

/**
 * Removes index files but `keep` (the current one and the one the previous
 * summary named, which a client may be fetching right now), and the trees
 * packs of commits neither of those lists and `keepPacks` does not name
 * (the generations whose packs the two summaries give).
 */
export async function pruneIndexes(repo: Repo, keep: Iterable<ObjectId | undefined>, keepPacks: Iterable<ObjectId> = []): Promise<void> {
  const keepSet = new Set([...keep].filter((k): k is ObjectId => k !== undefined));
  let names: string[];
  try {
    names = await readdir(join(repo.path, PACKAGES_DIR));
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return;
    throw err;
  }
  const listed = new Set<ObjectId>(keepPacks);
  for (const id of keepSet) for (const commit of await indexedCommits(repo, id)) listed.add(commit);
  for (const n of names) {
    const commit = n.endsWith(TREES_PACK_SUFFIX) ? n.slice(0, -TREES_PACK_SUFFIX.length) : undefined;
    const doomed = commit === undefined ? isObjectId(n) && !keepSet.has(n) : isObjectId(commit) && !listed.has(commit);
    if (doomed) await rm(join(repo.path, PACKAGES_DIR, n), { force: true });
  }
}

/**
 * The package commits index file `id` here lists, read for their ids alone
 * (parseIndex validates every entry, several times the cost, for a file this
 * repository wrote or already checked); none when it is gone or not JSON.
 */
async function indexedCommits(repo: Repo, id: ObjectId): Promise<ObjectId[]> {
  let o: unknown;
  try {
    o = JSON.parse(await readFile(join(repo.path, indexPath(id)), 'utf8'));
  } catch (err) {
    if (isErrno(err, 'ENOENT') || err instanceof SyntaxError) return [];
    throw err;
  }
  const packages = (o as { packages?: unknown } | null)?.packages;
  if (!Array.isArray(packages)) return [];
  return packages.map((e) => (e as { commit?: unknown } | null)?.commit).filter((c): c is ObjectId => typeof c === 'string' && isObjectId(c));
}

/** Where a client keeps the index of remote `name`: `<repo>/remotes/<name>/packages.json`. */
export function cachedIndexPath(repo: Repo, name: string): string {
  return join(repo.path, 'remotes', name, 'packages.json');
}

/** The cached index of a remote (its bytes, as fetched and verified), or undefined. */
export async function readCachedIndex(repo: Repo, name: string): Promise<{ id: ObjectId; index: PackageIndexFile } | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(cachedIndexPath(repo, name));
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  return { id: hashBytes(bytes), index: parseIndex(bytes, `cached index of remote ${name}`) };
}

/** Keeps verified index bytes as the cache of remote `name`. */
export async function writeCachedIndex(repo: Repo, name: string, bytes: Uint8Array): Promise<void> {
  await mkdir(join(repo.path, 'remotes', name), { recursive: true });
  await writeFileAtomic(cachedIndexPath(repo, name), bytes, { tmpDir: repo.tmpDir, tag: 'file' });
}

/** The resolver's candidates of an index, with `source` the remote's name. */
export function indexCandidates(index: PackageIndexFile, source: string): Candidate[] {
  return index.packages.map((e) => {
    const { commit, bytes: _b, objects: _o, treesPack: _t, ...info } = e;
    return { info, commit, source };
  });
}
