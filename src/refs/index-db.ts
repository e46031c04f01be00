import { access, constants, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import { isErrno } from '../util/errors.js';
import { io } from '../util/io.js';

/**
 * LevelDB's memtable size: a write past it goes into a table on LevelDB's own
 * thread, so that the next open replays a short log. With the default of 4
 * MiB the stat cache a first commit of a system writes (about 4 MB) stayed in
 * the log, and the next commit's open replayed it: 45-70 ms against 13.
 */
const WRITE_BUFFER = 1 << 20;
/** putMany writes batches of at most this many bytes of values, each of which may fill the memtable. */
const BATCH_BYTES = 512 << 10;

/**
 * The LevelDB index: derived data only (stat cache and friends). Deleting it
 * loses nothing but time. LevelDB allows one process at a time; when another
 * process holds it, `open` returns undefined and callers work without it;
 * so it does (with a warning) when this user may not read and write it: an
 * index that is not ours is never deleted or replaced. Only an index we own
 * that LevelDB cannot open is started afresh.
 */
export class IndexDb {
  private constructor(private readonly db: Level<string, string>) {}

  static async open(path: string): Promise<IndexDb | undefined> {
    // Checked before LevelDB touches anything (it rotates its LOG file before taking its LOCK).
    if (await deniedToThisUser(path)) return undefined;
    for (let attempt = 0; ; attempt++) {
      const db = new Level<string, string>(path, { valueEncoding: 'utf8', writeBufferSize: WRITE_BUFFER });
      try {
        await db.open();
        return new IndexDb(db);
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        if (cause?.code === 'LEVEL_LOCKED') return undefined;
        if (attempt > 0) throw err;
        if (await deniedToThisUser(path)) return undefined;
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

  /**
   * Writes the entries in batches of up to BATCH_BYTES: each entry is whole
   * or absent after a crash, the set is not (every entry here is derived
   * data that stands on its own).
   */
  async putMany(entries: [string, unknown][]): Promise<void> {
    let batch: { type: 'put'; key: string; value: string }[] = [];
    let bytes = 0;
    for (const [key, v] of entries) {
      const value = JSON.stringify(v);
      batch.push({ type: 'put', key, value });
      bytes += key.length + value.length;
      if (bytes >= BATCH_BYTES) {
        await this.db.batch(batch);
        batch = [];
        bytes = 0;
      }
    }
    if (batch.length > 0) await this.db.batch(batch);
  }

  async deleteMany(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.db.batch(keys.map((key) => ({ type: 'del' as const, key })));
  }

  /**
   * Keys and values under a prefix, read in batches of up to 1,000 entries
   * or 4 MiB: each batch is one round trip to LevelDB's thread, and with
   * the default of 16 KiB the stat cache of a whole system (about 2 MB)
   * took 65 ms to read instead of 25.
   */
  async *entries<T>(prefix: string): AsyncIterable<[string, T]> {
    for await (const [k, v] of this.rawEntries(prefix)) yield [k, JSON.parse(v) as T];
  }

  /** As entries, each value its JSON text, for a caller that parses only some or parses them later. */
  async *rawEntries(prefix: string): AsyncIterable<[string, string]> {
    const it = this.db.iterator({ gte: prefix, lt: `${prefix}\xff`, highWaterMarkBytes: 4 << 20 });
    try {
      for (;;) {
        const batch = await it.nextv(1000);
        if (batch.length === 0) return;
        yield* batch;
      }
    } finally {
      await it.close();
    }
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/**
 * An index this user may not read and write is never deleted or replaced
 * (it is someone else's): true, with a one-line warning, and the caller
 * works without it.
 */
async function deniedToThisUser(path: string): Promise<boolean> {
  const denied = await permissionProblem(path);
  if (denied) {
    io().stderr.write(`trove: warning: cannot open the index at ${path}: permission denied on ${denied}; carrying on without the stat cache (run as its owner, or chown/chmod it)\n`);
  }
  return denied !== undefined;
}

/** The first of the index directory and its files that this user may not read and write, or undefined. */
async function permissionProblem(path: string): Promise<string | undefined> {
  const denied = (err: unknown) => isErrno(err, 'EACCES') || isErrno(err, 'EPERM');
  try {
    await access(path, constants.R_OK | constants.W_OK | constants.X_OK);
    for (const name of await readdir(path)) {
      try {
        await access(join(path, name), constants.R_OK | constants.W_OK);
      } catch (err) {
        if (denied(err)) return join(path, name);
      }
    }
  } catch (err) {
    if (denied(err)) return path;
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  return undefined;
}
