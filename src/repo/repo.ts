import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { corrupt, exists, isErrno, notARepo, unsupported } from '../util/errors.js';
import { tempOwner, writeFileAtomic } from '../util/fs-atomic.js';
import { processAlive } from '../util/process.js';
import type { IndexDb } from '../refs/index-db.js';
import { Refs } from '../refs/refs.js';
import { DiskStore } from '../store/disk.js';
import { acquireLock, type Release } from '../store/lock.js';
import { Transaction } from '../store/txn.js';

/** Format tag written to `<repo>/config`. */
export const REPO_FORMAT = 'trove-1';

export interface RepoConfig {
  format: string;
  [key: string]: unknown;
}

/** The default repository: `$TROVE_REPO`, else `./repo`. */
export function defaultRepoPath(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.TROVE_REPO || 'repo');
}

/** An open repository: the object store, refs, lock and index, wired together. */
export class Repo {
  readonly store: DiskStore;
  readonly refs: Refs;
  /** `<repo>/tmp`: scratch space on the repository's filesystem, swept of dead processes' temp files on open. */
  readonly tmpDir: string;
  private index: IndexDb | undefined | null = null;

  private constructor(
    readonly path: string,
    readonly config: RepoConfig,
  ) {
    this.tmpDir = join(path, 'tmp');
    this.store = new DiskStore({ objectsDir: join(path, 'objects'), tmpDir: this.tmpDir, addedLog: join(path, 'objects-added') });
    this.refs = new Refs(join(path, 'refs'), this.tmpDir);
  }

  /** Creates a repository at `path` (an empty or missing directory); E_EXISTS if one is there. */
  static async init(path: string): Promise<Repo> {
    const abs = resolve(path);
    try {
      await stat(join(abs, 'config'));
      throw exists(`a repository already exists at ${abs}`, { path: abs });
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    await mkdir(abs, { recursive: true });
    const config: RepoConfig = { format: REPO_FORMAT };
    const repo = new Repo(abs, config);
    await repo.store.create();
    await Promise.all(['refs/heads', 'profiles', 'checkouts'].map((d) => mkdir(join(abs, d), { recursive: true })));
    await writeFile(join(abs, 'lock'), '');
    await writeFile(join(abs, 'config'), `${JSON.stringify(config, null, 2)}\n`);
    return repo;
  }

  /** Opens the repository at `path`; E_NOT_A_REPO when there is none. */
  static async open(path: string): Promise<Repo> {
    const abs = resolve(path);
    let text: string;
    try {
      // Blocking, as the listing below: every command opens a repository, and a read through the thread pool costs an event-loop round trip.
      text = readFileSync(join(abs, 'config'), 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) {
        throw notARepo(`no trove repository at ${abs} (create one with: trove init --repo ${path})`, { path: abs });
      }
      throw err;
    }
    let config: RepoConfig;
    try {
      config = JSON.parse(text) as RepoConfig;
    } catch {
      throw corrupt(`${join(abs, 'config')} is not valid JSON`, { path: join(abs, 'config') });
    }
    if (config.format !== REPO_FORMAT) {
      throw unsupported(`repository format ${String(config.format)} is not supported (expected ${REPO_FORMAT})`, { path: abs });
    }
    const repo = new Repo(abs, config);
    await repo.cleanStaleTemp();
    return repo;
  }

  /**
   * Removes staging directories left by processes that died (their pid is
   * gone). One this user may not remove (a crashed root writer's, seen by
   * another user's read-only command) is left for a writer that can: a
   * reader never fails for it.
   */
  private async cleanStaleTemp(): Promise<void> {
    let names: string[];
    try {
      names = readdirSync(this.tmpDir);
    } catch {
      return;
    }
    for (const name of names) {
      const pid = tempOwner(name);
      if (pid === undefined || pid === process.pid || processAlive(pid)) continue;
      try {
        // Retried while not empty: a killed process's children (an activation's cp, say) may add
        // entries for a moment after it died, until their own kill lands.
        await rm(join(this.tmpDir, name), { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
      } catch (err) {
        // Not ours to remove, or still being filled: left for a later command.
        if (!isErrno(err, 'EACCES') && !isErrno(err, 'EPERM') && !isErrno(err, 'ENOTEMPTY')) throw err;
      }
    }
  }

  /** Takes the repository lock: shared for writers, exclusive for gc. */
  lock(mode: 'shared' | 'exclusive', opts?: { wait?: boolean; onWait?: () => void }): Promise<Release> {
    return acquireLock(join(this.path, 'lock'), mode, opts);
  }

  /** A new write transaction (hold a shared lock around it). */
  transaction(): Transaction {
    return new Transaction(this.store);
  }

  /**
   * Runs `fn` in a transaction under the shared lock; commits on success and
   * then runs `after` (ref updates) while still holding the lock, so gc never
   * sees new objects without the ref that keeps them. Aborts on error.
   * `onWait` is called when the lock is held by another process (a gc) and
   * must be waited for.
   */
  async write<T>(
    fn: (txn: Transaction) => Promise<T>,
    opts: { sync?: boolean; after?: (result: T) => Promise<void>; onWait?: () => void } = {},
  ): Promise<T> {
    const release = await this.lock('shared', { onWait: opts.onWait });
    const txn = this.transaction();
    try {
      const result = await fn(txn);
      await txn.commit(opts);
      await opts.after?.(result);
      return result;
    } catch (err) {
      await txn.abort();
      throw err;
    } finally {
      await release();
    }
  }

  /**
   * The gc epoch: a counter gc bumps before it deletes anything. Derived data
   * that assumes objects exist (the stat cache) is trusted only when recorded
   * in the current epoch.
   */
  gcEpoch(): number {
    try {
      return Number.parseInt(readFileSync(join(this.path, 'gc-epoch'), 'utf8'), 10) || 0;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return 0;
      throw err;
    }
  }

  /** Moves to the next gc epoch (call under the exclusive lock, before deleting objects). */
  async bumpGcEpoch(): Promise<number> {
    const next = this.gcEpoch() + 1;
    await writeFileAtomic(join(this.path, 'gc-epoch'), `${next}\n`, { tmpDir: this.tmpDir, tag: 'gcepoch' });
    return next;
  }

  /** The LevelDB index, or undefined while another process holds it. */
  async indexDb(): Promise<IndexDb | undefined> {
    // Loaded on first use: most commands never touch the index, and LevelDB's binding costs start-up time.
    if (this.index === null) this.index = await (await import('../refs/index-db.js')).IndexDb.open(join(this.path, 'index'));
    return this.index;
  }

  async close(): Promise<void> {
    try {
      if (this.index) await this.index.close();
    } finally {
      this.index = null;
      this.store.close();
    }
  }
}
