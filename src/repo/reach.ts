import { readFileSync, rmSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import type { ObjectId } from '../util/hash.js';
import { writeFileAtomicSync } from '../util/fs-atomic.js';
import type { Repo } from './repo.js';

/**
 * Object ids by their first 64 bits, sorted, in one typed array: the 64-bit
 * prefixes as little-endian unsigned integers, read through a Uint32Array
 * as (low, high) pairs. Made once by a sort (a million ids: about 80 ms),
 * then only merged with what is new. 8 bytes an id and no object per id.
 */
export class SortedPrefixes {
  private constructor(readonly pairs: Uint32Array) {}

  static readonly empty = new SortedPrefixes(new Uint32Array(0));

  /** `pairs` (low, high; any order, repeats allowed), sorted without repeats. */
  static of(pairs: Uint32Array): SortedPrefixes {
    const n = pairs.length / 2;
    new BigUint64Array(pairs.buffer, pairs.byteOffset, n).sort();
    let w = 0;
    for (let r = 0; r < n; r++) {
      const lo = pairs[2 * r]!;
      const hi = pairs[2 * r + 1]!;
      if (w > 0 && pairs[2 * w - 2] === lo && pairs[2 * w - 1] === hi) continue;
      pairs[2 * w] = lo;
      pairs[2 * w + 1] = hi;
      w++;
    }
    return new SortedPrefixes(pairs.subarray(0, 2 * w));
  }

  /** `pairs` as read from a record: undefined unless strictly increasing. */
  static sorted(pairs: Uint32Array): SortedPrefixes | undefined {
    for (let i = 1; i < pairs.length / 2; i++) {
      const h0 = pairs[2 * i - 1]!;
      const h1 = pairs[2 * i + 1]!;
      if (h1 < h0 || (h1 === h0 && pairs[2 * i]! <= pairs[2 * i - 2]!)) return undefined;
    }
    return new SortedPrefixes(pairs);
  }

  get size(): number {
    return this.pairs.length / 2;
  }

  has(id: ObjectId): boolean {
    const hi = parseInt(id.slice(0, 8), 16);
    const lo = parseInt(id.slice(8, 16), 16);
    const p = this.pairs;
    let l = 0;
    let h = p.length / 2 - 1;
    while (l <= h) {
      const m = (l + h) >>> 1;
      const mh = p[2 * m + 1]!;
      const ml = p[2 * m]!;
      if (mh === hi && ml === lo) return true;
      if (mh < hi || (mh === hi && ml < lo)) l = m + 1;
      else h = m - 1;
    }
    return false;
  }

  /** These and `more` (sorted without repeats, see `of`), without `less`'s. */
  merge(more: SortedPrefixes, less: SortedPrefixes = SortedPrefixes.empty): SortedPrefixes {
    const a = this.pairs;
    const b = more.pairs;
    const out = new Uint32Array(a.length + b.length);
    let i = 0;
    let j = 0;
    let w = 0;
    let k = 0;
    const c = less.pairs;
    while (i < a.length || j < b.length) {
      let lo: number;
      let hi: number;
      const takeA = j >= b.length || (i < a.length && (a[i + 1]! < b[j + 1]! || (a[i + 1] === b[j + 1] && a[i]! <= b[j]!)));
      if (takeA) {
        lo = a[i]!;
        hi = a[i + 1]!;
        i += 2;
        if (j < b.length && b[j] === lo && b[j + 1] === hi) j += 2;
      } else {
        lo = b[j]!;
        hi = b[j + 1]!;
        j += 2;
      }
      while (k < c.length && (c[k + 1]! < hi || (c[k + 1] === hi && c[k]! < lo))) k += 2;
      if (k < c.length && c[k] === lo && c[k + 1] === hi) continue;
      out[w++] = lo;
      out[w++] = hi;
    }
    return new SortedPrefixes(out.subarray(0, w));
  }
}

/** Collects ids as (low, high) pairs for SortedPrefixes.of. */
export class PrefixList {
  private pairs = new Uint32Array(64);
  private n = 0;

  add(id: ObjectId): void {
    this.addPrefix(parseInt(id.slice(0, 8), 16), parseInt(id.slice(8, 16), 16));
  }

  addPrefix(hi: number, lo: number): void {
    if (2 * this.n + 2 > this.pairs.length) {
      const grown = new Uint32Array(this.pairs.length * 2);
      grown.set(this.pairs);
      this.pairs = grown;
    }
    this.pairs[2 * this.n] = lo;
    this.pairs[2 * this.n + 1] = hi;
    this.n++;
  }

  get length(): number {
    return this.n;
  }

  /** The ids so far, sorted without repeats (a copy: the list can still grow, and be sorted again). */
  sorted(): SortedPrefixes {
    return SortedPrefixes.of(this.pairs.slice(0, 2 * this.n));
  }
}

/**
 * `<repo>/gc-reach`: the objects the last gc marked, as a fact about the
 * object graph that stays true whatever the store holds later (an id names
 * the same bytes for ever):
 *
 * - `roots`: the root commits that gc started from;
 * - `complete`: the commits and trees it read and decoded, so everything
 *   they reference is in the record too;
 * - `others`: everything else it marked: blobs, and commits and trees it
 *   did not find.
 *
 * Everything below a `complete` id is in the record, so a later mark need
 * not read it again (src/repo/gc.ts `markAgain`). Ids are kept by their first
 * 64 bits, and the record can be stale, torn by hand or wrong: gc uses it
 * only to conclude that nothing is garbage (with the store's count), never
 * to decide what to delete.
 */
export interface ReachRecord {
  roots: ObjectId[];
  complete: SortedPrefixes;
  others: SortedPrefixes;
}

const MAGIC = 'trovrch1';
const HEADER = 32;

export const reachPath = (repo: Repo): string => join(repo.path, 'gc-reach');

/** The prefix arrays are little-endian integers: a big-endian machine keeps no record. */
const usable = endianness() === 'LE';

/**
 * The record, or undefined when there is none or it is not one: a bad
 * magic, lengths that do not add up, prefixes out of order.
 * Layout: `trovrch1`, then three u32 (complete, others, roots), 12 bytes of
 * zeros, the complete then the other prefixes (8 bytes each), the roots
 * (32 bytes each).
 */
export function readReach(repo: Repo): ReachRecord | undefined {
  if (!usable) return undefined;
  let buf: Buffer;
  try {
    buf = readFileSync(reachPath(repo));
  } catch {
    return undefined;
  }
  if (buf.length < HEADER || buf.toString('latin1', 0, 8) !== MAGIC) return undefined;
  const nComplete = buf.readUInt32LE(8);
  const nOthers = buf.readUInt32LE(12);
  const nRoots = buf.readUInt32LE(16);
  if (buf.length !== HEADER + 8 * (nComplete + nOthers) + 32 * nRoots) return undefined;
  // A copy aligned for the Uint32Array view (readFileSync may hand out a slice of a pool).
  const words = new Uint32Array(2 * (nComplete + nOthers));
  new Uint8Array(words.buffer).set(buf.subarray(HEADER, HEADER + 8 * (nComplete + nOthers)));
  const complete = SortedPrefixes.sorted(words.subarray(0, 2 * nComplete));
  const others = SortedPrefixes.sorted(words.subarray(2 * nComplete));
  if (!complete || !others) return undefined;
  const roots: ObjectId[] = [];
  for (let at = HEADER + 8 * (nComplete + nOthers); at < buf.length; at += 32) roots.push(buf.toString('hex', at, at + 32));
  return { roots, complete, others };
}

/** Removes the record (the next gc marks everything). */
export function forgetReach(repo: Repo): void {
  rmSync(reachPath(repo), { force: true });
}

/** Writes the record atomically (see readReach for the layout). */
export function writeReach(repo: Repo, rec: ReachRecord): void {
  if (!usable) return;
  const c = rec.complete.pairs;
  const o = rec.others.pairs;
  const buf = Buffer.alloc(HEADER + 4 * (c.length + o.length) + 32 * rec.roots.length);
  buf.write(MAGIC, 0, 'latin1');
  buf.writeUInt32LE(c.length / 2, 8);
  buf.writeUInt32LE(o.length / 2, 12);
  buf.writeUInt32LE(rec.roots.length, 16);
  buf.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), HEADER);
  buf.set(new Uint8Array(o.buffer, o.byteOffset, o.byteLength), HEADER + c.byteLength);
  let at = HEADER + c.byteLength + o.byteLength;
  for (const r of rec.roots) at += buf.write(r, at, 'hex');
  writeFileAtomicSync(reachPath(repo), buf, { tmpDir: repo.tmpDir, tag: 'gcreach' });
}
