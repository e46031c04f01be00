import { statfsSync } from 'node:fs';
import { ioError, type TroveError } from '../util/errors.js';

const NO_SPACE = new WeakSet<object>();

/** An E_IO for a filesystem without room for a pull; `isNoSpace` recognises it. */
function noSpace(message: string, path: string): TroveError {
  const err = ioError(message, { path });
  NO_SPACE.add(err);
  return err;
}

/** Whether `err` (or an error it was caused by) is a DiskSpace refusal or ENOSPC/EDQUOT: final, trying another way cannot fit either. */
export function isNoSpace(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (NO_SPACE.has(e)) return true;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  }
  return false;
}

/** Free space kept on the repository's filesystem: 64 MiB, or a twentieth of a smaller filesystem. */
export const MAX_MARGIN = 64 << 20;
/** Free space is read again after this many bytes were written, or this long after the last reading. */
const RECHECK_BYTES = 1 << 20;
const RECHECK_MS = 100;

/**
 * Free disk space of a repository during a pull. Downloads of a known size
 * (a blob whose tree gives its size, a delta pack whose summary gives its
 * size, each object of a pack as its frame announces it) `reserve` it first:
 * refused when what is free, less what is reserved and not yet written,
 * would fall below the margin. Writes are reported with `wrote`, which reads
 * the free space again now and then and fails the same way when something
 * else filled the filesystem meanwhile. Either failure is a final E_IO
 * naming the bytes, so the pull stops before anything more is downloaded.
 */
export class DiskSpace {
  /** Bytes kept free (see MAX_MARGIN). */
  readonly margin: number;
  /** Reserved bytes not written yet. */
  private reserved = 0;
  private free: number;
  private readAt: number;
  private sinceRead = 0;

  constructor(readonly path: string) {
    const st = statfsSync(path);
    this.margin = Math.min(MAX_MARGIN, Math.floor((st.blocks * st.bsize) / 20));
    this.free = st.bavail * st.bsize;
    this.readAt = Date.now();
    this.assert(0, 'the pull');
  }

  private refresh(): void {
    const st = statfsSync(this.path);
    this.free = st.bavail * st.bsize;
    this.readAt = Date.now();
    this.sinceRead = 0;
  }

  private assert(more: number, what: string): void {
    if (this.free - this.reserved - more >= this.margin) return;
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    const needs = more > 0 ? `${what} needs ${mib(more)}${this.reserved > 0 ? ` (${mib(this.reserved)} more already planned)` : ''}` : `${what} cannot go on`;
    throw noSpace(`not enough free space in ${this.path}: ${needs}, ${mib(Math.max(0, this.free))} free, and ${mib(this.margin)} is kept free; nothing more is downloaded`, this.path);
  }

  /** Reserves `bytes` for `what` (a download); E_IO when they do not fit. */
  reserve(bytes: number, what: string): void {
    if (Date.now() - this.readAt > RECHECK_MS || bytes >= RECHECK_BYTES) this.refresh();
    this.assert(bytes, what);
    this.reserved += bytes;
  }

  /** Bytes reserved and not yet written or given back. */
  get planned(): number {
    return this.reserved;
  }

  /** Gives back a reservation (written, or not needed after all). */
  release(bytes: number): void {
    this.reserved = Math.max(0, this.reserved - bytes);
  }

  /**
   * Notes `bytes` written (out of a reservation when `reserved`, which they
   * then give back); reads the free space again now and then, and fails
   * when it fell below the margin.
   */
  wrote(bytes: number, what: string, reserved = false): void {
    if (reserved) this.release(bytes);
    this.sinceRead += bytes;
    if (this.sinceRead < RECHECK_BYTES && Date.now() - this.readAt < RECHECK_MS) return;
    this.refresh();
    this.assert(0, what);
  }
}
