import { EmptyShards } from '../store/shards.js';
import { setMaxListeners } from 'node:events';
import { badObject } from '../util/errors.js';
import { decodeCommit, decodeTree } from '../format/codec.js';
import { hashBytes, type ObjectId } from '../util/hash.js';
import { checkHash, installStream, installVerifiedSync, type InstallTarget } from './install.js';
import { objectPath } from './layout.js';
import { type Bases, checkPresent, readStored, storedAlike, storedCommitTree, storedTreeEntries } from './present.js';
import { type ObjectFiles, objectFileMode } from '../store/types.js';
import { ObjectWriteWorker, POOL_BYTES, type WritableObjects } from '../store/write-worker.js';
import type { Transport } from './transport.js';
import type { DiskSpace } from './disk-space.js';
import { MAX_META } from '../format/types.js';
import { crashPoint } from '../util/crash-point.js';

/**
 * Blobs up to this size are fetched whole; larger ones are written chunk by
 * chunk as they arrive. Few large buffers means little malloc fragmentation.
 */
const SMALL_BLOB = 1 << 20;

/** How far past large blobs waiting for a slot the fetch looks for a small one to fetch first. */
const LOOK_AHEAD = 1024;

/** A blob fetched as a stream (never sent ahead on a busy connection). */
const isLarge = (node: Node): boolean => node.kind === 'blob' && node.size > SMALL_BLOB;

/**
 * Blobs written in this thread before the rest go to a second one
 * (ObjectWriteWorker): below this, starting the thread costs more than it
 * saves. Bytes handed to that thread and not yet written are in its pool,
 * or wait for room there in the buffers they came in; past `WRITE_BACKLOG`
 * (8 MiB waiting beyond a full pool) a blob holds its request's slot until
 * it is written, so memory stays bounded when the disk is slower than the
 * network.
 */
const WRITER_AFTER = 256;
const WRITE_BACKLOG = POOL_BYTES + (8 << 20);

/** The id of zero bytes. */
const EMPTY_ID = hashBytes(new Uint8Array(0));

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
  /** Where objects go; `pathOf` lets an object already stored be checked to be what it is referenced as. */
  store: InstallTarget & Pick<ObjectFiles, 'pathOf'> & Partial<WritableObjects>;
  transport: Transport;
  /** Requests in flight at once (default 16). */
  jobs?: number;
  /**
   * Of those, requests for blobs larger than SMALL_BLOB (default `jobs`):
   * those are never sent ahead on a busy connection, so more of them than
   * connections would wait for one with their deadline running.
   */
  largeJobs?: number;
  /** Commits (or trees) already fetched and verified against their ids, not to be fetched again. */
  prefetched?: Map<ObjectId, Buffer>;
  /**
   * Commits and trees of a trees pack, verified against their ids: used
   * instead of a request for those the fetch finds missing, like any other
   * fetched object (unlike `prefetched`, not taken to be missing).
   */
  packed?: ReadonlyMap<ObjectId, Buffer>;
  /**
   * Free space of the repository: every blob's size is reserved when a tree
   * names it, before it is downloaded, and writes are checked (default: none).
   */
  space?: DiskSpace;
  onProgress?: (p: FetchProgress) => void;
  /**
   * Fetch commits and trees only (a lazy pull): blobs are left on the remote,
   * and the caller records the tips as partial first (repo/partial.ts).
   */
  lazy?: boolean;
  /**
   * With `lazy`: called with each commit about to be fetched (a tip or one of
   * its history), before it or anything under it is stored, to record it as
   * partial.
   */
  onLazyCommit?: (id: ObjectId) => void;
  /**
   * Stored commits and trees may lack blobs: walk them too, instead of
   * skipping each with everything under it, and take no entry as stored from
   * a base (default: when `partialsNow` says so, not for a lazy fetch).
   */
  descend?: boolean;
  /**
   * Whether some commit is partial now (repo/partial.ts hasPartials): asked
   * when the fetch starts, and again when a stored tree is about to be
   * skipped, since a concurrent lazy pull may have stored it without its blobs.
   */
  partialsNow?: () => boolean;
  /** Blobs are fetched in this order where it names them (an access trace), the rest after, in walk order. */
  rank?: Map<ObjectId, number>;
}

type Kind = 'commit' | 'tree' | 'blob';

