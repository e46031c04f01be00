import { createReadStream } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { corrupt, isErrno, isTroveError } from '../util/errors.js';
import { hashBytes, isObjectId, newHasher, type ObjectId } from '../util/hash.js';
import { readTraceFile } from '../repo/partial.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { lockUpdates } from '../refs/locks.js';
import { refNameProblem } from '../refs/refs.js';
import type { Repo } from '../repo/repo.js';
import { DELTAS_DIR, parseDeltaName, SUMMARY_PATH, SUMMARY_SIG_PATH } from './layout.js';
import { type AutoDeltas, writeAutoDeltas } from './auto-delta.js';
import { formatSignatures, parsePrivateKey, signBytes } from './sign.js';
import { pathExists } from '../util/path-exists.js';
import { readCommit } from '../repo/objects.js';
import { isPackageRef, packageLabel } from '../system/packages/model.js';
import { listGenerations, profileNameProblem } from '../system/profiles.js';
import { publishedProfiles } from '../system/generations/published.js';
import { parseSummaryPackages, pruneIndexes, type SummaryPackages, treesPackSize, writeIndex } from './package-index.js';
import { MAX_TREES_PACK } from './trees-pack.js';

/** Format tag of the summary file. */
export const SUMMARY_FORMAT = 'trove-summary-1';
/** Largest summary a client reads (a longer one is refused as soon as its bytes pass this). */
export const MAX_SUMMARY = 64 << 20;

/** One delta pack a repository offers. */
export interface DeltaInfo {
  /** Commit the pack starts from; null for a pack of everything. */
  from: ObjectId | null;
  to: ObjectId;
  /** Size of the pack file in bytes. */
  size: number;
  /**
   * SHA-256 of the pack file, hex. Summaries written before packs were
   * hashed lack it; a client uses such a pack only from a remote without a key.
   */
  sha256?: string;
}

/** One generation a repository publishes (`trove gen publish`). */
export interface PublishedGeneration {
  number: number;
  commit: ObjectId;
  /** The generation commit's timestamp, seconds since the epoch. */
  timestamp: number;
  /** Package labels (name-arch-version-revision). */
  packages: string[];
  /**
   * The access trace the server's view recorded for this generation
   * (`traces/<commit>`, served as a file), by SHA-256 and size: a client that
   * upgrades lazily fetches it, and its view fetches those files first.
   */
  trace?: { sha256: string; size: number };
  /**
   * Size of the generation commit's trees pack, `packages/<commit>.trees`
   * (trees-pack.ts): written for the newest generation of each published
   * profile, so that a first (lazy) upgrade learns the whole tree in one request.
   */
  treesPack?: number;
}

/**
 * What a repository serves: its refs, its delta packs and when the summary
 * was written; optionally the generations of its published profiles.
 * Stored as JSON with sorted keys, one line.
 */
export interface Summary {
  format: string;
  /** Seconds since the epoch. */
  timestamp: number;
  /**
   * Seconds since the epoch after which clients refuse the summary
   * (`summary --expires`): a server or mirror cannot keep serving an old
   * signed one for ever. Absent: it does not expire.
   */
  expires?: number;
  refs: Record<string, ObjectId>;
  deltas: DeltaInfo[];
  /** Published profiles and their generations, oldest first; absent when none is published. */
  generations?: Record<string, PublishedGeneration[]>;
  /** The package index (`packages/<index>`), when the repository has package refs. */
  packages?: SummaryPackages;
  /**
   * Trees packs of the tips of refs other than package refs
   * (`packages/<commit>.trees`, trees-pack.ts), by commit, with their sizes:
   * a first pull of such a ref learns its whole tree in one request. Package
   * refs' packs are in the package index; absent when there is none.
   */
  treesPacks?: Record<ObjectId, number>;
}

