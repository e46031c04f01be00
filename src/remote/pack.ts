import { createDelta } from 'fossil-delta';
import { corrupt, isTroveError } from '../util/errors.js';
import { bytesToId, idToBytes, newHasher, type ObjectId } from '../util/hash.js';
import type { DiskStore } from '../store/disk.js';

/**
 * A pack: objects in install order (everything an object references comes
 * before it), framed for streaming and compressed as one stream:
 *
 *     "TRVPACK1" | u32 count | count × frame | u8 0
 *     frame: u8 kind | 32-byte id | u64 length | bytes
 *
 * Integers are big-endian. The kind is a hint the reader checks against how
 * later objects reference the object; it is never trusted on its own.
 *
 * "TRVPACK2" packs may also hold patch frames: an object given as the
 * changes from another object the reader already has (a file's or
 * directory's previous version in the pack's `from` commit), as a Fossil
 * delta (copy and insert instructions, fossil-delta):
 *
 *     patch frame: u8 4 | 32-byte id | u8 kind | 32-byte base id | u64 length | delta
 *
 * The reader applies it to its own stored copy of the base and checks the
 * result against the id like any other object. A reader that does not know
 * TRVPACK2 refuses the pack by its magic, and a pull then fetches object by
 * object.
 */
export const PACK_MAGIC = Buffer.from('TRVPACK1');
export const PACK_MAGIC_PATCHES = Buffer.from('TRVPACK2');
const PATCH_BYTE = 4;

/** Objects larger than this are sent whole, never as patches (the patch and both objects are held in memory). */
export const PATCH_MAX = 16 << 20;

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
  /** An object the reader has (in the pack's `from`) to send this one as a patch against, when that is smaller. */
  base?: ObjectId;
}

/**
 * `e` as a patch frame against its base, when the patch saves at least a
 * quarter of the object; else, when it was read for the attempt, its bytes
 * (verified), so that it is not read again; undefined when no patch was
 * tried (no base, or either object too large).
 */
function tryPatch(store: Pick<DiskStore, 'sizeOfSync' | 'getSync'>, e: PackEntry, size: number): { frames: Buffer[] } | { bytes: Buffer } | undefined {
  if (e.base === undefined || e.kind === 'commit' || size > PATCH_MAX || size < 64) return undefined;
  if (store.sizeOfSync(e.base) > PATCH_MAX) return undefined;
  // Both read verified: a patch must never be made from, or into, a corrupt object.
  const bytes = readVerified(store, e.id);
  const delta = createDelta(readVerified(store, e.base), bytes);
  if (delta.length > size * 0.75) return { bytes };
  const frame = Buffer.alloc(74);
  frame[0] = PATCH_BYTE;
  Buffer.from(idToBytes(e.id)).copy(frame, 1);
  frame[33] = KIND_BYTE[e.kind];
  Buffer.from(idToBytes(e.base)).copy(frame, 34);
  frame.writeBigUInt64BE(BigInt(delta.length), 66);
  return { frames: [frame, Buffer.from(delta.buffer, delta.byteOffset, delta.byteLength)] };
}

/** The error that refuses a pack when stored object `id` (one packed, or a patch's base) is corrupt. */
const refused = (id: ObjectId) => corrupt(`object ${id} is corrupt in the local store; the pack is not written`);

/** Object `id`'s bytes, verified; a corrupt one refuses the pack. */
function readVerified(store: Pick<DiskStore, 'getSync'>, id: ObjectId): Buffer {
  try {
    return store.getSync(id);
  } catch (err) {
    if (isTroveError(err, 'E_CORRUPT')) throw refused(id);
    throw err;
  }
}

/** Objects up to this size are read whole, blocking; larger ones are streamed. */
const READ_WHOLE = 1 << 20;

/** A pack's first 12 bytes: its magic (TRVPACK2 when it may hold patches) and its object count. */
export function packHeader(count: number, patches: boolean): Buffer {
  const head = Buffer.alloc(12);
  (patches ? PACK_MAGIC_PATCHES : PACK_MAGIC).copy(head, 0);
  head.writeUInt32BE(count, 8);
  return head;
}

/** The header of a frame holding object `id` whole, `size` bytes of it following. */
export function frameHeader(kind: PackKind, id: ObjectId, size: number): Buffer {
  const frame = Buffer.alloc(41);
  frame[0] = KIND_BYTE[kind];
  Buffer.from(idToBytes(id)).copy(frame, 1);
  frame.writeBigUInt64BE(BigInt(size), 33);
  return frame;
}

/** The byte that ends a pack. */
export const PACK_END = Buffer.from([0]);

/**
 * The uncompressed bytes of a pack of `entries`, read from `store` and
 * re-hashed on the way; `onObject` gets each object's size once it is
 * verified. Entries with a base make a TRVPACK2 pack, and go as patches
 * where that is smaller.
 */
