import { type BigIntStats, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { badName } from '../../errors.js';
import { encodeTree } from '../../format/codec.js';
import { compareNames, nameProblem } from '../../format/names.js';
import type { DirMeta, TreeEntry } from '../../format/types.js';
import type { ObjectId } from '../../hash/index.js';
import type { ObjectStore } from '../../store/types.js';
import { newReport } from './report.js';
import type { TreeImport } from './tar.js';
import { readXattrs } from './xattrs.js';

/** What the stat cache remembers of a file (nanosecond times as decimal strings). */
export interface StatCacheEntry {
  size: number;
  mtime: string;
  ctime: string;
  ino: string;
  id: ObjectId;
}

/** The stat cache as the importer sees it (backed by the LevelDB index). */
export interface StatCache {
  /** Every entry for files under `root`, keyed by absolute path. */
  load(root: string): Promise<Map<string, StatCacheEntry>>;
  record(path: string, entry: StatCacheEntry): void;
}

export interface DirImportOptions {
  cache?: StatCache;
  /** Read extended attributes (default true). */
  xattrs?: boolean;
}

/** Files up to this size are read whole; larger ones are copied in chunks. */
const WHOLE_READ_MAX = 8 << 20;
/**
 * A stat-cache entry is recorded only for files whose times are this far
 * behind the moment the import started, so a change landing in the same
 * coarse timestamp tick as our read can never go unnoticed (git's "racy" rule).
 */
const RACY_MARGIN_NS = 200_000_000n;

type Store = Pick<ObjectStore, 'hasSync' | 'putSync' | 'putFileSync'>;

/**
 * Imports a directory tree. Files whose (size, mtime, ctime, inode) match the
 * stat cache are not read again. Device nodes, fifos and sockets are reported
 * and skipped; symlinks are stored verbatim and never followed.
 *
 * The walk uses blocking syscalls on purpose: for a tree in the page cache
 * they cost a fraction of the thread-pool round trip of fs/promises, and an
 * import has nothing else to do meanwhile.
 */
export async function importDir(root: string, store: Store, opts: DirImportOptions = {}): Promise<TreeImport> {
  const report = newReport();
  const wantXattrs = opts.xattrs ?? true;
  const startNs = BigInt(Date.now()) * 1_000_000n;
  const cached = opts.cache ? await opts.cache.load(root) : new Map<string, StatCacheEntry>();

  const blob = (path: string, st: BigIntStats): { id: ObjectId; size: number } => {
    const c = cached.get(path);
    if (c && c.size === Number(st.size) && c.mtime === String(st.mtimeNs) && c.ctime === String(st.ctimeNs) && c.ino === String(st.ino) && store.hasSync(c.id)) {
      report.cached++;
      return c;
    }
    const put = st.size <= BigInt(WHOLE_READ_MAX) ? store.putSync(readFileSync(path)) : store.putFileSync(path);
    report.bytesRead += put.size;
    const newest = st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs;
    if (opts.cache && newest < startNs - RACY_MARGIN_NS) {
      opts.cache.record(path, { size: put.size, mtime: String(st.mtimeNs), ctime: String(st.ctimeNs), ino: String(st.ino), id: put.id });
    }
    return put;
  };

  const directory = (abs: string, rel: string): ObjectId => {
    const names = readdirSync(abs).sort(compareNames);
    const entries: TreeEntry[] = [];
    for (const name of names) {
      const problem = nameProblem(name);
      if (problem) throw badName(`cannot import ${JSON.stringify(join(rel, name))}: ${problem}`);
      const path = join(abs, name);
      const st = lstatSync(path, { bigint: true });
      const base = { name, mode: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid) };
      if (st.isFile()) {
        const b = blob(path, st);
        report.files++;
        entries.push({ ...base, kind: 'file', id: b.id, size: b.size, xattrs: wantXattrs ? readXattrs(path) : [] });
      } else if (st.isDirectory()) {
        const id = directory(path, join(rel, name));
        report.dirs++;
        entries.push({ ...base, kind: 'dir', id, size: 0, xattrs: wantXattrs ? readXattrs(path) : [] });
      } else if (st.isSymbolicLink()) {
        const target = readlinkSync(path);
        report.symlinks++;
        entries.push({ ...base, kind: 'symlink', target, size: Buffer.byteLength(target), xattrs: [] });
      } else {
        const kind = st.isFIFO() ? 'fifo' : st.isSocket() ? 'socket' : st.isCharacterDevice() ? 'character-device' : 'block-device';
        report.skipped.push({ path: join(rel, name), reason: kind });
      }
    }
    return store.putSync(encodeTree({ entries })).id;
  };

  const rootStat = lstatSync(root, { bigint: true });
  const tree = directory(root, '');
  const rootMeta: DirMeta = {
    mode: Number(rootStat.mode) & 0o7777,
    uid: Number(rootStat.uid),
    gid: Number(rootStat.gid),
    xattrs: wantXattrs ? readXattrs(root) : [],
  };
  return { tree, root: rootMeta, report };
}