/** An object being fetched, and the objects waiting for it to be installed. */
interface Node {
  id: ObjectId;
  kind: Kind | 'root';
  size: number;
  /** A blob first referenced by an executable file: its object file gets mode 0755. */
  executable?: boolean;
  /**
   * A tree: every directory above it, and it, searchable by others. A blob:
   * no reference to it met so far lets others read it, so its object file
   * is private (docs/security.md, "Private files").
   */
  open?: boolean;
  private?: boolean;
  /**
   * A tree: a stored tree at the same path in a commit this repository has
   * (see fetchCommits' `bases`), whose entries say which of this tree's
   * entries are stored already, as what they are referenced as here.
   */
  base?: ObjectId;
  /** A tree's or commit's bytes, held until everything under it is installed. */
  bytes?: Buffer;
  /** Referenced objects not installed yet (plus one while the node itself is being read). */
  waiting: number;
  parents: Node[];
  /** A blob another process stored while it waited its turn (the view, fetching it on read): not counted as fetched. */
  elsewhere?: boolean;
}

/**
 * Fetches every object under some commits that the store lacks, and only
 * those: an object already present is skipped with everything under it,
 * because an object is installed only after everything it references; it is
 * first checked to be of the kind (and a blob of the size) it is referenced
 * as (checkPresent), so a remote cannot make a stored blob a directory. Trees
 * and commits are fetched first, breadth-first, files behind them; `jobs`
 * requests are in flight. Work is plain queues and counters, so memory grows
 * with the objects still missing, not with promises per file.
 */
export class ObjectFetcher {
  readonly progress: FetchProgress = { wanted: 0, stored: 0, bytes: 0 };
  private readonly inflight = new Map<ObjectId, Node>();
  /** `kind:id` (`blob:id:size`) of objects found stored as referenced: not checked again. */
  private readonly checked = new Set<string>();
  /** Shards of the store that held no object when the fetch first looked (store/shards.ts). */
  private readonly emptyShards = new EmptyShards();
  /**
   * The first 52 bits of each object this fetch stored, so that one referenced again in a shard
   * taken for empty is looked for on disk after all: 8 bytes a number, where the ids would keep
   * their strings alive (a million objects of an initial pull).
   */
  private readonly storedHere = new Set<number>();
  private readonly metaQueue: Node[] = [];
  private readonly blobQueue: Node[] = [];
  private metaHead = 0;
  private blobHead = 0;
  private active = 0;
  private readonly jobs: number;
  /** Blobs larger than SMALL_BLOB in flight, and how many may be. */
  private largeActive = 0;
  private readonly largeJobs: number;
  private readonly abort = new AbortController();
  private failure: unknown;
  private settle?: { resolve: () => void; reject: (err: unknown) => void };
  private readonly root: Node = { id: '', kind: 'root', size: 0, waiting: 0, parents: [] };
  private quarantined: ReadonlySet<ObjectId> = new Set();
  /** Walking stored trees: `descend`, or since a partial commit appeared during the fetch. */
  private descending: boolean;
  /** Stored commits and trees walked in `descend` mode. */
  private readonly descended = new Set<ObjectId>();
  /** Blobs left on the remote by a lazy fetch. */
  skipped = { objects: 0, bytes: 0 };
  /** Blobs written in this thread so far, until the writer starts. */
  private writtenHere = 0;
  /** The second thread that writes small blobs, once WRITER_AFTER were written here (null: none can be made). */
  private writer: ObjectWriteWorker | null | undefined;
  /** Bytes handed to the writer and not yet written. */
  private backlog = 0;
  /** Blobs the second thread wrote. */
  writtenInWorker = 0;

  constructor(private readonly init: ObjectFetcherInit) {
    this.jobs = Math.max(1, init.jobs ?? 16);
    this.largeJobs = Math.max(1, Math.min(this.jobs, init.largeJobs ?? this.jobs));
    this.descending = init.descend ?? (!init.lazy && init.partialsNow?.() === true);
    setMaxListeners(Infinity, this.abort.signal);
  }

  /**
   * Fetches the commits (and their history and trees) that are missing.
   * `bases` maps a tip to a stored commit it is likely to share most trees
   * with (the commit a ref or profile held before): each tree fetched is read
   * beside the stored tree at its path, and an entry both name alike is
   * known stored without looking at it (`storedAlike`). Only stored trees are
   * taken as bases, so a remote cannot make anything more trusted.
   */
  async fetchCommits(tips: ObjectId[], bases?: Bases): Promise<void> {
    this.quarantined = bases?.quarantined ?? new Set();
    const done = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    this.root.waiting++;
    for (const id of tips) {
      const node = this.reference(id, 'commit', 0, this.root);
      const base = bases?.commits.get(id);
      if (node && base !== undefined) node.base = storedCommitTree(this.init.store, base);
    }
    if (this.init.rank) this.rankBlobs(this.init.rank);
    this.release(this.root);
    this.pump();
    try {
      await done;
    } finally {
      await this.writer?.close();
    }
  }

