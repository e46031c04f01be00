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
 * the same length would otherwise run the old code. A copy of the bundle
 * (another inode) has no usable cache until the next build writes one.
 */
function stamp(file: string): string {
  const st = statSync(file);
  return `${STAMP_VERSION} ${st.size} ${st.mtimeMs} ${st.ino}`;
}

/** The first word of a cache's first line: caches of an earlier layout (a checksum of our own at the end) are not used. */
const STAMP_VERSION = 'v2';

/** The cache that belongs to `file` as it is now, or why there is none. */
function cacheOf(file: string): Buffer | 'none' | 'stale' {
  let cache: Buffer;
  try {
    cache = readFileSync(cachePathOf(file));
  } catch {
    return 'none';
  }
  const nl = cache.indexOf(10);
  if (nl < 0) return 'stale';
  return cache.toString('latin1', 0, nl) === stamp(file) ? cache.subarray(nl + 1) : 'stale';
}

/**
 * V8 checks a cache's own bytes against the checksum it carries only under
 * `--verify-snapshot-checksum` (on in its debug builds alone): in a release
 * build a damaged cache crashes Node instead of being refused. The flag is
 * set around each compile with a cache and when one is made (a cache is
 * taken only under the flags it was made with), and unset after it, so
 * that nothing else (a worker's start) verifies anything more. A checksum
 * of our own over the 200 KB in JavaScript took about 5 ms, V8's about
 * 0.2 ms.
 */
function withChecksums<T>(f: () => T): T {
  // node:v8 loaded here, not at the top: the entry (src/cli/bin.ts) imports this module, and
  // `--version` and the direct commands would pay its 3.5 ms (it loads node:stream, which the
  // commands behind commander load anyway, through commander's node:child_process).
  const { setFlagsFromString } = createRequire(import.meta.url)('node:v8') as typeof import('node:v8');
  setFlagsFromString('--verify-snapshot-checksum');
  try {
    return f();
  } finally {
    setFlagsFromString('--no-verify-snapshot-checksum');
  }
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
  const cache = cacheOf(file);
  if (typeof cache === 'string') return createRequire(file)(file);
  return run(file, withChecksums(() => compile(file, cache)));
}

/** Whether `file` has a cache made from it that V8 takes (for tests and `npm run bench`). */
export function codeCacheState(file: string): 'none' | 'stale' | 'rejected' | 'accepted' {
  const cache = cacheOf(file);
  if (typeof cache === 'string') return cache;
  return withChecksums(() => compile(file, cache)).cachedDataRejected ? 'rejected' : 'accepted';
}

/** Writes the code cache of `file` (scripts/bundle.mjs, after the bundle is built). */
export function writeCodeCache(file: string): void {
  const data = withChecksums(() => compile(file).createCachedData());
  writeFileSync(cachePathOf(file), Buffer.concat([Buffer.from(`${stamp(file)}\n`, 'latin1'), data]));
}
