import { createHash, type Hash } from 'node:crypto';

/** An object id: 64 lowercase hex characters, the SHA-256 of the object's bytes. */
export type ObjectId = string;

const ID_RE = /^[0-9a-f]{64}$/;

/** True when `s` is a well-formed object id. */
export function isObjectId(s: string): boolean {
  return ID_RE.test(s);
}

/** SHA-256 of `bytes` as an object id. */
export function hashBytes(bytes: Uint8Array): ObjectId {
  return createHash('sha256').update(bytes).digest('hex');
}

/** An incremental hasher for streamed content. */
export function newHasher(): Hash {
  return createHash('sha256');
}

/** Id as 32 raw bytes, for the binary format. */
export function idToBytes(id: ObjectId): Uint8Array {
  return Buffer.from(id, 'hex');
}

/** 32 raw bytes as an id. */
export function bytesToId(bytes: Uint8Array): ObjectId {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
