import { join } from 'node:path';
import type { ObjectId } from '../util/hash.js';
import { acquireLock, type Release } from '../store/lock.js';
import { readPartials } from '../repo/partial.js';
import { getRemote } from '../remote/config.js';
import { checkHash, installStream, installVerifiedSync, type InstallTarget } from '../remote/install.js';
import { objectPath } from '../remote/layout.js';
import { openTransport, type Transport } from '../remote/transport.js';
import { DiskSpace } from '../remote/disk-space.js';
import type { ObjectFiles } from '../store/types.js';

/** Blobs up to this size are fetched whole, larger ones written as they arrive (as a pull does). */
const SMALL_BLOB = 1 << 20;

/** Streamed bytes between two collections of the young generation (see youngCollected). */
const COLLECT_EVERY = 4 << 20;

/**
 * `body`, with a collection of the young generation after every
 * COLLECT_EVERY bytes when the process can ask for one (the daemon is
 * started with --expose-gc). Each socket read is a new 64 KiB buffer, freed
 * only by a collection, and V8 starts one for them only after about 64 MiB
 * more were made: a 32 MiB file fetched by a new daemon came in fresh pages,
 * each a fault, where a collection lets the next reads reuse the memory of
 * those already written.
 */
export async function* youngCollected(body: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  const gc = (globalThis as { gc?: (opts: { type: 'minor' }) => void }).gc;
  if (typeof gc !== 'function') return yield* body;
  let since = 0;
  for await (const chunk of body) {
    yield chunk;
    since += chunk.length;
    if (since >= COLLECT_EVERY) {
      since = 0;
      gc({ type: 'minor' });
    }
  }
}

/** How long the remotes read from the partial records are used before they are read again, in ms. */
const REMOTES_TTL_MS = 2000;

/** How long the shared repository lock is kept after the last install that used it, in ms. */
const LOCK_LINGER_MS = 100;

/** Default of `timeoutMs`: how long a read waits for a blob before it fails with EIO. */
export const DEFAULT_FETCH_TIMEOUT_MS = 20_000;

/** Options of the view's fetcher; defaults as documented on each field. */
export interface LazyFetchInit {
  repoPath: string;
  store: InstallTarget & Pick<ObjectFiles, 'pathOf'>;
  /** Longest wait for one blob, lock and download together, in ms (default DEFAULT_FETCH_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Keep-alive connections to each remote (default 4). */
  connections?: number;
  /** Where a blob whose bytes were handed to a read but could not be stored is reported (default: nowhere). */
  log?: (line: string) => void;
}

/** Counters of the fetcher, for tests and the daemon's last log lines. */
export interface LazyFetchStats {
  fetched: number;
  bytes: number;
  failed: number;
}

/**
 * Fetches the blobs of partial commits (repo/partial.ts) that the view is
 * asked to read, from the remotes their records name: verified against the
 * id before a byte is stored (so before any is served), installed as a pull
 * installs (temp file, rename) under the shared repository lock, so gc never
 * runs in between. Concurrent reads of one blob share one download. A fetch
 * that takes longer than `timeoutMs`, a server that is gone, or bytes that
 * are wrong fail the read (the view answers EIO and logs the path and
 * object); nothing unverified is ever stored.
 */
export class LazyFetcher {
  private readonly transports = new Map<string, Transport>();
  private readonly inflight = new Map<ObjectId, { stored: Promise<void>; bytes: Promise<Uint8Array | undefined> }>();
  private readonly timeoutMs: number;
  private lock: { users: number; held: Promise<Release>; acquired: boolean; linger?: NodeJS.Timeout } | undefined;
  private known: { at: number; names: string[] } | undefined;
  /** Free space of the repository's filesystem, shared by every download in flight (read again as DiskSpace says). */
  private space: DiskSpace | undefined;
  readonly stats: LazyFetchStats = { fetched: 0, bytes: 0, failed: 0 };

  constructor(private readonly init: LazyFetchInit) {
    this.timeoutMs = init.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  }

  /** Brings blob `id` of `size` bytes into the store; rejects with the reason when it cannot. */
  fetch(id: ObjectId, size: number, executable = false): Promise<void> {
    return this.start(id, size, executable).stored;
  }

