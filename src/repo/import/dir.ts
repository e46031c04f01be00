import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, statSync } from 'node:fs';
import { DIR_NOFOLLOW, fdPath, hasProcFd, openExpected, READ_NOFOLLOW, sameFile, stillSame } from '../../util/fd-path.js';
import { treePathProblem } from '../../util/limits.js';
import { badName, ioError, unsafeArchive } from '../../util/errors.js';
import { encodeTree } from '../../format/codec.js';
import { compareNames, nameProblem } from '../../format/names.js';
import type { DirMeta, TreeEntry, Xattr } from '../../format/types.js';
import type { ObjectId } from '../../util/hash.js';
import type { ObjectStore } from '../../store/types.js';
import { newReport } from './report.js';
import { type CachedEntry, cachedXattrs, type StatCache, storedXattrs } from './stat-cache.js';
import type { TreeImport } from './tar.js';
import { readXattrs } from './xattrs.js';
import { type EntryStat, lstatAllAt, readFileAt, type ScannedDir, scanTree, type TreeScan } from '../../util/stat-at.js';
import { type OnProgress, progressOf } from '../../util/progress.js';

export interface DirImportOptions {
  cache?: StatCache;
  /** Read extended attributes (default true). */
  xattrs?: boolean;
  /**
   * Directories left out wherever they appear in the tree (matched by device
   * and inode, however they are spelled), each reported as skipped: the
   * repository, when it lies inside the directory committed into it.
   */
  exclude?: { path: string; reason: string }[];
  /** Called after each file with the files and bytes read so far (phase `reading`, unit `files`). */
  onProgress?: OnProgress;
  /**
   * The tree's scan, started by the caller before other work (prescanDir):
   * without one, the import starts its own while the stat cache loads.
   */
  prescan?: Promise<TreeScan | undefined>;
}

/** The directories `exclude` names, by `dev:ino`, with their device, inode and reason. */
function excludedDirs(exclude: DirImportOptions['exclude'] = []): Map<string, { dev: number; ino: number; reason: string }> {
  const out = new Map<string, { dev: number; ino: number; reason: string }>();
  for (const x of exclude) {
    try {
      const { dev, ino } = statSync(x.path);
      out.set(`${dev}:${ino}`, { dev, ino, reason: x.reason });
    } catch {
      // Nothing there: nothing to leave out.
    }
  }
  return out;
}

/** `root` without trailing slashes (`/` stays `/`). */
function trimRoot(root: string): string {
  return root.length > 1 ? root.replace(/\/+$/, '') : root;
}

/** The scan of the tree at `top` (trimmed) leaving out `excluded`; never rejects. */
function startScan(top: string, excluded: ReturnType<typeof excludedDirs>): Promise<TreeScan | undefined> {
  return scanTree(top, [...excluded.values()]).catch(() => undefined);
}

/**
 * Starts listing and stating the directory tree at `root` off the JavaScript
 * thread (native/dirscan.c), for importDir's `prescan`: a commit starts it
 * before it opens the index, so that the walk's syscalls overlap the index's
 * opening and the stat cache's loading. Never rejects: without a scan the
 * import lists each directory itself.
 */
export function prescanDir(root: string, exclude?: DirImportOptions['exclude']): Promise<TreeScan | undefined> {
  return startScan(trimRoot(root), excludedDirs(exclude));
}

/** An entry's kind as the stat cache numbers it (see CachedEntry), -1 for a kind never imported. */
function kindIndexOf(st: EntryStat): number {
  return st.isFile() ? 0 : st.isDirectory() ? 1 : st.isSymbolicLink() ? 2 : -1;
}

/** Whether `st` states the entry as its record `o` remembers it: same kind, inode, times and size. */
function statsAsRecorded(o: CachedEntry, st: EntryStat): boolean {
  return o[1] === kindIndexOf(st) && o[5] === st.ino && o[4] === st.ctimeMs && o[3] === st.mtimeMs && o[2] === st.size;
}

/**
 * Whether a directory opened now is as the tree's scan stated it: the same
 * inode, and no change to its entries (mtime), its inode (ctime: mode,
 * owner, xattrs) or its mode and owner since.
 */
function asScanned(now: EntryStat, scanned: EntryStat): boolean {
  return (
    sameFile(now, scanned) &&
    now.mtimeMs === scanned.mtimeMs &&
    now.ctimeMs === scanned.ctimeMs &&
    now.mode === scanned.mode &&
    now.uid === scanned.uid &&
    now.gid === scanned.gid
  );
}

/**
 * The tree's scan disagrees with what the walk opened: directory `dir` (its
 * path) changed since the scan, and is imported again as it now is.
 */
