import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { isErrno } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { limiter } from '../util/limiter.js';
import type { Repo } from '../repo/repo.js';
import { isPublicMode, type ObjectFiles } from '../store/types.js';

const gzip = promisify(gzipCb);

/** Options of precompression; defaults as documented on each field. */
export interface GzipObjectsOptions {
  /** gzip level (default 9: written once, served many times). */
  level?: number;
  /** Objects smaller than this are left alone (default 256 bytes). */
  minSize?: number;
  /** Compressions at once (default 4, the size of the thread pool). */
  parallel?: number;
}

export interface GzipObjectsResult {
  /** `.gz` files written by this run. */
  written: number;
  /** Objects that do not compress by 5 % (marked `.nogz`, not tried again). */
  incompressible: number;
  /** `.gz`/`.nogz` files removed because their object is gone (after gc). */
  removed: number;
  /** Bytes of the objects compressed by this run, and of their `.gz` files. */
  bytesIn: number;
  bytesOut: number;
}

/**
 * Writes `objects/ab/<62 hex>.gz` next to each object, for web servers that
 * send precompressed files to clients accepting gzip (nginx `gzip_static
 * on`, `trove serve`): like an OSTree archive repository, objects then cross
 * the network compressed, and the client still verifies the uncompressed
 * bytes. Incremental: objects that already have a `.gz` (or a `.nogz` mark)
 * are skipped, and marks of objects that are gone are removed.
 */
export async function gzipObjects(repo: Repo, opts: GzipObjectsOptions = {}): Promise<GzipObjectsResult> {
  const level = opts.level ?? 9;
  const minSize = opts.minSize ?? 256;
  const run = limiter(opts.parallel ?? 4);
  const result: GzipObjectsResult = { written: 0, incompressible: 0, removed: 0, bytesIn: 0, bytesOut: 0 };
  const files: ObjectFiles = repo.store;
  const dir = files.objectsDir;
  let shards: string[];
  try {
    shards = (await readdir(dir)).filter((s) => /^[0-9a-f]{2}$/.test(s)).sort();
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return result;
    throw err;
  }
  for (const shard of shards) {
    const names = new Set(await readdir(join(dir, shard)));
    const jobs: Promise<void>[] = [];
    for (const name of names) {
      const m = /^([0-9a-f]{62})(\.gz|\.nogz)?$/.exec(name);
      if (!m) continue;
      const path = join(dir, shard, name);
      if (m[2]) {
        if (!names.has(m[1]!)) jobs.push(run(() => rm(path, { force: true }).then(() => void result.removed++)));
        continue;
      }
      if (names.has(`${name}.gz`) || names.has(`${name}.nogz`)) continue;
      jobs.push(
        run(async () => {
          const bytes = await readFile(path);
          if (bytes.length < minSize) return;
          const packed = await gzip(bytes, { level });
          const useful = packed.length <= bytes.length * 0.95;
          // A private object's copy is as private as it is (docs/security.md, "Private files").
          const mode = isPublicMode((await stat(path)).mode) ? 0o644 : 0o600;
          await writeFileAtomic(`${path}${useful ? '.gz' : '.nogz'}`, useful ? packed : '', { tmpDir: repo.tmpDir, tag: 'gz', mode });
          if (!useful) return void result.incompressible++;
          result.written++;
          result.bytesIn += bytes.length;
          result.bytesOut += packed.length;
        }),
      );
    }
    await Promise.all(jobs);
  }
  return result;
}
