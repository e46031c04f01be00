import type { Hash } from 'node:crypto';
import { createRequire } from 'node:module';

/** An object id: 64 lowercase hex characters, the SHA-256 of the object's bytes. */
export type ObjectId = string;

const ID_RE = /^[0-9a-f]{64}$/;

/** True when `s` is a well-formed object id. */
export function isObjectId(s: string): boolean {
  return ID_RE.test(s);
}

let crypto: typeof import('node:crypto') | undefined;

/**
 * A SHA-256 hasher from node:crypto, which is loaded on the first hash:
 * loading it costs about 2 ms, a sixth of a short command that hashes
 * nothing (`trove switch` to a generation whose checkout exists).
 */
function sha256(): Hash {
  crypto ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return crypto.createHash('sha256');
}

/** SHA-256 of `bytes` as an object id. */
export function hashBytes(bytes: Uint8Array): ObjectId {
  return sha256().update(bytes).digest('hex');
}

/** An incremental hasher for streamed content. */
export function newHasher(): Hash {
  return sha256();
}

/** Id as 32 raw bytes, for the binary format. */
export function idToBytes(id: ObjectId): Uint8Array {
  return Buffer.from(id, 'hex');
}

/** 32 raw bytes as an id. */
export function bytesToId(bytes: Uint8Array): ObjectId {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
