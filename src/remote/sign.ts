import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { badObject, TroveError, usage } from '../util/errors.js';

/**
 * Detached ed25519 signatures. A signature file holds one line per key:
 * `trove-sig-1 ed25519 <key id> <base64 signature>`, where the key id is the
 * first 16 hex digits of the SHA-256 of the raw 32-byte public key. The
 * signed bytes are the object's (or summary's) exact bytes.
 */
const TAG = 'trove-sig-1';

export interface SignatureLine {
  keyId: string;
  signature: Buffer;
}

export interface KeyPair {
  privatePem: string;
  publicPem: string;
  keyId: string;
}

/** A new ed25519 key pair as PEM (PKCS#8 private, SPKI public). */
export function generateKeys(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

/** A short, stable name of a public key. */
export function keyIdOf(publicKey: KeyObject): string {
  const raw = publicKey.export({ format: 'jwk' }).x;
  if (!raw) throw usage('not an ed25519 public key');
  return createHash('sha256').update(Buffer.from(raw, 'base64url')).digest('hex').slice(0, 16);
}

export function parsePublicKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw usage(`not a public key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw usage(`expected an ed25519 public key, got ${key.asymmetricKeyType}`);
  return key;
}

export function parsePrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw usage(`not a private key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw usage(`expected an ed25519 private key, got ${key.asymmetricKeyType}`);
  return key;
}

/** One signature line by `privateKey` over `bytes`. */
export function signBytes(privateKey: KeyObject, bytes: Uint8Array): SignatureLine {
  return { keyId: keyIdOf(createPublicKey(privateKey)), signature: sign(null, bytes, privateKey) };
}

export function formatSignatures(lines: SignatureLine[]): string {
  return lines.map((l) => `${TAG} ed25519 ${l.keyId} ${l.signature.toString('base64')}\n`).join('');
}

/** Parses a signature file; unknown or malformed lines are ignored (they can only fail to verify). */
export function parseSignatures(text: string): SignatureLine[] {
  const out: SignatureLine[] = [];
  for (const line of text.split('\n')) {
    const m = /^trove-sig-1 ed25519 ([0-9a-f]{16}) ([A-Za-z0-9+/=]+)$/.exec(line.trim());
    if (m) out.push({ keyId: m[1]!, signature: Buffer.from(m[2]!, 'base64') });
  }
  return out;
}

/** Adds (or replaces) the line of `line.keyId` in an existing signature file's text. */
export function mergeSignature(existing: string | undefined, line: SignatureLine): string {
  const others = parseSignatures(existing ?? '').filter((l) => l.keyId !== line.keyId);
  return formatSignatures([...others, line]);
}

/**
 * Checks that `sigText` holds a valid signature of `bytes` by `publicKey`.
 * Throws E_BAD_OBJECT when the data is unsigned, signed by another key only,
 * or the signature does not verify.
 */
export function verifySignature(sigText: string | undefined, publicKey: KeyObject, bytes: Uint8Array, what: string): void {
  const keyId = keyIdOf(publicKey);
  if (sigText === undefined) throw refused(`${what} is not signed (key ${keyId} required)`);
  const mine = parseSignatures(sigText).filter((l) => l.keyId === keyId);
  if (mine.length === 0) throw refused(`${what} has no signature by key ${keyId}`);
  if (!mine.some((l) => l.signature.length === 64 && verify(null, bytes, publicKey, l.signature))) {
    throw refused(`${what} has a bad signature for key ${keyId}`);
  }
}

function refused(msg: string): TroveError {
  return badObject(`refused: ${msg}`);
}