class ScanOutdated extends Error {
  constructor(readonly dir: string) {
    super(`${dir} changed since the tree's scan`);
  }
}

/**
 * How a scanned directory is opened when something in it must be read: below
 * its parent's descriptor (`parent()`, which opens the parent the same way),
 * by `name`, and it must still be what the scan stated (`st`).
 */
interface Pin {
  parent: () => string;
  /** The parent's path: the directory that changed when this name is no longer this directory. */
  parentAbs: string;
  /** Whether others may search every directory above (importDir's `open`). */
  parentOpen: boolean;
  name: string;
  st: EntryStat;
  /** Set by the directory when it changed since the scan and was imported again: its fstat then. */
  fresh?: EntryStat;
}

/** Files up to this size are read whole into one reused buffer; larger ones are copied in chunks. */
const WHOLE_READ_MAX = 8 << 20;
/**
 * Entries whose mtime or ctime is this recent when the import starts are not
 * remembered: a change landing in the same coarse timestamp tick as our read
 * would leave the times as recorded (git's "racy" rule).
 */
const RACY_MARGIN_MS = 200;
/**
 * Records made without reading xattrs hold empty xattr lists, so they live
 * under their own keys (NUL never occurs in a path): an import that reads
 * xattrs never finds one, and the other way round.
 */
const NO_XATTRS_KEY = '\0no-xattrs:';

type Store = Pick<ObjectStore, 'hasSync' | 'putSync' | 'putFileSync'> & {
  /** Room to read content of `size` bytes into that a putSync of them stages without a copy (Transaction). */
  lendForRead?(size: number): Uint8Array | undefined;
};

/**
 * Imports a directory tree. With a stat cache, files whose (size, mtime,
 * ctime, inode) match are not read again, and a directory whose entries all
 * match keeps its tree id without being encoded. Device nodes, fifos and
 * sockets are reported and skipped; symlinks are stored verbatim, never
 * followed (only `root` itself may be a symlink to the directory).
 *
 * The walk uses blocking syscalls on purpose: for a tree in the page cache
 * they cost a fraction of the thread-pool round trip of fs/promises, and an
 * import has nothing else to do meanwhile.
 */
