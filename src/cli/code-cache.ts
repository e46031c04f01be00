import { readFileSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

// A V8 code cache for the CLI's CommonJS file (dist/bundle/cli-main.cjs, 1.4 MB):
// compiling it is about 22 ms of every command that goes through commander,
// compiling it with the cache about 11 ms. scripts/bundle.mjs writes the cache
// right after the bundle, with the Node that built it. See docs/design-notes.md,
// "The CLI as one CommonJS file".

/** The cache of a CommonJS file: `<file>.v8cache`. */
export const cachePathOf = (file: string): string => `${file}.v8cache`;

/**
 * The first line of a cache file names the file it was made from by size,
 * modification time and inode. V8 checks a cache against its source only by
 * length (and its own version and flags), so a bundle rebuilt or edited to
 * the same length would otherwise run the old code.
 */
function stamp(file: string): string {
  const st = statSync(file);
  return `${st.size} ${st.mtimeMs} ${st.ino}\n`;
}

type Wrapper = (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;

function compile(file: string, cachedData?: Buffer): Script {
  return new Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
}

function run(file: string, script: Script): unknown {
  const module = { exports: {} as unknown };
  (script.runInThisContext() as Wrapper).call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}

/**
 * Loads the CommonJS file `file` as `require` does (module.exports, a
 * require that resolves from the file, __filename, __dirname), compiled
 * with the code cache beside it when that was made from this very file;
 * else with plain `require`. A cache V8 rejects (another Node, other flags)
 * costs nothing but the read: the source is compiled as usual.
 */
export function requireWithCodeCache(file: string): unknown {
  let cache: Buffer;
  try {
    cache = readFileSync(cachePathOf(file));
  } catch {
    return createRequire(file)(file);
  }
  const nl = cache.indexOf(10);
  if (nl < 0 || cache.toString('latin1', 0, nl + 1) !== stamp(file)) return createRequire(file)(file);
  return run(file, compile(file, cache.subarray(nl + 1)));
}

/** Whether `file` has a cache made from it that V8 takes (for tests and `npm run bench`). */
export function codeCacheState(file: string): 'none' | 'stale' | 'rejected' | 'accepted' {
  let cache: Buffer;
  try {
    cache = readFileSync(cachePathOf(file));
  } catch {
    return 'none';
  }
  const nl = cache.indexOf(10);
  if (nl < 0 || cache.toString('latin1', 0, nl + 1) !== stamp(file)) return 'stale';
  return compile(file, cache.subarray(nl + 1)).cachedDataRejected ? 'rejected' : 'accepted';
}

/** Writes the code cache of `file` (scripts/bundle.mjs, after the bundle is built). */
export function writeCodeCache(file: string): void {
  const script = compile(file);
  writeFileSync(cachePathOf(file), Buffer.concat([Buffer.from(stamp(file), 'latin1'), script.createCachedData()]));
}
