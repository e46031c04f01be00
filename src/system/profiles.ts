import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { link, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { badRef, corrupt, isErrno, notFound } from '../util/errors.js';
import { isObjectId, type ObjectId } from '../util/hash.js';
import { tempName, writeFileAtomicSync } from '../util/fs-atomic.js';
import { lockUpdates } from '../refs/locks.js';
import { refNameProblem } from '../refs/refs.js';
import type { Repo } from '../repo/repo.js';
import { crashPoint } from '../util/crash-point.js';

/** The profile used when none is named. */
export const DEFAULT_PROFILE = 'system';

/** One numbered generation of a profile. */
export interface ProfileGeneration {
  number: number;
  commit: ObjectId;
}

/**
 * What is active for a profile: the commit its link points at, the generation
 * number when that commit is one of the profile's generations, the link and
 * the directory it resolves to. Written before the link is swapped, so
 * after a crash in between the link may still show the previous target
 * (see activateLocked; gc keeps that too).
 */
export interface ActiveRecord {
  profile: string;
  commit: ObjectId;
  generation: number | null;
  link: string;
  target: string;
  /** Seconds since the epoch. */
  time: number;
  /**
   * The commit that was active before this one (and its generation number
   * then), or null: `rollback` from a commit that is no generation (a ref or
   * id was switched to) returns there, while the store still holds it (gc
   * does not keep it). Absent in older records.
   */
  before?: { commit: ObjectId; generation: number | null } | null;
}

const NUMBER = /^[1-9][0-9]*$/;

/*
 * The layout: `<repo>/profiles/<P>/<N>` holds generation N of profile P (a
 * commit id and a newline), `<repo>/profiles/<P>/active` the activation
 * record (JSON, see readActive); anything else in there (temp files, notes,
 * `published` and `<N>.origin`, see generations/published.ts) is no generation.
 */

/** Why `profile` is not a valid profile name (a single ref component), or null. */
export function profileNameProblem(profile: string): string | null {
  return profile.includes('/') ? 'contains /' : refNameProblem(profile);
}

/** Throws E_BAD_REF unless `profile` is a single ref component. */
export function assertProfileName(profile: string): void {
  const p = profileNameProblem(profile);
  if (p) throw badRef(`invalid profile name ${JSON.stringify(profile)}: ${p}`, { profile });
}

/** The generation number a file name in a profile's directory stands for, or null when it is none. */
export function generationNumber(name: string): number | null {
  return NUMBER.test(name) ? Number(name) : null;
}

/** `<repo>/profiles`. */
export function profilesRoot(repo: Pick<Repo, 'path'>): string {
  return join(repo.path, 'profiles');
}

/** `<repo>/profiles/<profile>`. */
export function profileDir(repo: Pick<Repo, 'path'>, profile: string): string {
  assertProfileName(profile);
  return join(profilesRoot(repo), profile);
}

/**
 * Runs `fn` under the profile's update lock (`<repo>/locks/profile-<P>`).
 * Everything that reads a profile's generations or active record and writes
 * them from what it read (gen build, install, remove, switch, rollback, gen
 * prune) runs under it, so concurrent ones serialise: an install derives
 * from the generation the previous one made and activated, never from the
 * same base, and numbers follow the order the generations were derived in.
 * Not reentrant: code running under it calls the `...Locked` variants.
 */
export async function withProfileLock<T>(repo: Pick<Repo, 'path'>, profile: string, fn: () => Promise<T>): Promise<T> {
  assertProfileName(profile);
  const release = await lockUpdates(repo.path, 'profile', profile);
  try {
    return await fn();
  } finally {
    await release();
  }
}

/** `<repo>/activations/<profile>.json`: the details of the active record in the older two-file layout (read, never written). */
function activationPath(repo: Pick<Repo, 'path'>, profile: string): string {
  assertProfileName(profile);
  return join(repo.path, 'activations', `${profile}.json`);
}

/*
 * Profile records are a few small files, read many times a command (every
 * generation's file, by listGenerations): with blocking reads, since a read
 * through the thread pool costs a round trip of the event loop each
 * (docs/benchmarks.md, "Start-up of short commands").
 */

function readIdFile(path: string): ObjectId | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
    throw err;
  }
  if (!isObjectId(text)) throw corrupt(`${path} holds no valid commit id`, { path });
  return text;
}

