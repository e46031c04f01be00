import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  readFileSync,
  realpathSync,
  rmdirSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import type { Stats } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { corrupt, exists, ioError, isErrno, isTroveError, unsupported, usage } from '../util/errors.js';
import { DIR_NOFOLLOW, fdPath, openExpected, stillSame } from '../util/fd-path.js';
import { treePathProblem } from '../util/limits.js';
import { decodeTree } from '../format/codec.js';
import type { DirMeta, TreeEntry } from '../format/types.js';
import { hashBytes, type ObjectId } from '../util/hash.js';
import { replaceAtomicSync } from '../util/fs-atomic.js';
import type { Repo } from './repo.js';
import { assertComplete } from './partial.js';
import type { GetSyncStore, ObjectFiles } from '../store/types.js';
import { hashFileSync } from '../util/hash-file.js';
import { type Linker, linksNatively, LinkWorkerFailed, startLinker, SYMLINK_JOB } from './link-worker.js';
import { limiter } from '../util/limiter.js';
import { childProcess } from '../util/child.js';
import { writeXattrs } from './import/xattrs.js';
import { readCommit } from './objects.js';
import { resolveRev, type ResolveOptions } from './resolve.js';
import { type OnProgress, progressOf } from '../util/progress.js';

export interface CheckoutOptions {
  /**
   * Hard-link files to the store's objects instead of copying them (default
   * false). The files of a hard-link checkout ARE the store's objects: a
   * write through one changes every commit that has it, so activation puts
   * them behind a read-only mount (system/activation/checkouts.ts) and
   * `trove checkout` makes them only when asked (`--hardlink`).
   */
  hardlink?: boolean;
  /** Called after each file with the files and bytes written so far (phase `writing`, unit `files`). */
  onProgress?: OnProgress;
  /**
   * With `hardlink`: start from `dir`, a hard-link checkout of commit
   * `commit` that trove made and nothing can have changed (an activation's
   * tree behind its read-only mount). `dest` must not exist; it becomes a
   * hard-link copy of `dir` (`cp -al`: directories made, every other entry
   * linked, in C), then only the entries whose tree entries differ are
   * replaced, skipping every subtree whose id did not change. An upgrade
   * that changes 1 % of the files redoes 1 % of the checkout. Used only
   * when the links are made in JavaScript (`linker` 'worker', or the addon
   * not built): a checkout from nothing by the native thread is faster.
   */
  from?: { dir: string; commit: ObjectId };
  /**
   * What links the files of a large hard-link checkout beside the walk
   * (link-worker.ts): trove's native threads when built (the default), or
   * a worker thread, which is also the fallback.
   */
  linker?: 'native' | 'worker';
}

export interface CheckoutResult {
  files: number;
  dirs: number;
  symlinks: number;
  linked: number;
  copied: number;
  mode: 'hardlink' | 'copy';
  /** Of `linked`, the files a second thread linked (link-worker.ts); for `--verbose`, not part of the JSON. */
  linkedInWorker: number;
}

const isRoot = process.getuid?.() === 0;
const WORKER_AFTER_FILES = 512;
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
  assertComplete(repo.path, commitId);
  const commit = await readCommit(repo.store, commitId);
  // A checkout from nothing whose links a native thread makes takes less time than the copy of `from`
  // (cp -a -l processes) and its patch: 134-185 ms against 192-339 ms for the bench corpus, in one
  // process (docs/benchmarks.md, design K). `from` is used only where the links are made in JavaScript.
  const useFrom = opts.from !== undefined && opts.hardlink === true && !linksNatively(opts.linker);
  let base = useFrom ? await baseFor(repo, commit.root, opts.from!) : undefined;
  let d: Dest | undefined;
  if (base) {
    try {
      d = await copyOfBase(opts.from!.dir, target);
    } catch (err) {
      // The copy is only a shortcut (cp or setpriv missing or refused, say): a checkout from nothing instead.
      if (isTroveError(err, 'E_EXISTS')) throw err;
      base = undefined;
    }
  }
  d ??= prepareDest(target);
  try {
    return await fill(repo, commitId, commit.tree, commit.root, d, { ...opts, base });
  } finally {
    closeSync(d.fd);
    if (d.parentFd !== undefined) closeSync(d.parentFd);
  }
}

