import type { Commit, Tree, TreeEntry, Xattr } from '../format/types.js';
import { isObjectId, type ObjectId } from '../util/hash.js';
import { eio, enoent, ERR, FsError } from './errno.js';
import { Inodes } from './inodes.js';
import { Lru } from './lru.js';
import { MAX_TREE_PATH } from '../util/limits.js';
import type { PointerArea, ReadTree, SpaceInfo, ViewSource } from './source.js';

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

/** Where a directory's listing comes from. */
export type DirWhere = { area: 'root' } | { area: 'commits' } | { area: PointerArea; parts: string[] } | { area: 'tree'; tree: ObjectId };

interface NodeBase {
  path: string;
  ino: number;
  /** Permission bits (mode & 0o7777). */
  perm: number;
  uid: number;
  gid: number;
  /** Shown as atime, mtime and ctime: the commit's time inside a commit, the mount's time elsewhere. */
  mtimeMs: number;
  xattrs: Xattr[];
}

/** One resolved path of the mount. */
export type Node =
  | (NodeBase & { kind: 'dir'; where: DirWhere })
  | (NodeBase & { kind: 'file'; blob: ObjectId; size: number })
  | (NodeBase & { kind: 'symlink'; target: string });

/** What stat(2) shows (times in ms). */
export interface Stat {
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  blocks: number;
  blksize: number;
  atime: number;
  mtime: number;
  ctime: number;
}

/** One name of a listing, with what readdir reports besides the name. */
export interface Dirent {
  name: string;
  ino: number;
  mode: number;
}

/** A decoded tree plus what lookups and stat need, kept in the tree cache. */
interface TreeInfo {
  entries: TreeEntry[];
  index: Map<string, number>;
  subdirs: number;
  /** treeCost of its entries. */
  cost: number;
}

/** Options of a view; defaults as documented on each field. */
export interface ViewOptions {
  /** Memory bound of the decoded-tree cache, in bytes (default 64 MiB). */
  treeCacheBytes?: number;
  /** Resolved paths kept inside commits (default 100 000). */
  nodeCacheEntries?: number;
  /** Time of the top-level and pointer directories, ms (default: when the view was made). */
  startTime?: number;
  /** One past the highest inode number handed out (default 2^32: all fuse-native passes). */
  inodeLimit?: number;
  /** Called with each commit the view reads from the store (once, unless its cache let it go). */
  onCommit?: (id: ObjectId) => void;
}

const TOP: Record<string, { ino: number; where: DirWhere }> = {
  commits: { ino: 2, where: { area: 'commits' } },
  refs: { ino: 3, where: { area: 'refs', parts: [] } },
  profiles: { ino: 4, where: { area: 'profiles', parts: [] } },
};

/** Length of `/commits/<id>/`, before a path inside a commit. */
const COMMIT_PREFIX = '/commits/'.length + 64 + 1;

/** Tree reads a listing may start ahead of the walk, at most this many at once and this many waiting. */
const PREFETCH_PARALLEL = 8;
const PREFETCH_QUEUE = 4096;
/** Trees read ahead in one call of the source, when it can read several at once. */
const PREFETCH_BATCH = 16;
/**
 * Longest run of decoding trees read ahead before the daemon looks for
 * requests again: batches completing together decoded at once held a
 * listing's answer back by 20-40 ms.
 */
const DECODE_SLICE_MS = 2;

/** A tree read ahead and waiting to be decoded, with the promise its loaders wait on. */
interface Undecoded {
  read: ReadTree;
  done: (info: TreeInfo) => void;
  fail: (err: unknown) => void;
}

/** Rough heap cost of a decoded tree, so the cache bound means bytes. */
function treeCost(entries: TreeEntry[]): number {
  let n = 256;
  for (const e of entries) {
    n += 320 + 2 * e.name.length + 2 * (e.target?.length ?? 0);
    for (const x of e.xattrs) n += 64 + 2 * x.name.length + x.value.length;
  }
  return n;
}

const typeBits = (kind: Node['kind']) => (kind === 'dir' ? S_IFDIR : kind === 'file' ? S_IFREG : S_IFLNK);

/** What stat(2) shows of an entry: its three times are one (`timeMs`), its blocks counted from its size. */
function statOf(ino: number, mode: number, uid: number, gid: number, size: number, nlink: number, timeMs: number): Stat {
  return { ino, mode, uid, gid, size, nlink, blocks: Math.ceil(size / 512), blksize: 4096, atime: timeMs, mtime: timeMs, ctime: timeMs };
}

