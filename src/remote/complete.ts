import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { decodeCommit, decodeTree } from '../format/codec.js';
import type { ObjectId } from '../util/hash.js';
import type { Repo } from '../repo/repo.js';
import { clearPartial, readPartials, remainingOf, traceRank } from '../repo/partial.js';
import { acquireLock } from '../store/lock.js';
import { readMount } from '../system/mounts.js';
import { getRemote, isHttpUrl, assertLocalRepository } from './config.js';
import { DiskSpace } from './disk-space.js';
import { ObjectFetcher } from './fetch-objects.js';
import type { PullProgress } from './pull.js';
import { fetchJobs, openTransport, type TransportInit } from './transport.js';

export interface CompleteOptions extends TransportInit {
  /** Only these partial commits (default: every one). */
  commits?: ObjectId[];
  onProgress?: (p: PullProgress) => void;
  onNotice?: (message: string) => void;
}

export interface CompletedCommit {
  commit: ObjectId;
  /** The remote that brought its last blobs, or null when none was needed. */
  remote: string | null;
  objects: number;
  bytes: number;
}

export interface CompleteResult {
  completed: CompletedCommit[];
  /** Partial commits left (a remote failed for each; see the notices). */
  remaining: ObjectId[];
  fetched: { objects: number; bytes: number };
  seconds: number;
}

/**
 * Publishes the blobs of `commit` that its trees show to other users and
 * that are stored private: the view stores every blob it fetches private,
 * since it cannot tell whether a directory above a file hides it
 * (docs/security.md, "Private files").
 */
export function publishShown(repo: Pick<Repo, 'store'>, commit: ObjectId): void {
  const c = decodeCommit(repo.store.getSync(commit));
  const seen = new Set<ObjectId>();
  const stack: ObjectId[] = (c.root.mode & 0o001) !== 0 ? [c.tree] : [];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const e of decodeTree(repo.store.getSync(id)).entries) {
      if (e.kind === 'dir' && (e.mode & 0o001) !== 0) stack.push(e.id!);
      else if (e.kind === 'file' && (e.mode & 0o004) !== 0 && !seen.has(e.id!)) {
        seen.add(e.id!);
        repo.store.publishSync(e.id!);
      }
    }
  }
}

/** `remainingOf(...).objects`, or -1 when a tree of the commit cannot be read. */
function remainingOfOr(repo: Repo, commit: ObjectId): number {
  try {
    return remainingOf(repo, commit).objects;
  } catch {
    return -1;
  }
}

/** Marks partial commits complete, every blob under each stored: publishes what their trees show, drops their records. */
export function settleComplete(repo: Repo, commits: ObjectId[]): void {
  for (const commit of commits) publishShown(repo, commit);
  clearPartial(repo.path, commits);
}

/**
 * Settles those of `commits` (default: every partial commit) that are stored
 * and lack nothing any more (their files came with other commits: a
 * generation whose packages were completed, say). Returns them.
 */
export function dropCompleted(repo: Repo, commits: Iterable<ObjectId> = readPartials(repo.path).keys()): ObjectId[] {
  const done = [...commits].filter((commit) => repo.store.hasSync(commit) && remainingOfOr(repo, commit) === 0);
  settleComplete(repo, done);
  return done;
}

/** A rank that puts the blobs `rank` names after every other, in its order. */
function lastOf(rank: Map<ObjectId, number>): Map<ObjectId, number> {
  return new Map([...rank].map(([id, i]) => [id, Number.MAX_SAFE_INTEGER / 2 + i]));
}

/** `<repo>/locks/fetch`: held by a `trove fetch` while it runs, so `fetch --wait` waits for a background one. */
export const fetchLockPath = (repoPath: string) => join(repoPath, 'locks', 'fetch');

/**
 * `trove fetch`: brings every blob the partial commits lack (repo/partial.ts)
 * from the remotes their records name, and drops each record once its
 * commit is complete. Generations first, newest first (one fetch of a
 * generation's tree brings every package's files in the order of its
 * trace), then the packages, which by then usually lack nothing. Blobs an
 * access trace names come first, in its order (fuse/trace.ts), or last while
 * a view is live (the view fetches them). A remote that fails leaves
 * its commit partial, with a notice, and the next one is tried.
 */
