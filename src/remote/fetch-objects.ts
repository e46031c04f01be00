import { badObject } from '../errors.js';
import { decodeCommit, decodeTree } from '../format/codec.js';
import type { ObjectId } from '../hash/index.js';
import type { DiskStore } from '../store/disk.js';
import { checkHash, installStream, installVerified } from './install.js';
import { objectPath } from './layout.js';
import { Scheduler } from './scheduler.js';
import type { Transport } from './transport.js';

/** Blobs up to this size are fetched into memory; larger ones stream to a temp file. */
const SMALL_BLOB = 1 << 20;
/** Trees and commits larger than this are refused. */
const MAX_META = 64 << 20;

export interface FetchProgress {
  /** Objects found missing so far (grows as trees are read). */
  wanted: number;
  /** Of those, objects verified and stored. */
  stored: number;
  /** Object bytes stored. */
  bytes: number;
}

/** Options of an object fetch; defaults as documented on each field. */
export interface ObjectFetcherInit {
  store: DiskStore;
  transport: Transport;
  /** Requests in flight at once (default 16). */
  jobs?: number;
  /** Commits (or trees) already fetched and verified against their ids, not to be fetched again. */
  prefetched?: Map<ObjectId, Buffer>;
  onProgress?: (p: FetchProgress) => void;
}

const HIGH = 0;
const LOW = 1;

/**
 * Fetches every object under some commits that the store lacks, and only
 * those: an object already present is skipped with everything under it,
 * because an object is installed only after everything it references. Trees
 * are fetched breadth-first ahead of files; many requests are in flight.
 */
export class ObjectFetcher {
  readonly progress: FetchProgress = { wanted: 0, stored: 0, bytes: 0 };
  private readonly pending = new Map<ObjectId, Promise<void>>();
  private readonly net: Scheduler;
  private readonly abort = new AbortController();
  private failure: unknown;

  constructor(private readonly init: ObjectFetcherInit) {
    this.net = new Scheduler(Math.max(1, init.jobs ?? 16));
  }

  /** Fetches the commits (and their history and trees) that are missing. */
  async fetchCommits(tips: ObjectId[]): Promise<void> {
    try {
      await Promise.all(tips.map((id) => this.commit(id)));
    } catch (err) {
      this.fail(err);
      await Promise.allSettled([...this.pending.values()]);
      throw this.failure;
    }
  }

  private fail(err: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.abort.abort(err);
  }

  private once(id: ObjectId, fn: () => Promise<void>): Promise<void> {
    const cur = this.pending.get(id);
    if (cur) return cur;
    const p = fn();
    this.pending.set(id, p);
    p.then(
      () => this.pending.delete(id),
      (err) => this.fail(err),
    );
    return p;
  }

  private tick(bytes: number): void {
    this.progress.stored++;
    this.progress.bytes += bytes;
    this.init.onProgress?.(this.progress);
  }

  private want(): void {
    this.progress.wanted++;
    this.init.onProgress?.(this.progress);
  }

  /** Fetches a tree or commit into memory, verified against its id. */
  private fetchMeta(id: ObjectId): Promise<Buffer> {
    const { transport } = this.init;
    const known = this.init.prefetched?.get(id);
    if (known) return Promise.resolve(known);
    const path = objectPath(id);
    return this.net.run(HIGH, async () => {
      this.throwIfFailed();
      const bytes = await transport.getBytes(path, {
        maxBytes: MAX_META,
        signal: this.abort.signal,
        check: (b) => checkHash(id, b, transport.describe(path)),
      });
      return bytes!;
    });
  }

  private commit(id: ObjectId): Promise<void> {
    return this.once(id, async () => {
      if (await this.init.store.has(id)) return;
      this.want();
      const bytes = await this.fetchMeta(id);
      const commit = decodeCommit(bytes);
      await Promise.all([this.tree(commit.tree), ...commit.parents.map((p) => this.commit(p))]);
      await installVerified(this.init.store, id, bytes);
      this.tick(bytes.length);
    });
  }

  private tree(id: ObjectId): Promise<void> {
    return this.once(id, async () => {
      if (await this.init.store.has(id)) return;
      this.want();
      const bytes = await this.fetchMeta(id);
      const tree = decodeTree(bytes);
      const children: Promise<void>[] = [];
      for (const e of tree.entries) {
        if (e.kind === 'dir') children.push(this.tree(e.id!));
        else if (e.kind === 'file') children.push(this.blob(e.id!, e.size));
      }
      await Promise.all(children);
      await installVerified(this.init.store, id, bytes);
      this.tick(bytes.length);
    });
  }

  private blob(id: ObjectId, size: number): Promise<void> {
    return this.once(id, async () => {
      const { store, transport } = this.init;
      if (await store.has(id)) return;
      this.want();
      const path = objectPath(id);
      const where = transport.describe(path);
      const small = size <= SMALL_BLOB;
      const bytes = await this.net.run(LOW, async () => {
        this.throwIfFailed();
        if (small) {
          return transport.getBytes(path, { maxBytes: size, signal: this.abort.signal, check: (b) => checkHash(id, b, where) });
        }
        await transport.get(path, (body) => installStream(store, id, body, size, where), { signal: this.abort.signal });
        return undefined;
      });
      if (bytes) {
        if (bytes.length !== size) throw badObject(`${where}: a tree says ${size} bytes, the object has ${bytes.length}`);
        await installVerified(store, id, bytes);
      }
      this.tick(size);
    });
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