/**
 * The read-only namespace of the mount, resolved lazily from the store:
 * `/commits/<id>/...` (any commit, looked up on first use), `/refs/<name>`
 * and `/profiles/<P>/<N>` (relative symlinks into `commits/`). Paths inside a
 * commit never change, so their nodes are cached; refs and profiles are read
 * afresh on every request.
 */
export class TroveView {
  private readonly trees: Lru<ObjectId, TreeInfo>;
  private readonly nodes: Lru<string, Node>;
  private readonly commits = new Lru<ObjectId, Commit>({ maxCost: 4096 });
  private readonly onCommit: ((id: ObjectId) => void) | undefined;
  private readonly loading = new Map<ObjectId, Promise<TreeInfo>>();
  private oversized: { id: ObjectId; info: TreeInfo } | undefined;
  private readonly queue: ObjectId[] = [];
  private prefetching = 0;
  /** Trees read ahead, waiting to be checked and decoded (in read order, a slice per turn of the event loop). */
  private readonly undecoded = new Map<ObjectId, Undecoded>();
  private draining = false;
  private readonly treeCacheBytes: number;
  readonly inodes: Inodes;
  private readonly start: number;
  private readonly root: Node;

  constructor(
    private readonly source: ViewSource,
    opts: ViewOptions = {},
  ) {
    this.treeCacheBytes = opts.treeCacheBytes ?? 64 << 20;
    this.trees = new Lru({ maxCost: this.treeCacheBytes, costOf: (t) => t.cost });
    // A path inside a commit counts once more for each 64 characters past `/commits/<id>/`, so deep paths
    // cannot hold more memory than short ones.
    this.nodes = new Lru({ maxCost: opts.nodeCacheEntries ?? 100_000, costOf: (n) => 1 + (Math.max(0, n.path.length - COMMIT_PREFIX) >> 6) });
    this.start = opts.startTime ?? Date.now();
    this.inodes = new Inodes(opts.inodeLimit);
    this.root = this.dirNode('/', 1, { area: 'root' });
    this.onCommit = opts.onCommit;
  }

  /** Space of the filesystem holding the store. */
  space(): Promise<SpaceInfo> {
    return this.source.space();
  }

  /** Decoded trees and resolved paths currently cached. */
  cacheStats(): { trees: number; treeBytes: number; nodes: number; oversized: boolean } {
    return { trees: this.trees.size, treeBytes: this.trees.cost, nodes: this.nodes.size, oversized: this.oversized !== undefined };
  }

  /** The node at an absolute mount path (`/`, `/commits/<id>/usr/bin`); FsError ENOENT, ENOTDIR or EIO. */
  async lookup(path: string): Promise<Node> {
    if (path === '/') return this.root;
    const hit = this.nodes.get(path);
    if (hit) return hit;
    const cut = path.lastIndexOf('/');
    if (cut < 0 || path.endsWith('/')) throw enoent(path);
    const parent = await this.lookup(cut === 0 ? '/' : path.slice(0, cut));
    if (parent.kind !== 'dir') throw new FsError(ERR.ENOTDIR, `${parent.path}: not a directory`);
    // No tree trove imports has a longer path (MAX_TREE_PATH); one made to be longer is not walked.
    if (path.length > COMMIT_PREFIX + MAX_TREE_PATH / 3 && Buffer.byteLength(path) > COMMIT_PREFIX + MAX_TREE_PATH) {
      throw new FsError(ERR.ENAMETOOLONG, `${path.slice(0, 200)}...: longer than the ${MAX_TREE_PATH} bytes a tree's path may have`);
    }
    const node = await this.child(parent, path.slice(cut + 1), path);
    const area = parent.where.area;
    if (area === 'tree' || area === 'commits') this.nodes.set(path, node);
    return node;
  }

  /**
   * The tree of the directory holding `path` (an absolute mount path inside
   * a commit), when its node is cached; undefined otherwise. Reads nothing:
   * the reader of a file has just looked its directory up.
   */
  treeAbove(path: string): ObjectId | undefined {
    const cut = path.lastIndexOf('/');
    const dir = cut > 0 ? this.nodes.get(path.slice(0, cut)) : undefined;
    return dir?.kind === 'dir' && dir.where.area === 'tree' ? dir.where.tree : undefined;
  }

  /** The blobs and sizes of the regular files of a tree, when it is cached; undefined otherwise (nothing is read). */
  filesOf(tree: ObjectId): { blob: ObjectId; size: number }[] | undefined {
    const info = this.cached(tree);
    if (!info) return undefined;
    const files: { blob: ObjectId; size: number }[] = [];
    for (const e of info.entries) if (e.kind === 'file') files.push({ blob: e.id!, size: e.size ?? 0 });
    return files;
  }

