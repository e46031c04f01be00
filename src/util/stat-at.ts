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
