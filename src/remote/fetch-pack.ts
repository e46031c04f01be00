import { closeSync, createReadStream, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { badObject, corrupt, isTroveError, TroveError } from '../util/errors.js';
import { decompressor, sniffCompression } from '../util/compression.js';
import { newHasher, type ObjectId } from '../util/hash.js';
import type { ObjectFiles } from '../store/types.js';
import { applyPack, type ApplyPackResult } from './apply-pack.js';
import type { DiskSpace } from './disk-space.js';
import type { InstallTarget } from './install.js';
import { deltaName, deltaPath } from './layout.js';
import type { PackKind } from './pack.js';
import type { DeltaInfo } from './summary.js';
import type { Transport } from './transport.js';

/** Options of fetching one delta pack; defaults as documented on each field. */
export interface FetchPackInit {
  store: InstallTarget & ObjectFiles;
  transport: Transport;
  delta: DeltaInfo;
  /**
   * The remote has a key, so `delta` comes from a verified summary: a pack
   * the summary lists without a SHA-256 is not used (default false).
   */
  signed?: boolean;
  /** Free space of the repository (default: not checked). */
  space?: DiskSpace;
  /** Also keep the pack file, exactly as received, at this path once all of it verified (default: not kept). */
  saveAs?: string;
  /** Called after each object is stored. */
  onObject?: (kind: PackKind, size: number) => void;
  /**
   * The ids quarantine/ records (`quarantinedIds`): given, the pack's trees
   * are read beside its `from` commit's (ApplyPackInit's `base`; default: not
   * given, every stored object the pack names is checked).
   */
  quarantined?: ReadonlySet<ObjectId>;
}

/** Whether a pull may use `delta`: from a remote with a key, only a pack its signed summary gives a SHA-256 for. */
export function usablePack(delta: DeltaInfo, signed: boolean): boolean {
  return !signed || delta.sha256 !== undefined;
}

/**
 * Fetches a delta pack into a temp file, then applies it (see applyPack).
 * The download stops at once past the size the summary gives, and the
 * file must have that size and the summary's SHA-256 (when it gives one;
 * a signed remote's summary must) before anything in it is read: a pack
 * swapped on the server is refused whole. Only transfer failures are
 * retried (once: object pulls are the fallback); a pack of the wrong size
 * or hash, or that does not decompress or is badly framed, fails at once,
 * since fetching the same file again cannot help. With `saveAs`, the pack
 * file is kept only when all of it verified.
 */
export async function fetchPack(init: FetchPackInit): Promise<ApplyPackResult> {
  const { store, transport, delta, space } = init;
  const name = deltaName(delta.from, delta.to);
  if (!usablePack(delta, init.signed === true)) throw badObject(`delta ${name} has no SHA-256 in the signed summary, so it is not used`);
  const tmp = store.tempPath('delta');
  try {
    space?.reserve(delta.size, `delta ${name}`);
    let size = 0;
    let written = 0;
    let sha256 = '';
    try {
      await transport.getStream(
        deltaPath(delta.from, delta.to),
        async (body) => {
          // Each attempt starts the file again.
          const fd = openSync(tmp, 'w', 0o644);
          const h = newHasher();
          size = 0;
          try {
            for await (const c of body) {
              size += c.length;
              h.update(c);
              for (let off = 0; off < c.length; ) off += writeSync(fd, c, off);
              written += c.length;
              space?.wrote(c.length, `delta ${name}`, true);
            }
          } finally {
            closeSync(fd);
          }
          sha256 = h.digest('hex');
        },
        { retries: 1, maxBytes: delta.size, expectBytes: delta.size },
      );
    } finally {
      space?.release(Math.max(0, delta.size - written));
    }
    if (size !== delta.size) throw corrupt(`delta ${name} is ${size} bytes, the summary says ${delta.size}; it is refused`);
    if (delta.sha256 !== undefined && sha256 !== delta.sha256) {
      throw corrupt(`delta ${name} has SHA-256 ${sha256}, the summary says ${delta.sha256}; it is refused`);
    }
    let applied: ApplyPackResult;
    try {
      applied = await applyPack(
        { store, target: delta.to, base: delta.from && init.quarantined ? { commit: delta.from, quarantined: init.quarantined } : undefined, space, onObject: (kind, bytes) => init.onObject?.(kind, bytes) },
        decompressed(createReadStream(tmp) as AsyncIterable<Buffer>),
      );
    } catch (err) {
      // Only a pack that read wrong may be damaged underneath; an error of this machine's (no space, say) is what it is.
      const damaged = isTroveError(err, 'E_CORRUPT') || isTroveError(err, 'E_BAD_OBJECT');
      throw final((damaged ? await decompressionError(tmp) : undefined) ?? err, name);
    }
    if (init.saveAs) {
      mkdirSync(dirname(init.saveAs), { recursive: true });
      renameSync(tmp, init.saveAs);
    }
    return applied;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** `err` as an error that is not retried: the pack itself is bad. */
function final(err: unknown, name: string): TroveError {
  if (isTroveError(err)) return new TroveError(err.code, `delta ${name}: ${err.message}`, { cause: err, data: err.data });
  const e = err as NodeJS.ErrnoException;
  return corrupt(`delta ${name} does not decompress: ${e.code ?? e.name}: ${e.message}`, undefined, { cause: err });
}

/** Most decompressed bytes `decompressionError` reads before it gives up. */
const CHECK_LIMIT = 256 << 20;

/**
 * Why the pack file at `path` does not decompress, or undefined when it does
 * (or is still decompressing past CHECK_LIMIT bytes). Asked once applying a
 * pack failed: a decompressor may hand on bytes of a damaged stream before it
 * finds the damage (xz checks a block at its end), and then the damage, not
 * the garbage the pack reader met first, is the cause to report.
 */
async function decompressionError(path: string): Promise<unknown> {
  let seen = 0;
  try {
    for await (const c of decompressed(createReadStream(path) as AsyncIterable<Buffer>)) {
      seen += c.length;
      if (seen > CHECK_LIMIT) return undefined;
    }
    return undefined;
  } catch (err) {
    return isTroveError(err) ? undefined : err;
  }
}

/** A pack's bytes, decompressed from gzip or xz (told apart by their first bytes). */
async function* decompressed(body: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  const it = body[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  while (head.length < 6) {
    const r = await it.next();
    if (r.done) throw corrupt('pack is truncated');
    head = Buffer.concat([head, r.value]);
  }
  const kind = sniffCompression(head);
  if (kind !== 'gzip' && kind !== 'xz') throw corrupt('pack is neither gzip nor xz compressed');
  const rest = async function* () {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  };
  yield* pipeline(rest(), decompressor(kind)!, () => {}) as Readable;
}
