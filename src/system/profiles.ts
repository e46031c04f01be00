import { link, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { badRef, corrupt, isErrno, notFound } from '../util/errors.js';
import { isObjectId, type ObjectId } from '../util/hash.js';
import { tempName, writeFileAtomic } from '../util/fs-atomic.js';
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
 * the directory it resolves to.
 */
export interface ActiveRecord {
  profile: string;
  commit: ObjectId;
  generation: number | null;
  link: string;
  target: string;
  /** Seconds since the epoch. */
  time: number;
}

const NUMBER = /^[1-9][0-9]*$/;

/*
 * The layout: `<repo>/profiles/<P>/<N>` holds generation N of profile P (a
 * commit id and a newline), `<repo>/profiles/<P>/active` what is active;
 * anything else in there (temp files, notes) is no generation.
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

/** `<repo>/activations/<profile>.json`: the details of the active record. */
function activationPath(repo: Pick<Repo, 'path'>, profile: string): string {
  assertProfileName(profile);
  return join(repo.path, 'activations', `${profile}.json`);
}

async function readIdFile(path: string): Promise<ObjectId | undefined> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
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
    const entries = await readdir(profilesRoot(repo), { withFileTypes: true });
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
    names = await readdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
  const out: ProfileGeneration[] = [];
  for (const name of names) {
    const number = generationNumber(name);
    if (number === null) continue;
    const commit = await readIdFile(join(dir, name));
    if (commit) out.push({ number, commit });
  }
  return out.sort((a, b) => a.number - b.number);
}

/** One generation by number; E_NOT_FOUND when the profile has no such generation. */
export async function readGeneration(repo: Pick<Repo, 'path'>, profile: string, n: number): Promise<ObjectId> {
  const id = await readIdFile(join(profileDir(repo, profile), String(n)));
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

/** Removes generation `n` of `profile` (its objects stay until gc). */
export async function deleteGeneration(repo: Pick<Repo, 'path'>, profile: string, n: number): Promise<void> {
  await rm(join(profileDir(repo, profile), String(n)), { force: true });
}

/** The active record of `profile`, or undefined when nothing was activated. */
export async function readActive(repo: Pick<Repo, 'path'>, profile: string): Promise<ActiveRecord | undefined> {
  const commit = await readIdFile(join(profileDir(repo, profile), 'active'));
  if (!commit) return undefined;
  let details: Partial<ActiveRecord> = {};
  try {
    details = JSON.parse(await readFile(activationPath(repo, profile), 'utf8')) as ActiveRecord;
  } catch (err) {
    if (!isErrno(err, 'ENOENT') && !(err instanceof SyntaxError)) throw err;
  }
  // The pointer file is the truth; details written for another commit are stale.
  const fresh = details.commit === commit;
  return {
    profile,
    commit,
    generation: fresh ? (details.generation ?? null) : null,
    link: fresh ? (details.link ?? '') : '',
    target: fresh ? (details.target ?? '') : '',
    time: fresh ? (details.time ?? 0) : 0,
  };
}

/**
 * Records what is active for a profile: `profiles/<P>/active` (the commit id
 * and a newline, like a generation file) and its details in
 * `activations/<P>.json`. Details first, pointer last: a crash in between
 * leaves details that `readActive` recognises as stale.
 */
export async function writeActive(repo: Pick<Repo, 'path'>, rec: ActiveRecord): Promise<void> {
  await mkdir(profileDir(repo, rec.profile), { recursive: true });
  await mkdir(join(repo.path, 'activations'), { recursive: true });
  const tmp = { tmpDir: join(repo.path, 'tmp'), tag: 'active' };
  await writeFileAtomic(activationPath(repo, rec.profile), `${JSON.stringify(rec, null, 2)}\n`, tmp);
  crashPoint('switch:details-written');
  await writeFileAtomic(join(profileDir(repo, rec.profile), 'active'), `${rec.commit}\n`, tmp);
}

/** The highest-numbered generation of `profile` holding `commit`, or null. */
export async function generationOf(repo: Pick<Repo, 'path'>, profile: string, commit: ObjectId): Promise<number | null> {
  const gens = await listGenerations(repo, profile);
  for (let i = gens.length - 1; i >= 0; i--) if (gens[i]!.commit === commit) return gens[i]!.number;
  return null;
}
