import type { OnProgress } from '../util/progress.js';
import { chmodSync, existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isTroveError } from '../util/errors.js';
import type { ObjectId } from '../util/hash.js';
import { hashFileSync } from '../util/hash-file.js';
import { decodeCommit, decodeTree } from '../format/codec.js';
import { fsck, type FsckProblem, type FsckReport, type ObjectKind, skippingBadRefs } from '../repo/fsck.js';
import { findNeeders, listQuarantine, type Needer, quarantine, type SourceAttempt } from '../repo/quarantine.js';
import type { Repo } from '../repo/repo.js';
import type { RootSource } from '../repo/roots.js';
import { assertLocalRepository, isHttpUrl, listRemotes } from './config.js';
import { checkHash, installStream, installVerifiedSync } from './install.js';
import { objectPath } from './layout.js';
import { openTransport, type Transport, type TransportInit } from './transport.js';

/** Blobs larger than this are streamed to disk rather than fetched whole. */
const SMALL_BLOB = 1 << 20;
/** Largest object of unknown size fetched whole. */
const MAX_WHOLE = 64 << 20;

/** Options of a repair; defaults as documented on each field. */
export interface RepairOptions {
  /** The roots fsck checks (the CLI passes the system's). */
  roots: RootSource;
  /** Transport settings for every remote (default: 2 retries; a wrong copy rarely turns right). */
  transport?: TransportInit;
  /** Waiting for gc to release the repository lock. */
  onWait?: () => void;
  /** Progress of each fsck pass (see {@link fsck}). */
  onProgress?: OnProgress;
}

/** An object fetched again and installed after it verified against its id. */
export interface RepairedObject {
  id: ObjectId;
  kind?: ObjectKind;
  /** What fsck found. */
  was: 'corrupt' | 'missing';
  remote: string;
  url: string;
}

/** A corrupt object file moved into quarantine/. */
export interface QuarantinedObject {
  id: ObjectId;
  kind?: ObjectKind;
  /** Path of the moved file, relative to the repository. */
  file: string;
  /** Path of the record, relative to the repository. */
  record: string;
}

/** A problem left after the repair, and where it is needed. */
export interface RemainingProblem extends FsckProblem {
  neededBy: Needer[];
  /** Needers beyond those listed. */
  moreNeeders: number;
  /** Each remote asked for the object, and why its copy was not used. */
  tried: SourceAttempt[];
}

export interface RepairReport {
  /** True when fsck finds nothing after the repair. */
  ok: boolean;
  /** The remotes consulted, by name. */
  remotes: string[];
  /** Problems the first check found. */
  found: FsckProblem[];
  repaired: RepairedObject[];
  quarantined: QuarantinedObject[];
  /** Checkout variants (`variants/...`) whose bytes were wrong, deleted (the next checkout makes them again). */
  removedVariants: string[];
  /** Private blobs whose object file other users could read, made private (docs/security.md, "Private files"). */
  concealed: ObjectId[];
  /** Public blobs whose object file was private, made readable by others. */
  published: ObjectId[];
  /** What is still wrong (missing objects, objects that are not what their references say, bad refs). */
  remaining: RemainingProblem[];
  /** The check after the repair. */
  fsck: FsckReport;
}

interface Source {
  name: string;
  url: string;
  transport?: Transport;
  /** Why the remote cannot be used at all. */
  unusable?: string;
}

const fetchable = (p: FsckProblem): p is FsckProblem & { id: ObjectId; problem: 'corrupt' | 'missing' } =>
  p.id !== undefined && (p.problem === 'corrupt' || p.problem === 'missing');

/**
 * `fsck --repair`: checks the repository, fetches every corrupt or missing
 * object again from the configured remotes (in name order, verified against
 * its id, installed by rename over the bad file), checks again to find what
 * the fetched trees reveal, and repeats while that helps. A corrupt object
 * no remote has is moved to quarantine/ with a record of where it is needed,
 * so that writing the same content again (pkg add, commit, pull) stores it.
 * Runs under the shared repository lock, so gc waits.
 */