  private dirNode(path: string, ino: number, where: DirWhere): Node {
    return { kind: 'dir', path, ino, perm: 0o755, uid: 0, gid: 0, mtimeMs: this.start, xattrs: [], where };
  }

  private async child(parent: Node & { kind: 'dir' }, name: string, path: string): Promise<Node> {
    const where = parent.where;
    switch (where.area) {
      case 'root': {
        const top = TOP[name];
        if (!top) throw enoent(path);
        return this.dirNode(path, top.ino, top.where);
      }
      case 'commits': {
        if (!isObjectId(name)) throw enoent(path);
        const commit = await this.commit(name, path);
        if (!commit) throw enoent(path);
        const r = commit.root;
        return {
          kind: 'dir',
          path,
          ino: this.inodes.commit(name),
          perm: r.mode,
          uid: r.uid,
          gid: r.gid,
          mtimeMs: commit.timestamp * 1000,
          xattrs: r.xattrs,
          where: { area: 'tree', tree: commit.tree },
        };
      }
      case 'refs':
      case 'profiles': {
        const parts = [...where.parts, name];
        const p = await this.source.pointer(where.area, parts).catch((err: unknown) => {
          throw eio(path, err);
        });
        if (!p) throw enoent(path);
        const ino = this.inodes.mutable(path);
        if (p.kind === 'dir') return this.dirNode(path, ino, { area: where.area, parts });
        const target = linkTo(parts.length, p.id);
        return { kind: 'symlink', path, ino, perm: 0o777, uid: 0, gid: 0, mtimeMs: this.start, xattrs: [], target };
      }
      case 'tree': {
        const info = await this.tree(where.tree, parent.path);
        const i = info.index.get(name);
        if (i === undefined) throw enoent(path);
        const e = info.entries[i]!;
        const base = {
          path,
          ino: this.inodes.entry(parent.ino, info.entries.length, i),
          perm: e.mode,
          uid: e.uid,
          gid: e.gid,
          mtimeMs: parent.mtimeMs,
          xattrs: e.xattrs,
        };
        if (e.kind === 'dir') return { ...base, kind: 'dir', where: { area: 'tree', tree: e.id! } };
        if (e.kind === 'file') return { ...base, kind: 'file', blob: e.id!, size: e.size };
        return { ...base, kind: 'symlink', target: e.target! };
      }
    }
  }

  private async commit(id: ObjectId, path: string): Promise<Commit | undefined> {
    const hit = this.commits.get(id);
    if (hit) return hit;
    let c: Commit | undefined;
    try {
      c = await this.source.readCommit(id);
    } catch (err) {
      throw eio(path, err);
    }
    if (c) {
      this.commits.set(id, c);
      this.onCommit?.(id);
    }
    return c;
  }

  /** A directory's tree; EIO when it is missing, corrupt or invalid (the store promised it). */
  private async tree(id: ObjectId, path: string): Promise<TreeInfo> {
    const hit = this.cached(id);
    if (hit) return hit;
    try {
      // Read ahead and waiting for its turn to be decoded: decoded now, ahead of the others.
      const waiting = this.undecoded.get(id);
      if (waiting) return this.decodeNow(id, waiting);
      if (this.source.readTreeSync && !this.loading.has(id)) return this.remember(id, this.source.readTreeSync(id));
      return await this.load(id);
    } catch (err) {
      throw eio(`${path} (tree ${id})`, err);
    }
  }

  private remember(id: ObjectId, { entries }: Tree): TreeInfo {
    const index = new Map<string, number>();
    let subdirs = 0;
    entries.forEach((e, i) => {
      index.set(e.name, i);
      if (e.kind === 'dir') subdirs++;
    });
    const info = { entries, index, subdirs, cost: treeCost(entries) };
    // A tree over the whole bound has a place of its own, the latest such one: smaller trees read next (its
    // subdirectories') would push it out of the cache, and each lookup in it would decode it again.
    if (info.cost > this.treeCacheBytes) this.oversized = { id, info };
    else this.trees.set(id, info);
    return info;
  }

  /** Tree `id` when decoded and kept, in the cache or as the latest oversized tree. */
  private cached(id: ObjectId): TreeInfo | undefined {
    return this.trees.get(id) ?? (this.oversized?.id === id ? this.oversized.info : undefined);
  }