  /**
   * Notes that `parent` needs `id`; queues it unless it is stored or already
   * on its way. `stored`: known stored as this kind (`storedAlike`).
   * Returns the node when it was queued.
   */
  private reference(id: ObjectId, kind: Kind, size: number, parent: Node, executable = false, open = true, stored = false): Node | undefined {
    // Left on the remote, before anything else: not even a clash with a tree of the same id (the empty
    // tree and the empty file share one) concerns a blob that is not fetched.
    if (kind === 'blob' && this.init.lazy) {
      const key = `lazy:${id}`;
      if (!this.checked.has(key)) {
        this.checked.add(key);
        this.skipped.objects++;
        this.skipped.bytes += size;
      }
      return undefined;
    }
    const cur = this.inflight.get(id);
    if (cur) {
      // Zero bytes are both the empty tree and the empty file: the one object serves as either.
      if (cur.kind !== kind && id !== EMPTY_ID) throw badObject(`object ${id} is referenced both as a ${cur.kind} and as a ${kind}`);
      if (open) {
        cur.open = true;
        cur.private = false;
      }
      cur.parents.push(parent);
      parent.waiting++;
      return undefined;
    }
    if (stored && !this.descending) return undefined;
    const key = kind === 'blob' ? `blob:${id}:${size}` : `${kind}:${id}`;
    if (this.checked.has(key)) return undefined;
    // Fetched for the caller's walk, which found it missing a moment ago: not looked for again (stored by
    // another writer meanwhile, it is renamed over with the same bytes).
    const known = kind !== 'blob' && this.init.prefetched?.has(id) === true;
    // A shard that held nothing when first asked: the object is not stored, no stat needed.
    const absent = !this.storedHere.has(idPrefix(id)) && this.emptyShards.emptyFor(this.init.store.pathOf(id));
    if (kind !== 'blob' && this.descending && !known && !absent) {
      const bytes = readStored(this.init.store, id);
      if (bytes) {
        this.checked.add(key);
        this.descendInto(id, kind, bytes, parent, open);
        return undefined;
      }
    }
    if (!known && !absent && checkPresent(this.init.store, id, kind, kind === 'blob' ? size : undefined, parent.kind === 'root' ? 'the remote' : `${parent.kind} ${parent.id}`)) {
      // A stored tree another writer's lazy pull may have stored without its blobs: that pull records
      // its commit as partial before storing any tree, so a record now means walking stored trees.
      if (kind !== 'blob' && !this.descending && !this.init.lazy && this.init.partialsNow?.()) {
        this.descending = true;
        return this.reference(id, kind, size, parent, executable, open);
      }
      this.checked.add(key);
      return undefined;
    }
    // Refused before anything under the tree is downloaded when it cannot fit.
    if (kind === 'blob') this.init.space?.reserve(size, `blob ${id} (${size} bytes, named by ${parent.kind} ${parent.id})`);
    if (kind === 'commit' && this.init.lazy) this.init.onLazyCommit?.(id);
    const node: Node = { id, kind, size, executable, open, private: !open, waiting: 1, parents: [parent] };
    parent.waiting++;
    this.inflight.set(id, node);
    (kind === 'blob' ? this.blobQueue : this.metaQueue).push(node);
    this.progress.wanted++;
    return node;
  }

  /**
   * Walks a stored commit or tree in `descend` mode: what is missing under it
   * is queued with `parent` waiting for it (the stored object itself is not
   * installed again).
   */
  private descendInto(id: ObjectId, kind: 'commit' | 'tree', bytes: Uint8Array, parent: Node, open: boolean): void {
    if (this.descended.has(id)) return;
    this.descended.add(id);
    if (kind === 'commit') {
      let commit: ReturnType<typeof decodeCommit>;
      try {
        commit = decodeCommit(bytes);
      } catch {
        throw badObject(`${parent.kind === 'root' ? 'the remote' : `${parent.kind} ${parent.id}`} references ${id} as a commit, but the stored object with that id is not a commit`);
      }
      // Its history was complete or partial on its own record; only its tree is walked.
      this.reference(commit.tree, 'tree', 0, parent, false, (commit.root.mode & 0o001) !== 0);
      return;
    }
    let entries: ReturnType<typeof decodeTree>['entries'];
    try {
      entries = decodeTree(bytes).entries;
    } catch {
      throw badObject(`${parent.kind === 'root' ? 'the remote' : `${parent.kind} ${parent.id}`} references ${id} as a tree, but the stored object with that id is not a tree`);
    }
    for (const e of entries) {
      const shown = open && (e.mode & (e.kind === 'dir' ? 0o001 : 0o004)) !== 0;
      if (e.kind === 'dir') this.reference(e.id!, 'tree', 0, parent, false, shown);
      else if (e.kind === 'file') this.reference(e.id!, 'blob', e.size!, parent, (e.mode & 0o111) !== 0, shown);
    }
  }