/** The summary's bytes: stable JSON (refs sorted by name, deltas by endpoints). */
export function encodeSummary(s: Summary): Uint8Array {
  const refs: Record<string, ObjectId> = {};
  for (const name of Object.keys(s.refs).sort()) refs[name] = s.refs[name]!;
  // By code unit, not localeCompare: the same order for these lowercase hex keys, without loading
  // ICU's collator (about 7 ms of a pull).
  const key = (d: DeltaInfo) => d.to + (d.from ?? '');
  const deltas = [...s.deltas]
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
    .map((d) => (d.sha256 === undefined ? { from: d.from, size: d.size, to: d.to } : { from: d.from, sha256: d.sha256, size: d.size, to: d.to }));
  const out: Record<string, unknown> = { deltas };
  if (s.expires !== undefined) out.expires = s.expires;
  out.format = s.format;
  if (s.generations && Object.keys(s.generations).length > 0) {
    const gens: Record<string, PublishedGeneration[]> = {};
    for (const p of Object.keys(s.generations).sort()) {
      gens[p] = [...s.generations[p]!]
        .sort((a, b) => a.number - b.number)
        .map((g) => ({
          commit: g.commit,
          number: g.number,
          packages: g.packages,
          timestamp: g.timestamp,
          ...(g.trace ? { trace: { sha256: g.trace.sha256, size: g.trace.size } } : {}),
          ...(g.treesPack === undefined ? {} : { treesPack: g.treesPack }),
        }));
    }
    out.generations = gens;
  }
  if (s.packages) out.packages = { count: s.packages.count, index: s.packages.index, size: s.packages.size };
  out.refs = refs;
  out.timestamp = s.timestamp;
  if (s.treesPacks && Object.keys(s.treesPacks).length > 0) {
    const packs: Record<ObjectId, number> = {};
    for (const id of Object.keys(s.treesPacks).sort()) packs[id] = s.treesPacks[id]!;
    out.treesPacks = packs;
  }
  return Buffer.from(`${JSON.stringify(out)}\n`);
}

/** Largest access trace a summary may name (100,000 lines of an id and a size). */
export const MAX_TRACE_BYTES = 16 << 20;

/** At most this many package labels per published generation, and this long each (a hostile summary is bounded). */
const MAX_PACKAGES = 100_000;
const MAX_LABEL = 1024;

/** The `generations` key of an untrusted summary, validated whole; E_CORRUPT naming the first problem. */
function parseGenerations(v: unknown): Record<string, PublishedGeneration[]> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw corrupt('remote summary: generations is not an object of profiles');
  const out: Record<string, PublishedGeneration[]> = {};
  for (const [profile, list] of Object.entries(v as Record<string, unknown>)) {
    const problem = profileNameProblem(profile);
    if (problem) throw corrupt(`remote summary has an invalid profile name ${JSON.stringify(profile)}: ${problem}`);
    if (!Array.isArray(list)) throw corrupt(`remote summary: generations of profile ${profile} are not a list`);
    const seen = new Set<number>();
    out[profile] = list.map((g: unknown) => {
      const x = g as Partial<Record<keyof PublishedGeneration, unknown>> | null;
      const where = `remote summary: a generation of profile ${profile}`;
      if (typeof x !== 'object' || x === null) throw corrupt(`${where} is not an object`);
      if (typeof x.number !== 'number' || !Number.isSafeInteger(x.number) || x.number < 1) throw corrupt(`${where} has no valid number`);
      if (seen.has(x.number)) throw corrupt(`${where} repeats number ${x.number}`);
      seen.add(x.number);
      if (typeof x.commit !== 'string' || !isObjectId(x.commit)) throw corrupt(`${where} (${x.number}) holds no valid commit id`);
      if (typeof x.timestamp !== 'number' || !Number.isFinite(x.timestamp)) throw corrupt(`${where} (${x.number}) has no valid timestamp`);
      const pkgs = x.packages;
      if (!Array.isArray(pkgs) || pkgs.length > MAX_PACKAGES || !pkgs.every((p) => typeof p === 'string' && p.length > 0 && p.length <= MAX_LABEL)) {
        throw corrupt(`${where} (${x.number}) has no valid package list`);
      }
      const gen: PublishedGeneration = { number: x.number, commit: x.commit, timestamp: x.timestamp, packages: pkgs as string[] };
      if (x.trace !== undefined) {
        const t = x.trace as { sha256?: unknown; size?: unknown } | null;
        if (typeof t !== 'object' || t === null || typeof t.sha256 !== 'string' || !isObjectId(t.sha256)) throw corrupt(`${where} (${x.number}) has no valid trace sha256`);
        if (typeof t.size !== 'number' || !Number.isSafeInteger(t.size) || t.size < 0 || t.size > MAX_TRACE_BYTES) throw corrupt(`${where} (${x.number}) has no valid trace size`);
        gen.trace = { sha256: t.sha256, size: t.size };
      }
      if (x.treesPack !== undefined) {
        if (typeof x.treesPack !== 'number' || !Number.isSafeInteger(x.treesPack) || x.treesPack < 0 || x.treesPack > MAX_TREES_PACK) throw corrupt(`${where} (${x.number}) has no valid treesPack size`);
        gen.treesPack = x.treesPack;
      }
      return gen;
    });
    out[profile].sort((a, b) => a.number - b.number);
  }
  return out;
}