export async function importDir(root: string, store: Store, opts: DirImportOptions = {}): Promise<TreeImport> {
  const report = newReport();
  const onProgress = opts.onProgress;
  const progress = progressOf('reading', 'files');
  const wantXattrs = opts.xattrs ?? true;
  const cache = opts.cache;
  const racyAfter = Date.now() - RACY_MARGIN_MS;
  /** Changed too recently to be remembered (RACY_MARGIN_MS). */
  const racy = (st: EntryStat) => Math.max(st.mtimeMs, st.ctimeMs) >= racyAfter;
  const buf = Buffer.allocUnsafe(WHOLE_READ_MAX);
  const top = trimRoot(root);
  const key = (dir: string) => (wantXattrs ? dir : NO_XATTRS_KEY + dir);
  const excluded = excludedDirs(opts.exclude);
  /** Why directory `st` is left out, or undefined. */
  const leftOutWhy = (st: EntryStat) => (excluded.size > 0 ? excluded.get(`${st.dev}:${st.ino}`)?.reason : undefined);
  // The whole tree is listed and stated on a pool thread meanwhile, when the addon is built.
  const scanning = opts.prescan ?? startScan(top, excluded);
  await cache?.load(key(top));
  let scan: TreeScan | undefined;

  const changed = (relPath: string) =>
    ioError(`${relPath || top} changed while it was being read (replaced by another file); nothing was committed`, { path: relPath || top });

  /** Moves the scan past the blocks of the directories below `listing` (in the scan's order: as the walk visits them). */
  const skipBelow = (listing: ScannedDir): void => {
    for (const st of listing.stats) {
      if (!st.isDirectory() || leftOutWhy(st) !== undefined) continue;
      const sub = scan!.next(st);
      if (sub) skipBelow(sub);
    }
  };

  /** Reads a small file from its descriptor into the shared buffer (valid until the next call); undefined if it grew. */
  const readSmall = (fd: number, size: number): Buffer | undefined => {
    if (size > WHOLE_READ_MAX) return undefined;
    let n = 0;
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
    }
    return n === buf.length && readSync(fd, Buffer.alloc(1), 0, 1, null) > 0 ? undefined : buf.subarray(0, n);
  };

  /**
   * Imports the directory open at `dirFd` (`abs` is its path, for the stat
   * cache and messages only). Every entry is looked up below the descriptor,
   * never by its full path, and every file and directory is read through a
   * descriptor opened with O_NOFOLLOW whose fstat matches the lstat that
   * classified it: an entry swapped for a symlink, or for another file,
   * between the two is never read, and the import fails instead.
   * `open`: every directory from the root down to this one lets others
   * search it, so a file here that others may read is public content.
   *
   * With `scanned`, the directory's listing from the tree's scan, the
   * directory is opened only when something in it must be read (a changed
   * file, a symlink, a subdirectory's xattrs or live listing): below its
   * parent's descriptor as `pin` says, and it must then be as the scan
   * stated it (asScanned), every directory above it too. A directory that
   * is not (ScanOutdated) is imported again from its descriptor, what is
   * below it as it now is, and the scan goes on after its part.
   */
  const directory = (dirFd: number | undefined, abs: string, rel: string, depth: number, open: boolean, scanned?: ScannedDir, pin?: Pin): ObjectId => {
    let fd = dirFd;
    // Where the scan's blocks below this directory start, and the counts before it, for a second go.
    const blocksBelow = scanned ? scan!.position() : undefined;
    const counts = { ...report, skipped: report.skipped.length };
    try {
      try {
        return listed(scanned);
      } catch (err) {
        if (!(err instanceof ScanOutdated) || err.dir !== abs || !scanned || fd === undefined) throw err;
        // This directory changed since the scan: it is listed again from its descriptor, and everything
        // below it walked as it now is; the scan goes on after its part of it.
        scan!.seek(blocksBelow!);
        skipBelow(scanned);
        Object.assign(report, { ...counts, skipped: report.skipped.slice(0, counts.skipped) });
        // Its mode and owner as they are now go into its parent's entry, and decide who may read what is below.
        const now = fstatSync(fd);
        if (pin) {
          pin.fresh = now;
          open = pin.parentOpen && (now.mode & 0o001) !== 0;
        }
        return listed(undefined);
      }
    } finally {
      if (dirFd === undefined && fd !== undefined) closeSync(fd);
    }

    function listed(scanned: ScannedDir | undefined): ObjectId {
      /** The directory's descriptor as a path, opened on first use for a scanned directory. */
      const baseOf = (): string => {
        if (fd === undefined) {
          const opened = openExpected(`${pin!.parent()}/${pin!.name}`, DIR_NOFOLLOW, pin!.st);
          // Not this directory any more: its parent's entry changed.
          if (!opened) throw new ScanOutdated(pin!.parentAbs);
          fd = opened.fd;
          if (!asScanned(opened.st, pin!.st)) throw new ScanOutdated(abs);
        }
        return fdPath(fd, abs);
      };
      let names: string[];
      let stats: (EntryStat | undefined)[] | undefined;
      if (scanned) {
        ({ names, stats } = scanned);
      } else {
        const base = baseOf();
        const before = hasProcFd() ? undefined : fstatSync(fd!);
        names = readdirSync(base).sort(compareNames);
        // Without /proc the listing went by path: it must have listed the directory we hold open.
        if (before && !stillSame(abs, before)) throw changed(rel);
        // Every entry's lstat at once, relative to the descriptor, when trove's addon is built.
        stats = lstatAllAt(fd!, names);
      }
      const pathOf = (name: string) => (abs === '/' ? `/${name}` : `${abs}/${name}`);
      const atOf = (name: string) => `${baseOf()}/${name}`;
      /** A small regular file with no xattrs to read, read whole by the addon, into the store's room for it when it has one; else undefined. */
      const readWholeAt = (name: string, st: EntryStat) => {
        if (st.size > WHOLE_READ_MAX) return undefined;
        baseOf();
        return readFileAt(fd!, name, READ_NOFOLLOW, st, store.lendForRead?.(st.size) ?? buf.subarray(0, st.size), wantXattrs);
      };
      let whole: ReturnType<typeof readWholeAt>;
      /** How a file's content is stored: executable or not, and private unless others may read it here. */
      const hintOf = (meta: EntryStat) => ({ executable: (meta.mode & 0o111) !== 0, private: !(open && (meta.mode & 0o004) !== 0) });
      const stated: (EntryStat | undefined)[] = stats ?? [];
      const statOf = (i: number): EntryStat => stated[i] ?? (stated[i] = lstatSync(atOf(names[i]!)));

      /**
       * Imports subdirectory `names[i]`: its tree id and metadata, and its xattrs when `xattrsToo`.
       * `redone`: it changed since the scan and was imported again, so `meta` is its fstat, not `st`.
       */
      const enter = (i: number, st: EntryStat, relPath: string, xattrsToo: boolean): { id: ObjectId; meta: EntryStat; xattrs?: Xattr[]; redone?: boolean } => {
        const path = pathOf(names[i]!);
        // The scan lists a scanned directory's subdirectories after it, in this order.
        const sub = scanned ? scan!.next(st) : undefined;
        if (sub) {
          const pinned: Pin = { parent: baseOf, parentAbs: abs, parentOpen: open, name: names[i]!, st };
          const id = directory(undefined, path, relPath, depth + 1, open && (st.mode & 0o001) !== 0, sub, pinned);
          const meta = pinned.fresh ?? st;
          const redone = pinned.fresh !== undefined;
          return { id, meta, ...(xattrsToo || (redone && wantXattrs) ? { xattrs: dirXattrs(atOf(names[i]!), st, relPath) } : {}), ...(redone ? { redone } : {}) };
        }
        const opened = openExpected(atOf(names[i]!), DIR_NOFOLLOW, st);
        if (!opened) throw changed(relPath);
        try {
          const id = directory(opened.fd, path, relPath, depth + 1, open && (opened.st.mode & 0o001) !== 0);
          return { id, meta: opened.st, ...(xattrsToo ? { xattrs: readXattrs(fdPath(opened.fd, path), opened.fd) } : {}) };
        } finally {
          closeSync(opened.fd);
        }
      };

      const old = cache?.lookup(key(abs));
      const oldEntries = old?.record.entries;
      const trusted = old?.trusted ?? false;
      // Subdirectories the check below entered already, by index.
      const entered: ReturnType<typeof enter>[] = [];
      if (trusted && oldEntries!.length === names.length) {
        // Most directories of a small change are as recorded: that is checked first, building nothing,
        // and the record's tree kept. The record is sorted as the listing is: entry i goes with name i.
        let files = 0;
        let symlinks = 0;
        let dirs = 0;
        let ok = true;
        for (let i = 0; ok && i < names.length; i++) {
          const name = names[i]!;
          const o = oldEntries![i]!;
          if (o[0] !== name || nameProblem(name)) break;
          const st = statOf(i);
          if (!statsAsRecorded(o, st) || racy(st)) break;
          if (o[1] === 0) files++;
          else if (o[1] === 2) symlinks++;
          else {
            const relPath = rel ? `${rel}/${name}` : name;
            if (treePathProblem(depth + 1, Buffer.byteLength(relPath)) || leftOutWhy(st) !== undefined) break;
            const sub = enter(i, st, relPath, false);
            entered[i] = sub;
            dirs++;
            ok = sub.id === o[6] && !sub.redone;
          }
          if (ok && i === names.length - 1) {
            report.files += files;
            report.cached += files;
            report.symlinks += symlinks;
            report.dirs += dirs;
            if (onProgress && files > 0) {
              progress.done = report.files;
              onProgress(progress);
            }
            return old!.record.tree;
          }
        }
      }

      const entries: CachedEntry[] = [];
      const tree: TreeEntry[] = [];
      let same = trusted && names.length === oldEntries!.length;
      // The record's entries are in the listing's order: the one for a name is found by walking both.
      let next = 0;
      for (const [i, name] of names.entries()) {
        const relPath = rel ? `${rel}/${name}` : name;
        const problem = nameProblem(name);
        if (problem) throw badName(`cannot import ${JSON.stringify(relPath)}: ${problem}`);
        const tooBig = treePathProblem(depth + 1, Buffer.byteLength(relPath));
        if (tooBig) throw unsafeArchive(`cannot import ${JSON.stringify(relPath.length > 200 ? `${relPath.slice(0, 200)}...` : relPath)}: the tree is ${tooBig}`);
        const path = pathOf(name);
        const st = statOf(i);
        const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : undefined;
        if (!kind) {
          const what = st.isFIFO() ? 'fifo' : st.isSocket() ? 'socket' : st.isCharacterDevice() ? 'character-device' : 'block-device';
          report.skipped.push({ path: relPath, reason: what });
          same = false;
          continue;
        }
        const leftOut = kind === 'dir' ? leftOutWhy(st) : undefined;
        if (leftOut !== undefined) {
          report.skipped.push({ path: relPath, reason: leftOut });
          same = false;
          continue;
        }
        let found: CachedEntry | undefined;
        if (oldEntries) {
          while (next < oldEntries.length && compareNames(oldEntries[next]![0], name) < 0) next++;
          if (oldEntries[next]?.[0] === name) found = oldEntries[next++];
        }
        const o = found;
        const kindIndex = kindIndexOf(st);
        const statSame = o !== undefined && statsAsRecorded(o, st);
        const e: { id?: ObjectId; target?: string; xattrs: Xattr[] } = { xattrs: [] };
        let size = st.size;
        let meta: EntryStat = st;
        if (kind === 'file') {
          if (statSame && (trusted || store.hasSync(o[6]))) {
            e.id = o[6];
            e.xattrs = cachedXattrs(o);
            report.cached++;
          } else if ((whole = readWholeAt(name, st))) {
            // Read in one call below the directory's descriptor (no xattrs, the same inode as listed).
            meta = whole.st;
            const put = store.putSync(whole.bytes, hintOf(meta));
            report.bytesRead += put.size;
            e.id = put.id;
            size = put.size;
          } else {
            const opened = openExpected(atOf(name), READ_NOFOLLOW, st);
            if (!opened) throw changed(relPath);
            try {
              meta = opened.st;
              const hint = hintOf(meta);
              const small = readSmall(opened.fd, meta.size);
              const put = small ? store.putSync(small, hint) : store.putFileSync(fdPath(opened.fd, path), hint);
              // Without /proc the big-file path was opened by name: it must still be our file.
              if (!small && !hasProcFd() && !stillSame(path, st)) throw changed(relPath);
              report.bytesRead += put.size;
              e.id = put.id;
              size = put.size;
              e.xattrs = wantXattrs ? readXattrs(fdPath(opened.fd, path), opened.fd) : [];
            } finally {
              closeSync(opened.fd);
            }
          }
          report.files++;
          if (onProgress) {
            progress.done = report.files;
            progress.bytes = report.bytesRead;
            onProgress(progress);
          }
        } else if (kind === 'dir') {
          const sub = entered[i] ?? enter(i, st, relPath, !statSame && wantXattrs);
          meta = sub.meta;
          e.id = sub.id;
          e.xattrs = statSame && !sub.redone ? cachedXattrs(o) : (sub.xattrs ?? (wantXattrs ? dirXattrs(atOf(name), st, relPath) : []));
          size = 0;
          if (e.id !== o?.[6] || sub.redone) same = false;
          report.dirs++;
        } else {
          if (statSame) e.target = o[6];
          else {
            const at = atOf(name);
            e.target = readlinkSync(at);
            if (!stillSame(at, st)) throw changed(relPath);
          }
          size = Buffer.byteLength(e.target);
          report.symlinks++;
        }
        if (!statSame) same = false;
        if (!racy(st)) {
          const ref = e.id ?? e.target ?? '';
          entries.push(statSame && ref === o[6] ? o : [name, kindIndex, st.size, st.mtimeMs, st.ctimeMs, st.ino, ref, ...(e.xattrs.length > 0 ? [storedXattrs(e.xattrs)] : [])] as CachedEntry);
        }
        tree.push({ name, kind, id: e.id, target: e.target, mode: meta.mode & 0o7777, uid: meta.uid, gid: meta.gid, size, xattrs: e.xattrs });
      }
      if (same && entries.length === names.length) return old!.record.tree;
      const id = store.putSync(encodeTree({ entries: tree })).id;
      cache?.record(key(abs), { tree: id, entries });
      return id;
    }
  };

  /** The xattrs of the directory at `path`, which must still be the inode `st` states. */
  const dirXattrs = (path: string, st: EntryStat, relPath: string) => {
    const opened = openExpected(path, DIR_NOFOLLOW, st);
    if (!opened) throw changed(relPath);
    try {
      return readXattrs(fdPath(opened.fd, path), opened.fd);
    } finally {
      closeSync(opened.fd);
    }
  };

  // The top-level argument may be a symlink to the directory: its metadata is the directory's, not the link's.
  const rootFd = openSync(top, constants.O_RDONLY | constants.O_DIRECTORY);
  let tree: ObjectId;
  let rootMeta: DirMeta;
  try {
    const rootStat = fstatSync(rootFd);
    scan = await scanning;
    // A scan of another directory (the path replaced since), or of one changed since, is not used.
    const listing = scan && asScanned(rootStat, scan.root) ? scan.next(rootStat) : undefined;
    // A directory changed since the scan goes again by itself (directory()); the root is one of them.
    tree = directory(rootFd, top, '', 0, (rootStat.mode & 0o001) !== 0, listing);
    rootMeta = {
      mode: rootStat.mode & 0o7777,
      uid: rootStat.uid,
      gid: rootStat.gid,
      xattrs: wantXattrs ? readXattrs(fdPath(rootFd, top), rootFd) : [],
    };
  } finally {
    closeSync(rootFd);
  }
  return { tree, root: rootMeta, report };
}