  /** Puts the queued blobs `rank` names first, in its order (the walk of stored trees queued them all by now). */
  private rankBlobs(rank: Map<ObjectId, number>): void {
    const keyed = this.blobQueue.slice(this.blobHead).map((n, i) => ({ n, k: rank.get(n.id) ?? rank.size + i }));
    keyed.sort((a, b) => a.k - b.k);
    this.blobQueue.splice(this.blobHead, keyed.length, ...keyed.map((x) => x.n));
  }

  /**
   * The next node to fetch, or undefined when none is queued. While
   * `largeJobs` large blobs are in flight, a small blob up to LOOK_AHEAD
   * places behind the large ones at the head goes before them (they could not
   * start anyway); undefined when there is none.
   */
  private next(): Node | undefined {
    if (this.metaHead < this.metaQueue.length) return this.metaQueue[this.metaHead++];
    const q = this.blobQueue;
    const head = this.blobHead;
    if (head >= q.length) return undefined;
    if (!isLarge(q[head]!)) return q[this.blobHead++];
    if (this.largeActive < this.largeJobs) {
      this.largeActive++;
      return q[this.blobHead++];
    }
    const end = Math.min(q.length, head + LOOK_AHEAD);
    let j = head + 1;
    while (j < end && isLarge(q[j]!)) j++;
    if (j >= end) return undefined;
    // The small one to the head, the large ones behind it kept in their order.
    const small = q[j]!;
    q.copyWithin(head + 1, head, j);
    q[head] = small;
    return q[this.blobHead++];
  }

  private pump(): void {
    // Drop consumed queue heads now and then, so long pulls do not keep them.
    if (this.metaHead > 4096 && this.metaHead * 2 > this.metaQueue.length) {
      this.metaQueue.splice(0, this.metaHead);
      this.metaHead = 0;
    }
    if (this.blobHead > 4096 && this.blobHead * 2 > this.blobQueue.length) {
      this.blobQueue.splice(0, this.blobHead);
      this.blobHead = 0;
    }
    while (this.failure === undefined && this.active < this.jobs) {
      const node = this.next();
      if (!node) break;
      this.active++;
      this.work(node).then(
        () => {
          this.active--;
          if (isLarge(node)) this.largeActive--;
          this.pump();
        },
        (err) => {
          this.active--;
          if (isLarge(node)) this.largeActive--;
          this.fail(err);
        },
      );
    }
    if (this.failure !== undefined && this.active === 0) this.settle?.reject(this.failure);
  }

  private fail(err: unknown): void {
    if (this.failure === undefined) {
      this.failure = err;
      this.abort.abort(err);
    }
    this.pump();
  }