/** Parses and validates a summary from an untrusted source; E_CORRUPT when malformed. */
export function parseSummary(bytes: Uint8Array): Summary {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw corrupt('remote summary is not valid JSON');
  }
  const o = raw as Partial<Record<keyof Summary, unknown>>;
  if (typeof o !== 'object' || o === null || o.format !== SUMMARY_FORMAT) {
    throw corrupt(`remote summary has an unknown format (expected ${SUMMARY_FORMAT})`);
  }
  if (typeof o.timestamp !== 'number' || typeof o.refs !== 'object' || o.refs === null || !Array.isArray(o.deltas)) {
    throw corrupt('remote summary is missing timestamp, refs or deltas');
  }
  const refs: Record<string, ObjectId> = {};
  for (const [name, id] of Object.entries(o.refs as Record<string, unknown>)) {
    const problem = refNameProblem(name);
    if (problem) throw corrupt(`remote summary has an invalid ref name ${JSON.stringify(name)}: ${problem}`);
    if (typeof id !== 'string' || !isObjectId(id)) throw corrupt(`remote summary: ref ${name} holds no valid id`);
    refs[name] = id;
  }
  const deltas: DeltaInfo[] = (o.deltas as unknown[]).map((d) => {
    const x = d as Partial<Record<keyof DeltaInfo, unknown>>;
    const okFrom = x.from === null || (typeof x.from === 'string' && isObjectId(x.from));
    const okTo = typeof x.to === 'string' && isObjectId(x.to);
    if (!okFrom || !okTo || typeof x.size !== 'number' || !Number.isSafeInteger(x.size) || x.size < 0) throw corrupt('remote summary has a malformed delta entry');
    if (x.sha256 !== undefined && (typeof x.sha256 !== 'string' || !isObjectId(x.sha256))) throw corrupt('remote summary has a delta entry with a malformed sha256');
    const info: DeltaInfo = { from: x.from as ObjectId | null, to: x.to as ObjectId, size: x.size };
    if (x.sha256 !== undefined) info.sha256 = x.sha256;
    return info;
  });
  if (!Number.isFinite(o.timestamp)) throw corrupt('remote summary has no valid timestamp');
  const summary: Summary = { format: SUMMARY_FORMAT, timestamp: o.timestamp, refs, deltas };
  if (o.expires !== undefined) {
    if (typeof o.expires !== 'number' || !Number.isSafeInteger(o.expires) || o.expires < o.timestamp) throw corrupt('remote summary has no valid expiry time');
    summary.expires = o.expires;
  }
  if (o.generations !== undefined) summary.generations = parseGenerations(o.generations);
  if (o.packages !== undefined) summary.packages = parseSummaryPackages(o.packages);
  if (o.treesPacks !== undefined) summary.treesPacks = parseTreesPacks(o.treesPacks, refs);
  return summary;
}

/** The `treesPacks` key of an untrusted summary: a size in range for commits that are tips of its refs. */
function parseTreesPacks(v: unknown, refs: Record<string, ObjectId>): Record<ObjectId, number> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw corrupt('remote summary: treesPacks is not an object of commits');
  const tips = new Set(Object.values(refs));
  const out: Record<ObjectId, number> = {};
  for (const [id, size] of Object.entries(v as Record<string, unknown>)) {
    if (!isObjectId(id) || !tips.has(id)) throw corrupt(`remote summary gives a trees pack for ${JSON.stringify(id.slice(0, 80))}, which is no ref's commit`);
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > MAX_TREES_PACK) throw corrupt(`remote summary gives no valid size for the trees pack of ${id}`);
    out[id] = size;
  }
  return out;
}

/**
 * The summary of a local repository but its delta packs: its heads, its
 * published generations and its package index. writeSummary lists the
 * packs (listDeltas) once it has written its own for the tips that moved.
 */
