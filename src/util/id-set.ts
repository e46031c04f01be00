import type { ObjectId } from './hash.js';

/**
 * A set of object ids that remembers only each id's first 64 bits, in an
 * open-addressing table of 32-bit pairs: 16-32 bytes per id, against about
 * 100 for a `Set` of 64-character strings, and no object per id for the
 * garbage collector to trace. Two ids that share their first 64 bits look
 * alike, so `has` may answer true for an id never added (about one chance in
 * 2^64 per pair of ids) and never answers false for one that was: use it
 * only where a false "present" is safe (gc: an object taken for reachable is
 * kept, never deleted).
 */
export class IdPrefixSet {
  private table: Uint32Array;
  private count = 0;

  constructor(capacity = 1024) {
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.table = new Uint32Array(slots * 2);
  }

  get size(): number {
    return this.count;
  }

  /** Adds `id`; true when it (or an id with the same first 64 bits) was not there yet. */
  add(id: ObjectId): boolean {
    if ((this.count + 1) * 2 > this.table.length / 2) this.grow();
    return this.insert(parseInt(id.slice(0, 8), 16), parseInt(id.slice(8, 16), 16));
  }

  has(id: ObjectId): boolean {
    const hi = parseInt(id.slice(0, 8), 16);
    const lo = parseInt(id.slice(8, 16), 16);
    const t = this.table;
    const mask = t.length / 2 - 1;
    for (let i = (lo ^ hi) & mask; ; i = (i + 1) & mask) {
      const h = t[2 * i]!;
      const l = t[2 * i + 1]!;
      if (h === 0 && l === 0) return hi === 0 && lo === 0 && this.zero;
      if (h === hi && l === lo) return true;
    }
  }

  /** The all-zero prefix marks an empty slot, so it is kept apart. */
  private zero = false;

  private insert(hi: number, lo: number): boolean {
    if (hi === 0 && lo === 0) {
      if (this.zero) return false;
      this.zero = true;
      this.count++;
      return true;
    }
    const t = this.table;
    const mask = t.length / 2 - 1;
    for (let i = (lo ^ hi) & mask; ; i = (i + 1) & mask) {
      const h = t[2 * i]!;
      const l = t[2 * i + 1]!;
      if (h === hi && l === lo) return false;
      if (h === 0 && l === 0) {
        t[2 * i] = hi;
        t[2 * i + 1] = lo;
        this.count++;
        return true;
      }
    }
  }

  private grow(): void {
    const old = this.table;
    this.table = new Uint32Array(old.length * 2);
    const zero = this.zero;
    this.count = 0;
    this.zero = false;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0 || old[i + 1] !== 0) this.insert(old[i]!, old[i + 1]!);
    if (zero) this.insert(0, 0);
  }
}