export async function completePartials(repo: Repo, opts: CompleteOptions = {}): Promise<CompleteResult> {
  const started = Date.now();
  const result: CompleteResult = { completed: [], remaining: [], fetched: { objects: 0, bytes: 0 }, seconds: 0 };
  mkdirSync(dirname(fetchLockPath(repo.path)), { recursive: true });
  const releaseFetch = await acquireLock(fetchLockPath(repo.path), 'exclusive');
  try {
    const partials = readPartials(repo.path);
    const wanted = opts.commits ? opts.commits.filter((c) => partials.has(c)) : [...partials.keys()];
    // Generations before the packages they hold, newest first: a generation's tree holds every file of its
    // packages, so one fetch of it brings them all in the order of its trace, across packages; the
    // packages then lack nothing. A generation whose packages come from several remotes cannot come
    // from one of them: it is taken again once its packages are complete (below).
    const isGeneration = (c: ObjectId) => {
      try {
        return decodeCommit(repo.store.getSync(c)).generation !== undefined;
      } catch {
        return false;
      }
    };
    const gen = new Map(wanted.map((c) => [c, isGeneration(c)]));
    wanted.sort((a, b) => Number(gen.get(b)) - Number(gen.get(a)) || partials.get(b)!.time - partials.get(a)!.time);
    const progress: PullProgress = { phase: 'objects', objects: 0, wanted: 0, bytes: 0 };
    // A live view fetches the traced files itself as soon as the commit is read (fuse/daemon.ts): then
    // they come last here, and the two do not download the same files at once.
    const viewFetches = (await readMount(repo.path)) !== undefined;
    const release = await repo.lock('shared');
    try {
      for (const commit of wanted) {
        const rec = partials.get(commit)!;
        // Not stored yet: a lazy pull writes the record first and is storing it now (only gc, under the
        // exclusive lock, drops the records of commits that are not stored).
        if (!repo.store.hasSync(commit)) continue;
        let left: number;
        try {
          left = remainingOf(repo, commit).objects;
        } catch (err) {
          opts.onNotice?.(`commit ${commit}: ${(err as Error).message} (trove fsck tells more)`);
          result.remaining.push(commit);
          continue;
        }
        if (left === 0) {
          settleComplete(repo, [commit]);
          result.completed.push({ commit, remote: null, objects: 0, bytes: 0 });
          continue;
        }
        let done = false;
        for (const name of rec.remotes) {
          const base = { ...result.fetched };
          try {
            const remote = await getRemote(repo.path, name);
            if (!isHttpUrl(remote.url)) await assertLocalRepository(remote.url);
            const transport = openTransport(remote.url, opts);
            const fetcher = new ObjectFetcher({
              store: repo.store,
              transport,
              ...fetchJobs(opts),
              space: new DiskSpace(repo.path),
              descend: true,
              rank: viewFetches ? lastOf(traceRank(repo.path, commit)) : traceRank(repo.path, commit),
              onProgress: (p) => {
                progress.objects = base.objects + p.stored;
                progress.wanted = base.objects + p.wanted;
                progress.bytes = base.bytes + p.bytes;
                opts.onProgress?.({ ...progress });
              },
            });
            try {
              await fetcher.fetchCommits([commit]);
            } finally {
              result.fetched.objects += fetcher.progress.stored;
              result.fetched.bytes += fetcher.progress.bytes;
              await transport.close();
            }
            settleComplete(repo, [commit]);
            result.completed.push({ commit, remote: name, objects: result.fetched.objects - base.objects, bytes: result.fetched.bytes - base.bytes });
            done = true;
            break;
          } catch (err) {
            opts.onNotice?.(`commit ${commit} from ${name}: ${(err as Error).message}`);
          }
        }
        if (!done) {
          if (rec.remotes.length === 0) opts.onNotice?.(`commit ${commit}: its partial record names no remote to fetch from`);
          result.remaining.push(commit);
        }
      }
      // What the packages brought may have completed a generation that no single remote could.
      for (const commit of dropCompleted(repo, result.remaining)) {
        result.remaining.splice(result.remaining.indexOf(commit), 1);
        result.completed.push({ commit, remote: null, objects: 0, bytes: 0 });
      }
    } finally {
      await release();
    }
  } finally {
    await releaseFetch();
  }
  result.seconds = (Date.now() - started) / 1000;
  return result;
}
