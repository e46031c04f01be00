/** Options of an LRU cache; defaults as documented on each field. */
export interface LruInit<V> {
  /** Upper bound of the summed cost of the entries kept. */
  maxCost: number;
  /** Cost of one value (default 1, so `maxCost` bounds the count). */
  costOf?: (value: V) => number;
  /** Called with each value pushed out (not with values replaced by `set`). */
  onEvict?: (value: V) => void;
}

/**
 * A least-recently-used cache bounded by a total cost (bytes, counts, ...).
 * A Map keeps insertion order, so re-inserting on `get` makes the first key
 * the least recently used one.
 */
export class Lru<K, V> {
  private readonly map = new Map<K, { value: V; cost: number }>();
  private total = 0;
  private readonly costOf: (value: V) => number;

  constructor(private readonly init: LruInit<V>) {
    this.costOf = init.costOf ?? (() => 1);
  }

  get(key: K): V | undefined {
    const hit = this.map.get(key);
    if (!hit) return undefined;
    this.map.delete(key);
    this.map.set(key, hit);
    return hit.value;
  }

  /** Whether `key` is cached, without making it recent. */
  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Stores `value`; a value costing more than the whole bound is not kept. */
  set(key: K, value: V): void {
    const old = this.map.get(key);
    if (old) {
      this.map.delete(key);
      this.total -= old.cost;
    }
    const cost = this.costOf(value);
    if (cost > this.init.maxCost) return;
    this.map.set(key, { value, cost });
    this.total += cost;
    while (this.total > this.init.maxCost) {
      const [k, v] = this.map.entries().next().value as [K, { value: V; cost: number }];
      this.map.delete(k);
      this.total -= v.cost;
      this.init.onEvict?.(v.value);
    }
  }

  delete(key: K): void {
    const hit = this.map.get(key);
    if (!hit) return;
    this.map.delete(key);
    this.total -= hit.cost;
  }

  /** Removes every entry, evicting each. */
  clear(): void {
    const values = [...this.map.values()];
    this.map.clear();
    this.total = 0;
    for (const v of values) this.init.onEvict?.(v.value);
  }

  get size(): number {
    return this.map.size;
  }

  get cost(): number {
    return this.total;
  }
}
