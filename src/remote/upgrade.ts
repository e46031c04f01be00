import { notFound, usage } from '../util/errors.js';
import { hashBytes, type ObjectId } from '../util/hash.js';
import { limiter } from '../util/limiter.js';
import { decodeCommit, decodeTree } from '../format/codec.js';
import type { Repo } from '../repo/repo.js';
import { type ActivateResult, activateLocked, assertNotBisecting, assertViewForLazy, chooseLink } from '../system/activation/activate.js';
import { readPartial, readTraceFile, TRACES_DIR, writeTraceFile } from '../repo/partial.js';
import { TransferError } from './retry.js';
import { type GenerationOrigin, writeOrigin } from '../system/generations/published.js';
import { addGeneration, DEFAULT_PROFILE, listGenerations, readActive, withProfileLock } from '../system/profiles.js';
import { assertLocalRepository, getRemote, isHttpUrl, listRemotes } from './config.js';
import { checkHash } from './install.js';
import { objectPath, deltaName } from './layout.js';
import { storedAlike, storedCommitTree, storedTreeEntries } from './present.js';
import { fetchTreesPack } from './trees-pack.js';
import { quarantinedIds } from '../repo/quarantine.js';
import { fetchSummary, pull, type PullOptions, type PullResult } from './pull.js';
import { generationTreesPacks, type PublishedGeneration, type Summary } from './summary.js';
import { cacheSummary } from './accepted.js';

export { cachedSummaryPath, readCachedSummary } from './accepted.js';
import { openTransport, type TransportInit } from './transport.js';

/*
 * `trove upgrade`: follow a profile a remote publishes. The newest published
 * generation is pulled by commit id (only what is missing: a delta pack from
 * a commit we have, else object by object), recorded as the local profile's
 * next generation with its origin (`profiles/<P>/<N>.origin`) and activated.
 * The summary it was chosen from is kept in `<repo>/remotes/<name>/summary`
 * for `status` to compare against without the network.
 */

/** The remote to use: the one named, else the only one configured, else `origin`; E_USAGE when that leaves none. */
export async function chooseRemote(repo: Pick<Repo, 'path'>, name?: string): Promise<string> {
  if (name) return name;
  const names = Object.keys(await listRemotes(repo.path));
  if (names.length === 1) return names[0]!;
  if (names.includes('origin')) return 'origin';
  throw usage(
    names.length === 0
      ? 'no remote is configured (add one with: trove remote add origin URL)'
      : `several remotes and none is named origin (${names.join(', ')}): name one with --remote NAME`,
  );
}

/** The published generations of `profile` in `summary`; E_NOT_FOUND when it publishes none. */
export function publishedOf(summary: Summary, remote: string, profile: string): PublishedGeneration[] {
  const gens = summary.generations?.[profile];
  if (gens && gens.length === 0) throw notFound(`remote ${remote} publishes profile ${profile}, which has no generations yet`, { remote, profile });
  if (!gens) {
    const published = Object.keys(summary.generations ?? {});
    throw notFound(
      `remote ${remote} publishes no generations of profile ${profile}` +
        (published.length ? ` (it publishes ${published.join(', ')})` : ' (it publishes no profile: trove gen publish there)'),
      { remote, profile },
    );
  }
  return gens;
}

export interface UpgradeOptions extends TransportInit {
  /** Configured remote (default: see chooseRemote). */
  remote?: string;
  /** The remote's profile to follow, and the local profile to record into (default `system`). */
  profile?: string;
  link?: string;
  /** Fetch only the summary and the metadata needed to say what would be fetched; record nothing. */
  dryRun?: boolean;
  deltas?: boolean;
  /** Fetch the commit and its trees only and activate through the view, which fetches files as they are read (see PullOptions.lazy). */
  lazy?: boolean;
  onProgress?: PullOptions['onProgress'];
  onNotice?: PullOptions['onNotice'];
}

export interface UpgradeResult {
  remote: string;
  profile: string;
  /** The newest generation the remote publishes. */
  published: PublishedGeneration;
  /**
   * `up-to-date`: it is active already; `activated`: it was a local generation
   * already (after a rollback, say) and is active again; `upgraded`: it was
   * pulled, recorded and activated; `dry-run`: nothing was recorded.
   */
  state: 'up-to-date' | 'activated' | 'upgraded' | 'dry-run';
  /** The local generation that holds it (null for a dry run that has none). */
  generation: number | null;
  /** What the pull fetched, or with dryRun what it would fetch. */
  fetched: { objects: number; bytes: number };
  transfer: PullResult['transfer'] | null;
  deltas: PullResult['deltas'];
  /** With `lazy`: the files left on the remote for the view to fetch as they are read. */
  lazy?: { objects: number; bytes: number };
  /** With dryRun: the delta pack a pull would use, and its size. */
  wouldUseDelta: { name: string; size: number } | null;
  activation: ActivateResult | null;
  seconds: number;
  /** Of those: the pull (summary and objects), and recording and activating (making the checkout, swapping the link). */
  pullSeconds: number;
  activateSeconds: number;
}

