import { rm } from 'node:fs/promises';
import { Level } from 'level';
import { io } from '../util/io.js';

/**
 * The LevelDB index: derived data only (stat cache and friends). Deleting it
 * loses nothing but time. LevelDB allows one process at a time; when another
 * process holds it, `open` returns undefined and callers work without it.
 */
export class IndexDb {
  private constructor(private readonly db: Level<string, string>) {}

  static async open(path: string): Promise<IndexDb | undefined> {
    for (let attempt = 0; ; attempt++) {
      const db = new Level<string, string>(path, { valueEncoding: 'utf8' });
      try {
        await db.open();
        return new IndexDb(db);
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        if (cause?.code === 'LEVEL_LOCKED') return undefined;
        if (attempt > 0) throw err;
        // Derived data only: an index that cannot be opened is rebuilt from nothing.
        io().stderr.write(`trove: index at ${path} is unreadable (${cause?.message ?? (err as Error).message}); starting a new one\n`);
        await rm(path, { recursive: true, force: true });
      }
    }
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    const v = await this.db.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }

  async getManyJson<T>(keys: string[]): Promise<(T | undefined)[]> {
    if (keys.length === 0) return [];
    const vals = await this.db.getMany(keys);
    return vals.map((v) => (v === undefined ? undefined : (JSON.parse(v) as T)));
  }

  async putMany(entries: [string, unknown][]): Promise<void> {
    if (entries.length === 0) return;
    await this.db.batch(entries.map(([key, v]) => ({ type: 'put' as const, key, value: JSON.stringify(v) })));
  }

  async deleteMany(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.db.batch(keys.map((key) => ({ type: 'del' as const, key })));
  }

  /** Keys and values under a prefix. */
  async *entries<T>(prefix: string): AsyncIterable<[string, T]> {
    for await (const [k, v] of this.db.iterator({ gte: prefix, lt: `${prefix}\xff` })) {
      yield [k, JSON.parse(v) as T];
    }
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
