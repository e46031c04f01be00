import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../../util/errors.js';
import { isObjectId, type ObjectId } from '../../util/hash.js';
import { writeFileAtomic } from '../../util/fs-atomic.js';
import type { Repo } from '../../repo/repo.js';
import { listProfiles, profileDir } from '../profiles.js';

/*
 * Publishing and provenance of generations, beside the generation files:
 * `profiles/<P>/published` (empty) marks a profile whose generations the
 * repository's summary lists; `profiles/<P>/<N>.origin` (JSON) says where
 * generation N came from when `trove upgrade` recorded it from a remote.
 * Neither name is a generation number, so listGenerations skips both.
 */

/** `profiles/<P>/published`. */
export function publishedPath(repo: Pick<Repo, 'path'>, profile: string): string {
  return join(profileDir(repo, profile), 'published');
}

/** True when the summary lists `profile`'s generations. */
export async function isPublished(repo: Pick<Repo, 'path'>, profile: string): Promise<boolean> {
  try {
    await readFile(publishedPath(repo, profile));
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return false;
    throw err;
  }
}

/** Marks `profile` published (true) or not (false). */
export async function setPublished(repo: Pick<Repo, 'path'>, profile: string, on: boolean): Promise<void> {
  if (on) await writeFile(publishedPath(repo, profile), '');
  else await rm(publishedPath(repo, profile), { force: true });
}

/** Every published profile, sorted. */
export async function publishedProfiles(repo: Pick<Repo, 'path'>): Promise<string[]> {
  const out: string[] = [];
  for (const p of await listProfiles(repo)) if (await isPublished(repo, p)) out.push(p);
  return out;
}

/** Where an upgraded generation came from. */
export interface GenerationOrigin {
  /** The remote's name here, and its URL when the generation was recorded. */
  remote: string;
  url: string;
  /** The remote's profile and generation number. */
  profile: string;
  generation: number;
  commit: ObjectId;
  /** When it was recorded here, seconds since the epoch. */
  time: number;
}

/** `profiles/<P>/<N>.origin`. */
export function originPath(repo: Pick<Repo, 'path'>, profile: string, n: number): string {
  return join(profileDir(repo, profile), `${n}.origin`);
}

export async function writeOrigin(repo: Repo, profile: string, n: number, origin: GenerationOrigin): Promise<void> {
  await writeFileAtomic(originPath(repo, profile, n), `${JSON.stringify(origin, null, 2)}\n`, { tmpDir: repo.tmpDir, tag: 'origin' });
}

/**
 * The origin of generation `n` holding `commit`, or null when it was made
 * here. A record that is unreadable or names another commit (left by a
 * generation pruned since, whose number was reused) is no origin.
 */
export async function readOrigin(repo: Pick<Repo, 'path'>, profile: string, n: number, commit: ObjectId): Promise<GenerationOrigin | null> {
  let v: unknown;
  try {
    // A blocking read of a small record, as for the other records status reads.
    v = JSON.parse(readFileSync(originPath(repo, profile, n), 'utf8'));
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR') || err instanceof SyntaxError) return null;
    throw err;
  }
  const o = v as Partial<GenerationOrigin> | null;
  if (typeof o !== 'object' || o === null || o.commit !== commit || !isObjectId(o.commit)) return null;
  if (typeof o.remote !== 'string' || typeof o.profile !== 'string' || !Number.isInteger(o.generation)) return null;
  return { remote: o.remote, url: typeof o.url === 'string' ? o.url : '', profile: o.profile, generation: o.generation!, commit: o.commit, time: typeof o.time === 'number' ? o.time : 0 };
}