export async function repair(repo: Repo, opts: RepairOptions): Promise<RepairReport> {
  const release = await repo.lock('shared', { onWait: opts.onWait });
  const sources: Source[] = [];
  try {
    for (const [name, r] of Object.entries(await listRemotes(repo.path)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      sources.push({ name, url: r.url });
    }
    let report = await fsck(repo, { roots: opts.roots, onProgress: opts.onProgress });
    const found = report.problems;
    const repaired: RepairedObject[] = [];
    const tried = new Map<ObjectId, SourceAttempt[]>();
    for (;;) {
      let progress = false;
      for (const p of report.problems) {
        if (!fetchable(p) || tried.has(p.id)) continue;
        const attempts: SourceAttempt[] = [];
        tried.set(p.id, attempts);
        for (const source of sources) {
          const attempt = await fetchFrom(repo, source, p, opts.transport);
          if (attempt === undefined) {
            repaired.push({ id: p.id, ...(p.kind ? { kind: p.kind } : {}), was: p.problem, remote: source.name, url: source.url });
            progress = true;
            break;
          }
          attempts.push(attempt);
        }
      }
      if (!progress) break;
      report = await fsck(repo, { roots: opts.roots, onProgress: opts.onProgress });
    }

    const left = report.problems;
    const bad = new Set(left.flatMap((p) => (p.id === undefined ? [] : [p.id])));
    const needers = bad.size > 0 ? await findNeeders(skippingBadRefs(repo), opts.roots, bad) : new Map();
    const quarantined: QuarantinedObject[] = [];
    const recorded = new Set<ObjectId>();
    // Before any object leaves the store (as gc does): derived data recorded earlier (the stat
    // cache) stops vouching for objects, so a later import stores them again.
    if (left.some(fetchable)) await repo.bumpGcEpoch();
    for (const p of left) {
      if (!fetchable(p) || recorded.has(p.id)) continue;
      recorded.add(p.id);
      // A writer holding the shared lock too may have stored the object meanwhile: a file that now verifies stays.
      const path = repo.store.pathOf(p.id);
      if (existsSync(path) && hashFileSync(path).id === p.id) continue;
      const n = needers.get(p.id) ?? { neededBy: [], more: 0 };
      const file = await quarantine(repo, {
        id: p.id,
        ...(p.kind ? { kind: p.kind } : {}),
        ...(p.size !== undefined ? { size: p.size } : {}),
        problem: p.problem,
        detail: p.detail,
        neededBy: n.neededBy,
        moreNeeders: n.more,
        tried: tried.get(p.id) ?? [],
      });
      if (file) dropCompressed(repo, p.id);
      if (file) quarantined.push({ id: p.id, ...(p.kind ? { kind: p.kind } : {}), file: `quarantine/${file}`, record: `quarantine/${p.id}.json` });
    }
    // A bad variant is derived data: it goes, and the next hard-link checkout makes it again.
    const removedVariants = left.flatMap((p) => (p.problem === 'corrupt-variant' && p.where ? [p.where] : []));
    for (const where of removedVariants) rmSync(join(repo.path, where), { force: true });
    // Object file modes (docs/security.md, "Private files"): a new inode where checkouts link the old one.
    const concealed = [...new Set(left.flatMap((p) => (p.problem === 'readable-private' && p.id ? [p.id] : [])))];
    for (const id of concealed) {
      repo.store.concealSync(id);
      for (const ext of ['.gz', '.nogz']) {
        if (existsSync(`${repo.store.pathOf(id)}${ext}`)) chmodSync(`${repo.store.pathOf(id)}${ext}`, 0o600);
      }
    }
    const published = report.unpublished.filter((id) => repo.store.publishSync(id));
    if (quarantined.length > 0 || removedVariants.length > 0 || concealed.length > 0 || published.length > 0) {
      report = await fsck(repo, { roots: opts.roots, onProgress: opts.onProgress });
    }

    const remaining: RemainingProblem[] = report.problems.map((p) => {
      const n = (p.id !== undefined && needers.get(p.id)) || { neededBy: [], more: 0 };
      return { ...p, neededBy: n.neededBy, moreNeeders: n.more, tried: (p.id !== undefined && tried.get(p.id)) || [] };
    });
    return { ok: report.ok, remotes: sources.map((s) => s.name), found, repaired, quarantined, removedVariants, concealed, published, remaining, fsck: report };
  } finally {
    for (const s of sources) await s.transport?.close();
    await release();
  }
}

/**
 * Removes the `.gz` and `.nogz` siblings of an object that was replaced or
 * quarantined (remote.md): one made from the bad bytes would keep serving
 * them. `summary --gzip-objects` makes them again from the good ones.
 */
function dropCompressed(repo: Repo, id: ObjectId): void {
  for (const ext of ['.gz', '.nogz']) rmSync(`${repo.store.pathOf(id)}${ext}`, { force: true });
}

/** An object to fetch: its id, and its kind and size when known. */
interface Wanted {
  id: ObjectId;
  kind?: ObjectKind;
  size?: number;
}

/**
 * Fetches object `p.id` from `source` (opened on first use) and installs it
 * once it verifies. Undefined when it was installed, else what went wrong.
 */
async function fetchFrom(repo: Repo, source: Source, p: Wanted, init: TransportInit = {}): Promise<SourceAttempt | undefined> {
  if (!source.transport && source.unusable === undefined) {
    try {
      if (!isHttpUrl(source.url)) await assertLocalRepository(source.url);
      source.transport = openTransport(source.url, { retries: 2, ...init });
    } catch (err) {
      source.unusable = (err as Error).message;
    }
  }
  if (!source.transport) return { source: source.name, outcome: 'error', detail: source.unusable! };
  const failed = await fetchObject(repo, source.transport, p);
  return failed && { source: source.name, ...failed };
}

/** Fetches object `p.id` over `transport` and installs it once it verifies; undefined when installed, else what went wrong. */
async function fetchObject(repo: Repo, transport: Transport, p: Wanted): Promise<Omit<SourceAttempt, 'source'> | undefined> {
  const path = objectPath(p.id);
  const where = transport.describe(path);
  // A corrupt file keeps its mode (0755 for a blob first met as an executable, 0600 for a private one);
  // a missing blob comes back private, and fsck --repair publishes it when a tree shows it to others.
  const mode = statSync(repo.store.pathOf(p.id), { throwIfNoEntry: false })?.mode ?? (p.kind === 'blob' ? 0o600 : 0o644);
  const hint = { executable: (mode & 0o111) !== 0, private: (mode & 0o004) === 0 };
  try {
    if (p.kind === 'blob' && p.size !== undefined && p.size > SMALL_BLOB) {
      const size = p.size;
      const got = await transport.getStream(path, (body) => installStream(repo.store, p.id, body, size, where, hint).then(() => true), {
        optional: true,
        maxBytes: size,
        expectBytes: size,
      });
      if (!got) return { outcome: 'not-found', detail: `${where}: not found` };
      dropCompressed(repo, p.id);
      return undefined;
    }
    const max = p.kind === 'blob' && p.size !== undefined ? p.size : MAX_WHOLE;
    const bytes = await transport.getBytes(path, { maxBytes: max, expectBytes: p.kind === 'blob' ? p.size : undefined, optional: true, check: (b) => checkHash(p.id, b, where) });
    if (!bytes) return { outcome: 'not-found', detail: `${where}: not found` };
    installVerifiedSync(repo.store, p.id, bytes, hint);
    dropCompressed(repo, p.id);
    return undefined;
  } catch (err) {
    if (isTroveError(err, 'E_CORRUPT') || isTroveError(err, 'E_BAD_OBJECT')) {
      return { outcome: 'did-not-verify', detail: `the remote's copy did not verify: ${(err as Error).message}` };
    }
    if (isTroveError(err)) return { outcome: 'error', detail: err.message };
    throw err;
  }
}

/**
 * For a pull: fetches over `transport` every object that quarantine/ records
 * and the store lacks, and whatever a fetched tree or commit references that
 * the store lacks too, each verified against its id. A pull skips commits it
 * already has with everything under them, so without this a re-pull would
 * never bring back what `fsck --repair` could not. Objects the remote lacks
 * or serves wrong are left for `fsck --repair` to report. Returns the ids
 * installed. Call under the repository lock.
 */
export async function healQuarantined(repo: Repo, transport: Transport, onNotice?: (message: string) => void): Promise<ObjectId[]> {
  const want: Wanted[] = (await listQuarantine(repo))
    .filter((r) => !repo.store.hasSync(r.id))
    .map((r) => ({ id: r.id, ...(r.kind ? { kind: r.kind } : {}), ...(r.size !== undefined ? { size: r.size } : {}) }));
  const healed: ObjectId[] = [];
  const asked = new Set<ObjectId>();
  while (want.length > 0) {
    const w = want.pop()!;
    if (asked.has(w.id) || repo.store.hasSync(w.id)) continue;
    asked.add(w.id);
    const failed = await fetchObject(repo, transport, w);
    if (failed) {
      if (failed.outcome !== 'not-found') onNotice?.(`object ${w.id} (quarantined) not restored: ${failed.detail}`);
      continue;
    }
    healed.push(w.id);
    if (w.kind !== 'tree' && w.kind !== 'commit') continue;
    const bytes = await repo.store.get(w.id);
    try {
      if (w.kind === 'commit') {
        const c = decodeCommit(bytes);
        want.push({ id: c.tree, kind: 'tree' }, ...c.parents.map((id) => ({ id, kind: 'commit' as const })));
      } else {
        for (const e of decodeTree(bytes).entries) {
          if (e.kind === 'dir') want.push({ id: e.id!, kind: 'tree' });
          else if (e.kind === 'file') want.push({ id: e.id!, kind: 'blob', size: e.size });
        }
      }
    } catch (err) {
      // The bytes are the object's (they hash to its id) yet do not decode: fsck reports it as invalid.
      if (!isTroveError(err)) throw err;
    }
  }
  return healed;
}
