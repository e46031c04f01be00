import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { exists, isErrno } from '../util/errors.js';
import type { ObjectId } from '../util/hash.js';
import { decodeCommit } from '../format/codec.js';
import type { Repo } from '../repo/repo.js';
import { resolveRev } from '../repo/resolve.js';
import { commitSigPath } from './layout.js';
import { generateKeys, mergeSignature, parsePrivateKey, signBytes } from './sign.js';
import { writeFileAtomic } from '../util/fs-atomic.js';

/**
 * Signing commits (`trove sign`) and the key files it uses (`trove keygen`).
 * The signature format is in sign.ts.
 */

/** The ed25519 private key in the PEM file `file`; E_USAGE when it holds none. */
export async function readPrivateKey(file: string): Promise<KeyObject> {
  return parsePrivateKey(await readFile(file, 'utf8'));
}

export interface SignCommitOptions {
  /** The commit to sign: a ref, commit id or prefix. */
  rev: string;
  /** The private key (from {@link readPrivateKey}). */
  key: KeyObject;
}

export interface SignCommitResult {
  commit: ObjectId;
  keyId: string;
  /** The signature file, relative to the repository (served with it). */
  path: string;
}

/**
 * Signs the commit `opts.rev` names: its line in `signatures/<commit>.sig` is
 * added, or replaced when the key had signed it before; other keys' lines stay.
 * The object must decode as a commit (E_BAD_OBJECT otherwise).
 */
export async function signCommit(repo: Repo, opts: SignCommitOptions): Promise<SignCommitResult> {
  const id = await resolveRev(repo, opts.rev);
  const bytes = await repo.store.get(id);
  decodeCommit(bytes);
  const line = signBytes(opts.key, bytes);
  const path = join(repo.path, commitSigPath(id));
  const existing = await readFile(path, 'utf8').catch((err: unknown) => {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  });
  await writeFileAtomic(path, mergeSignature(existing, line), { tmpDir: repo.tmpDir, tag: 'file' });
  return { commit: id, keyId: line.keyId, path: commitSigPath(id) };
}

export interface KeyFiles {
  /** The private key file (mode 0600). */
  private: string;
  /** The public key file, `<private>.pub` (mode 0644). */
  public: string;
  keyId: string;
  publicPem: string;
}

/**
 * Makes a new ed25519 key pair and writes it to `out` and `out.pub`;
 * E_EXISTS when either is there, unless `force`.
 */
export async function writeKeyPair(out: string, opts: { force?: boolean } = {}): Promise<KeyFiles> {
  const keys = generateKeys();
  const flag = opts.force ? 'w' : 'wx';
  try {
    await writeFile(out, keys.privatePem, { mode: 0o600, flag });
    await writeFile(`${out}.pub`, keys.publicPem, { mode: 0o644, flag });
  } catch (err) {
    if (isErrno(err, 'EEXIST')) throw exists(`${out} or ${out}.pub already exists (use --force to replace)`, { path: out });
    throw err;
  }
  return { private: out, public: `${out}.pub`, keyId: keys.keyId, publicPem: keys.publicPem };
}
