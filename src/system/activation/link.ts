import { lstatSync, mkdirSync, readlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { exists, ioError, isErrno, isTroveError } from '../../util/errors.js';
import { isObjectId, type ObjectId } from '../../util/hash.js';
import { sweepStaleTemps, symlinkAtomic } from '../../util/fs-atomic.js';
import type { Repo } from '../../repo/repo.js';
import { answers, daemonUnresponsive, readMount, readMountRecord } from '../mounts.js';
import { mountOf } from '../../util/mount-table.js';
import { isDirectory, isDirectorySync } from '../../util/path-exists.js';
import { type ActiveRecord, DEFAULT_PROFILE } from '../profiles.js';

/*
 * The activation link itself: swapping it, reading it, and telling what it
 * shows. Kept apart from activate.ts so that the gc roots (system/roots.ts)
 * and status can read links without loading checkout.
 */

/**
 * Points `link` at `target` atomically: a new symlink is made under a temp
 * name beside it and renamed over it, so the path always resolves to the old
 * target or the new one, never to nothing. Refuses to replace anything but a
 * symlink.
 */
export async function swapLink(link: string, target: string): Promise<void> {
  // Blocking calls: a dozen syscalls, each cheaper than a thread-pool round trip (fs-atomic.ts).
  const dir = dirname(link);
  mkdirSync(dir, { recursive: true });
  const st = lstatSync(link, { throwIfNoEntry: false });
  if (st && !st.isSymbolicLink()) throw exists(`${link} exists and is not a symlink; refusing to replace it`, { path: link });
  try {
    symlinkAtomic(target, link, { tag: linkTempTag(link) });
  } catch (err) {
    if (!isErrno(err, 'EACCES') && !isErrno(err, 'EPERM')) throw err;
    throw ioError(`cannot point ${link} at the generation: no permission to create links in ${dir} (run as root, or give --link PATH in a directory you can write)`, { path: link }, { cause: err });
  }
}

/** The tag of the temp symlink a swap makes beside `link`: `.<name>.trove-<pid>-…`. */
function linkTempTag(link: string): string {
  return `.${basename(link)}.trove`;
}

/** Removes temp symlinks a killed swap left beside `link` (swaps do this themselves first). */
export function sweepLinkTemps(link: string): void {
  sweepStaleTemps(dirname(link), linkTempTag(link));
}

/** Where a symlink points, or null when `link` does not exist; E_EXISTS when it is not a symlink. */
export async function readLinkTarget(link: string): Promise<string | null> {
  try {
    return readlinkSync(link);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return null;
    if (isErrno(err, 'EINVAL')) throw exists(`${link} is not a symlink`, { path: link });
    throw err;
  }
}

/** What an activation target shows: a checkout of this repository, a commit in a FUSE view, or neither. */
export type TargetShows = { kind: 'checkout'; commit: ObjectId } | { kind: 'view'; commit: ObjectId; mountpoint: string } | { kind: 'other' };

/**
 * Reads an absolute target path as activation makes them:
 * `<repo>/checkouts/<id>` or `<mountpoint>/commits/<id>`.
 */
export function targetShows(repo: Pick<Repo, 'path'>, target: string): TargetShows {
  const id = basename(target);
  const parent = dirname(target);
  if (!isObjectId(id)) return { kind: 'other' };
  if (parent === join(repo.path, 'checkouts')) return { kind: 'checkout', commit: id };
  if (basename(parent) === 'commits') return { kind: 'view', commit: id, mountpoint: dirname(parent) };
  return { kind: 'other' };
}

/** What a link points at, absolute (a relative symlink is read against the link's directory), or null when there is no link. */
export async function linkPointsAt(link: string): Promise<string | null> {
  const to = await readLinkTarget(link);
  return to === null ? null : resolve(dirname(link), to);
}

/**
 * Whether `path` resolves and answers: a directory is listed (see `answers`:
 * a stat through a FUSE view whose daemon died may still succeed from the
 * kernel's cache), anything else is there. A view that was unmounted
 * answers ENOENT, one whose daemon died ENOTCONN.
 */
export async function resolves(path: string, opts: { blocking?: boolean } = {}): Promise<boolean> {
  return (await answers(path, opts)) === null;
}

/** What a recorded link looks like now, against the record. */
export interface LinkCheck {
  /**
   * - `ok`: the link points at the recorded target, and it resolves;
   * - `missing`: there is no link;
   * - `not-a-link`: something else than a symlink is there;
   * - `unmounted`: the link goes into a FUSE view that is not mounted (its daemon is gone);
   * - `unprotected`: the link goes to a hard-link checkout whose read-only mount is gone (a reboot):
   *   it shows an empty directory, never the writable tree;
   * - `dangling`: it points at something else that does not resolve;
   * - `elsewhere`: it resolves, but not to the recorded target.
   */
  state: 'ok' | 'missing' | 'not-a-link' | 'unmounted' | 'unprotected' | 'dangling' | 'elsewhere';
  /** Where the link points (absolute), or null. */
  pointsAt: string | null;
  /** The commit the link shows, when it points at a checkout or into a view. */
  commit: ObjectId | null;
  /** The view the link goes through, when it does. */
  mountpoint: string | null;
}

/** Checks the link of an active record (or a bisect session): is it there, does it resolve, is it where the record says. */
export async function checkLink(repo: Pick<Repo, 'path'>, link: string, recordedTarget: string | null): Promise<LinkCheck> {
  let pointsAt: string | null;
  try {
    pointsAt = await linkPointsAt(link);
  } catch (err) {
    if (isErrno(err, 'ENOTDIR') || isTroveError(err, 'E_EXISTS')) return { state: 'not-a-link', pointsAt: null, commit: null, mountpoint: null };
    throw err;
  }
  if (pointsAt === null) return { state: 'missing', pointsAt, commit: null, mountpoint: null };
  const shows = targetShows(repo, pointsAt);
  const commit = shows.kind === 'other' ? null : shows.commit;
  const mountpoint = shows.kind === 'view' ? shows.mountpoint : null;
  // A checkout on a local filesystem is probed in this thread (see `answers`).
  const at = shows.kind === 'checkout' ? mountOf(pointsAt) : undefined;
  if (at && !at.readOnlyPoint && (at.local ? isDirectorySync(`${pointsAt}.links`) : await isDirectory(`${pointsAt}.links`))) {
    return { state: 'unprotected', pointsAt, commit, mountpoint };
  }
  // A view whose daemon cannot answer would block the probe below (until its watchdog fires).
  if (mountpoint !== null) {
    const rec = await readMountRecord(repo.path);
    if (rec?.mountpoint === mountpoint && daemonUnresponsive(repo.path, rec)) return { state: 'unmounted', pointsAt, commit, mountpoint };
  }
  if (!(await resolves(pointsAt, { blocking: at?.local === true }))) {
    const live = mountpoint === null ? undefined : await readMount(repo.path);
    return { state: mountpoint !== null && live?.mountpoint !== mountpoint ? 'unmounted' : 'dangling', pointsAt, commit, mountpoint };
  }
  return { state: recordedTarget === null || pointsAt === recordedTarget ? 'ok' : 'elsewhere', pointsAt, commit, mountpoint };
}

/** `trove switch N [--profile P]` for a record: its generation number, else a commit id prefix. */
export function switchCommand(rec: Pick<ActiveRecord, 'profile' | 'generation' | 'commit'>): string {
  const what = rec.generation === null ? rec.commit.slice(0, 16) : String(rec.generation);
  return `trove switch ${what}${rec.profile === DEFAULT_PROFILE ? '' : ` --profile ${rec.profile}`}`;
}

/** One line: what is wrong with an active record's link and how to recover, or null when nothing is. */
export function linkProblem(rec: ActiveRecord, check: LinkCheck): string | null {
  const fix = switchCommand(rec);
  switch (check.state) {
    case 'ok':
      return null;
    case 'missing':
      return `the link ${rec.link} is missing; run: ${fix} to make it again`;
    case 'not-a-link':
      return `${rec.link} is not a symlink; move it away, then run: ${fix}`;
    case 'unmounted':
      return `the view at ${check.mountpoint} is not mounted (daemon gone); run: trove mount ${check.mountpoint}, or ${fix} to use a checkout`;
    case 'unprotected':
      return `the link ${rec.link} points at ${check.pointsAt}, a read-only view of a checkout that is not mounted (after a reboot?), so it shows nothing; run as root: trove switch --restore (or ${fix})`;
    case 'dangling':
      return `the link ${rec.link} points at ${check.pointsAt}, which does not exist; run: ${fix}`;
    case 'elsewhere': {
      const shows = check.commit === null ? '' : ` (commit ${check.commit.slice(0, 12)})`;
      return `the link ${rec.link} points at ${check.pointsAt}${shows}, not at the recorded target ${rec.target} (a switch was interrupted, or the link was changed by hand); run: ${fix}`;
    }
  }
}
