import { corrupt } from '../util/errors.js';
import { bytesToId, idToBytes, newHasher, type ObjectId } from '../util/hash.js';
import type { DiskStore } from '../store/disk.js';

/**
 * A pack: objects in install order (everything an object references comes
 * before it), framed for streaming and gzip-compressed as one stream:
 *
 *     "TRVPACK1" | u32 count | count × ( u8 kind | 32-byte id | u64 length | bytes ) | u8 0
 *
 * Integers are big-endian. The kind is a hint the reader checks against how
 * later objects reference the object; it is never trusted on its own.
 */
export const PACK_MAGIC = Buffer.from('TRVPACK1');

export type PackKind = 'blob' | 'tree' | 'commit';
export const KIND_BYTE: Record<PackKind, number> = { blob: 1, tree: 2, commit: 3 };
const BYTE_KIND = new Map<number, PackKind>([
  [1, 'blob'],
  [2, 'tree'],
  [3, 'commit'],
]);

export interface PackEntry {
  id: ObjectId;
  kind: PackKind;
}

/** The uncompressed bytes of a pack of `entries`, read from `store` and re-hashed on the way; `onObject` gets each object's size once it is verified. */
export async function* packStream(store: Pick<DiskStore, 'sizeOf' | 'openRead'>, entries: PackEntry[], onObject?: (size: number) => void): AsyncIterable<Buffer> {
  const head = Buffer.alloc(12);
  PACK_MAGIC.copy(head, 0);
  head.writeUInt32BE(entries.length, 8);
  yield head;
  for (const e of entries) {
    const size = await store.sizeOf(e.id);
    const frame = Buffer.alloc(41);
    frame[0] = KIND_BYTE[e.kind];
    Buffer.from(idToBytes(e.id)).copy(frame, 1);
    frame.writeBigUInt64BE(BigInt(size), 33);
    yield frame;
    const h = newHasher();
    let n = 0;
    for await (const chunk of store.openRead(e.id)) {
      h.update(chunk as Buffer);
      n += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
    if (n !== size || h.digest('hex') !== e.id) throw corrupt(`object ${e.id} is corrupt in the local store; the pack is not written`);
    onObject?.(size);
  }
  yield Buffer.from([0]);
}

/** Reads exact byte counts from a stream of chunks. */
export class ByteReader {
  private readonly it: AsyncIterator<Buffer>;
  private buf: Buffer = Buffer.alloc(0);
  private eof = false;

  constructor(source: AsyncIterable<Buffer>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async more(): Promise<boolean> {
    if (this.eof) return false;
    const r = await this.it.next();
    if (r.done) {
      this.eof = true;
      return false;
    }
    this.buf = this.buf.length === 0 ? r.value : Buffer.concat([this.buf, r.value]);
    return true;
  }

  /** Exactly `n` bytes; E_CORRUPT when the stream ends first. */
  async read(n: number): Promise<Buffer> {
    if (this.buf.length >= n) return this.take(n);
    const parts: Buffer[] = [];
    let have = 0;
    while (have + this.buf.length < n) {
      if (this.buf.length) {
        parts.push(this.buf);
        have += this.buf.length;
        this.buf = Buffer.alloc(0);
      }
      if (!(await this.more())) throw corrupt('pack is truncated');
    }
    parts.push(this.take(n - have));
    return Buffer.concat(parts, n);
  }

  /** The next `n` bytes as chunks, without holding them all. */
  async *chunks(n: number): AsyncIterable<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.more())) throw corrupt('pack is truncated');
      const c = this.take(Math.min(left, this.buf.length));
      left -= c.length;
      yield c;
    }
  }

  /**
   * Stops reading the source: a generator (a decompressor's output, say)
   * runs its cleanup, so nothing behind it waits on a full pipe.
   */
  async close(): Promise<void> {
    if (!this.eof) {
      this.eof = true;
      await this.it.return?.();
    }
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return this.buf.length === 0 && !(await this.more());
  }

  private take(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
}

export interface FrameHeader {
  kind: PackKind;
  id: ObjectId;
  length: number;
}

/** Reads the pack header; returns the object count. */
export async function readPackHeader(r: ByteReader): Promise<number> {
  const head = await r.read(12);
  if (!head.subarray(0, 8).equals(PACK_MAGIC)) throw corrupt('not a trove pack (bad magic)');
  return head.readUInt32BE(8);
}

/** Reads the next frame header, or undefined at the end marker. */
export async function readFrameHeader(r: ByteReader): Promise<FrameHeader | undefined> {
  const k = (await r.read(1))[0]!;
  if (k === 0) return undefined;
  const kind = BYTE_KIND.get(k);
  if (!kind) throw corrupt(`pack has an unknown object kind ${k}`);
  const rest = await r.read(40);
  const length = rest.readBigUInt64BE(32);
  if (length > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt('pack frame length out of range');
  return { kind, id: bytesToId(rest.subarray(0, 32)), length: Number(length) };
}