/** Fills the prepared destination `d` with `tree`; on failure leaves it as it was (removed if it was created). */
async function fill(repo: Repo, commitId: ObjectId, treeId: ObjectId, rootMeta: DirMeta, d: Dest, opts: CheckoutOptions & { base?: ObjectId }): Promise<CheckoutResult> {
  const store: ObjectFiles & GetSyncStore = repo.store;
  // Hard links need the objects on the destination's filesystem; the commit's own file tells.
  const sameFs = statSync(store.pathOf(commitId)).dev === fstatSync(d.fd).dev;
  // The object file of a tree entry's id. Such an id is the hex of 32 bytes
  // decoded from a stored tree (format/codec.ts), so it is not checked again,
  // as pathOf checks an id from elsewhere (0.3 µs a file, 8 ms of a
  // 26,000-file checkout).
  const objectsPrefix = `${store.objectsDir}/`;
  const objectOf = (e: TreeEntry) => `${objectsPrefix}${e.id!.slice(0, 2)}/${e.id!.slice(2)}`;
  const useLinks = opts.hardlink === true && sameFs;
  const result: CheckoutResult = { files: 0, dirs: 0, symlinks: 0, linked: 0, copied: 0, mode: useLinks ? 'hardlink' : 'copy', linkedInWorker: 0 };
  const variants = new Map<string, string>();
  const onProgress = opts.onProgress;
  const progress = progressOf('writing', 'files');

  /**
   * `<repo>/variants/<key>/<ab>/<rest>`. One already there is used when `fits`
   * its stat (a variant made by a checkout without root carries that user as
   * owner, which a root checkout must not take); otherwise `make` builds one
   * under a temp name, renamed over it. When there is none, `makeInPlace`
   * (if given) may make it where it goes instead, and says whether it did.
   */
  let variantsReady = false;
  const variantsDir = () => {
    if (!variantsReady) {
      privateDir(join(repo.path, 'variants'));
      variantsReady = true;
    }
  };
  const variantLocation = (key: string, name: string): string => join(repo.path, 'variants', key, name.slice(0, 2), name.slice(2));
  /** Shard directories of variants/ known to exist, by path. */
  const shards = new Set<string>();
  /** The place of a variant, its shard directory made (once per checkout and shard), for a linker to make the variant in. */
  const variantShardMade = (key: string, name: string): string => {
    const path = variantLocation(key, name);
    const shard = dirname(path);
    if (!shards.has(shard)) {
      variantsDir();
      mkdirSync(shard, { recursive: true });
      shards.add(shard);
    }
    return path;
  };
  const variantPath = (
    key: string,
    name: string,
    fits: (st: Stats) => boolean,
    make: (tmp: string) => void,
    makeInPlace?: (path: string) => boolean,
  ): string => {
    const path = variantLocation(key, name);
    variantsDir();
    try {
      if (fits(lstatSync(path))) return path;
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      variantShardMade(key, name);
      if (makeInPlace?.(path)) return path;
    }
    replaceAtomicSync(path, { tmpDir: repo.tmpDir, tag: 'variant', mkdir: false }, make);
    return path;
  };
  const ownedAs = (st: Stats, e: TreeEntry) => !isRoot || (st.uid === e.uid && st.gid === e.gid);

  const variantFor = (e: TreeEntry): string => {
    const obj = objectOf(e);
    // throwIfNoEntry: no exception object on the (corrupt-store) miss path either. lstat: an object
    // file replaced by a symlink is not linked (link(2) would link the symlink), but copied, verified.
    const ost = lstatSync(obj, { throwIfNoEntry: false });
    if (!ost) throw corrupt(`object ${e.id} is missing from the store`, { id: e.id });
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
  const symlinkKey = (e: Pick<TreeEntry, 'uid' | 'gid'>) => `symlink-${e.uid}-${e.gid}`;
  const symlinkName = (target: string) => hashBytes(Buffer.from(target, 'utf8'));
  const symlinkVariant = (e: TreeEntry): string => {
    const fits = (st: Stats) => st.isSymbolicLink() && ownedAs(st, e);
    const make = (tmp: string) => {
      symlinkSync(e.target!, tmp);
      if (isRoot) lchownSync(tmp, e.uid, e.gid);
    };
    // Made in place, as the native linker makes them: a symlink is whole from the moment it exists, so
    // no temp name is needed. It is looked at as one another checkout made meanwhile (EEXIST) is; ours,
    // with another group than the entry's (a set-group-ID directory above gives its own) or another
    // owner, is given the entry's, or removed again when that fails. One that does not fit is replaced.
    const makeInPlace = (path: string): boolean => {
      let made = false;
      try {
        symlinkSync(e.target!, path);
        made = true;
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw err;
      }
      const now = lstatSync(path);
      if (fits(now)) return true;
      if (!(made && isRoot && now.isSymbolicLink())) return false;
      try {
        lchownSync(path, e.uid, e.gid);
        return true;
      } catch (err) {
        rmSync(path, { force: true });
        throw err;
      }
    };
    return variantPath(symlinkKey(e), symlinkName(e.target!), fits, make, makeInPlace);
  };

  const symlinkEntry = (e: TreeEntry, path: string) => {
    // Only where link(2) is known to link a symlink itself, never what it points at: Linux.
    if (useLinks && linksSymlinks && e.xattrs.length === 0) {
      // A linker that links symlinks takes this one from the shared copy's place, unlooked at: it makes
      // a copy that is missing in the shard directory made here; one that does not fit comes back
      // undone, and is made below once the linker is done.
      // (Not a target holding a NUL, which the linker's strings cannot carry: symlinkSync below refuses it.)
      if (linker?.symlinks && !e.target!.includes('\0') && !linker.busy()) {
        linker.add({ id: '', target: e.target!, object: variantShardMade(symlinkKey(e), symlinkName(e.target!)), dest: path, mode: SYMLINK_JOB, uid: e.uid, gid: e.gid });
        return;
      }
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

  /**
   * A checkout with more files than this links the rest in a worker thread
   * (link-worker.ts): below it, the worker's start would cost more than it
   * saves.
   */
  let linker: Linker | undefined;
  let inline = 0;
  /** Directories whose metadata waits for the worker's links below them (owner, then mode: a mode may forbid the links). */
  const deferredMeta: [string, TreeEntry][] = [];

  const fileEntry = (e: TreeEntry, path: string) => {
    if (useLinks && e.xattrs.length === 0) {
      if (linker === undefined && ++inline === WORKER_AFTER_FILES + 1) {
        try {
          linker = startLinker(isRoot, opts.linker);
        } catch {
          // No thread to be had (a limit on threads or memory): the checkout links alone, as a small one does.
        }
      }
      if (linker !== undefined && !linker.busy()) {
        linker.add({ id: e.id!, object: objectOf(e), dest: path, mode: e.mode, uid: e.uid, gid: e.gid });
        return;
      }
      linkFile(e, path);
    } else copyOut(e, path);
  };

  /** Links the object, or the variant that carries the entry's mode and owner; a copy when it has no link to spare. */
  const linkFile = (e: TreeEntry, path: string) => {
    try {
      linkSync(variantFor(e), path);
      result.linked++;
      return;
    } catch (err) {
      if (!isErrno(err, 'EMLINK')) throw err;
    }
    copyOut(e, path);
  };

  /**
   * Everything below `d.base`, the destination's descriptor: a rename of the
   * destination or of a parent, or a symlink put in its place, cannot
   * redirect a write. The destination stays 0700 until its metadata is
   * applied last, so no other user reaches inside meanwhile.
   */
  const populate = (treeId: ObjectId, dir: string, depth: number, bytes: number): void => {
    for (const e of decodeTree(store.getSync(treeId)).entries) entry(e, dir, depth, bytes);
  };

  /** Creates tree entry `e` (a whole subtree for a directory) in `dir`, at `depth` below the destination, whose path is `bytes` long. */
  const entry = (e: TreeEntry, dir: string, depth: number, bytes: number): void => {
    // Names come from a decoded tree, validated there: no normalisation needed.
    const path = `${dir}/${e.name}`;
    const pathBytes = bytes + (depth > 0 ? 1 : 0) + Buffer.byteLength(e.name);
    const tooBig = treePathProblem(depth + 1, pathBytes);
    if (tooBig) throw unsupported(`cannot check out ${d.target}: the tree is ${tooBig}`);
    if (e.kind === 'dir') {
      if (madeRight(e)) {
        mkdirSync(path, { mode: e.mode });
        populate(e.id!, path, depth + 1, pathBytes);
      } else {
        mkdirSync(path, { mode: 0o700 });
        populate(e.id!, path, depth + 1, pathBytes);
        if (linker !== undefined) deferredMeta.push([path, e]);
        else applyMeta(path, e);
      }
      result.dirs++;
    } else if (e.kind === 'symlink') {
      symlinkEntry(e, path);
      result.symlinks++;
    } else {
      fileEntry(e, path);
      result.files++;
      if (onProgress) {
        progress.done = result.files;
        progress.bytes += e.size;
        onProgress(progress);
      }
    }
  };

  /**
   * Whether mkdir alone gives directory entry `e` its metadata, so that no
   * chmod or chown follows: plain permission bits the umask leaves alone,
   * owner rwx (the checkout fills it), no xattrs, and the owner and group a
   * new directory gets here. Not below a set-group-ID destination, whose new
   * directories inherit its group and bit. Subdirectories are reachable only
   * through the destination, which stays 0700 until the end.
   */
  const umask = currentUmask();
  const plainDirs = (fstatSync(d.fd).mode & 0o2000) === 0 && umask !== undefined;
  const newOwner = { uid: euid, gid: process.getegid?.() ?? -1 };
  const madeRight = (e: TreeEntry): boolean =>
    plainDirs &&
    (e.mode & 0o7700) === 0o700 &&
    (e.mode & umask!) === 0 &&
    e.xattrs.length === 0 &&
    (!isRoot || (e.uid === newOwner.uid && e.gid === newOwner.gid));

  /**
   * Turns `dir`, which holds tree `was` (a hard-link copy of a checkout of
   * it), into tree `now`: an entry that is the same (kind, object or target,
   * mode, owner, xattrs) stays, a directory whose xattrs did not change is
   * patched in place (its mode and owner set when they changed), anything
   * else is removed and made afresh; names only in `was` go.
   */
  const patch = (was: ObjectId, now: ObjectId, dir: string, depth: number, bytes: number): void => {
    if (was === now) return;
    const old = new Map(decodeTree(store.getSync(was)).entries.map((e) => [e.name, e]));
    const entries = decodeTree(store.getSync(now)).entries;
    const names = new Set(entries.map((e) => e.name));
    // Directories only in `was`, for a directory only in `now` to start from (a package's
    // directory renamed with its version, `hello-amd64-2.10-3-1` to `...-2.10-4-1`).
    const gone = [...old.values()].filter((o) => o.kind === 'dir' && !names.has(o.name));
    for (const e of entries) {
      let o = old.get(e.name);
      const path = `${dir}/${e.name}`;
      if (!o && e.kind === 'dir' && gone.length > 0) {
        const pick = nearestName(e.name, gone.filter((g) => sameMeta(g, e)));
        if (pick) {
          gone.splice(gone.indexOf(pick), 1);
          old.delete(pick.name);
          renameSync(`${dir}/${pick.name}`, path);
          o = pick;
        }
      }
      old.delete(e.name);
      if (o && o.kind === e.kind && sameMeta(o, e)) {
        if (e.kind === 'dir') {
          const pathBytes = bytes + (depth > 0 ? 1 : 0) + Buffer.byteLength(e.name);
          patch(o.id!, e.id!, path, depth + 1, pathBytes);
          if (o.mode !== e.mode || o.uid !== e.uid || o.gid !== e.gid) {
            if (linker !== undefined) deferredMeta.push([path, e]);
            else applyMeta(path, e);
          }
          continue;
        }
        if (e.kind === 'file' ? o.id === e.id && o.mode === e.mode : o.target === e.target) continue;
      }
      if (o) rmSync(path, { recursive: true, force: true });
      entry(e, dir, depth, bytes);
    }
    for (const o of old.values()) rmSync(`${dir}/${o.name}`, { recursive: true, force: true });
  };

  try {
    if (opts.base !== undefined) patch(opts.base, treeId, d.base, 0, 0);
    else populate(treeId, d.base, 0, 0);
    if (linker !== undefined) {
      const { linked, undone } = await linker.finish();
      linker = undefined;
      result.linked += linked;
      result.linkedInWorker = linked;
      for (const j of undone) {
        const e = { name: basename(j.dest), uid: j.uid, gid: j.gid, size: 0, xattrs: [] };
        if (j.target !== undefined) symlinkEntry({ ...e, kind: 'symlink', mode: 0o777, target: j.target }, j.dest);
        else linkFile({ ...e, kind: 'file', id: j.id, mode: j.mode }, j.dest);
      }
      for (const [path, e] of deferredMeta) applyMeta(path, e);
    }
    if (isRoot) fchownSync(d.fd, rootMeta.uid, rootMeta.gid);
    fchmodSync(d.fd, rootMeta.mode);
    if (rootMeta.xattrs.length > 0) writeXattrs(d.base, rootMeta.xattrs);
  } catch (caught) {
    let err = caught;
    // The walk stopped because the worker failed: the worker's own error is the one to report.
    if (caught instanceof LinkWorkerFailed && linker !== undefined) err = await linker.failed();
    await linker?.stop();
    for (const name of readdirSync(d.base)) rmSync(join(d.base, name), { recursive: true, force: true });
    if (d.created) {
      // Only the directory we made and still hold, even if another took its name meanwhile.
      const at = `${fdPath(d.parentFd!, dirname(d.target))}/${basename(d.target)}`;
      if (stillSame(at, fstatSync(d.fd))) rmdirSync(at);
    } else fchmodSync(d.fd, d.mode);
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

/**
 * Makes `dir` (the repository's `variants/`) a directory only its owner can
 * enter: a variant carries a file's committed mode, and a file readable by
 * others below a directory that is not searchable by them (0644 in a 0700
 * directory) is private content that `variants/` must not expose by another
 * path. Checkouts reach variants through their own hard links, never
 * through `variants/`. An older repository's `variants/` is made 0700 here.
 */
function privateDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
    const st = lstatSync(dir);
    if (st.isDirectory() && (st.mode & 0o077) !== 0 && st.uid === euid) chmodSync(dir, 0o700);
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

/** Of `dirs`, the one whose name shares the longest prefix with `name` (at least half of it), if any. */
function nearestName(name: string, dirs: TreeEntry[]): TreeEntry | undefined {
  let best: TreeEntry | undefined;
  let bestLen = Math.ceil(name.length / 2) - 1;
  for (const d of dirs) {
    let n = 0;
    while (n < name.length && n < d.name.length && name[n] === d.name[n]) n++;
    if (n > bestLen) {
      best = d;
      bestLen = n;
    }
  }
  return best;
}

/** Same owner and xattrs (and for a directory: what patch can keep without making it again). */
function sameMeta(a: Pick<DirMeta, 'uid' | 'gid' | 'xattrs'>, b: Pick<DirMeta, 'uid' | 'gid' | 'xattrs'>): boolean {
  if (a.uid !== b.uid || a.gid !== b.gid || a.xattrs.length !== b.xattrs.length) return false;
  return a.xattrs.every((x, i) => x.name === b.xattrs[i]!.name && Buffer.compare(Buffer.from(x.value), Buffer.from(b.xattrs[i]!.value)) === 0);
}

/** Whether util-linux's setpriv (for --pdeathsig) is there, without which a checkout never starts from another; looked up once, when first needed. */
let hasSetpriv: boolean | undefined;

/**
 * The root tree of `from.commit` when a hard-link copy of `from.dir` can
 * start the checkout of a commit whose root is `root`: `from.dir` is a
 * directory and both roots have the same xattrs (a copy keeps the old
 * root's, and a removed xattr is not put back); else undefined, and the
 * checkout starts from nothing.
 */
async function baseFor(repo: Repo, root: DirMeta, from: { dir: string; commit: ObjectId }): Promise<ObjectId | undefined> {
  hasSetpriv ??= ['/usr/bin/setpriv', '/bin/setpriv'].some((p) => existsSync(p));
  if (!statSync(from.dir, { throwIfNoEntry: false })?.isDirectory() || !hasSetpriv) return undefined;
  const was = await readCommit(repo.store, from.commit);
  return sameMeta(was.root, root) ? was.tree : undefined;
}

/** Copy processes per core, at most: a copy is mkdir and link syscalls, which run side by side in different directories. */
const COPY_CHUNKS_PER_JOB = 4;

/**
 * `cp -a -l` of what `dir` holds into `target` (made here, which must not
 * exist), run through util-linux's setpriv so that each cp dies with this
 * process: directories made with their modes, owners, times and xattrs,
 * every other entry a hard link to the same inode (symlinks too, on Linux).
 * The top-level entries are split into runs of a few cp processes, one at a
 * time per core: a generation's tree is its package directories and their
 * union, about half each, and the kernel makes links in different
 * directories on different cores at once (about twice as fast on two cores
 * as one cp). `target` itself gets the root's metadata when the checkout
 * ends, as a checkout from nothing. Then opened as the checkout's
 * destination, made by this checkout.
 */
async function copyOfBase(dir: string, target: string): Promise<Dest> {
  if (existsSync(target)) throw exists(`checkout destination ${target} exists`, { path: target });
  const names = readdirSync(dir).sort();
  const jobs = Math.max(1, Math.min(availableParallelism(), 4));
  const size = Math.max(1, Math.ceil(names.length / (jobs * COPY_CHUNKS_PER_JOB)));
  const chunks: string[][] = [];
  for (let i = 0; i < names.length; i += size) chunks.push(names.slice(i, i + size).map((n) => `${dir}/${n}`));
  try {
    mkdirSync(target, { mode: 0o700 });
  } catch (err) {
    if (isErrno(err, 'EEXIST')) throw exists(`checkout destination ${target} exists`, { path: target });
    throw err;
  }
  const run = limiter(jobs);
  const failures: string[] = [];
  const copy = (paths: string[]) =>
    run(
      () =>
        new Promise<void>((done) => {
          if (failures.length > 0) return done();
          // setpriv --pdeathsig: a cp whose trove was killed dies too, instead of filling a temp directory that is being removed.
          let p: ChildProcess;
          try {
            p = childProcess().spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'cp', '-a', '-l', `--target-directory=${target}`, '--', ...paths], { stdio: ['ignore', 'ignore', 'pipe'] });
          } catch (err) {
            // Thrown, not emitted (E2BIG, say): the other runs still finish before the directory is removed.
            failures.push((err as Error).message);
            return done();
          }
          let stderr = '';
          p.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
          p.on('error', (err) => {
            failures.push(err.message);
            done();
          });
          p.on('close', (code) => {
            if (code !== 0) failures.push(stderr.trim() || `exit ${code}`);
            done();
          });
        }),
    );
  await Promise.all(chunks.map(copy));
  if (failures.length > 0) {
    rmSync(target, { recursive: true, force: true });
    throw ioError(`cannot copy ${dir} to ${target} with hard links: ${failures[0]}`, { path: target });
  }
  const parentFd = openRealDir(realpathSync(dirname(target)));
  const st = lstatSync(target);
  const opened = st.isDirectory() ? openExpected(`${fdPath(parentFd, dirname(target))}/${basename(target)}`, DIR_NOFOLLOW, st) : undefined;
  if (!opened) {
    closeSync(parentFd);
    throw ioError(`checkout destination ${target} was replaced right after it was made`, { path: target });
  }
  // Private until the checkout applies the root's metadata last, as a checkout from nothing.
  fchmodSync(opened.fd, 0o700);
  return { target, fd: opened.fd, base: fdPath(opened.fd, target), created: true, parentFd, mode: 0o700 };
}

interface Dest {
  target: string;
  /** The destination, open (O_NOFOLLOW) for the whole checkout. */
  fd: number;
  /** A path naming the destination through `fd`. */
  base: string;
  /** True when this checkout created it. */
  created: boolean;
  /** Its parent, open, when created (to remove it on failure). */
  parentFd?: number;
  /** Its mode before the checkout (an existing destination is put back on failure). */
  mode: number;
}

const euid = process.geteuid?.() ?? -1;

/** The process umask, from /proc (process.umask() without an argument sets it to 0 for a moment); undefined when unknown. */
function currentUmask(): number | undefined {
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number.parseInt(m[1]!, 8) : undefined;
  } catch {
    return undefined;
  }
}
/** Owned by the caller or by root: nobody else can rename, replace or fill it. */
const trusted = (st: Stats) => st.uid === euid || st.uid === 0;
const who = (st: Stats) => `uid ${st.uid}, neither you (uid ${euid}) nor root`;

/**
 * Opens the directory at the real path `real`, one component at a time from
 * `/`, never through a symlink (each lookup below the previous descriptor).
 */
function openRealDir(real: string): number {
  let fd = openSync('/', DIR_NOFOLLOW);
  for (const part of real.split('/').filter((p) => p !== '')) {
    let next: number;
    try {
      next = openSync(`${fdPath(fd, real)}/${part}`, DIR_NOFOLLOW);
    } catch (err) {
      closeSync(fd);
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw ioError(`cannot open ${real}: ${code} at ${part} (was it replaced meanwhile?)`, { path: real }, { cause: err });
    }
    closeSync(fd);
    fd = next;
  }
  return fd;
}

/**
 * Makes sure `target` is an empty directory that only the caller or root
 * controls, and opens it. An existing destination must be a directory (not
 * a symlink), empty and owned by the caller or root; a missing one is made,
 * with any missing parents, only inside a directory owned by the caller or
 * root, each made with mkdir then opened with O_NOFOLLOW and checked to be
 * the directory this process just made.
 */
function prepareDest(target: string): Dest {
  let st: Stats | undefined;
  try {
    st = lstatSync(target);
  } catch (err) {
    if (isErrno(err, 'ENOTDIR')) throw usage(`checkout destination ${target}: a parent is not a directory`);
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  if (st) {
    if (!st.isDirectory()) throw exists(`checkout destination ${target} exists and is not an empty directory`, { path: target });
    const parent = openRealDir(realpathSync(dirname(target)));
    let fd: number;
    try {
      const opened = openExpected(`${fdPath(parent, dirname(target))}/${basename(target)}`, DIR_NOFOLLOW, st);
      if (!opened) throw exists(`checkout destination ${target} was replaced while being checked`, { path: target });
      fd = opened.fd;
      st = opened.st;
    } finally {
      closeSync(parent);
    }
    const base = fdPath(fd, target);
    try {
      if (!trusted(st)) throw usage(`checkout destination ${target} is owned by ${who(st)}`);
      if (readdirSync(base).length > 0) throw exists(`checkout destination ${target} exists and is not an empty directory`, { path: target });
      fchmodSync(fd, 0o700);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return { target, fd, base, created: false, mode: st.mode & 0o7777 };
  }
  // Missing parents one by one, not with { recursive: true }: that loops forever where
  // mkdir answers ENOENT for an existing parent (as in /proc).
  const missing = [basename(target)];
  let existing = dirname(target);
  for (;;) {
    try {
      // Parents may be symlinks to directories (/var/run): followed, unlike the destination itself.
      if (!statSync(existing).isDirectory()) throw usage(`checkout destination ${target}: ${existing} is not a directory`);
      break;
    } catch (err) {
      if (isErrno(err, 'ENOTDIR')) throw usage(`checkout destination ${target}: a parent is not a directory`);
      if (!isErrno(err, 'ENOENT')) throw err;
      missing.unshift(basename(existing));
      existing = dirname(existing);
    }
  }
  const real = realpathSync(existing);
  let fd = openRealDir(real);
  let path = real;
  try {
    const pst = fstatSync(fd);
    if (!trusted(pst)) throw usage(`checkout destination ${target}: ${existing} is owned by ${who(pst)}`);
    for (let i = 0; i < missing.length; i++) {
      const name = missing[i]!;
      const last = i === missing.length - 1;
      const at = `${fdPath(fd, path)}/${name}`;
      path = path === '/' ? `/${name}` : `${path}/${name}`;
      try {
        // Parents as mkdir -p makes them; the destination itself private until its metadata is applied.
        mkdirSync(at, { mode: last ? 0o700 : 0o777 });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        throw ioError(`cannot create checkout destination ${path}: ${code}`, { path }, { cause: err });
      }
      const made = lstatSync(at);
      const opened = made.isDirectory() && made.uid === euid ? openExpected(at, DIR_NOFOLLOW, made) : undefined;
      if (!opened) throw ioError(`checkout destination ${path} was replaced right after it was made`, { path });
      if (last) return { target, fd: opened.fd, base: fdPath(opened.fd, target), created: true, parentFd: fd, mode: 0o700 };
      closeSync(fd);
      fd = opened.fd;
    }
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  throw new Error('unreachable: the destination is the last missing component');
}