  /**
   * As fetch, for a read: a blob fetched whole (up to SMALL_BLOB) resolves to
   * its bytes as soon as they have arrived and hash to `id`, and is stored
   * right after, once the read has been answered; a larger one, written to
   * the store as it arrives, resolves to undefined once stored.
   */
  fetchBytes(id: ObjectId, size: number, executable = false): Promise<Uint8Array | undefined> {
    return this.start(id, size, executable).bytes;
  }

  private start(id: ObjectId, size: number, executable: boolean): { stored: Promise<void>; bytes: Promise<Uint8Array | undefined> } {
    let f = this.inflight.get(id);
    if (!f) {
      let early: (bytes: Uint8Array) => void = () => {};
      const arrived = new Promise<Uint8Array>((resolve) => (early = resolve));
      const stored = this.fetchOnce(id, size, executable, early).finally(() => this.inflight.delete(id));
      f = { stored, bytes: Promise.race([arrived, stored.then(() => undefined)]) };
      // A prefetch asks only for `stored`: this one's failure is theirs to see, never an unhandled rejection.
      f.bytes.catch(() => undefined);
      this.inflight.set(id, f);
    }
    return f;
  }

  /** Lets go of the shared lock once no install uses it. */
  private unlock(lock: NonNullable<LazyFetcher['lock']>): void {
    if (lock.users > 0 || !lock.acquired) return;
    if (this.lock === lock) this.lock = undefined;
    // Released once acquired, even when every user gave up waiting.
    lock.held.then((release) => release()).catch(() => undefined);
  }

  /** Closes the connections and lets go of the lock. */
  async close(): Promise<void> {
    if (this.lock) {
      clearTimeout(this.lock.linger);
      this.unlock(this.lock);
    }
    const all = [...this.transports.values()];
    this.transports.clear();
    await Promise.all(all.map((t) => t.close().catch(() => undefined)));
  }

  /**
   * The remotes the partial records name, in the order first named; read
   * again after REMOTES_TTL_MS (a generation is a hundred records, read on
   * every missing blob otherwise).
   */
  private remotes(): string[] {
    if (this.known && Date.now() - this.known.at < REMOTES_TTL_MS) return this.known.names;
    const out: string[] = [];
    for (const rec of readPartials(this.init.repoPath).values()) for (const r of rec.remotes) if (!out.includes(r)) out.push(r);
    this.known = { at: Date.now(), names: out };
    return out;
  }

  private async fetchOnce(id: ObjectId, size: number, executable: boolean, early: (bytes: Uint8Array) => void): Promise<void> {
    const remotes = this.remotes();
    if (remotes.length === 0) throw new Error(`object ${id} is not in the store, and no partial commit names a remote to fetch it from`);
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const reasons: string[] = [];
    // Bytes handed to reads already came verified: a store that failed after that is not a reason to
    // download them again from the next remote (the next read that finds no file fetches again).
    let handedOut = false;
    const handOut = (bytes: Uint8Array) => {
      handedOut = true;
      early(bytes);
    };
    for (const name of remotes) {
      try {
        await this.fetchFrom(name, id, size, executable, deadline, handOut);
        this.stats.fetched++;
        this.stats.bytes += size;
        return;
      } catch (err) {
        reasons.push(`${name}: ${deadline.aborted ? `no answer within ${this.timeoutMs} ms` : (err as Error).message}`);
        if (deadline.aborted || handedOut) break;
      }
    }
    this.stats.failed++;
    this.known = undefined;
    if (handedOut) {
      const err = new Error(`object ${id} was read as fetched, but could not be stored (${reasons.join('; ')})`);
      this.init.log?.(err.message);
      throw err;
    }
    throw new Error(`object ${id} could not be fetched (${reasons.join('; ')})`);
  }

