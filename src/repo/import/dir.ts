import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, statSync } from 'node:fs';
import { badName } from '../../util/errors.js';
import { encodeTree } from '../../format/codec.js';
import { compareNames, nameProblem } from '../../format/names.js';
import type { DirMeta, TreeEntry } from '../../format/types.js';
import type { ObjectId } from '../../util/hash.js';
import type { ObjectStore } from '../../store/types.js';
import { newReport } from './report.js';
import type { CachedEntry, StatCache } from './stat-cache.js';
import type { TreeImport } from './tar.js';
import { readXattrs } from './xattrs.js';

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

type Store = Pick<ObjectStore, 'hasSync' | 'putSync' | 'putFileSync'>;

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
  const wantXattrs = opts.xattrs ?? true;
  const cache = opts.cache;
  const racyAfter = Date.now() - RACY_MARGIN_MS;
  const buf = Buffer.allocUnsafe(WHOLE_READ_MAX);
  const top = root.length > 1 ? root.replace(/\/+$/, '') : root;
  const key = (dir: string) => (wantXattrs ? dir : NO_XATTRS_KEY + dir);
  await cache?.load(key(top));
  const excluded = new Map<string, string>();
  for (const x of opts.exclude ?? []) {
    try {
      const st = statSync(x.path);
      excluded.set(`${st.dev}:${st.ino}`, x.reason);
    } catch {
      // Nothing there: nothing to leave out.
    }
  }

  /** Reads a small file into the shared buffer (valid until the next call); undefined if it grew. */
  const readSmall = (path: string): Buffer | undefined => {
    const fd = openSync(path, 'r');
    try {
      if (fstatSync(fd).size > WHOLE_READ_MAX) return undefined;
      let n = 0;
      while (n < buf.length) {
        const r = readSync(fd, buf, n, buf.length - n, null);
        if (r === 0) break;
        n += r;
      }
      return buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  };

  const directory = (abs: string, rel: string): ObjectId => {
    const names = readdirSync(abs).sort(compareNames);
    const old = cache?.lookup(key(abs));
    const oldEntries = old?.record.entries;
    const trusted = old?.trusted ?? false;
    const entries = new Map<string, CachedEntry>();
    const tree: TreeEntry[] = [];
    let same = trusted && names.length === oldEntries!.size;
    for (const name of names) {
      const relPath = rel ? `${rel}/${name}` : name;
      const problem = nameProblem(name);
      if (problem) throw badName(`cannot import ${JSON.stringify(relPath)}: ${problem}`);
      const path = abs === '/' ? `/${name}` : `${abs}/${name}`;
      const st = lstatSync(path);
      const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : undefined;
      if (!kind) {
        const what = st.isFIFO() ? 'fifo' : st.isSocket() ? 'socket' : st.isCharacterDevice() ? 'character-device' : 'block-device';
        report.skipped.push({ path: relPath, reason: what });
        same = false;
        continue;
      }
      const leftOut = kind === 'dir' && excluded.size > 0 ? excluded.get(`${st.dev}:${st.ino}`) : undefined;
      if (leftOut !== undefined) {
        report.skipped.push({ path: relPath, reason: leftOut });
        same = false;
        continue;
      }
      const o = oldEntries?.get(name);
      const statSame =
        o !== undefined && o.kind === kind && o.ino === st.ino && o.ctimeMs === st.ctimeMs && o.mtimeMs === st.mtimeMs && o.size === st.size;
      const e: CachedEntry = { kind, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, xattrs: [] };
      let size = st.size;
      if (kind === 'file') {
        if (statSame && (trusted || store.hasSync(o.id!))) {
          e.id = o.id;
          report.cached++;
        } else {
          const small = st.size <= WHOLE_READ_MAX ? readSmall(path) : undefined;
          const hint = { executable: (st.mode & 0o111) !== 0 };
          const put = small ? store.putSync(small, hint) : store.putFileSync(path, hint);
          report.bytesRead += put.size;
          e.id = put.id;
          size = put.size;
        }
        report.files++;
      } else if (kind === 'dir') {
        e.id = directory(path, relPath);
        size = 0;
        if (e.id !== o?.id) same = false;
        report.dirs++;
      } else {
        e.target = statSame ? o.target! : readlinkSync(path);
        size = Buffer.byteLength(e.target);
        report.symlinks++;
      }
      if (!statSame) same = false;
      if (kind !== 'symlink') e.xattrs = statSame ? o.xattrs : wantXattrs ? readXattrs(path) : [];
      if (Math.max(st.mtimeMs, st.ctimeMs) < racyAfter) entries.set(name, e);
      tree.push({ name, kind, id: e.id, target: e.target, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size, xattrs: e.xattrs });
    }
    if (same && entries.size === names.length) return old!.record.tree;
    const id = store.putSync(encodeTree({ entries: tree })).id;
    cache?.record(key(abs), { tree: id, entries });
    return id;
  };

  // The top-level argument may be a symlink to the directory: its metadata is the directory's, not the link's.
  const rootStat = statSync(top);
  const tree = directory(top, '');
  const rootMeta: DirMeta = {
    mode: rootStat.mode & 0o7777,
    uid: rootStat.uid,
    gid: rootStat.gid,
    xattrs: wantXattrs ? readXattrs(top) : [],
  };
  return { tree, root: rootMeta, report };
}
