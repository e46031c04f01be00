import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { exists, ioError, isErrno, notFound } from '../util/errors.js';
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

/**
 * The text of a key file; E_NOT_FOUND when it does not exist, E_IO when this
 * user may not read it. `what` names it in the message ("private key").
 */
export async function readKeyFile(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw notFound(`${what} ${file} does not exist`, { path: file }, { cause: err });
    if (isErrno(err, 'EACCES') || isErrno(err, 'EPERM')) {
      throw ioError(`cannot read ${what} ${file}: permission denied (run as its owner or root, or chmod it)`, { path: file }, { cause: err });
    }
    throw err;
  }
}

/** The ed25519 private key in the PEM file `file`; E_USAGE when it holds none, E_NOT_FOUND when there is no such file. */
export async function readPrivateKey(file: string): Promise<KeyObject> {
  return parsePrivateKey(await readKeyFile(file, 'private key'));
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
    if (isErrno(err, 'ENOENT')) throw notFound(`cannot write key ${out}: directory ${dirname(out)} does not exist (create it first)`, { path: dirname(out) }, { cause: err });
    if (isErrno(err, 'EACCES') || isErrno(err, 'EPERM')) {
      throw ioError(`cannot write key ${out}: permission denied in ${dirname(out)} (choose a directory you can write, or run as root)`, { path: out }, { cause: err });
    }
    throw err;
  }
  return { private: out, public: `${out}.pub`, keyId: keys.keyId, publicPem: keys.publicPem };
}