  private async work(node: Node): Promise<void> {
    const { store, transport } = this.init;
    const path = objectPath(node.id);
    const where = transport.describe(path);
    const signal = this.abort.signal;
    const space = this.init.space;
    if (node.kind === 'blob' && this.descending && checkPresent(store, node.id, 'blob', node.size, `blob ${node.id}`)) {
      // Completing a partial commit while its view fetches files on read: one the view brought since the
      // walk is not downloaded again.
      node.elsewhere = true;
      this.init.space?.release(node.size);
      this.release(node);
      return;
    }
    if (node.kind === 'blob') {
      // Capped at the size the tree gives (decoded bytes, and wire bytes at wireCap), with time for that size.
      const sized = { maxBytes: node.size, expectBytes: node.size, signal };
      if (node.size > SMALL_BLOB) {
        const hint = { executable: node.executable, private: node.private };
        const writer = this.writerFor();
        await transport.getStream(path, (body) => installStream(store, node.id, body, node.size, where, hint, space, writer), sized);
        if (writer) this.writtenInWorker++;
        else this.writtenHere++;
      } else {
        const bytes = (await transport.getBytes(path, { ...sized, small: true, check: (b) => checkHash(node.id, b, where) }))!;
        if (bytes.length !== node.size) throw badObject(`${where}: a tree says ${node.size} bytes, the object has ${bytes.length}`);
        const writer = this.writerFor();
        if (writer) {
          // Its slot is free for the next request while the other thread writes; the blob counts as installed (and
          // releases the trees waiting for it) only once it is written.
          this.backlog += bytes.length;
          const written = writer.write(node.id, bytes, objectFileMode({ executable: node.executable, private: node.private })).then(
            () => {
              this.backlog -= bytes.length;
              this.writtenInWorker++;
              crashPoint('pull:install');
              space?.wrote(node.size, `blob ${node.id}`, true);
              this.release(node);
            },
            (err: unknown) => this.fail(err),
          );
          if (this.backlog > WRITE_BACKLOG) await written;
          return;
        }
        installVerifiedSync(store, node.id, bytes, { executable: node.executable, private: node.private });
        this.writtenHere++;
        space?.wrote(node.size, `blob ${node.id}`, true);
      }
      this.release(node);
      return;
    }
    const bytes =
      this.init.prefetched?.get(node.id) ??
      this.init.packed?.get(node.id) ??
      (await transport.getBytes(path, { maxBytes: MAX_META, signal, small: true, check: (b) => checkHash(node.id, b, where) }))!;
    if (this.failure !== undefined) return;
    node.bytes = bytes;
    if (node.kind === 'commit') {
      const commit = decodeCommit(bytes);
      const tree = this.reference(commit.tree, 'tree', 0, node, false, (commit.root.mode & 0o001) !== 0);
      if (tree) tree.base = node.base;
      for (const p of commit.parents) this.reference(p, 'commit', 0, node);
    } else {
      const base = node.base === undefined ? undefined : storedTreeEntries(this.init.store, node.base);
      for (const e of decodeTree(bytes).entries) {
        const open = node.open === true && (e.mode & (e.kind === 'dir' ? 0o001 : 0o004)) !== 0;
        if (e.kind === 'dir') {
          const b = base?.get(e.name);
          const sub = this.reference(e.id!, 'tree', 0, node, false, open, storedAlike(this.quarantined, b, e));
          if (sub && b?.kind === 'dir') sub.base = b.id;
        } else if (e.kind === 'file') {
          this.reference(e.id!, 'blob', e.size, node, (e.mode & 0o111) !== 0, open, storedAlike(this.quarantined, base?.get(e.name), e));
        }
      }
    }
    this.release(node);
  }

  /** The writer thread, started once WRITER_AFTER blobs were written here, on a store that can give it paths. */
  private writerFor(): ObjectWriteWorker | undefined {
    if (this.writer !== undefined) return this.writer ?? undefined;
    const { store } = this.init;
    if (this.writtenHere < WRITER_AFTER || store.noteAdded === undefined || store.placeSync === undefined || store.tempPath === undefined) return undefined;
    try {
      this.writer = new ObjectWriteWorker(store as WritableObjects);
    } catch {
      // No thread to be had (a limit on threads, memory): this thread writes, as below WRITER_AFTER.
      this.writer = null;
    }
    return this.writer ?? undefined;
  }

  /**
   * Drops one thing `node` waits for; when nothing is left, installs it and
   * releases its parents in turn (a loop: histories can be long).
   */
  private release(first: Node): void {
    const stack = [first];
    while (stack.length) {
      const node = stack.pop()!;
      if (--node.waiting > 0) continue;
      if (node.kind === 'root') {
        this.settle?.resolve();
        continue;
      }
      if (node.bytes) {
        installVerifiedSync(this.init.store, node.id, node.bytes);
        this.init.space?.wrote(node.bytes.length, `${node.kind} ${node.id}`);
      }
      this.inflight.delete(node.id);
      this.storedHere.add(idPrefix(node.id));
      if (!node.elsewhere) {
        this.progress.stored++;
        this.progress.bytes += node.bytes?.length ?? node.size;
      }
      node.bytes = undefined;
      this.init.onProgress?.(this.progress);
      stack.push(...node.parents);
      node.parents = [];
    }
  }
}

/** The first 13 hex digits of an id, as a number (exact below 2^53). */
function idPrefix(id: ObjectId): number {
  return Number.parseInt(id.slice(0, 13), 16);
}