export async function* packStream(
  store: Pick<DiskStore, 'sizeOfSync' | 'openRead' | 'getSync'>,
  entries: PackEntry[],
  onObject?: (size: number) => void,
): AsyncIterable<Buffer> {
  yield packHeader(entries.length, entries.some((e) => e.base !== undefined));
  for (const e of entries) {
    // Blocking stat and reads of the small objects (almost all): a promise per object costs more than the read.
    const size = store.sizeOfSync(e.id);
    const tried = tryPatch(store, e, size);
    if (tried && 'frames' in tried) {
      yield* tried.frames;
      onObject?.(size);
      continue;
    }
    yield frameHeader(e.kind, e.id, size);
    if (tried) {
      yield tried.bytes;
      onObject?.(size);
      continue;
    }
    if (size <= READ_WHOLE) {
      yield readVerified(store, e.id);
      onObject?.(size);
      continue;
    }
    const h = newHasher();
    let n = 0;
    for await (const chunk of store.openRead(e.id)) {
      h.update(chunk as Buffer);
      n += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
    if (n !== size || h.digest('hex') !== e.id) throw refused(e.id);
    onObject?.(size);
  }
  yield PACK_END;
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
  /** The length of what follows: the object, or for a patch frame the delta. */
  length: number;
  /** A patch frame: the object the delta applies to. */
  base?: ObjectId;
}

/** A pack's object count and whether patch frames may follow, from its first 12 bytes. */
function parsePackHeader(head: Buffer): { count: number; patches: boolean } {
  const magic = head.subarray(0, 8);
  const patches = magic.equals(PACK_MAGIC_PATCHES);
  if (!patches && !magic.equals(PACK_MAGIC)) throw corrupt('not a trove pack (bad magic)');
  return { count: head.readUInt32BE(8), patches };
}

/** Reads the pack header; returns the object count and whether patch frames may follow. */
export async function readPackHeader(r: ByteReader): Promise<{ count: number; patches: boolean }> {
  return parsePackHeader(await r.read(12));
}

function frameLength(bytes: Buffer, at: number): number {
  const length = bytes.readBigUInt64BE(at);
  if (length > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt('pack frame length out of range');
  return Number(length);
}

/** How many bytes of a frame's header follow its first byte `k`: 0 for the end marker. */
function frameRestLength(k: number, patches: boolean): number {
  if (k === 0) return 0;
  if (k === PATCH_BYTE && patches) return 73;
  if (!BYTE_KIND.has(k)) throw corrupt(`pack has an unknown object kind ${k}`);
  return 40;
}

/** The header of a frame from its first byte `k` and the `frameRestLength` bytes after it. */
function parseFrameRest(k: number, rest: Buffer): FrameHeader {
  if (k === PATCH_BYTE) {
    const kind = BYTE_KIND.get(rest[32]!);
    if (kind !== 'blob' && kind !== 'tree') throw corrupt(`pack has a patch frame of kind ${rest[32]}`);
    return { kind, id: bytesToId(rest.subarray(0, 32)), base: bytesToId(rest.subarray(33, 65)), length: frameLength(rest, 65) };
  }
  return { kind: BYTE_KIND.get(k)!, id: bytesToId(rest.subarray(0, 32)), length: frameLength(rest, 32) };
}

/** Reads the next frame header, or undefined at the end marker; patch frames only in a TRVPACK2 pack. */
export async function readFrameHeader(r: ByteReader, patches = false): Promise<FrameHeader | undefined> {
  const k = (await r.read(1))[0]!;
  const n = frameRestLength(k, patches);
  return n === 0 ? undefined : parseFrameRest(k, await r.read(n));
}

/**
 * A pack held whole in memory (a trees pack), read as ByteReader reads a
 * stream, with the same checks, but without a promise for each read: a
 * trees pack holds thousands of small frames.
 */
export class PackBuffer {
  private at = 0;

  constructor(private readonly bytes: Buffer) {}

  /** Exactly `n` bytes (a view, not a copy); E_CORRUPT when the pack ends first. */
  read(n: number): Buffer {
    if (n > this.bytes.length - this.at) throw corrupt('pack is truncated');
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** As readPackHeader. */
  header(): { count: number; patches: boolean } {
    return parsePackHeader(this.read(12));
  }

  /** As readFrameHeader. */
  frame(patches = false): FrameHeader | undefined {
    const k = this.read(1)[0]!;
    const n = frameRestLength(k, patches);
    return n === 0 ? undefined : parseFrameRest(k, this.read(n));
  }

  /** True when no byte is left. */
  get atEnd(): boolean {
    return this.at === this.bytes.length;
  }
}
