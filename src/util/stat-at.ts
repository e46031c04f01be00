import { constants } from 'node:fs';
import { loadAddon } from './native-addon.js';

/**
 * What an import reads of an entry's lstat: a node:fs Stats has all of it,
 * and so does an EntryStat made from the native addon's numbers.
 */
export interface EntryStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
}

interface DirScan {
  lstatAt(dirFd: number, names: string[]): Float64Array;
  readAt(dirFd: number, name: string, flags: number, expect: Float64Array, into: Uint8Array, stat: Float64Array, xattrs: boolean): number;
  scanTree(root: string, exclude: Float64Array, maxEntries: number): Promise<{ names: string; stats: Float64Array; blocks: Float64Array } | null>;
}

/** Numbers per entry in lstatAt's answer (native/dirscan.c). */
const FIELDS = 8;

/** One entry of lstatAt's answer. */
class PackedStat implements EntryStat {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly dev: number;
  constructor(v: Float64Array, at: number) {
    this.mode = v[at]!;
    this.uid = v[at + 1]!;
    this.gid = v[at + 2]!;
    this.size = v[at + 3]!;
    this.mtimeMs = v[at + 4]!;
    this.ctimeMs = v[at + 5]!;
    this.ino = v[at + 6]!;
    this.dev = v[at + 7]!;
  }
  private is(type: number): boolean {
    return (this.mode & constants.S_IFMT) === type;
  }
  isFile(): boolean {
    return this.is(constants.S_IFREG);
  }
  isDirectory(): boolean {
    return this.is(constants.S_IFDIR);
  }
  isSymbolicLink(): boolean {
    return this.is(constants.S_IFLNK);
  }
  isFIFO(): boolean {
    return this.is(constants.S_IFIFO);
  }
  isSocket(): boolean {
    return this.is(constants.S_IFSOCK);
  }
  isCharacterDevice(): boolean {
    return this.is(constants.S_IFCHR);
  }
}

/**
 * The lstat of each of `names` below the directory open at `dirFd`, in one
 * call into trove's addon (native/dirscan.c): one statx relative to the
 * descriptor per entry, where Node would resolve a path through
 * /proc/self/fd and make a Stats object for each. Undefined for the whole
 * when the addon is not built, and for an entry that could not be stated
 * (gone since it was listed, say): the caller then asks Node, and meets
 * Node's error.
 */
export function lstatAllAt(dirFd: number, names: string[]): (EntryStat | undefined)[] | undefined {
  const addon = loadAddon<DirScan>('dirscan');
  if (!addon) return undefined;
  const v = addon.lstatAt(dirFd, names);
  return names.map((_n, i) => (v[i * FIELDS]! < 0 ? undefined : new PackedStat(v, i * FIELDS)));
}

/** One directory of a tree scan: its names in import order, and the lstat of each. */
export interface ScannedDir {
  names: string[];
  stats: EntryStat[];
}

/**
 * A whole tree listed and stated ahead of its import (scanTree in
 * native/dirscan.c). The import visits the directories in the order the scan
 * did, a directory and then each subdirectory in name order, and takes each
 * one's listing with next(dir), `dir` the directory's own stat: undefined for
 * a directory the scan left to it. A directory out of step with the scan's
 * order (a caller that left out other directories than the scan) throws.
 */
export interface TreeScan {
  /** The root directory's own stat, to check that the import opened the same one. */
  root: EntryStat;
  next(dir: Pick<EntryStat, 'dev' | 'ino'>): ScannedDir | undefined;
  /** Where the next call of next() reads, to come back to with seek(). */
  position(): ScanPosition;
  seek(at: ScanPosition): void;
}

/** A place in a tree scan (TreeScan.position). */
export interface ScanPosition {
  block: number;
  entry: number;
}

/** Entries a scan holds at most (64 bytes of numbers each, and the name): past them, the import lists directories itself. */
export const SCAN_MAX_ENTRIES = 1 << 18;

/**
 * Lists and states the tree at `root` on a libuv pool thread, leaving out
 * the directories `exclude` names by device and inode. Undefined when the
 * addon is not built or the root could not be read: the import then lists
 * each directory as it comes to it.
 */
export async function scanTree(root: string, exclude: { dev: number; ino: number }[] = [], maxEntries = SCAN_MAX_ENTRIES): Promise<TreeScan | undefined> {
  const addon = loadAddon<DirScan>('dirscan');
  if (!addon) return undefined;
  const out = await addon.scanTree(root, Float64Array.from(exclude.flatMap((x) => [x.dev, x.ino])), maxEntries);
  if (!out) return undefined;
  const names = out.names.split('\0');
  const { stats, blocks } = out;
  let block = 0;
  let entry = 0;
  return {
    root: new PackedStat(stats, 0),
    next(expected) {
      const at = 3 * block++;
      const n = blocks[at];
      if (n === undefined) throw new Error('the tree scan has no more directories: the import visited more than it listed');
      if (blocks[at + 1] !== expected.dev || blocks[at + 2] !== expected.ino) {
        throw new Error(`the tree scan is out of step: directory ${expected.dev}:${expected.ino} where it listed ${blocks[at + 1]}:${blocks[at + 2]}`);
      }
      if (n < 0) return undefined;
      const dir: ScannedDir = { names: names.slice(entry, entry + n), stats: [] };
      for (let i = 0; i < n; i++) dir.stats.push(new PackedStat(stats, (entry + i + 1) * FIELDS));
      entry += n;
      return dir;
    },
    position: () => ({ block, entry }),
    seek(at) {
      ({ block, entry } = at);
    },
  };
}

/** readFileAt's arguments to the addon and its answer's stat, reused: PackedStat copies the numbers out. */
const expectBuf = new Float64Array(3);
const statBuf = new Float64Array(FIELDS);

/**
 * A small file read whole in one call into trove's addon (native/dirscan.c
 * readAt): opened below the directory open at `dirFd` with `flags`, checked
 * to be the regular file `expected` (an lstat made before) names, read into
 * `into` (which must have room for all of it), and closed. Its bytes (a view
 * of `into`) and its fstat; undefined for anything else (the addon not
 * built, an error, another inode, a file longer than `into`, with `xattrs` a
 * file that has xattrs), which the caller then reads its usual way and meets
 * there.
 */
export function readFileAt(dirFd: number, name: string, flags: number, expected: EntryStat, into: Uint8Array, xattrs: boolean): { bytes: Uint8Array; st: EntryStat } | undefined {
  const addon = loadAddon<DirScan>('dirscan');
  if (!addon) return undefined;
  expectBuf[0] = expected.dev;
  expectBuf[1] = expected.ino;
  expectBuf[2] = expected.mode;
  const n = addon.readAt(dirFd, name, flags, expectBuf, into, statBuf, xattrs);
  return n < 0 ? undefined : { bytes: into.subarray(0, n), st: new PackedStat(statBuf, 0) };
}
