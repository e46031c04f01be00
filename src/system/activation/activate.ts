import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { locked, notFound, usage } from '../../util/errors.js';
import type { ObjectId } from '../../util/hash.js';
import { readMount } from '../mounts.js';
import type { Repo } from '../../repo/repo.js';
import { readBisectState } from '../bisect/state.js';
import { ensureCheckout } from './checkouts.js';
import { activePath, type ActiveRecord, DEFAULT_PROFILE, generationOf, listGenerations, readActive, withProfileLock, writeActive } from '../profiles.js';
import { resolveRevision } from '../revisions.js';
import { crashPoint } from '../../util/crash-point.js';
import { readLinkTarget, resolves, swapLink, targetShows } from './link.js';
import { assertComplete, assertNotPartial } from '../../repo/partial.js';
import { isDirectory } from '../../util/path-exists.js';

export { readLinkTarget, swapLink } from './link.js';

/** The link activation swaps when none is given or recorded. */
export const DEFAULT_LINK = '/ro';

/** Generation numbers are short; anything longer is read as a commit id prefix first. */
const GENERATION_NUMBER = /^[1-9][0-9]{0,4}$/;

/** True when `spec` names a generation by number rather than a revision. */
export function isGenerationNumber(spec: string): boolean {
  return GENERATION_NUMBER.test(spec);
}

export { noSuchGeneration } from '../revisions.js';

/**
 * `GEN|REF|COMMIT` to a commit: a revision with the profile's generation
 * numbers in scope (see resolveRevision). A number names a generation first.
 */
export async function resolveActivation(repo: Repo, profile: string, spec: string): Promise<{ commit: ObjectId; generation: number | null }> {
  if (/^[0-9]+$/.test(spec)) {
    const n = Number(spec);
    const gen = (await listGenerations(repo, profile)).find((g) => g.number === n);
    if (gen) return { commit: gen.commit, generation: n };
  }
  const commit = await resolveRevision(repo, spec, profile);
  return { commit, generation: await generationOf(repo, profile, commit) };
}

/**
 * The link to use: the one asked for, else the one the profile's active
 * record names, else /ro for a profile never activated. A record that names
 * no link (left by an interrupted switch of an older trove) is refused
 * rather than read as "never activated": the link it was at is unknown.
 */
export async function chooseLink(repo: Repo, profile: string, link?: string): Promise<string> {
  if (link) return resolve(link);
  const active = await readActive(repo, profile);
  if (!active) return DEFAULT_LINK;
  if (!active.link) {
    throw usage(`the active record of profile ${profile} names no link (an older trove was interrupted while writing it); name the link with --link PATH`, {
      profile,
      path: activePath(repo, profile),
    });
  }
  return active.link;
}

/**
 * The directory that shows `commit`: `<mountpoint>/commits/<id>` while a FUSE
 * view of the repository is live and answers for it (see readMount), else
 * the checkout `<repo>/checkouts/<id>` (see checkouts.ts: a read-only mount
 * of hard links as root, a copy otherwise), made once and reused after that.
 * `mount: false` skips the view (umount re-points links off it).
 */
export async function activationTarget(
  repo: Repo,
  commit: ObjectId,
  opts: { mount?: boolean; near?: ObjectId | null } = {},
): Promise<{ target: string; via: 'mount' | 'checkout'; made: boolean }> {
  const mount = opts.mount === false ? undefined : await readMount(repo.path);
  if (mount) {
    const target = join(mount.mountpoint, 'commits', commit);
    // readMount has just listed the mount's root, so its daemon answers; a stat of the commit's
    // directory (a lookup, through the thread pool) shows that the view serves it. Listing it, as
    // resolves() does, waited for its subdirectories' trees: 20-50 ms of an upgrade.
    if (await isDirectory(target).catch(() => false)) return { target, via: 'mount', made: false };
  }
  assertComplete(repo.path, commit);
  // The commit must be there; its bytes are read (and verified) only when a checkout is made
  // from it. A switch to a checkout that exists verifies no object, as a hard link is not
  // verified (docs/design-notes.md, "Copies are verified, links are not"); fsck does.
  if (!repo.store.hasSync(commit)) throw notFound(`commit ${commit} is missing from the store (run trove fsck)`, { id: commit });
  const { target, made } = await ensureCheckout(repo, commit, { near: opts.near ?? null });
  return { target, via: 'checkout', made };
}

