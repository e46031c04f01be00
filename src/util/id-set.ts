import type { ObjectId } from './hash.js';

/**
 * Object ids remembered by their first 64 bits only, in an open-addressing
 * table of 32-bit pairs: 16-32 bytes per id, against about 100 for a `Set`
 * of 64-character strings, and no object per id for the garbage collector to
 * trace. Two ids that share their first 64 bits look alike (about one chance
 * in 2^64 per pair of ids): use it only where taking an id for one already
 * seen is safe or harmless (gc: an object taken for reachable is kept, never
 * deleted; fsck: a blob met again is not checked again).
 */
class IdPrefixTable {
  /** Pairs (high 32 bits, low 32 bits); (0, 0) marks an empty slot. */
  protected keys: Uint32Array;
  protected count = 0;
  /** Slot of the id whose prefix is all zero, kept apart from the empty slots (-1: none). */
  protected zeroSlot = -1;

  constructor(capacity: number) {
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.keys = new Uint32Array(slots * 2);
  }

  get size(): number {
    return this.count;
  }

  protected get slots(): number {
    return this.keys.length / 2;
  }

  /** The slot holding `id`'s prefix, or -1 - (the empty slot where it would go). */
  protected find(id: ObjectId): number {
    return this.findPrefix(parseInt(id.slice(0, 8), 16), parseInt(id.slice(8, 16), 16));
  }

  protected findPrefix(hi: number, lo: number): number {
    if (hi === 0 && lo === 0) return this.zeroSlot >= 0 ? this.zeroSlot : -1 - this.slots;
    const k = this.keys;
    const mask = this.slots - 1;
    for (let i = (lo ^ hi) & mask; ; i = (i + 1) & mask) {
      const h = k[2 * i]!;
      const l = k[2 * i + 1]!;
      if (h === hi && l === lo) return i;
      if (h === 0 && l === 0) return -1 - i;
    }
  }

  /** Claims the slot `free` (from `find`) for the prefix of `id`; returns its slot. */
  protected claim(id: ObjectId, free: number): number {
    const hi = parseInt(id.slice(0, 8), 16);
    const lo = parseInt(id.slice(8, 16), 16);
    this.count++;
    if (hi === 0 && lo === 0) return (this.zeroSlot = this.slots);
    const i = -1 - free;
    this.keys[2 * i] = hi;
    this.keys[2 * i + 1] = lo;
    return i;
  }

  /** Calls `fn` with the prefix of each id in the table (high and low 32 bits). */
  forEachPrefix(fn: (hi: number, lo: number) => void): void {
    const k = this.keys;
    for (let i = 0; i < k.length; i += 2) if (k[i] !== 0 || k[i + 1] !== 0) fn(k[i]!, k[i + 1]!);
    if (this.zeroSlot >= 0) fn(0, 0);
  }

  /** Whether one more id needs a bigger table (load kept at most one half). */
  protected full(): boolean {
    return (this.count + 1) * 2 > this.slots;
  }

  /** Doubles the table; `move(from, to)` carries a slot's value along. The zero id's slot is `slots` (past the table). */
  protected grow(move?: (from: number, to: number) => void): void {
    const old = this.keys;
    const oldSlots = this.slots;
    this.keys = new Uint32Array(old.length * 2);
    const mask = this.slots - 1;
    for (let j = 0; j < oldSlots; j++) {
      const hi = old[2 * j]!;
      const lo = old[2 * j + 1]!;
      if (hi === 0 && lo === 0) continue;
      let i = (lo ^ hi) & mask;
      while (this.keys[2 * i] !== 0 || this.keys[2 * i + 1] !== 0) i = (i + 1) & mask;
      this.keys[2 * i] = hi;
      this.keys[2 * i + 1] = lo;
      move?.(j, i);
    }
    if (this.zeroSlot >= 0) {
      move?.(oldSlots, this.slots);
      this.zeroSlot = this.slots;
    }
  }
}

/** A set of object ids by their first 64 bits (see IdPrefixTable). */
export class IdPrefixSet extends IdPrefixTable {
  constructor(capacity = 1024) {
    super(capacity);
  }

  /** Adds `id`; true when it (or an id with the same first 64 bits) was not there yet. */
  add(id: ObjectId): boolean {
    if (this.full()) this.grow();
    const at = this.find(id);
    if (at >= 0) return false;
    this.claim(id, at);
    return true;
  }

  has(id: ObjectId): boolean {
    return this.find(id) >= 0;
  }
}

/** A map from object ids, by their first 64 bits (see IdPrefixTable), to numbers. */
export class IdPrefixMap extends IdPrefixTable {
  /** One value per slot, and one past the end for the zero id. */
  private values: Float64Array;

  constructor(capacity = 1024) {
    super(capacity);
    this.values = new Float64Array(this.slots + 1);
  }

  get(id: ObjectId): number | undefined {
    const at = this.find(id);
    return at >= 0 ? this.values[at] : undefined;
  }

  set(id: ObjectId, value: number): void {
    if (this.full()) {
      const old = this.values;
      this.values = new Float64Array(this.slots * 2 + 1);
      this.grow((from, to) => (this.values[to] = old[from]!));
    }
    const at = this.find(id);
    this.values[at >= 0 ? at : this.claim(id, at)] = value;
  }
}