/** Every profile that has a directory under `<repo>/profiles`, sorted. */
export async function listProfiles(repo: Pick<Repo, 'path'>): Promise<string[]> {
  try {
    const entries = readdirSync(profilesRoot(repo), { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && profileNameProblem(e.name) === null)
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
}

/** The generations of a profile, oldest first (numbered files `profiles/<P>/<N>`). */
export async function listGenerations(repo: Pick<Repo, 'path'>, profile: string): Promise<ProfileGeneration[]> {
  const dir = profileDir(repo, profile);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
  const out: ProfileGeneration[] = [];
  for (const name of names) {
    const number = generationNumber(name);
    if (number === null) continue;
    const commit = readIdFile(join(dir, name));
    if (commit) out.push({ number, commit });
  }
  return out.sort((a, b) => a.number - b.number);
}

/** One generation by number; E_NOT_FOUND when the profile has no such generation. */
export async function readGeneration(repo: Pick<Repo, 'path'>, profile: string, n: number): Promise<ObjectId> {
  const id = readIdFile(join(profileDir(repo, profile), String(n)));
  if (!id) throw notFound(`profile ${profile} has no generation ${n}`, { profile, generation: n });
  return id;
}

/**
 * Records `commit` as the next generation of `profile` and returns its number.
 * The number file is published with link(2), which fails if the name is
 * taken, so even writers that do not hold the profile lock never share a
 * number.
 */
export async function addGeneration(repo: Pick<Repo, 'path'>, profile: string, commit: ObjectId): Promise<number> {
  if (!isObjectId(commit)) throw badRef(`not an object id: ${commit}`, { profile, spec: commit });
  const dir = profileDir(repo, profile);
  await mkdir(dir, { recursive: true });
  const tmp = tempName(join(repo.path, 'tmp'), 'gen');
  await writeFile(tmp, `${commit}\n`);
  crashPoint('gen-build:temp-written');
  try {
    const existing = await listGenerations(repo, profile);
    let n = (existing.at(-1)?.number ?? 0) + 1;
    for (;;) {
      try {
        await link(tmp, join(dir, String(n)));
        return n;
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw err;
        n++;
      }
    }
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Removes generation `n` of `profile` (its objects stay until gc), and its origin record (`<N>.origin`) if any. */
export async function deleteGeneration(repo: Pick<Repo, 'path'>, profile: string, n: number): Promise<void> {
  await rm(join(profileDir(repo, profile), String(n)), { force: true });
  await rm(join(profileDir(repo, profile), `${n}.origin`), { force: true });
}

/** `<repo>/profiles/<P>/active`: the activation record, JSON (a bare commit id in repositories written before). */
export function activePath(repo: Pick<Repo, 'path'>, profile: string): string {
  return join(profileDir(repo, profile), 'active');
}

/** The record's fields from parsed JSON, or undefined when they are not all there and well formed. */
function activeFields(profile: string, v: unknown): ActiveRecord | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Partial<ActiveRecord>;
  if (typeof r.commit !== 'string' || !isObjectId(r.commit)) return undefined;
  if (typeof r.link !== 'string' || typeof r.target !== 'string') return undefined;
  if (r.generation !== null && r.generation !== undefined && !Number.isInteger(r.generation)) return undefined;
  const b = r.before as { commit?: unknown; generation?: unknown } | null | undefined;
  let before: ActiveRecord['before'] = null;
  if (b !== null && b !== undefined) {
    if (typeof b !== 'object' || typeof b.commit !== 'string' || !isObjectId(b.commit)) return undefined;
    if (b.generation !== null && b.generation !== undefined && !Number.isInteger(b.generation)) return undefined;
    before = { commit: b.commit, generation: (b.generation as number | null | undefined) ?? null };
  }
  return { profile, commit: r.commit, generation: r.generation ?? null, link: r.link, target: r.target, time: typeof r.time === 'number' ? r.time : 0, ...(before ? { before } : {}) };
}

/**
 * The active record of `profile`, or undefined when nothing was activated.
 *
 * The record is one JSON file, `profiles/<P>/active`, replaced whole by one
 * rename (`writeActive`). Repositories written before hold the older
 * two-file layout, read here too: `profiles/<P>/active` a bare commit id, and
 * the details in `activations/<P>.json`. That layout's writer swapped the
 * link, then wrote the details, then the pointer; so details that name
 * another commit than the pointer (or a missing pointer) are the newer of the
 * two, and they are what the link points at.
 */
export async function readActive(repo: Pick<Repo, 'path'>, profile: string): Promise<ActiveRecord | undefined> {
  const path = activePath(repo, profile);
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (!isErrno(err, 'ENOENT') && !isErrno(err, 'ENOTDIR')) throw err;
  }
  if (text !== undefined && text.trimStart().startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const rec = activeFields(profile, parsed);
    if (!rec) throw corrupt(`${path} is not a valid activation record`, { path, profile });
    return rec;
  }
  // The older layout.
  const pointer = text === undefined ? undefined : text.trim();
  if (pointer !== undefined && !isObjectId(pointer)) throw corrupt(`${path} holds no valid commit id`, { path, profile });
  let details: ActiveRecord | undefined;
  try {
    details = activeFields(profile, JSON.parse(readFileSync(activationPath(repo, profile), 'utf8')));
  } catch (err) {
    if (!isErrno(err, 'ENOENT') && !isErrno(err, 'ENOTDIR') && !(err instanceof SyntaxError)) throw err;
  }
  if (details) return details;
  if (pointer === undefined) return undefined;
  return { profile, commit: pointer, generation: null, link: '', target: '', time: 0 };
}

/**
 * Records what is active for a profile: the whole record, JSON, written to
 * `profiles/<P>/active` by temp file and one rename, so a reader (and a
 * crash at any point) sees the old record or the new one, never a part.
 * The older layout's details file, when there is one, is removed after.
 */
export async function writeActive(repo: Pick<Repo, 'path'>, rec: ActiveRecord): Promise<void> {
  const record = { profile: rec.profile, commit: rec.commit, generation: rec.generation, link: rec.link, target: rec.target, time: rec.time, before: rec.before ?? null };
  // Blocking calls, as for the link (system/activation/link.ts).
  writeFileAtomicSync(activePath(repo, rec.profile), `${JSON.stringify(record, null, 2)}\n`, { tmpDir: join(repo.path, 'tmp'), tag: 'active' });
  rmSync(activationPath(repo, rec.profile), { force: true });
}

/** The highest-numbered generation of `profile` holding `commit`, or null. */
export async function generationOf(repo: Pick<Repo, 'path'>, profile: string, commit: ObjectId): Promise<number | null> {
  const gens = await listGenerations(repo, profile);
  for (let i = gens.length - 1; i >= 0; i--) if (gens[i]!.commit === commit) return gens[i]!.number;
  return null;
}
