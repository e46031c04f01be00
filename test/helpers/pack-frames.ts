// Pack frames as src/remote/pack.ts writes them, for tests that craft packs (docs/remote.md, "Deltas").
import { KIND_BYTE, type PackKind } from '../../src/remote/pack.js';
import { hashBytes, idToBytes } from '../../src/util/hash.js';

/** A frame of a whole object: kind, id (by default its bytes' hash), length, bytes. */
export function objectFrame(kind: PackKind, bytes: Buffer, id = hashBytes(bytes)): Buffer {
  const h = Buffer.alloc(41);
  h[0] = KIND_BYTE[kind];
  Buffer.from(idToBytes(id)).copy(h, 1);
  h.writeBigUInt64BE(BigInt(bytes.length), 33);
  return Buffer.concat([h, bytes]);
}

/** A TRVPACK2 patch frame: object `id` of `kind` as `delta` against `base`. */
export function patchFrame(kind: PackKind, id: string, base: string, delta: Buffer): Buffer {
  const h = Buffer.alloc(74);
  h[0] = 4;
  Buffer.from(idToBytes(id)).copy(h, 1);
  h[33] = KIND_BYTE[kind];
  Buffer.from(idToBytes(base)).copy(h, 34);
  h.writeBigUInt64BE(BigInt(delta.length), 66);
  return Buffer.concat([h, delta]);
}
