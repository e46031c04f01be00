import { constants } from 'node:os';
import { isTroveError } from '../util/errors.js';

const E = constants.errno;

/** Negative errno values, as FUSE callbacks expect them. */
export const ERR = {
  ENOENT: -E.ENOENT,
  EIO: -E.EIO,
  EROFS: -E.EROFS,
  ENOTDIR: -E.ENOTDIR,
  EISDIR: -E.EISDIR,
  EINVAL: -E.EINVAL,
  ENODATA: -E.ENODATA,
  ERANGE: -E.ERANGE,
  ENOSYS: -E.ENOSYS,
  ENOTSUP: -E.ENOTSUP,
  EOVERFLOW: -E.EOVERFLOW,
  ENAMETOOLONG: -E.ENAMETOOLONG,
} as const;

/** An error that already knows its errno; anything else thrown by the view becomes EIO. */
export class FsError extends Error {
  /** True when the log already has a line for this failure (a remembered verdict): not logged again. */
  readonly reported: boolean;
  constructor(
    readonly errno: number,
    message: string,
    options?: { cause?: unknown; reported?: boolean },
  ) {
    super(message, options);
    this.name = 'FsError';
    this.reported = options?.reported ?? false;
  }
}

export const enoent = (what: string) => new FsError(ERR.ENOENT, `${what}: no such file or directory`);
export const eio = (what: string, cause?: unknown, reported = false) =>
  new FsError(ERR.EIO, `${what}: ${cause instanceof Error ? cause.message : 'I/O error'}`, { cause, reported });

/** The negative errno for any error thrown while serving a request. */
export function errnoOf(err: unknown): number {
  if (err instanceof FsError) return err.errno;
  if (isTroveError(err, 'E_NOT_FOUND')) return ERR.ENOENT;
  return ERR.EIO;
}
