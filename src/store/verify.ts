import { corrupt } from '../util/errors.js';
import { hashBytes, type ObjectId } from '../util/hash.js';

/** Throws E_CORRUPT (refused) unless `bytes` hash to `id`: the check of `putVerified`, for untrusted input. */
export function refuseUnlessId(id: ObjectId, bytes: Uint8Array): void {
  const actual = hashBytes(bytes);
  if (actual !== id) throw corrupt(`object ${id} refused: its bytes hash to ${actual}`);
}

/** Throws E_CORRUPT unless stored `bytes` still hash to `id`: the check of a verified `get`. */
export function assertIntact(id: ObjectId, bytes: Uint8Array, what = 'object'): void {
  const actual = hashBytes(bytes);
  if (actual !== id) throw corrupt(`${what} ${id} is corrupt: its bytes hash to ${actual}`);
}