async function buildSummary(repo: Repo, opts: { treesPacks: boolean }, now = Math.floor(Date.now() / 1000)): Promise<Summary> {
  const refs: Record<string, ObjectId> = {};
  for (const r of await repo.refs.list('heads')) refs[r.name] = r.id;
  const summary: Summary = { format: SUMMARY_FORMAT, timestamp: now, refs, deltas: [] };
  const published = await publishedProfiles(repo);
  if (published.length > 0) {
    summary.generations = {};
    for (const p of published) summary.generations[p] = await publishedGenerations(repo, p);
  }
  const packages = await writeIndex(repo);
  if (packages) summary.packages = packages;
  // Package refs' packs are in the index (written by writeIndex), once per commit: not listed twice.
  const treesPacks: Record<ObjectId, number> = {};
  for (const [name, id] of Object.entries(refs)) {
    if (!opts.treesPacks || isPackageRef(name) || treesPacks[id] !== undefined) continue;
    // A tip whose trees cannot be read whole (fsck tells why) gets no pack: its clients walk object by object.
    const size = await treesPackSize(repo, id).catch((err: unknown) => {
      if (isTroveError(err)) return undefined;
      throw err;
    });
    if (size !== undefined) treesPacks[id] = size;
  }
  if (Object.keys(treesPacks).length > 0) summary.treesPacks = treesPacks;
  return summary;
}