  /** Whether tree `id` is kept or on its way, without making it recent: nothing to read ahead. */
  private holds(id: ObjectId): boolean {
    return this.trees.has(id) || this.oversized?.id === id || this.loading.has(id);
  }

  /** Reads and decodes a tree once, however many requests (and prefetches) want it at the same time. */
  private load(id: ObjectId): Promise<TreeInfo> {
    let p = this.loading.get(id);
    if (!p) {
      p = this.source
        .readTree(id)
        .then((tree) => this.remember(id, tree))
        .finally(() => this.loading.delete(id));
      this.loading.set(id, p);
    }
    return p;
  }

  /**
   * Starts reading the subdirectory trees of a directory just listed, and
   * theirs in turn while the cache is less than half full, a few at a time: a
   * walk goes there next, and on a cold disk many reads in flight cost little
   * more than one.
   */
  private prefetch(info: TreeInfo): void {
    for (const e of info.entries) {
      if (this.queue.length >= PREFETCH_QUEUE) break;
      if (e.kind === 'dir' && !this.holds(e.id!)) this.queue.push(e.id!);
    }
    this.pump();
  }

  private pump(): void {
    while (this.prefetching < PREFETCH_PARALLEL && this.queue.length > 0) {
      const ids: ObjectId[] = [];
      while (ids.length < PREFETCH_BATCH && this.queue.length > 0) {
        const id = this.queue.shift()!;
        if (!this.holds(id) && !ids.includes(id)) ids.push(id);
      }
      if (ids.length === 0) continue;
      this.prefetching++;
      // Failures surface when the directory itself is read.
      const loads = this.loadMany(ids).map((p) =>
        p.then((info) => {
          // Further down while the cache has room: a walk rarely stops after one level.
          if (this.trees.cost < this.treeCacheBytes / 2) this.prefetch(info);
        }),
      );
      void Promise.allSettled(loads).then(() => {
        this.prefetching--;
        this.pump();
      });
    }
  }

  /**
   * Reads and decodes several trees at once when the source can (one call,
   * ViewSource.readTrees), else one by one; each is read once however many
   * requests want it meanwhile, as by load.
   */
  private loadMany(ids: ObjectId[]): Promise<TreeInfo>[] {
    const batch = ids.length > 1 ? this.source.readTrees?.(ids) : undefined;
    if (!batch) return ids.map((id) => this.load(id));
    return ids.map((id, i) => {
      const p = batch
        .then((trees) => {
          const t = trees[i]!;
          if (t instanceof Error) throw t;
          return this.decodeLater(id, t);
        })
        .finally(() => this.loading.delete(id));
      this.loading.set(id, p);
      return p;
    });
  }

  /**
   * Checks and decodes a tree read ahead on a later turn of the event loop,
   * at most DECODE_SLICE_MS of them per turn, so requests that arrive in
   * between are answered first (a request for this very tree decodes it at
   * once: see tree()).
   */
  private decodeLater(id: ObjectId, read: ReadTree): Promise<TreeInfo> {
    return new Promise<TreeInfo>((done, fail) => {
      // One read per id: loadMany reads only what is not kept or loading.
      this.undecoded.set(id, { read, done, fail });
      if (this.draining) return;
      this.draining = true;
      setImmediate(() => this.drain());
    });
  }

  private drain(): void {
    const until = performance.now() + DECODE_SLICE_MS;
    for (const [id, waiting] of this.undecoded) {
      try {
        this.decodeNow(id, waiting);
      } catch {
        // Its failure went to whoever waits for the tree (decodeNow).
      }
      if (performance.now() >= until) break;
    }
    if (this.undecoded.size > 0) setImmediate(() => this.drain());
    else this.draining = false;
  }

  private decodeNow(id: ObjectId, waiting: Undecoded): TreeInfo {
    this.undecoded.delete(id);
    try {
      const info = this.remember(id, waiting.read());
      waiting.done(info);
      return info;
    } catch (err) {
      waiting.fail(err);
      throw err;
    }
  }

  /** stat(2) of a node; directories count `2 + subdirectories` links. */
  async stat(node: Node): Promise<Stat> {
    let size = 0;
    let nlink = 1;
    if (node.kind === 'file') size = node.size;
    else if (node.kind === 'symlink') size = Buffer.byteLength(node.target);
    else nlink = 2 + (await this.subdirs(node));
    return statOf(node.ino, typeBits(node.kind) | node.perm, node.uid, node.gid, size, nlink, node.mtimeMs);
  }

