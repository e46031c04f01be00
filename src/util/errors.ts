/**
 * Stable error codes; tests and the CLI match on `code`, never on messages.
 * Each code has one helper below that makes its error, an exit status in
 * {@link EXIT_CODES}, and a row in docs/cli.md ("Exit status").
 *
 * - `E_USAGE` (exit 2): the request itself is wrong: bad arguments or
 *   options, an ambiguous commit prefix, a tree or blob id where a commit is
 *   needed, a key that is not an ed25519 key, a path that is not a file, a
 *   checkout destination owned by another user, a package name that is not
 *   Debian-shaped.
 * - `E_NOT_FOUND` (exit 3): a ref, commit, object, path, package, profile,
 *   generation, remote or mount that the request names does not exist
 *   (reading an object by id that the store does not hold is this code too).
 * - `E_EXISTS` (exit 4): something the request would create is already
 *   there: a repository, a remote, a key file, a non-empty checkout
 *   destination, a non-symlink where a link goes, a bisect session, a
 *   package revision that is not higher than the tip's, a mount.
 * - `E_CORRUPT` (exit 5): stored or received bytes are not what they claim
 *   to be: an object whose bytes do not hash to its id (rot or tampering), an
 *   object a checkout needs that is missing from the store, a received object
 *   or pack of the wrong length, a truncated or malformed pack or delta, a
 *   repository file (config, ref, profile link, bisect state, summary) that
 *   does not parse or holds no valid id, a ref that points at the wrong kind
 *   of object; also `trove fsck` finding problems.
 * - `E_BAD_OBJECT` (exit 5): bytes that hash right but do not decode as a
 *   valid object of the expected kind: not protobuf, not canonically encoded,
 *   invalid entries or ids, a tree or blob where a commit is decoded, an
 *   object a pull receives as two kinds or with another size than its tree
 *   says; also a signature that is missing or does not verify (the data is
 *   refused). Resolving a revision turns it into `E_USAGE` when the user gave
 *   the id, and into `E_CORRUPT` when a ref or parent link points at it.
 * - `E_BAD_NAME` (exit 6): an entry name that is not safe in a tree (empty,
 *   `.`, `..`, with `/` or NUL, not UTF-8, longer than 255 bytes).
 * - `E_BAD_REF` (exit 6): an invalid ref, remote or profile name, a string
 *   that is not an object id where one is required, a ref name that clashes
 *   with existing refs, a commit that is not a package commit.
 * - `E_UNSAFE_ARCHIVE` (exit 6): a tar archive or .deb that is hostile or
 *   malformed: absolute or `..` member paths, writes through a symlink, hard
 *   links to nothing earlier or claiming another mode or owner, truncated
 *   members, bad headers, empty archives, PAX keywords trove cannot apply as
 *   GNU tar does, archives past the decompressed-size cap; also an archive
 *   or directory tree past the depth and path-length limits.
 * - `E_UNSUPPORTED` (exit 7): a repository format, compression (bzip2) or
 *   archive member type this version does not handle; a stored tree past the
 *   depth and path-length limits of a checkout.
 * - `E_LOCKED` (exit 8): another process holds the repository lock, a ref
 *   moved under a concurrent writer, or a bisect session uses the link.
 * - `E_NOT_A_REPO` (exit 9): the path holds no trove repository.
 * - `E_IO` (exit 1): an I/O failure trove reports itself (a mount or unmount
 *   that fails, a checkout destination that cannot be made, a daemon that
 *   does not answer, a bisect run that is aborted); unexpected errors that are
 *   no TroveError exit 1 too.
 */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Every error code, in the order of the list above. */
export const ERROR_CODES = [
  'E_USAGE',
  'E_NOT_FOUND',
  'E_EXISTS',
  'E_CORRUPT',
  'E_BAD_OBJECT',
  'E_BAD_NAME',
  'E_BAD_REF',
  'E_UNSAFE_ARCHIVE',
  'E_UNSUPPORTED',
  'E_LOCKED',
  'E_NOT_A_REPO',
  'E_IO',
] as const;

/** Exit codes of the CLI, by error code (documented in docs/cli.md). */
export const EXIT_CODES: Record<ErrorCode, number> = {
  E_USAGE: 2,
  E_NOT_FOUND: 3,
  E_EXISTS: 4,
  E_CORRUPT: 5,
  E_BAD_OBJECT: 5,
  E_BAD_NAME: 6,
  E_BAD_REF: 6,
  E_UNSAFE_ARCHIVE: 6,
  E_UNSUPPORTED: 7,
  E_LOCKED: 8,
  E_NOT_A_REPO: 9,
  E_IO: 1,
};

/**
 * What an error is about, for programs (the message says it for people).
 * A throw site fills in only what it has at hand; every field is optional.
 */
