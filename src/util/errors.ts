/** Stable error codes; tests and the CLI match on `code`, never on messages. */
export type ErrorCode =
  | 'E_USAGE'
  | 'E_NOT_FOUND'
  | 'E_EXISTS'
  | 'E_CORRUPT'
  | 'E_BAD_OBJECT'
  | 'E_BAD_NAME'
  | 'E_BAD_REF'
  | 'E_UNSAFE_ARCHIVE'
  | 'E_UNSUPPORTED'
  | 'E_LOCKED'
  | 'E_NOT_A_REPO'
  | 'E_IO';

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

/** The one error class of trove: a message for people and a code for programs. */
export class TroveError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'TroveError';
  }
}

export const usage = (msg: string) => new TroveError('E_USAGE', msg);
export const notFound = (msg: string) => new TroveError('E_NOT_FOUND', msg);
export const corrupt = (msg: string) => new TroveError('E_CORRUPT', msg);
export const badObject = (msg: string) => new TroveError('E_BAD_OBJECT', msg);
export const badName = (msg: string) => new TroveError('E_BAD_NAME', msg);
export const unsafeArchive = (msg: string) => new TroveError('E_UNSAFE_ARCHIVE', msg);
export const unsupported = (msg: string) => new TroveError('E_UNSUPPORTED', msg);

/** True when `err` is a Node system error with the given errno code. */
export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
