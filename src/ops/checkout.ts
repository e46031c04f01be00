import { constants } from 'node:fs';
import { chmod, copyFile, lchown, link, lstat, mkdir, readdir, rename, rm, stat, symlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { isErrno, TroveError } from '../errors.js';
import type { DirMeta, TreeEntry } from '../format/types.js';
import type { ObjectId } from '../hash/index.js';
import type { Repo } from '../repo.js';
import { tempName } from '../store/disk.js';
import { writeXattrs } from './import/xattrs.js';
import { limiter } from './limit.js';
import { readCommit, TreeCache } from './objects.js';

export interface CheckoutOptions {
  /** Copy every file instead of hard-linking (default false). */
  copy?: boolean;
  /** Parallel file operations (default 32). */
  parallel?: number;
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

/**
 * Materialises a commit at `dest` (which must not exist, or be an empty
 * directory). Entries are created only below directories this function made,
 * by validated names, so no symlink in the tree is ever followed.
 *
 * Hard-link mode links each file to an inode that already carries the right
 * mode and owner: the object itself when they match, else a per-(mode, uid,
 * gid) variant under `<repo>/variants/` made once and shared by every later
 * checkout. Files with xattrs are always copied. Falls back to copying when
 * the repository and `dest` are on different filesystems.
 */
export async function checkout(repo: Repo, commitId: ObjectId, dest: string, opts: CheckoutOptions = {}): Promise<CheckoutResult> {
  const target = resolve(dest);
  const commit = await readCommit(repo.store, commitId);
  await prepareDest(target);
  const trees = new TreeCache(repo.store);
  const io = limiter(opts.parallel ?? 32);
  const sameFs = (await stat(repo.store.objectsDir)).dev === (await stat(target)).dev;
  const useLinks = !opts.copy && sameFs;
  const result: CheckoutResult = { files: 0, dirs: 0, symlinks: 0, linked: 0, copied: 0, mode: useLinks ? 'hardlink' : 'copy' };
  const variantsMade = new Map<string, Promise<string>>();

  const variantFor = (e: TreeEntry): Promise<string> => {
    const obj = repo.store.pathOf(e.id!);
    const key = `${e.mode.toString(8)}-${e.uid}-${e.gid}`;
    const path = join(repo.path, 'variants', key, e.id!.slice(0, 2), e.id!.slice(2));
    const memo = `${key}/${e.id}`;
    let p = variantsMade.get(memo);
    if (!p) {
      p = (async () => {
        const ost = await stat(obj);
        if ((ost.mode & 0o7777) === e.mode && (!isRoot || (ost.uid === e.uid && ost.gid === e.gid))) return obj;
        try {
          await lstat(path);
          return path;
        } catch (err) {
          if (!isErrno(err, 'ENOENT')) throw err;
        }
        await mkdir(dirname(path), { recursive: true });
        const tmp = tempName(repo.store.tmpDir, 'variant');
        await copyFile(obj, tmp, constants.COPYFILE_FICLONE);
        await applyMeta(tmp, e);
        await rename(tmp, path);
        return path;
      })();
      variantsMade.set(memo, p);
    }
    return p;
  };

  const copyOut = async (e: TreeEntry, path: string) => {
    await copyFile(repo.store.pathOf(e.id!), path, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
    await applyMeta(path, e);
    result.copied++;
  };

  const writeFileEntry = async (e: TreeEntry, path: string) => {
    if (!(await repo.store.has(e.id!))) throw new TroveError('E_CORRUPT', `object ${e.id} (${path}) is missing from the store`);
    if (useLinks && e.xattrs.length === 0) {
      const src = await variantFor(e);
      try {
        await link(src, path);
        result.linked++;
        return;
      } catch (err) {
        if (!isErrno(err, 'EMLINK')) throw err;
      }
    }
    await copyOut(e, path);
  };

  const populate = async (treeId: ObjectId, dir: string): Promise<void> => {
    const tree = await trees.get(treeId);
    await Promise.all(
      tree.entries.map(async (e) => {
        const path = join(dir, e.name);
        if (e.kind === 'dir') {
          await mkdir(path, { mode: 0o700 });
          await populate(e.id!, path);
          await applyMeta(path, e);
          result.dirs++;
        } else if (e.kind === 'symlink') {
          await io(async () => {
            await symlink(e.target!, path);
            if (isRoot) await lchown(path, e.uid, e.gid);
          });
          result.symlinks++;
        } else {
          await io(() => writeFileEntry(e, path));
          result.files++;
        }
      }),
    );
  };

  try {
    await populate(commit.tree, target);
    await applyMeta(target, commit.root);
  } catch (err) {
    await rm(target, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
  return result;
}

/** Owner, then mode (chown clears set-id bits), then xattrs. Ownership only as root. */
async function applyMeta(path: string, m: DirMeta | TreeEntry): Promise<void> {
  if (isRoot) await lchown(path, m.uid, m.gid);
  await chmod(path, m.mode);
  if (m.xattrs.length > 0) writeXattrs(path, m.xattrs);
}

async function prepareDest(target: string): Promise<void> {
  try {
    const st = await lstat(target);
    if (!st.isDirectory() || (await readdir(target)).length > 0) {
      throw new TroveError('E_EXISTS', `checkout destination ${target} exists and is not an empty directory`);
    }
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
    await mkdir(target, { recursive: true, mode: 0o700 });
  }
}