/** The newest local generation of `profile` holding `commit`, or null. */
async function localGenerationOf(repo: Repo, profile: string, commit: ObjectId): Promise<number | null> {
  const gens = await listGenerations(repo, profile);
  for (let i = gens.length - 1; i >= 0; i--) if (gens[i]!.commit === commit) return gens[i]!.number;
  return null;
}

/**
 * Upgrades `profile` to the newest generation remote `remote` publishes of
 * it: pulls it (only missing objects), records it as the next local
 * generation with its origin and activates it, under the profile lock. When
 * it is a local generation already, that one is activated (or nothing is
 * done when it is active).
 */
export async function upgrade(repo: Repo, opts: UpgradeOptions = {}): Promise<UpgradeResult> {
  const started = Date.now();
  const remote = await chooseRemote(repo, opts.remote);
  const profile = opts.profile ?? DEFAULT_PROFILE;
  const link = await chooseLink(repo, profile, opts.link);
  await assertNotBisecting(repo, link);
  if (opts.dryRun) return dryRun(repo, remote, profile, opts, started);
  if (opts.lazy) await assertViewForLazy(repo);
  let newest: PublishedGeneration | undefined;
  // The active generation shares most trees with the new one: the pull reads them side by side.
  const before = (await readActive(repo, profile))?.commit;
  const bases = new Map<ObjectId, ObjectId>();
  const r = await pull(repo, {
    ...opts,
    remote,
    bases,
    select: async (summary) => {
      newest = publishedOf(summary, remote, profile).at(-1)!;
      if (before !== undefined) bases.set(newest.commit, before);
      // Already here (a local generation, or pulled for a bisect): nothing to fetch, unless its files are
      // still on the remote and this upgrade is not lazy.
      const stored = await repo.store.has(newest.commit);
      return stored && (opts.lazy || readPartial(repo.path, newest.commit) === undefined) ? [] : [newest.commit];
    },
  });
  const published = newest!;
  await cacheSummary(repo, remote, r.summary!);
  const url = (await getRemote(repo.path, remote)).url;
  const result: UpgradeResult = {
    remote,
    profile,
    published,
    state: 'upgraded',
    generation: null,
    fetched: r.fetched,
    ...(opts.lazy ? { lazy: r.lazy ?? { objects: 0, bytes: 0 } } : {}),
    transfer: r.transfer,
    deltas: r.deltas,
    wouldUseDelta: null,
    activation: null,
    seconds: 0,
    pullSeconds: r.seconds,
    activateSeconds: 0,
  };
  // The server's access trace of the generation: the view fetches those files first (fuse/daemon.ts).
  if (opts.lazy && published.trace) await fetchTrace(repo, url, published, opts);
  const activating = Date.now();
  await withProfileLock(repo, profile, async () => {
    const active = await readActive(repo, profile);
    const have = await localGenerationOf(repo, profile, published.commit);
    if (have !== null && active?.commit === published.commit) {
      result.state = 'up-to-date';
      result.generation = have;
      return;
    }
    if (have !== null) {
      result.state = 'activated';
      result.generation = have;
    } else {
      result.generation = await addGeneration(repo, profile, published.commit);
      const origin: GenerationOrigin = { remote, url, profile, generation: published.number, commit: published.commit, time: Math.floor(Date.now() / 1000) };
      await writeOrigin(repo, profile, result.generation, origin);
    }
    result.activation = await activateLocked(repo, published.commit, { profile, link, lazy: opts.lazy });
  });
  result.activateSeconds = (Date.now() - activating) / 1000;
  result.seconds = (Date.now() - started) / 1000;
  return result;
}

/**
 * Fetches `traces/<commit>` of a published generation from its server,
 * verified against the SHA-256 and size the summary gives, unless one is
 * here already. A trace is a hint: one that cannot be fetched is a notice,
 * not a failed upgrade.
 */
async function fetchTrace(repo: Repo, url: string, published: PublishedGeneration, opts: UpgradeOptions): Promise<void> {
  const want = published.trace!;
  if (readTraceFile(repo.path, published.commit)) return;
  const transport = openTransport(url, opts);
  try {
    const path = `${TRACES_DIR}/${published.commit}`;
    const where = transport.describe(path);
    const bytes = await transport.getBytes(path, {
      optional: true,
      maxBytes: want.size,
      check: (b) => {
        if (b.length !== want.size || hashBytes(b) !== want.sha256) throw new TransferError('E_CORRUPT', `${where}: not the trace the summary names`, true);
      },
    });
    if (bytes) writeTraceFile(repo.path, repo.tmpDir, published.commit, bytes);
    else opts.onNotice?.(`${where}: the trace the summary names is not there`);
  } catch (err) {
    opts.onNotice?.(`the access trace of generation ${published.number}: ${(err as Error).message}`);
  } finally {
    await transport.close();
  }
}

