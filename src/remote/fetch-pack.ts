import { closeSync, openSync, writeSync } from 'node:fs';
import { pipeline, type Readable } from 'node:stream';
import { badObject, corrupt, isTroveError, TroveError } from '../util/errors.js';
import { decompressor, sniffCompression } from '../util/compression.js';
import { replaceAtomic } from '../util/fs-atomic.js';
import type { ObjectFiles } from '../store/types.js';
import { applyPack, type ApplyPackResult } from './apply-pack.js';
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
  /** Also keep the pack's bytes, exactly as received, at `path`, written by way of a temp file in `tmpDir` (default: not kept). */
  saveAs?: { path: string; tmpDir: string };
  /** Called after each object is verified and stored. */
  onObject?: (kind: PackKind, size: number) => void;
}

/**
 * Fetches a delta pack in one streamed request and installs its objects as
 * they arrive (see applyPack); it must hold its `to` commit. Only transfer
 * failures are retried (once: object pulls are the fallback). A pack that
 * does not decompress or is badly framed fails at once, since fetching the
 * same file again cannot help. With `saveAs`, the pack file is kept only
 * when all of it verified and its size is the one the summary announced.
 */
export async function fetchPack(init: FetchPackInit): Promise<ApplyPackResult> {
  const { store, transport, delta } = init;
  const name = deltaName(delta.from, delta.to);
  const saveAs = init.saveAs;
  const r = await transport.getStream(
    deltaPath(delta.from, delta.to),
    (body) =>
      saveAs
        ? replaceAtomic(saveAs.path, { tmpDir: saveAs.tmpDir, tag: 'delta' }, (tmp) => receive(body, tmp))
        : receive(body, undefined),
    { retries: 1 },
  );
  return r!;

  /** Applies the pack as it arrives; with `tmp`, also writes its bytes there (the caller renames or removes it). */
  async function receive(body: AsyncIterable<Buffer>, tmp: string | undefined): Promise<ApplyPackResult> {
    const fd = tmp ? openSync(tmp, 'wx', 0o644) : undefined;
    let size = 0;
    let transferError: unknown;
    let sawTarget = false;
    const watched = async function* (): AsyncIterable<Buffer> {
      try {
        for await (const c of body) {
          size += c.length;
          if (fd !== undefined) for (let off = 0; off < c.length; ) off += writeSync(fd, c, off);
          yield c;
        }
      } catch (err) {
        transferError = err;
        throw err;
      }
    };
    try {
      const applied = await applyPack(
        {
          store,
          onObject: (kind, bytes, id) => {
            if (id === delta.to && kind === 'commit') sawTarget = true;
            init.onObject?.(kind, bytes);
          },
        },
        decompressed(watched()),
      );
      if (!sawTarget) throw badObject(`delta ${name} does not hold commit ${delta.to}`);
      if (tmp && size !== delta.size) throw corrupt(`delta ${name} is ${size} bytes, the summary says ${delta.size}`);
      if (fd !== undefined) closeSync(fd);
      return applied;
    } catch (err) {
      if (fd !== undefined) {
        try {
          closeSync(fd);
        } catch {
          // already closed
        }
      }
      // A broken connection or a stall may go better next time; bad bytes will not.
      if (transferError !== undefined) throw transferError;
      throw final(err, name);
    }
  }
}

/** `err` as an error that is not retried: the pack itself is bad. */
function final(err: unknown, name: string): TroveError {
  if (isTroveError(err)) return new TroveError(err.code, err.message, { cause: err, data: err.data });
  const e = err as NodeJS.ErrnoException;
  return corrupt(`delta ${name} does not decompress: ${e.code ?? e.name}: ${e.message}`, undefined, { cause: err });
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
