import { usage } from '../util/errors.js';
import { isObjectId, type ObjectId } from '../util/hash.js';

/**
 * Paths of the static layout, relative to the repository root: exactly the
 * on-disk layout, so any static web server can serve a repository as-is.
 */
export const SUMMARY_PATH = 'summary';
export const SUMMARY_SIG_PATH = 'summary.sig';
export const DELTAS_DIR = 'deltas';
export const SIGNATURES_DIR = 'signatures';
/** The package index files, `packages/<id>` (see package-index.ts). */
export const PACKAGES_DIR = 'packages';

/** Top-level names a repository serves; everything else (config, lock, index, tmp) stays private. */
export const SERVED_TOP_LEVEL = new Set(['objects', 'refs', DELTAS_DIR, SIGNATURES_DIR, PACKAGES_DIR, SUMMARY_PATH, SUMMARY_SIG_PATH]);

export function objectPath(id: ObjectId): string {
  if (!isObjectId(id)) throw usage(`not an object id: ${id}`);
  return `objects/${id.slice(0, 2)}/${id.slice(2)}`;
}

/** Detached signatures of a commit. */
export function commitSigPath(id: ObjectId): string {
  if (!isObjectId(id)) throw usage(`not an object id: ${id}`);
  return `${SIGNATURES_DIR}/${id}.sig`;
}

/** File name of a delta pack; `from` null means "from nothing". */
export function deltaName(from: ObjectId | null, to: ObjectId): string {
  return `${from ?? 'empty'}-${to}`;
}

export function deltaPath(from: ObjectId | null, to: ObjectId): string {
  return `${DELTAS_DIR}/${deltaName(from, to)}`;
}

/** Parses a delta file name back into its endpoints, or undefined when it is not one. */
export function parseDeltaName(name: string): { from: ObjectId | null; to: ObjectId } | undefined {
  const m = /^(empty|[0-9a-f]{64})-([0-9a-f]{64})$/.exec(name);
  if (!m) return undefined;
  return { from: m[1] === 'empty' ? null : m[1]!, to: m[2]! };
}

/** The package index file with SHA-256 `id`. */
export function indexPath(id: ObjectId): string {
  if (!isObjectId(id)) throw usage(`not an object id: ${id}`);
  return `${PACKAGES_DIR}/${id}`;
}

/**
 * The trees pack of package commit `commit`: the commit and every tree under
 * it, no blob, as one gzip-compressed pack (pack.ts), so a client walks a
 * package's directories in one request. Written with the package index.
 */
export function treesPackPath(commit: ObjectId): string {
  if (!isObjectId(commit)) throw usage(`not an object id: ${commit}`);
  return `${PACKAGES_DIR}/${commit}${TREES_PACK_SUFFIX}`;
}

export const TREES_PACK_SUFFIX = '.trees';