  private async subdirs(node: Node & { kind: 'dir' }): Promise<number> {
    const w = node.where;
    if (w.area === 'tree') return (await this.tree(w.tree, node.path)).subdirs;
    if (w.area === 'root') return 3;
    return (await this.list(node)).filter((d) => (d.mode & S_IFDIR) === S_IFDIR).length;
  }

  /**
   * The names of a directory inside a commit with each entry's stat, as
   * `stat(lookup(child))` gives them, computed from the tree without a node
   * per entry: a listing with attributes (READDIRPLUS) of a cold walk then
   * allocates a stat per entry and no more. The subdirectories' trees are
   * read for their link counts, together, and only then is anything below
   * them read ahead: the answer waits for its own trees, not behind the
   * decoding of deeper ones (the first listing of a commit's root took
   * 30-50 ms that way). Undefined for a directory outside a commit.
   */
  async listStats(node: Node): Promise<{ names: string[]; stats: Stat[] } | undefined> {
    if (node.kind !== 'dir' || node.where.area !== 'tree') return undefined;
    const info = await this.tree(node.where.tree, node.path);
    const { entries } = info;
    const n = entries.length;
    const wanted = [...new Set(entries.flatMap((e) => (e.kind === 'dir' && !this.holds(e.id!) ? [e.id!] : [])))];
    // Failures surface through tree() below, which waits on the same loads.
    for (let i = 0; i < wanted.length; i += PREFETCH_BATCH) for (const p of this.loadMany(wanted.slice(i, i + PREFETCH_BATCH))) p.catch(() => undefined);
    const subs = await Promise.all(entries.map((e) => (e.kind === 'dir' ? this.tree(e.id!, `${node.path}/${e.name}`) : undefined)));
    // Read ahead below the subdirectories (a walk goes there next): queued now, read after this answer is sent.
    for (const sub of subs) if (sub && this.trees.cost < this.treeCacheBytes / 2) this.prefetch(sub);
    const subdirs = subs.map((t) => t?.subdirs ?? 0);
    const names: string[] = new Array<string>(n);
    const stats: Stat[] = new Array<Stat>(n);
    for (let i = 0; i < n; i++) {
      const e = entries[i]!;
      const size = e.kind === 'file' ? e.size : e.kind === 'symlink' ? Buffer.byteLength(e.target!) : 0;
      names[i] = e.name;
      // As child() makes the entry's node and stat() states it: the parent's time, the entry's mode bits.
      stats[i] = statOf(this.inodes.entry(node.ino, n, i), typeBits(e.kind) | e.mode, e.uid, e.gid, size, e.kind === 'dir' ? 2 + subdirs[i]! : 1, node.mtimeMs);
    }
    return { names, stats };
  }

  /** The names in a directory (without `.` and `..`), in order. */
  async list(node: Node): Promise<Dirent[]> {
    if (node.kind !== 'dir') throw new FsError(ERR.ENOTDIR, `${node.path}: not a directory`);
    const w = node.where;
    const sub = (name: string) => (node.path === '/' ? `/${name}` : `${node.path}/${name}`);
    switch (w.area) {
      case 'root':
        return Object.entries(TOP).map(([name, t]) => ({ name, ino: t.ino, mode: S_IFDIR | 0o755 }));
      case 'commits': {
        const ids = await this.source.knownCommits().catch((err: unknown) => {
          throw eio(node.path, err);
        });
        return ids.map((id) => ({ name: id, ino: this.inodes.commit(id), mode: S_IFDIR | 0o755 }));
      }
      case 'refs':
      case 'profiles': {
        const p = await this.source.pointer(w.area, w.parts).catch((err: unknown) => {
          throw eio(node.path, err);
        });
        if (!p || p.kind !== 'dir') throw enoent(node.path);
        return p.children.map((c) => ({
          name: c.name,
          ino: this.inodes.mutable(sub(c.name)),
          mode: c.kind === 'dir' ? S_IFDIR | 0o755 : S_IFLNK | 0o777,
        }));
      }
      case 'tree': {
        const info = await this.tree(w.tree, node.path);
        this.prefetch(info);
        const n = info.entries.length;
        return info.entries.map((e, i) => ({ name: e.name, ino: this.inodes.entry(node.ino, n, i), mode: typeBits(e.kind) | e.mode }));
      }
    }
  }
}

/** `../` up to the mount root from a pointer `parts` deep, then `commits/<id>`: valid at any mount point. */
function linkTo(depth: number, id: ObjectId): string {
  return `${'../'.repeat(depth)}commits/${id}`;
}