/**
 * What an upgrade would fetch, honestly and without storing anything: the
 * summary, then, when a delta pack from a commit we have fits, its size;
 * else the commit and every tree we lack (fetched into memory, verified,
 * not stored; trees we have are not descended into), which name every
 * blob we lack and its size. Objects and bytes count those trees, the
 * commit and the blobs: what an object-by-object pull would store.
 */
async function dryRun(repo: Repo, remote: string, profile: string, opts: UpgradeOptions, started: number): Promise<UpgradeResult> {
  const config = await getRemote(repo.path, remote);
  if (!isHttpUrl(config.url)) await assertLocalRepository(config.url);
  const transport = openTransport(config.url, opts);
  try {
    const { summary } = await fetchSummary(transport, remote, config, [], false, { repo, record: false });
    const published = publishedOf(summary, remote, profile).at(-1)!;
    const have = await localGenerationOf(repo, profile, published.commit);
    const active = await readActive(repo, profile);
    const result: UpgradeResult = {
      remote,
      profile,
      published,
      state: have !== null && active?.commit === published.commit ? 'up-to-date' : 'dry-run',
      generation: have,
      fetched: { objects: 0, bytes: 0 },
      transfer: transport.stats,
      deltas: { used: [], failed: [] },
      wouldUseDelta: null,
      activation: null,
      seconds: 0,
      pullSeconds: 0,
      activateSeconds: 0,
    };
    if (!(await repo.store.has(published.commit))) {
      if (opts.deltas !== false) {
        for (const d of summary.deltas.filter((x) => x.to === published.commit && x.from !== null).sort((a, b) => a.size - b.size)) {
          if (await repo.store.has(d.from!)) {
            result.wouldUseDelta = { name: deltaName(d.from, d.to), size: d.size };
            break;
          }
        }
      }
      // Read beside the active generation's trees, as a pull is: what both name alike is stored, unlooked at.
      const base = active?.commit !== undefined && (await repo.store.has(active.commit)) ? { commit: active.commit, quarantined: await quarantinedIds(repo) } : undefined;
      // Without a base, the commit and trees from the generation's trees pack when the summary gives one, as upgrade takes them.
      const packed = new Map<ObjectId, Buffer>();
      const pack = base ? undefined : generationTreesPacks(summary).get(published.commit);
      if (pack !== undefined) await fetchTreesPack(transport, published.commit, pack, packed, opts.onNotice);
      result.fetched = await missingUnder(repo, transport, published.commit, base, packed);
    }
    result.seconds = (Date.now() - started) / 1000;
    return result;
  } finally {
    await transport.close();
  }
}

/**
 * Objects under `commit` this repository lacks and their bytes (see dryRun);
 * trees are fetched, verified and dropped. Each fetched tree is read beside
 * the stored tree at the same path under `base`'s (see storedAlike): an entry
 * both name alike is stored with everything under it, without a stat, so a
 * dry run of a small upgrade looks at what changed, not at every file of
 * each directory on the way.
 */
async function missingUnder(
  repo: Repo,
  transport: ReturnType<typeof openTransport>,
  commit: ObjectId,
  base: { commit: ObjectId; quarantined: ReadonlySet<ObjectId> } | undefined,
  packed: ReadonlyMap<ObjectId, Buffer>,
): Promise<{ objects: number; bytes: number }> {
  const seen = new Set<ObjectId>();
  const io = limiter(16);
  let objects = 0;
  let bytes = 0;
  const get = async (id: ObjectId): Promise<Buffer> => {
    // Checked against its id when the pack was read.
    const inPack = packed.get(id);
    if (inPack) return inPack;
    const where = transport.describe(objectPath(id));
    return (await io(() => transport.getBytes(objectPath(id), { maxBytes: 64 << 20, small: true, check: (b) => checkHash(id, b, where) })))!;
  };
  const tree = async (id: ObjectId, beside: ObjectId | undefined): Promise<void> => {
    if (seen.has(id)) return;
    seen.add(id);
    if (await repo.store.has(id)) return;
    const b = await get(id);
    objects++;
    bytes += b.length;
    const stored = base && beside !== undefined ? storedTreeEntries(repo.store, beside) : undefined;
    await Promise.all(
      decodeTree(b).entries.map(async (e) => {
        const under = stored?.get(e.name);
        const alike = base !== undefined && storedAlike(base.quarantined, under, e);
        if (e.kind === 'dir') {
          if (!alike) return tree(e.id!, under?.kind === 'dir' ? under.id : undefined);
          seen.add(e.id!);
          return;
        }
        if (e.kind !== 'file' || seen.has(e.id!)) return;
        seen.add(e.id!);
        if (!alike && !(await repo.store.has(e.id!))) {
          objects++;
          bytes += e.size;
        }
      }),
    );
  };
  const c = await get(commit);
  objects++;
  bytes += c.length;
  await tree(decodeCommit(c).tree, base ? storedCommitTree(repo.store, base.commit) : undefined);
  return { objects, bytes };
}
