import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isErrno, ioError } from '../../util/errors.js';
import type { ObjectId } from '../../util/hash.js';
import { tempName } from '../../util/fs-atomic.js';
import { bindReadOnly, isReadOnlyMount } from '../../util/mount-table.js';
import { isDirectory } from '../../util/path-exists.js';
import type { Repo } from '../../repo/repo.js';
import { crashPoint } from '../../util/crash-point.js';
import { readBisectState } from '../bisect/state.js';
import { listProfiles, readActive } from '../profiles.js';
import { linkPointsAt, targetShows } from './link.js';

/*
 * Activation checkouts: what a link points at when no FUSE view shows the
 * commit. Nothing activated is writable into the store (docs/reliability.md):
 *
 * - as root, the files are hard links to the store's objects, in
 *   `checkouts/<id>.links/`, and the link points at `checkouts/<id>`, a
 *   read-only bind mount of that tree: every write, truncate, chmod, rename
 *   or unlink through it is EROFS, for root too. When the mount is gone
 *   (a reboot), `checkouts/<id>` is an empty directory, never the writable
 *   tree, and `status` says how to mount it again;
 * - otherwise (no root, or a bind mount refused), `checkouts/<id>` is a
 *   copy (reflinks where the filesystem has them): writes change that copy,
 *   never an object.
 */

/** `<repo>/checkouts/<id>`: what an activation link points at. */
export function checkoutPath(repo: Pick<Repo, 'path'>, commit: ObjectId): string {
  return join(repo.path, 'checkouts', commit);
}

/** `<repo>/checkouts/<id>.links`: the hard-link tree a protected checkout shows read-only at checkoutPath. */
export function linksPath(repo: Pick<Repo, 'path'>, commit: ObjectId): string {
  return `${checkoutPath(repo, commit)}.links`;
}

/**
 * - `protected`: a read-only bind mount of the hard-link tree;
 * - `unmounted`: the hard-link tree is there, its read-only mount is not (a reboot; a crash before the mount);
 * - `copy`: a copied tree, the caller's own files;
 * - `missing`: none yet.
 */
export type CheckoutState = 'protected' | 'unmounted' | 'copy' | 'missing';

export async function checkoutState(repo: Pick<Repo, 'path'>, commit: ObjectId): Promise<CheckoutState> {
  const path = checkoutPath(repo, commit);
  if (isReadOnlyMount(path)) return 'protected';
  if (await isDirectory(linksPath(repo, commit))) return 'unmounted';
  return (await isDirectory(path)) ? 'copy' : 'missing';
}

/** Checks `commit` out into a temp directory and renames it to `dest`; one made meanwhile by another process wins. */
async function stage(repo: Repo, commit: ObjectId, dest: string, hardlink: boolean, near: ObjectId | null = null): Promise<void> {
  const tmp = tempName(repo.tmpDir, 'checkout');
  // From the hard-link tree of a nearby commit when there is one: only what differs is redone (see checkout's `from`).
  const from = hardlink && near !== null && near !== commit ? { dir: linksPath(repo, near), commit: near } : undefined;
  // Loaded here: a switch to a checkout that exists (the usual case) never needs it, nor its xattr addon.
  const { checkout } = await import('../../repo/checkout.js');
  await checkout(repo, commit, tmp, { hardlink, from });
  crashPoint('switch:checkout-staged');
  await mkdir(dirname(dest), { recursive: true });
  try {
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (!isErrno(err, 'ENOTEMPTY') && !isErrno(err, 'EEXIST')) throw err;
  }
}

/** The empty directory the read-only view is mounted on (renamed into place, so a half-made one is never seen). */
async function makeMountPoint(repo: Repo, path: string): Promise<void> {
  if (await isDirectory(path)) return;
  const tmp = tempName(repo.tmpDir, 'mountpoint');
  await mkdir(tmp, { mode: 0o555 });
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (!isErrno(err, 'ENOTEMPTY') && !isErrno(err, 'EEXIST')) throw err;
  }
}

const isRoot = process.getuid?.() === 0;

/**
 * Makes sure `checkouts/<commit>` shows the commit without exposing an
 * object to writes (see above), making what is missing; the caller holds the
 * shared repository lock. `made`: a checkout was made by this call. As
 * root, a new hard-link tree starts from `near`'s (the commit the link
 * shows now) when it exists, redoing only what differs.
 */
export async function ensureCheckout(
  repo: Repo,
  commit: ObjectId,
  opts: { near?: ObjectId | null } = {},
): Promise<{ target: string; made: boolean; protection: 'read-only mount' | 'copy' }> {
  const target = checkoutPath(repo, commit);
  const state = await checkoutState(repo, commit);
  if (state === 'protected') return { target, made: false, protection: 'read-only mount' };
  if (state === 'copy') return { target, made: false, protection: 'copy' };
  if (state === 'unmounted' && !isRoot) {
    throw ioError(`${target} is a read-only view of a hard-link checkout whose mount is gone (after a reboot?); only root can mount it again: run the same command as root`, {
      path: target,
    });
  }
  let made = false;
  if (isRoot) {
    const links = linksPath(repo, commit);
    if (state === 'missing') {
      await stage(repo, commit, links, true, opts.near ?? null);
      made = true;
    }
    await makeMountPoint(repo, target);
    try {
      bindReadOnly(links, target);
      return { target, made, protection: 'read-only mount' };
    } catch {
      // No CAP_SYS_ADMIN (a container, say): a copy instead, and the hard-link tree goes.
      await rm(target, { recursive: true, force: true });
      await rm(links, { recursive: true, force: true });
    }
  }
  await stage(repo, commit, target, false);
  return { target, made: true, protection: 'copy' };
}

/** A read-only checkout view `restoreCheckoutViews` mounted again. */
export interface RestoredView {
  profile: string;
  /** `active`: the link a profile's record names; `bisect`: a bisect session's link. */
  role: 'active' | 'bisect';
  link: string;
  commit: ObjectId;
  target: string;
}

/**
 * Mounts again the read-only views of the hard-link checkouts that links of
 * this repository point at (every profile's recorded link, a bisect
 * session's link) and whose mounts are gone: what a reboot undoes, for
 * `trove mount` at boot and `trove switch --restore`. Root only; a no-op for
 * copies and for views that are mounted.
 */
export async function restoreCheckoutViews(repo: Repo): Promise<RestoredView[]> {
  const links: Omit<RestoredView, 'commit' | 'target'>[] = [];
  for (const profile of await listProfiles(repo)) {
    const rec = await readActive(repo, profile);
    if (rec?.link) links.push({ profile, role: 'active', link: rec.link });
  }
  const bisect = await readBisectState(repo);
  if (bisect) links.push({ profile: bisect.profile, role: 'bisect', link: bisect.link });
  const out: RestoredView[] = [];
  const release = await repo.lock('shared');
  try {
    for (const l of links) {
      const at = await linkPointsAt(l.link).catch(() => null);
      const shows = at === null ? null : targetShows(repo, at);
      if (shows?.kind !== 'checkout' || (await checkoutState(repo, shows.commit)) !== 'unmounted') continue;
      if (out.some((o) => o.commit === shows.commit)) continue;
      const r = await ensureCheckout(repo, shows.commit);
      out.push({ ...l, commit: shows.commit, target: r.target });
    }
  } finally {
    await release();
  }
  return out;
}