export interface ErrorData {
  /** A path on the host file system (a file, directory, link or mount point). */
  path?: string;
  /** An object id (commit, tree or blob), in full. */
  id?: string;
  /** A ref name as given (`main`, `pkg/bash/amd64`, `remotes/origin/main`). */
  ref?: string;
  /** A remote name. */
  remote?: string;
  /** A profile name. */
  profile?: string;
  /** A generation number of `profile`. */
  generation?: number;
  /** A package name. */
  package?: string;
  /** What the request named, when it is neither a path, an id nor a ref (e.g. `REV:PATH`). */
  spec?: string;
  /** The id or value the operation expected (`null`: none). */
  expected?: string | null;
  /** The id or value it found instead (`null`: none). */
  actual?: string | null;
  /** A process id (of a daemon). */
  pid?: number;
}

/** Options of an error besides its data. */
export interface ErrorOptions {
  cause?: unknown;
}

/** The one error class of trove: a message for people, a code and data for programs. */
/**
 * Marks a TroveError in any copy of this module: the direct commands' bundle
 * has its own copy of the class, and can still reach modules of tsc's output
 * (scripts/bundle.mjs), so isTroveError does not rely on `instanceof`.
 */
const TROVE_ERROR = Symbol.for('trove.error');

export class TroveError extends Error {
  readonly [TROVE_ERROR] = true;
  readonly code: ErrorCode;
  /** What the error is about; `{}` when the throw site had nothing to add. */
  readonly data: ErrorData;
  constructor(code: ErrorCode, message: string, options?: ErrorOptions & { data?: ErrorData }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.data = options?.data ?? {};
    this.name = 'TroveError';
  }
}

/** A helper that makes a TroveError of one code. */
export type ErrorHelper = (message: string, data?: ErrorData, options?: ErrorOptions) => TroveError;

function helper(code: ErrorCode): ErrorHelper {
  return (message, data, options) => new TroveError(code, message, { ...options, data });
}

/** E_USAGE: bad arguments or options; a request that cannot mean anything. */
export const usage = helper('E_USAGE');
/** E_NOT_FOUND: what the request names does not exist. */
export const notFound = helper('E_NOT_FOUND');
/** E_EXISTS: what the request would create is already there. */
export const exists = helper('E_EXISTS');
/** E_CORRUPT: bytes that do not match their id, missing objects, unreadable repository files. */
export const corrupt = helper('E_CORRUPT');
/** E_BAD_OBJECT: bytes that do not decode as a valid object of the expected kind; refused signatures. */
export const badObject = helper('E_BAD_OBJECT');
/** E_BAD_NAME: an entry name that is not safe in a tree. */
export const badName = helper('E_BAD_NAME');
/** E_BAD_REF: an invalid ref, remote or profile name, or a string that is not an id. */
export const badRef = helper('E_BAD_REF');
/** E_UNSAFE_ARCHIVE: a hostile or malformed archive. */
export const unsafeArchive = helper('E_UNSAFE_ARCHIVE');
/** E_UNSUPPORTED: a format, compression or member type this version does not handle. */
export const unsupported = helper('E_UNSUPPORTED');
/** E_LOCKED: the repository lock is held, a ref moved under us, or a bisect session uses the link. */
export const locked = helper('E_LOCKED');
/** E_NOT_A_REPO: no trove repository at the path. */
export const notARepo = helper('E_NOT_A_REPO');
/** E_IO: an I/O failure trove reports itself. */
export const ioError = helper('E_IO');

/** The helper of every code (the unit tests check that none is missing). */
export const ERROR_HELPERS: Record<ErrorCode, ErrorHelper> = {
  E_USAGE: usage,
  E_NOT_FOUND: notFound,
  E_EXISTS: exists,
  E_CORRUPT: corrupt,
  E_BAD_OBJECT: badObject,
  E_BAD_NAME: badName,
  E_BAD_REF: badRef,
  E_UNSAFE_ARCHIVE: unsafeArchive,
  E_UNSUPPORTED: unsupported,
  E_LOCKED: locked,
  E_NOT_A_REPO: notARepo,
  E_IO: ioError,
};

/** True when `err` is a TroveError, and of code `code` when one is given. */
export function isTroveError(err: unknown, code?: ErrorCode): err is TroveError {
  return typeof err === 'object' && err !== null && (err as Partial<Record<symbol, unknown>>)[TROVE_ERROR] === true && (code === undefined || (err as TroveError).code === code);
}

/**
 * True when `err` is an error the system gave (an Error with a code, such as
 * ENOSPC or EACCES), not one of trove's own nor a fault in the code: the
 * kind a best-effort write (a cache, a record) may ignore or report.
 */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && !isTroveError(err) && (err as NodeJS.ErrnoException).code !== undefined;
}

/** True when `err` is a Node system error with the given errno code. */
export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
