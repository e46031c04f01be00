import { usage } from './errors.js';

/**
 * Limits on what an import accepts, so that a hostile archive or directory
 * gets a clear refusal (exit 6) instead of exhausting the stack, memory or
 * disk, and so that every tree trove stores can be checked out again.
 */

/** Most path components below the root of an imported tree (a real OS tree has some 30). */
export const MAX_TREE_DEPTH = 256;
/**
 * Longest path, in bytes, below the root of an imported tree. A checkout
 * works below a descriptor of its destination (`/proc/self/fd/N/...`), so
 * this plus that prefix stays under Linux's PATH_MAX of 4096.
 */
export const MAX_TREE_PATH = 3072;
/** Default cap on the decompressed bytes of one imported archive: 64 GiB. */
export const DEFAULT_MAX_IMPORT_BYTES = 64 * 2 ** 30;
/** Cap on the decompressed control archive of a `.deb` (a real one is a few KB to a few hundred KB). */
export const MAX_CONTROL_TAR_BYTES = 32 * 2 ** 20;
/** Cap on the `control` file inside it. */
export const MAX_CONTROL_FILE_BYTES = 4 * 2 ** 20;

/**
 * The decompressed-size cap of an archive import: `TROVE_MAX_IMPORT_BYTES`
 * (a byte count, optionally with a K, M, G or T suffix, powers of 1024)
 * when set, else {@link DEFAULT_MAX_IMPORT_BYTES}.
 */
export function maxImportBytes(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.TROVE_MAX_IMPORT_BYTES;
  if (raw === undefined || raw === '') return DEFAULT_MAX_IMPORT_BYTES;
  const m = /^(\d{1,16})([KMGT]?)$/i.exec(raw.trim());
  if (!m) throw usage(`TROVE_MAX_IMPORT_BYTES must be a byte count like 500M or 20G, not ${JSON.stringify(raw)}`);
  const scale = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  const n = Number(m[1]) * scale;
  if (!Number.isSafeInteger(n) || n <= 0) throw usage(`TROVE_MAX_IMPORT_BYTES ${JSON.stringify(raw)} is out of range`);
  return n;
}

/** Why a tree path of `depth` components and `bytes` bytes is past the limits, or null. */
export function treePathProblem(depth: number, bytes: number): string | null {
  if (depth > MAX_TREE_DEPTH) return `deeper than ${MAX_TREE_DEPTH} levels`;
  if (bytes > MAX_TREE_PATH) return `a path longer than ${MAX_TREE_PATH} bytes`;
  return null;
}
