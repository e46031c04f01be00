import { lstat, mkdir, readlink, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { exists, ioError, isErrno, isTroveError, locked, notFound, TroveError } from '../../util/errors.js';
import type { ObjectId } from '../../util/hash.js';
import { symlinkAtomic, tempName } from '../../util/fs-atomic.js';
import { readMount } from '../mounts.js';
import type { Repo } from '../../repo/repo.js';
import { readBisectState } from '../bisect/state.js';
import { checkout } from '../../repo/checkout.js';
import { readCommit } from '../../repo/objects.js';
import { type ActiveRecord, DEFAULT_PROFILE, generationOf, listGenerations, readActive, withProfileLock, writeActive } from '../profiles.js';
import { resolveRev } from '../../repo/resolve.js';
import { crashPoint } from '../../util/crash-point.js';

/** The link activation swaps when none is given or recorded. */
export const DEFAULT_LINK = '/ro';

/** Generation numbers are short; anything longer is read as a commit id prefix first. */
const GENERATION_NUMBER = /^[1-9][0-9]{0,4}$/;

/** True when `spec` names a generation by number rather than a revision. */
export function isGenerationNumber(spec: string): boolean {
  return GENERATION_NUMBER.test(spec);
}

/** E_NOT_FOUND for a generation number the profile does not have, naming the ones it has. */
export async function noSuchGeneration(repo: Pick<Repo, 'path'>, profile: string, n: string): Promise<TroveError> {
  const gens = await listGenerations(repo, profile);
  const nums = gens.map((g) => g.number);
  const has = nums.length === 0 ? 'it has none' : nums.length <= 8 ? `it has ${nums.join(', ')}` : `it has ${nums.length}, ${nums[0]} to ${nums.at(-1)}`;
  return notFound(`profile ${profile} has no generation ${n} (${has})`, { profile, generation: Number(n) });
}

/**
 * `GEN|REF|COMMIT` to a commit. A number of up to five digits is a generation
 * of the profile; a longer one is a generation if the profile has it, else a
 * commit id prefix; anything else a revision.
 */
export async function resolveActivation(repo: Repo, profile: string, spec: string): Promise<{ commit: ObjectId; generation: number | null }> {
  if (/^[0-9]+$/.test(spec)) {
    const n = Number(spec);
    const gen = (await listGenerations(repo, profile)).find((g) => g.number === n);
    if (gen) return { commit: gen.commit, generation: n };
    if (spec.length < 6) throw await noSuchGeneration(repo, profile, spec);
    try {
      const commit = await resolveRev(repo, spec);
      return { commit, generation: await generationOf(repo, profile, commit) };
    } catch (err) {
      if (!isTroveError(err, 'E_NOT_FOUND')) throw err;
      const e = await noSuchGeneration(repo, profile, spec);
      throw notFound(`${e.message}, and no commit id starts with ${spec}`, { ...e.data, spec });
    }
  }
  const commit = await resolveRev(repo, spec);
  return { commit, generation: await generationOf(repo, profile, commit) };
}

/** The link to use: the one asked for, else the one the profile was last activated at, else /ro. */
export async function chooseLink(repo: Repo, profile: string, link?: string): Promise<string> {
  if (link) return resolve(link);
  return (await readActive(repo, profile))?.link || DEFAULT_LINK;
}

/**
 * The directory that shows `commit`: `<mountpoint>/commits/<id>` while a FUSE
 * view of the repository is live, else the hard-link checkout
 * `<repo>/checkouts/<id>`, made once (into a temp directory, then renamed, so
 * a half-made checkout is never used) and reused after that.
 */
export async function activationTarget(repo: Repo, commit: ObjectId): Promise<{ target: string; via: 'mount' | 'checkout'; made: boolean }> {
  const mount = await readMount(repo.path);
  if (mount) return { target: join(mount.mountpoint, 'commits', commit), via: 'mount', made: false };
  const target = join(repo.path, 'checkouts', commit);
  if (await isDir(target)) return { target, via: 'checkout', made: false };
  await readCommit(repo.store, commit);
  const tmp = tempName(repo.tmpDir, 'checkout');
  await checkout(repo, commit, tmp);
  crashPoint('switch:checkout-staged');
  await mkdir(dirname(target), { recursive: true });
  try {
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (!isErrno(err, 'ENOTEMPTY') && !isErrno(err, 'EEXIST')) throw err;
  }
  return { target, via: 'checkout', made: true };
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
}

/**
 * Points `link` at `target` atomically: a new symlink is made under a temp
 * name beside it and renamed over it, so the path always resolves to the old
 * target or the new one, never to nothing. Refuses to replace anything but a
 * symlink.
 */
export async function swapLink(link: string, target: string): Promise<void> {
  const dir = dirname(link);
  await mkdir(dir, { recursive: true });
  try {
    if (!(await lstat(link)).isSymbolicLink()) throw exists(`${link} exists and is not a symlink; refusing to replace it`, { path: link });
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  await symlinkAtomic(target, link, { tag: `.${basename(link)}.trove` }).catch((err: unknown) => {
    if (!isErrno(err, 'EACCES') && !isErrno(err, 'EPERM')) throw err;
    throw ioError(`cannot point ${link} at the generation: no permission to create links in ${dir} (run as root, or give --link PATH in a directory you can write)`, { path: link }, { cause: err });
  });
}

/** Where a symlink points, or null when `link` does not exist. */
export async function readLinkTarget(link: string): Promise<string | null> {
  try {
    return await readlink(link);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return null;
    if (isErrno(err, 'EINVAL')) throw exists(`${link} is not a symlink`, { path: link });
    throw err;
  }
}

export interface ActivateOptions {
  profile?: string;
  /** Absolute or relative path of the link; default DEFAULT_LINK. */
  link?: string;
  /** Record the commit as the profile's active one (default true; bisect steps do not). */
  record?: boolean;
}

export interface ActivateResult extends ActiveRecord {
  via: 'mount' | 'checkout';
  /** True when a checkout had to be made for this activation. */
  made: boolean;
  /** What the link pointed at before, or null. */
  previous: string | null;
}

/**
 * E_LOCKED when a bisect session swaps `link`: anything else that activated
 * there would be undone by the next step or by `bisect reset`.
 */
export async function assertNotBisecting(repo: Repo, link: string): Promise<void> {
  const bisect = await readBisectState(repo);
  if (bisect && resolve(bisect.link) === resolve(link)) {
    throw locked(`a bisect session is using ${link}; end it first with: trove bisect reset`, { path: link });
  }
}

/**
 * Activates a commit: finds or makes the directory that shows it, swaps the
 * link over to it and records it as the profile's active commit, under the
 * profile's update lock. Refused on a link a bisect session uses, except for
 * the session's own steps (`record: false`).
 */
export async function activate(repo: Repo, commit: ObjectId, opts: ActivateOptions = {}): Promise<ActivateResult> {
  return withProfileLock(repo, opts.profile ?? DEFAULT_PROFILE, () => activateLocked(repo, commit, opts));
}

/**
 * `activate` for a caller that holds the profile's update lock. Holds the
 * shared repository lock, so gc never removes the checkout in between.
 */
export async function activateLocked(repo: Repo, commit: ObjectId, opts: ActivateOptions = {}): Promise<ActivateResult> {
  const profile = opts.profile ?? DEFAULT_PROFILE;
  const link = resolve(opts.link ?? DEFAULT_LINK);
  if (opts.record !== false) await assertNotBisecting(repo, link);
  const release = await repo.lock('shared');
  try {
    const { target, via, made } = await activationTarget(repo, commit);
    crashPoint('switch:checkout-made');
    const previous = await readLinkTarget(link);
    await swapLink(link, target);
    crashPoint('switch:link-swapped');
    const rec: ActiveRecord = {
      profile,
      commit,
      generation: await generationOf(repo, profile, commit),
      link,
      target,
      time: Math.floor(Date.now() / 1000),
    };
    if (opts.record !== false) await writeActive(repo, rec);
    crashPoint('switch:recorded');
    return { ...rec, via, made, previous };
  } finally {
    await release();
  }
}