/**
 * Refuses a lazy install or upgrade (E_USAGE) unless a view of the
 * repository is live: a partial commit is shown only through it, whose
 * daemon fetches each file on its first read.
 */
export async function assertViewForLazy(repo: Pick<Repo, 'path'>): Promise<string> {
  const mount = await readMount(repo.path);
  if (!mount) throw usage('--lazy activates through the view, and no view of this repository is mounted: run trove mount MOUNTPOINT first, or leave out --lazy');
  return mount.mountpoint;
}

export interface ActivateOptions {
  profile?: string;
  /** Absolute or relative path of the link; default DEFAULT_LINK. */
  link?: string;
  /** Record the commit as the profile's active one (default true; bisect steps do not). */
  record?: boolean;
  /**
   * Activate a partial commit (a lazy install or upgrade) through the view,
   * which fetches its files as they are read (default false: refused, so that
   * a switch never depends on the network unless asked to).
   */
  lazy?: boolean;
}

export interface ActivateResult extends ActiveRecord {
  via: 'mount' | 'checkout';
  /** True when a checkout had to be made for this activation. */
  made: boolean;
  /** What the link pointed at before, or null. */
  previous: string | null;
  /** Things the user should know, one line each (the link left a view that is gone). */
  notes: string[];
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
 *
 * The record is written before the link is swapped (the crash rule, see
 * docs/generations.md): a crash in between leaves the new record, naming
 * the link, and the link at its old target, which gc keeps because it keeps
 * whatever a recorded link points at (systemRoots). So the profile never has
 * a link without a record, and a link never points at what gc may remove.
 * When the swap fails (no permission to make the link, say), the old record
 * is put back.
 */
export async function activateLocked(repo: Repo, commit: ObjectId, opts: ActivateOptions = {}): Promise<ActivateResult> {
  const profile = opts.profile ?? DEFAULT_PROFILE;
  const link = resolve(opts.link ?? DEFAULT_LINK);
  const record = opts.record !== false;
  if (record) await assertNotBisecting(repo, link);
  if (!opts.lazy) assertNotPartial(repo.path, commit);
  const release = await repo.lock('shared');
  try {
    // Refuses a non-symlink at the link before anything is written.
    const previous = await readLinkTarget(link);
    const before = previous === null ? null : targetShows(repo, resolve(dirname(link), previous));
    const active = await readActive(repo, profile);
    // A new checkout starts from the one the link shows now (or the profile's active one), when there is one.
    const near = before && before.kind !== 'other' ? before.commit : (active?.commit ?? null);
    const { target, via, made } = await activationTarget(repo, commit, { near });
    crashPoint('switch:checkout-made');
    const notes: string[] = [];
    if (before?.kind === 'view' && via === 'checkout' && !(await resolves(resolve(dirname(link), previous!)))) {
      notes.push(
        `the view at ${before.mountpoint} is not mounted (daemon gone), so ${link} now points at a checkout; after trove mount ${before.mountpoint}, the next switch points it into the view again`,
      );
    }
    const old = record ? active : undefined;
    const rec: ActiveRecord = {
      profile,
      commit,
      generation: await generationOf(repo, profile, commit),
      link,
      target,
      time: Math.floor(Date.now() / 1000),
      // What rollback returns to from a commit that is no generation; activating the same commit again keeps it.
      before: old === undefined ? null : old.commit === commit ? (old.before ?? null) : { commit: old.commit, generation: old.generation },
    };
    if (record) await writeActive(repo, rec);
    crashPoint('switch:recorded');
    try {
      await swapLink(link, target);
    } catch (err) {
      if (record) await restoreActive(repo, profile, old);
      throw err;
    }
    crashPoint('switch:link-swapped');
    return { ...rec, via, made, previous, notes };
  } finally {
    await release();
  }
}

/** Puts back the record an activation replaced before its swap failed (none: removes it). */
async function restoreActive(repo: Repo, profile: string, old: ActiveRecord | undefined): Promise<void> {
  try {
    if (old) await writeActive(repo, old);
    else await rm(activePath(repo, profile), { force: true });
  } catch {
    // The swap's error is the one to report; the record names the link either way.
  }
}
