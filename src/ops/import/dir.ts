import { type BigIntStats, createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { badName } from '../../errors.js';
import { compareNames, nameProblem } from '../../format/names.js';
import type { TreeEntry } from '../../format/types.js';
import type { ObjectId } from '../../hash/index.js';
import type { ObjectStore } from '../../store/types.js';
import { limiter } from '../limit.js';
import { writeTree } from '../objects.js';
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
  getMany(paths: string[]): Promise<(StatCacheEntry | undefined)[]>;
  record(path: string, entry: StatCacheEntry): void;
}

export interface DirImportOptions {
  cache?: StatCache;
  /** Read extended attributes (default true). */
  xattrs?: boolean;
  /** Parallel file reads (default 32). */
  parallel?: number;
}

/** Files up to this size are read whole; larger ones are streamed. */
const WHOLE_READ_MAX = 16 << 20;
/**
 * A stat-cache entry is recorded only for files whose times are this far
 * behind the moment the import started, so a change landing in the same
 * coarse timestamp tick as our read can never go unnoticed (git's "racy" rule).
 */
const RACY_MARGIN_NS = 200_000_000n;

type Store = Pick<ObjectStore, 'put' | 'putStream' | 'has'>;

/**
 * Imports a directory tree. Files whose (size, mtime, ctime, inode) match the
 * stat cache are not read again. Device nodes, fifos and sockets are reported
 * and skipped; symlinks are stored verbatim and never followed.
 */
export async function importDir(root: string, store: Store, opts: DirImportOptions = {}): Promise<TreeImport> {
  const report = newReport();
  const io = limiter(opts.parallel ?? 32);
  const wantXattrs = opts.xattrs ?? true;
  const startNs = BigInt(Date.now()) * 1_000_000n;

  const readBlob = async (path: string, st: BigIntStats): Promise<{ id: ObjectId; size: number }> => {
    if (st.size <= BigInt(WHOLE_READ_MAX)) {
      const bytes = await readFile(path);
      report.bytesRead += bytes.length;
      const put = await store.put(bytes);
      return { id: put.id, size: bytes.length };
    }
    const put = await store.putStream(createReadStream(path) as AsyncIterable<Uint8Array>);
    report.bytesRead += put.size;
    return { id: put.id, size: put.size };
  };

  const fileEntry = async (path: string, st: BigIntStats, cached: { id: ObjectId } | undefined) => {
    if (cached && (await store.has(cached.id))) {
      report.cached++;
      return { id: cached.id, size: Number(st.size) };
    }
    const blob = await io(() => readBlob(path, st));
    const newest = st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs;
    if (opts.cache && newest < startNs - RACY_MARGIN_NS) {
      opts.cache.record(path, { size: blob.size, mtime: String(st.mtimeNs), ctime: String(st.ctimeNs), ino: String(st.ino), id: blob.id });
    }
    return blob;
  };

  const importDirectory = async (abs: string, rel: string): Promise<ObjectId> => {
    const names = (await io(() => readdir(abs))).sort(compareNames);
    for (const name of names) {
      const problem = nameProblem(name);
      if (problem) throw badName(`cannot import ${JSON.stringify(join(rel, name))}: ${problem}`);
    }
    const paths = names.map((n) => join(abs, n));
    const stats = await Promise.all(paths.map((p) => io(() => lstat(p, { bigint: true }))));
    const cachedAll = opts.cache ? await opts.cache.getMany(paths) : [];
    const entries = await Promise.all(
      names.map(async (name, i): Promise<TreeEntry | undefined> => {
        const path = paths[i]!;
        const st = stats[i]!;
        const base = { name, mode: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid) };
        if (st.isFile()) {
          const c = cachedAll[i];
          const hit = c && c.size === Number(st.size) && c.mtime === String(st.mtimeNs) && c.ctime === String(st.ctimeNs) && c.ino === String(st.ino);
          const blob = await fileEntry(path, st, hit ? c : undefined);
          report.files++;
          return { ...base, kind: 'file', id: blob.id, size: blob.size, xattrs: wantXattrs ? readXattrs(path) : [] };
        }
        if (st.isDirectory()) {
          const id = await importDirectory(path, join(rel, name));
          report.dirs++;
          return { ...base, kind: 'dir', id, size: 0, xattrs: wantXattrs ? readXattrs(path) : [] };
        }
        if (st.isSymbolicLink()) {
          const target = await io(() => readlink(path));
          report.symlinks++;
          return { ...base, kind: 'symlink', target, size: Buffer.byteLength(target), xattrs: [] };
        }
        const kind = st.isFIFO() ? 'fifo' : st.isSocket() ? 'socket' : st.isCharacterDevice() ? 'character-device' : 'block-device';
        report.skipped.push({ path: join(rel, name), reason: kind });
        return undefined;
      }),
    );
    return writeTree(store, { entries: entries.filter((e): e is TreeEntry => e !== undefined) });
  };

  const rootStat = await lstat(root, { bigint: true });
  const tree = await importDirectory(root, '');
  const rootMeta = {
    mode: Number(rootStat.mode) & 0o7777,
    uid: Number(rootStat.uid),
    gid: Number(rootStat.gid),
    xattrs: wantXattrs ? readXattrs(root) : [],
  };
  return { tree, root: rootMeta, report };
}