  private async fetchFrom(name: string, id: ObjectId, size: number, executable: boolean, signal: AbortSignal, early: (bytes: Uint8Array) => void): Promise<void> {
    const t = await this.transport(name);
    const path = objectPath(id);
    const where = t.describe(path);
    // Private (0600/0700) whatever the file's mode: the view does not know whether every directory above
    // it lets other users in (docs/security.md, "Private files"). trove fetch publishes what a tree shows.
    const hint = { executable, private: true };
    const opts = { signal, maxBytes: size, expectBytes: size, retries: 1 };
    // Refused (the read fails) when the file would take the filesystem below the margin a pull keeps.
    // One DiskSpace for the daemon's life: it reads the free space again after 100 ms or a MiB, not for
    // each small file, and what concurrent downloads reserved counts against each other.
    const space = (this.space ??= new DiskSpace(this.init.repoPath));
    const what = `blob ${id} (${size} bytes)`;
    if (size <= SMALL_BLOB) {
      space.reserve(size, what);
      try {
        const bytes = await t.getBytes(path, { ...opts, check: (b) => checkHash(id, b, where) });
        if (!bytes) throw new Error(`${where}: not found`);
        if (bytes.length !== size) throw new Error(`${where}: a tree says ${size} bytes, the object has ${bytes.length}`);
        // Verified: the reads waiting for it are answered from these bytes first, and the file is made
        // after (setImmediate runs once the promise jobs that answer them are done). Creating a file costs
        // more than the rest of a small file's first read on some machines.
        early(bytes);
        await new Promise((resolve) => setImmediate(resolve));
        // Stored meanwhile by another writer (trove fetch, which may have published it): left as it is.
        await this.locked(signal, () => this.init.store.hasSync(id) || installVerifiedSync(this.init.store, id, bytes, hint));
      } finally {
        space.release(size);
      }
      return;
    }
    // Streamed into a temp file as it comes, hashed on the way, renamed into place only when it matches.
    // Each attempt reserves the size, and installStream gives all of it back (as written, the rest at its end).
    await this.locked(signal, async () => {
      if (this.init.store.hasSync(id)) return;
      const install = (body: AsyncIterable<Buffer>) => {
        space.reserve(size, what);
        return installStream(this.init.store, id, youngCollected(body), size, where, hint, space).then(() => true);
      };
      const done = await t.getStream(path, install, opts);
      if (!done) throw new Error(`${where}: not found`);
    });
  }

  private async transport(name: string): Promise<Transport> {
    let t = this.transports.get(name);
    if (!t) {
      const remote = await getRemote(this.init.repoPath, name);
      t = openTransport(remote.url, { connections: this.init.connections ?? 4, timeoutMs: this.timeoutMs, retries: 1 });
      this.transports.set(name, t);
    }
    return t;
  }

  /**
   * Runs `fn` holding the shared repository lock (gc holds it exclusive):
   * one lock for every install in flight, taken once, so that a gc in
   * progress holds up at most one waiting flock, not a thread per read.
   */
  private async locked<T>(signal: AbortSignal, fn: () => T | Promise<T>): Promise<T> {
    if (!this.lock) {
      const lock: NonNullable<LazyFetcher['lock']> = { users: 0, held: acquireLock(join(this.init.repoPath, 'lock'), 'shared'), acquired: false };
      // A wait every user gave up on (gc held the lock past their deadlines) stays the one wait: the next
      // read joins it instead of starting another flock on another thread of the pool.
      lock.held.then(
        () => {
          lock.acquired = true;
          if (lock.users === 0) this.unlock(lock);
        },
        () => {
          if (this.lock === lock) this.lock = undefined;
        },
      );
      this.lock = lock;
    }
    const lock = this.lock;
    clearTimeout(lock.linger);
    lock.users++;
    try {
      await new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason as Error);
        const onAbort = () => reject(signal.reason as Error);
        signal.addEventListener('abort', onAbort, { once: true });
        lock.held.then(
          () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          },
          (err: unknown) => {
            signal.removeEventListener('abort', onAbort);
            reject(err as Error);
          },
        );
      });
      return await fn();
    } finally {
      if (--lock.users === 0) {
        // Kept a moment for the next read's install (a program opens its files one after another):
        // a lock per file costs an open, a flock and a close. gc waits at most that moment longer.
        lock.linger = setTimeout(() => this.unlock(lock), LOCK_LINGER_MS);
        lock.linger.unref();
      }
    }
  }
}