/** The packs under `deltas/`, with their sizes and hashes, but those named in `leaveOut`. */
async function listDeltas(repo: Repo, leaveOut: ReadonlySet<string> = new Set()): Promise<DeltaInfo[]> {
  const deltas: DeltaInfo[] = [];
  let names: string[] = [];
  try {
    names = await readdir(join(repo.path, DELTAS_DIR));
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  for (const name of names.sort()) {
    const ends = parseDeltaName(name);
    if (!ends || leaveOut.has(name)) continue;
    const st = await stat(join(repo.path, DELTAS_DIR, name));
    if (st.isFile()) deltas.push({ ...ends, size: st.size, sha256: await packHash(repo, name, st) });
  }
  return deltas;
}

const PACK_HASH_KEY = 'delta-sha256:';

/**
 * The SHA-256 of the pack `deltas/<name>`, read from the index while the
 * file keeps its size, inode and mtime, else computed and remembered: a
 * summary rewrite after a commit does not read every pack again.
 */
async function packHash(repo: Repo, name: string, st: { size: number; ino: number; mtimeMs: number }): Promise<string> {
  const db = await repo.indexDb();
  const key = PACK_HASH_KEY + name;
  const stamp = `${st.size}:${st.ino}:${st.mtimeMs}`;
  const cached = await db?.getJson<{ stamp: string; sha256: string }>(key);
  if (cached && cached.stamp === stamp && isObjectId(cached.sha256)) return cached.sha256;
  const h = newHasher();
  for await (const c of createReadStream(join(repo.path, DELTAS_DIR, name))) h.update(c as Buffer);
  const sha256 = h.digest('hex');
  await db?.putMany([[key, { stamp, sha256 }]]);
  return sha256;
}

/** The generations of a published profile as the summary lists them. */
async function publishedGenerations(repo: Repo, profile: string): Promise<PublishedGeneration[]> {
  const out: PublishedGeneration[] = [];
  for (const g of await listGenerations(repo, profile)) {
    const c = await readCommit(repo.store, g.commit);
    const gen: PublishedGeneration = { number: g.number, commit: g.commit, timestamp: c.timestamp, packages: (c.generation?.packages ?? []).map(packageLabel) };
    const trace = readTraceFile(repo.path, g.commit);
    if (trace && trace.length <= MAX_TRACE_BYTES) gen.trace = { sha256: hashBytes(trace), size: trace.length };
    out.push(gen);
  }
  const newest = out.at(-1);
  if (newest) {
    const size = await treesPackSize(repo, newest.commit);
    if (size !== undefined) newest.treesPack = size;
  }
  return out;
}

/**
 * Removes the index files and trees packs that neither `summary` nor
 * `previous` (the summary it replaced, which a client may still be reading)
 * gives (pruneIndexes).
 */
export async function pruneBehind(repo: Repo, summary: Summary, previous: Summary | undefined): Promise<void> {
  const packs = [...summaryTreesPacks(summary).keys(), ...(previous ? summaryTreesPacks(previous).keys() : [])];
  await pruneIndexes(repo, [summary.packages?.index, previous?.packages?.index], packs);
}

/** The generation commits a summary gives trees packs for, with the packs' sizes. */
export function generationTreesPacks(s: Summary): Map<ObjectId, number> {
  const out = new Map<ObjectId, number>();
  for (const list of Object.values(s.generations ?? {})) for (const g of list) if (g.treesPack !== undefined) out.set(g.commit, g.treesPack);
  return out;
}

/** The commits the summary itself gives trees packs for (published generations, ref tips; not the package index's), with the packs' sizes. */
export function summaryTreesPacks(s: Summary): Map<ObjectId, number> {
  const out = generationTreesPacks(s);
  for (const [id, size] of Object.entries(s.treesPacks ?? {})) out.set(id, size);
  return out;
}

/**
 * Writes `<repo>/summary` and, with a private key, `<repo>/summary.sig`. An
 * unsigned summary removes a stale `summary.sig`, which could not match it.
 * `expiresIn` (seconds) makes it expire that long after it is written; without
 * it, a rewrite keeps the lifetime the previous summary had (0: none).
 */
export async function writeSummary(
  repo: Repo,
  opts: { privateKeyPem?: string; expiresIn?: number; deltas?: boolean; treesPacks?: boolean } = {},
): Promise<{ summary: Summary; signed: boolean; autoDeltas?: AutoDeltas }> {
  const key = opts.privateKeyPem ? parsePrivateKey(opts.privateKeyPem) : undefined;
  // Under a lock, so two writers that each moved a ref cannot leave the summary of the earlier one.
  const release = await lockUpdates(repo.path, 'file', SUMMARY_PATH);
  try {
    const old = await readLocalSummary(repo).catch(() => undefined);
    const summary = await buildSummary(repo, { treesPacks: opts.treesPacks !== false });
    // Packs from the tips the summary before listed to those that moved (auto-delta.ts), unless `deltas: false`;
    // then the packs there are listed, but those the summary's own packs no longer need.
    const auto = old && opts.deltas !== false ? await writeAutoDeltas(repo, old, summary) : undefined;
    summary.deltas = await listDeltas(repo, auto?.doomed);
    const lifetime = opts.expiresIn ?? (old?.expires !== undefined ? old.expires - old.timestamp : 0);
    if (lifetime > 0) summary.expires = summary.timestamp + lifetime;
    const bytes = encodeSummary(summary);
    if (key) {
      await writeFileAtomic(join(repo.path, SUMMARY_SIG_PATH), formatSignatures([signBytes(key, bytes)]), { tmpDir: repo.tmpDir, tag: 'file' });
    } else {
      await rm(join(repo.path, SUMMARY_SIG_PATH), { force: true });
    }
    await writeFileAtomic(join(repo.path, SUMMARY_PATH), bytes, { tmpDir: repo.tmpDir, tag: 'file' });
    // Packs the new summary no longer lists go only now: a served summary never names a removed one.
    await auto?.finish();
    const autoDeltas = auto?.result;
    await pruneBehind(repo, summary, old);
    return { summary, signed: Boolean(key), autoDeltas };
  } finally {
    await release();
  }
}

/** What `refreshSummary` did. */
export type SummaryRefresh =
  /** The repository has no summary; nothing was written. */
  | { state: 'none' }
  /** The summary was rewritten (and signed, with a key). */
  | { state: 'updated'; signed: boolean; autoDeltas?: AutoDeltas }
  /** The summary is signed and no key was given: it was left as it was, and is now stale. */
  | { state: 'stale' };


/**
 * Brings an existing summary up to date after refs or delta packs changed:
 * nothing when the repository has no summary (it is not served), a rewrite
 * when it has one, signed with `privateKeyPem` when given. A signed summary
 * (`summary.sig` exists) is never replaced by an unsigned one: without a key
 * it is left as it was and `stale` is returned, for the caller to say so.
 */
export async function refreshSummary(repo: Repo, opts: { privateKeyPem?: string } = {}): Promise<SummaryRefresh> {
  if (!(await pathExists(join(repo.path, SUMMARY_PATH)))) return { state: 'none' };
  if (!opts.privateKeyPem && (await pathExists(join(repo.path, SUMMARY_SIG_PATH)))) return { state: 'stale' };
  const { signed, autoDeltas } = await writeSummary(repo, opts);
  return { state: 'updated', signed, autoDeltas };
}

/** Reads a local repository's summary, or undefined when it has none. */
export async function readLocalSummary(repo: Repo): Promise<Summary | undefined> {
  try {
    return parseSummary(await readFile(join(repo.path, SUMMARY_PATH)));
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}
