import type { ObjectId } from '../util/hash.js';

/** What a stored object is made of when it is streamed in. */
export interface PutResult {
  id: ObjectId;
  size: number;
  /** False when the object was already present and nothing was written. */
  written: boolean;
}

/**
 * The object store: bytes by id. It never parses objects; an object's kind is
 * known from the reference that points at it. Every implementation must pass
 * test/store-contract.ts.
 */
export interface ObjectStore {
  has(id: ObjectId): Promise<boolean>;
  /** The object's bytes, re-hashed against `id`; E_NOT_FOUND or E_CORRUPT otherwise. */
  get(id: ObjectId): Promise<Uint8Array>;
  /** Stores `bytes` under their SHA-256; a no-op when already present. */
  put(bytes: Uint8Array): Promise<PutResult>;
  /** Stores streamed content under its SHA-256, never buffering all of it. */
  putStream(source: AsyncIterable<Uint8Array>, hint?: PutHint): Promise<PutResult>;
  /**
   * Stores bytes that the caller claims have id `id`; they are re-hashed and
   * refused with E_CORRUPT when they do not match (for untrusted input).
   */
  putVerified(id: ObjectId, bytes: Uint8Array): Promise<PutResult>;
  /**
   * Synchronous twins of `has`, `put` and a whole-file put, for bulk imports:
   * with data in the page cache, blocking syscalls beat the thread pool.
   */
  hasSync(id: ObjectId): boolean;
  putSync(bytes: Uint8Array, hint?: PutHint): PutResult;
  /** Stores the content of the file at `path`, read in chunks (never whole). */
  putFileSync(path: string, hint?: PutHint): PutResult;
  delete(id: ObjectId): Promise<void>;
  list(): AsyncIterable<ObjectId>;
}

/**
 * A hint for the permission bits of a new blob's object file. Objects are
 * never set-id: `executable` gives 0755 (0700 when private), so a hard-link
 * checkout can link most files without a per-mode copy. `private` keeps the
 * content from other users (docs/security.md, "Private files"): the object
 * file is 0600 (0700), readable by the repository's owner only. A put with a
 * hint that is not private also publishes an object already stored private
 * (its content is now public, committed readable by others).
 */
export interface PutHint {
  executable?: boolean;
  private?: boolean;
}

/** The file mode of a new object file for `hint`. */
export function objectFileMode(hint?: PutHint): number {
  if (hint?.private) return hint.executable ? 0o700 : 0o600;
  return hint?.executable ? 0o755 : 0o644;
}

/** Whether an object file's mode lets other users read it (a public object). */
export function isPublicMode(mode: number): boolean {
  return (mode & 0o004) !== 0;
}

/** The mode a private object file (0600/0700) gets when published, keeping its executable bit. */
export function publishedMode(mode: number): number {
  return objectFileMode({ executable: (mode & 0o100) !== 0 });
}

/** Stores whose private objects can be published (made readable by others) once their content is committed public. */
export interface PublishStore {
  /** Makes the object readable by others if it is private; false when it was public already or is missing. */
  publishSync(id: ObjectId): boolean;
}

export type GetStore = Pick<ObjectStore, 'get'>;
export type HasStore = Pick<ObjectStore, 'has'>;

/**
 * The file that holds an object's bytes, for callers that need the file
 * itself (hard-link checkout, the FUSE view, serving files) rather than its
 * bytes. Only a disk store has one; the file must never be written to.
 */
export interface ObjectFiles {
  /** Path of the object file for `id` (whether or not it exists); E_NOT_FOUND for a malformed id. */
  pathOf(id: ObjectId): string;
  /** The directory of the object files (`ab/<62 hex>`), for work on the files as a whole (precompression). */
  readonly objectsDir: string;
}

/**
 * Installing object files that the caller wrote itself, for bytes streamed
 * straight to disk and verified on the way (pull).
 */
export interface ObjectInstaller {
  /** A new temp path on the objects' filesystem, for a file to hand to `installSync`. */
  tempPath(tag?: string): string;
  /** Moves a complete object file, already verified against `id`, into place. */
  installSync(tmpPath: string, id: ObjectId): void;
}

/** A blocking, verified `get`, for callers that gain from skipping the thread pool (small trees). */
export interface GetSyncStore {
  /** `maxBytes`: an object file larger than this is refused (badObject) before it is read. */
  getSync(id: ObjectId, maxBytes?: number): Uint8Array;
}
