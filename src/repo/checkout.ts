import {
  chmodSync,
  constants,
  copyFileSync,
  existsSync,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { corrupt, exists, ioError, isErrno, usage } from '../util/errors.js';
import { decodeTree } from '../format/codec.js';
import type { DirMeta, TreeEntry } from '../format/types.js';
import { hashBytes, type ObjectId } from '../util/hash.js';
import { replaceAtomicSync } from '../util/fs-atomic.js';
import type { Repo } from './repo.js';
import type { GetSyncStore, ObjectFiles } from '../store/types.js';
import { hashFileSync } from '../util/hash-file.js';
import { writeXattrs } from './import/xattrs.js';
import { readCommit } from './objects.js';
import { resolveRev, type ResolveOptions } from './resolve.js';

export interface CheckoutOptions {
  /**
   * Hard-link files to the store's objects instead of copying them (default
   * false). The files of a hard-link checkout ARE the store's objects: a
   * write through one changes every commit that has it, so activation puts
   * them behind a read-only mount (system/activation/checkouts.ts) and
   * `trove checkout` makes them only when asked (`--hardlink`).
   */
  hardlink?: boolean;
}

export interface CheckoutResult {
  files: number;
  dirs: number;
  symlinks: number;
  linked: number;
  copied: number;
  mode: 'hardlink' | 'copy';
}

const isRoot = process.getuid?.() === 0;
const linksSymlinks = process.platform === 'linux';

/**
 * Materialises a commit at `dest` (which must not exist, or be an empty
 * directory). Entries are created only below directories this function made,
 * by validated names, so no symlink in the tree is ever followed.
 *
 * By default every file is a verified copy (a reflink where the filesystem
 * has them). Hard-link mode links each file to an inode that already carries the right
 * mode and owner: the object itself when they match, else a per-(mode, uid,
 * gid) variant under `<repo>/variants/` made once and shared by every later
 * checkout. Symlinks are hard links to a per-(target, owner) symlink under
 * `variants/` too. Files with xattrs are always copied. Falls back to copying when
 * the repository and `dest` are on different filesystems.
 *
 * Blocking syscalls on purpose: see importDir.
 */
export async function checkout(repo: Repo, commitId: ObjectId, dest: string, opts: CheckoutOptions = {}): Promise<CheckoutResult> {
  const target = resolve(dest);
  const commit = await readCommit(repo.store, commitId);
  const created = prepareDest(target);
  const store: ObjectFiles & GetSyncStore = repo.store;
  // Hard links need the objects on the destination's filesystem; the commit's own file tells.
  const sameFs = statSync(store.pathOf(commitId)).dev === statSync(target).dev;
  const useLinks = opts.hardlink === true && sameFs;
  const result: CheckoutResult = { files: 0, dirs: 0, symlinks: 0, linked: 0, copied: 0, mode: useLinks ? 'hardlink' : 'copy' };
  const variants = new Map<string, string>();

  /**
   * `<repo>/variants/<key>/<ab>/<rest>`. One already there is used when `fits`
   * its stat (a variant made by a checkout without root carries that user as
   * owner, which a root checkout must not take); otherwise `make` builds one
   * under a temp name, renamed over it.
   */
  const variantPath = (key: string, name: string, fits: (st: Stats) => boolean, make: (tmp: string) => void): string => {
    const path = join(repo.path, 'variants', key, name.slice(0, 2), name.slice(2));
    try {
      if (fits(lstatSync(path))) return path;
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      mkdirSync(dirname(path), { recursive: true });
    }
    replaceAtomicSync(path, { tmpDir: repo.tmpDir, tag: 'variant', mkdir: false }, make);
    return path;
  };
  const ownedAs = (st: Stats, e: TreeEntry) => !isRoot || (st.uid === e.uid && st.gid === e.gid);

  const variantFor = (e: TreeEntry): string => {
    const obj = store.pathOf(e.id!);
    let ost: Stats;
    try {
      ost = statSync(obj);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw corrupt(`object ${e.id} is missing from the store`, { id: e.id });
      throw err;
    }
    const fits = (st: Stats) => st.isFile() && (st.mode & 0o7777) === e.mode && ownedAs(st, e);
    // The common case, the object itself, needs no key and no memo.
    if (fits(ost)) return obj;
    const key = `${e.mode.toString(8)}-${e.uid}-${e.gid}`;
    const memo = `${key}/${e.id}`;
    const known = variants.get(memo);
    if (known) return known;
    const path = variantPath(key, e.id!, fits, (tmp) => {
      copyVerified(obj, tmp, e.id!);
      applyMeta(tmp, e);
    });
    variants.set(memo, path);
    return path;
  };

  /**
   * A symlink with the entry's target and owner under `<repo>/variants/`,
   * made once and hard-linked by every checkout (as OSTree's bare objects
   * are): a new link costs far less than a new inode.
   */
  const symlinkVariant = (e: TreeEntry): string => {
    const fits = (st: Stats) => st.isSymbolicLink() && ownedAs(st, e);
    return variantPath(`symlink-${e.uid}-${e.gid}`, hashBytes(Buffer.from(e.target!, 'utf8')), fits, (tmp) => {
      symlinkSync(e.target!, tmp);
      if (isRoot) lchownSync(tmp, e.uid, e.gid);
    });
  };

  const symlinkEntry = (e: TreeEntry, path: string) => {
    // Only where link(2) is known to link a symlink itself, never what it points at: Linux.
    if (useLinks && linksSymlinks && e.xattrs.length === 0) {
      try {
        linkSync(symlinkVariant(e), path);
        return;
      } catch (err) {
        // EPERM: fs.protected_hardlinks keeps a user from linking a symlink owned by someone else.
        if (!isErrno(err, 'EMLINK') && !isErrno(err, 'EPERM')) throw err;
      }
    }
    symlinkSync(e.target!, path);
    if (isRoot) lchownSync(path, e.uid, e.gid);
  };

  const copyOut = (e: TreeEntry, path: string) => {
    copyVerified(store.pathOf(e.id!), path, e.id!);
    applyMeta(path, e);
    result.copied++;
  };

  const fileEntry = (e: TreeEntry, path: string) => {
    if (useLinks && e.xattrs.length === 0) {
      try {
        linkSync(variantFor(e), path);
        result.linked++;
        return;
      } catch (err) {
        if (!isErrno(err, 'EMLINK')) throw err;
      }
    }
    copyOut(e, path);
  };

  const populate = (treeId: ObjectId, dir: string): void => {
    for (const e of decodeTree(store.getSync(treeId), { canonical: false }).entries) {
      const path = join(dir, e.name);
      if (e.kind === 'dir') {
        mkdirSync(path, { mode: 0o700 });
        populate(e.id!, path);
        applyMeta(path, e);
        result.dirs++;
      } else if (e.kind === 'symlink') {
        symlinkEntry(e, path);
        result.symlinks++;
      } else {
        fileEntry(e, path);
        result.files++;
      }
    }
  };

  try {
    populate(commit.tree, target);
    applyMeta(target, commit.root);
  } catch (err) {
    if (created) rmSync(target, { recursive: true, force: true });
    else for (const name of readdirSync(target)) rmSync(join(target, name), { recursive: true, force: true });
    throw err;
  }
  return result;
}

/**
 * Resolves `rev` and checks its commit out at `dest`, both under the shared
 * repository lock: gc (exclusive) must not sweep a variant or an object
 * between our finding and linking it.
 */
export async function checkoutRev(
  repo: Repo,
  rev: string,
  dest: string,
  opts: CheckoutOptions = {},
  resolveOpts: ResolveOptions = {},
): Promise<CheckoutResult & { commit: ObjectId }> {
  const release = await repo.lock('shared');
  try {
    const commit = await resolveRev(repo, rev, resolveOpts);
    return { commit, ...(await checkout(repo, commit, dest, opts)) };
  } finally {
    await release();
  }
}

/** Owner, then mode (chown clears set-id bits), then xattrs. Ownership only as root. */
function applyMeta(path: string, m: DirMeta | TreeEntry): void {
  if (isRoot) lchownSync(path, m.uid, m.gid);
  chmodSync(path, m.mode);
  if (m.xattrs.length > 0) writeXattrs(path, m.xattrs);
}

/**
 * Copies an object file to a new file `dest` and hashes the copy: a copy
 * never carries bytes that rotted on disk. `dest` is gone again on failure.
 */
function copyVerified(obj: string, dest: string, id: ObjectId): void {
  try {
    // A reflink where the filesystem has them (btrfs, XFS), else an in-kernel copy.
    copyFileSync(obj, dest, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
  } catch (err) {
    if (isErrno(err, 'ENOENT') && !existsSync(obj)) throw corrupt(`object ${id} is missing from the store`, { id });
    throw err;
  }
  const got = hashFileSync(dest).id;
  if (got !== id) {
    unlinkSync(dest);
    throw corrupt(`object ${id} is corrupt: its bytes hash to ${got} (run trove fsck)`, { id, actual: got });
  }
}

/** Makes sure `target` is an empty directory; true when this call created it. */
function prepareDest(target: string): boolean {
  let st: Stats | undefined;
  try {
    st = lstatSync(target);
  } catch (err) {
    if (isErrno(err, 'ENOTDIR')) throw usage(`checkout destination ${target}: a parent is not a directory`);
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  if (st) {
    if (!st.isDirectory() || readdirSync(target).length > 0) {
      throw exists(`checkout destination ${target} exists and is not an empty directory`, { path: target });
    }
    return false;
  }
  // Missing parents one by one, not with { recursive: true }: that loops forever where
  // mkdir answers ENOENT for an existing parent (as in /proc).
  const missing = [target];
  for (let p = dirname(target); ; p = dirname(p)) {
    try {
      // Parents may be symlinks to directories (/var/run): followed, unlike the destination itself.
      if (!statSync(p).isDirectory()) throw usage(`checkout destination ${target}: ${p} is not a directory`);
      break;
    } catch (err) {
      if (isErrno(err, 'ENOTDIR')) throw usage(`checkout destination ${target}: a parent is not a directory`);
      if (!isErrno(err, 'ENOENT')) throw err;
      missing.unshift(p);
    }
  }
  for (const p of missing) {
    try {
      // Parents as mkdir -p makes them; the destination itself private until its metadata is applied.
      mkdirSync(p, { mode: p === target ? 0o700 : 0o777 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw ioError(`cannot create checkout destination ${p}: ${code}`, { path: p }, { cause: err });
    }
  }
  return true;
}
