import { constants } from 'node:os';
import { lstat, open, readdir, readlink, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { getSystemErrorName } from 'node:util';
import { badObject, isErrno, notFound } from '../util/errors.js';
import { readFiles } from '../util/file-batches.js';
import { assertIntact } from '../store/verify.js';
import { limiter } from '../util/limiter.js';
import { decodeCommit, decodeTree } from '../format/codec.js';
import type { Commit, Tree } from '../format/types.js';
import { isObjectId, type ObjectId } from '../util/hash.js';
import { refNameProblem } from '../refs/refs.js';
import type { GetStore, GetSyncStore, ObjectFiles } from '../store/types.js';
import { generationNumber, profileNameProblem, profilesRoot } from '../system/profiles.js';

/** The mutable hierarchies shown as symlinks: `refs/heads` and `profiles/<P>/<N>`. */
export type PointerArea = 'refs' | 'profiles';

/** What a path inside a pointer area is right now. */
export type Pointer = { kind: 'dir'; children: PointerChild[] } | { kind: 'commit'; id: ObjectId };

export interface PointerChild {
  name: string;
  kind: 'dir' | 'commit';
  /** The commit a `commit` child names (read to list it). */
  id?: ObjectId;
}

/** Ref and generation files read at once while listing a directory of them (each an open, a read and a close). */
const POINTER_READS = 16;

/** Sizes of the filesystem holding the objects, for statfs. */
export interface SpaceInfo {
  bsize: number;
  blocks: number;
  files: number;
}

/** A tree read but not checked or decoded yet: returns it decoded, or throws as ViewSource.readTree would. */
export type ReadTree = () => Tree;

/**
 * Everything the view reads from a repository. Handlers and the view depend
 * only on this, so they are tested against an in-memory source without a mount.
 */
export interface ViewSource {
  /** A decoded, validated tree; throws when it is missing, corrupt or invalid. */
  readTree(id: ObjectId): Promise<Tree>;
  /**
   * The same as readTree, blocking; optional. The view uses it when a request
   * waits for a tree nobody is reading yet: one blocking read of a small file
   * costs less than the thread-pool round trips of an asynchronous one.
   */
  readTreeSync?(id: ObjectId): Tree;
  /**
   * Several trees read in one call; optional, and undefined when it cannot
   * batch here. Each is the error readTree would throw for a file it could
   * not read, or a function that checks the bytes read against the id and
   * decodes them (returning or throwing as readTree would). The view fetches
   * trees ahead this way (one completion for many reads) and decodes each
   * when it gets to it, so that no request waits behind a batch's decoding.
   */
  readTrees?(ids: ObjectId[]): Promise<(ReadTree | Error)[]> | undefined;
  /** A decoded commit, or undefined when no commit has this id. Throws when it is corrupt. */
  readCommit(id: ObjectId): Promise<Commit | undefined>;
  /** `refs/<parts>` or `profiles/<parts>` now, or undefined when absent. */
  pointer(area: PointerArea, parts: string[]): Promise<Pointer | undefined>;
  /** Commits named by refs and profiles: what `commits/` lists. */
  knownCommits(): Promise<ObjectId[]>;
  /** The file holding a blob's bytes. */
  blobPath(id: ObjectId): string;
  space(): Promise<SpaceInfo>;
}

/** Largest tree object served by default (about half a million entries). */
export const MAX_TREE_BYTES = 64 << 20;

/** Pointer areas may nest this deep: refs freely, profiles as `<P>/<N>`. */
const MAX_DEPTH: Record<PointerArea, number> = { refs: 64, profiles: 2 };

/** A ViewSource over a repository on disk (the object store plus `refs/heads` and `profiles`). */
export class RepoSource implements ViewSource {
  private readonly maxTreeBytes: number;

  constructor(
    private readonly store: GetStore & GetSyncStore & ObjectFiles,
    private readonly repoPath: string,
    opts: { maxTreeBytes?: number } = {},
  ) {
    this.maxTreeBytes = opts.maxTreeBytes ?? MAX_TREE_BYTES;
  }

  async readTree(id: ObjectId): Promise<Tree> {
    // Read on the pool's threads, so its size is known only after: a stat first would block this thread.
    return decodeTree(this.checkSize(id, await this.store.get(id)));
  }

  readTreeSync(id: ObjectId): Tree {
    // The store refuses a larger file unread (its size from the open file); checked again here for a store that does not.
    return decodeTree(this.checkSize(id, this.store.getSync(id, this.maxTreeBytes)));
  }

  readTrees(ids: ObjectId[]): Promise<(ReadTree | Error)[]> | undefined {
    return readFiles(
      ids.map((id) => this.store.pathOf(id)),
      this.maxTreeBytes,
    )?.then((got) =>
      got.map((r, i) => {
        const id = ids[i]!;
        if (typeof r !== 'number') {
          return () => {
            assertIntact(id, r);
            return decodeTree(r);
          };
        }
        if (r === -constants.errno.ENOENT) return notFound(`object ${id} not found`);
        if (r === -constants.errno.EFBIG) return badObject(`tree ${id} is more than the ${this.maxTreeBytes} bytes the view decodes`);
        return new Error(`cannot read object ${id}: ${getSystemErrorName(r)}`);
      }),
    );
  }

  /** Decoding costs several times the object's size: refuse what could exhaust the heap. */
  private checkSize(id: ObjectId, bytes: Uint8Array): Uint8Array {
    if (bytes.length > this.maxTreeBytes) throw badObject(`tree ${id} is ${bytes.length} bytes, more than the ${this.maxTreeBytes} the view decodes`);
    return bytes;
  }

  async readCommit(id: ObjectId): Promise<Commit | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = await this.store.get(id);
    } catch (err) {
      if ((err as { code?: string }).code === 'E_NOT_FOUND') return undefined;
      throw err;
    }
    try {
      return decodeCommit(bytes);
    } catch {
      // A blob or a tree: there is no commit by this id.
      return undefined;
    }
  }

  private base(area: PointerArea): string {
    return area === 'refs' ? join(this.repoPath, 'refs', 'heads') : profilesRoot({ path: this.repoPath });
  }

  /** Whether `name` may stand at depth `depth` (0-based) of `area`: any ref component in refs, `<P>/<N>` in profiles. */
  private nameFits(area: PointerArea, depth: number, name: string): boolean {
    if (area === 'refs') return refNameProblem(name) === null;
    return depth === 0 ? profileNameProblem(name) === null : generationNumber(name) !== null;
  }

  async pointer(area: PointerArea, parts: string[]): Promise<Pointer | undefined> {
    if (parts.length > MAX_DEPTH[area] || parts.some((p, depth) => !this.nameFits(area, depth, p))) return undefined;
    const path = join(this.base(area), ...parts);
    let st;
    try {
      st = await lstat(path);
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
      throw err;
    }
    if (st.isDirectory()) {
      if (area === 'profiles' && parts.length === 2) return undefined;
      return { kind: 'dir', children: await this.children(area, parts, path) };
    }
    if (area === 'profiles' && parts.length !== 2) return undefined;
    const id = await readPointerFile(path, st.isSymbolicLink());
    return id ? { kind: 'commit', id } : undefined;
  }

  private async children(area: PointerArea, parts: string[], path: string): Promise<PointerChild[]> {
    let entries;
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return [];
      throw err;
    }
    const leafLevel = area === 'profiles' && parts.length === 1;
    const out: PointerChild[] = [];
    // The files are read a few at a time, not one after another: a package server has hundreds of refs,
    // and the daemon answers other requests meanwhile.
    const run = limiter(POINTER_READS);
    const reads: Promise<void>[] = [];
    for (const e of entries) {
      if (!this.nameFits(area, parts.length, e.name)) continue;
      if (e.isDirectory()) {
        if (!leafLevel && parts.length + 1 < MAX_DEPTH[area]) out.push({ name: e.name, kind: 'dir' });
      } else if (area === 'refs' || leafLevel) {
        reads.push(
          run(async () => {
            const id = await readPointerFile(join(path, e.name), e.isSymbolicLink());
            if (id) out.push({ name: e.name, kind: 'commit', id });
          }),
        );
      }
    }
    await Promise.all(reads);
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async knownCommits(): Promise<ObjectId[]> {
    const ids = new Set<ObjectId>();
    // Each directory once: the commits its listing read are taken from it, not read again.
    const walk = async (area: PointerArea, parts: string[]): Promise<void> => {
      const p = await this.pointer(area, parts);
      if (!p) return;
      if (p.kind === 'commit') {
        ids.add(p.id);
        return;
      }
      const dirs: Promise<void>[] = [];
      for (const c of p.children) {
        if (c.id !== undefined) ids.add(c.id);
        else if (c.kind === 'dir') dirs.push(walk(area, [...parts, c.name]));
      }
      await Promise.all(dirs);
    };
    await Promise.all([walk('refs', []), walk('profiles', [])]);
    return [...ids].sort();
  }

  blobPath(id: ObjectId): string {
    return this.store.pathOf(id);
  }

  async space(): Promise<SpaceInfo> {
    const s = await statfs(this.repoPath);
    return { bsize: s.bsize, blocks: s.blocks - s.bfree, files: s.files - s.ffree };
  }
}

/**
 * The commit id a ref or generation file names: its content, or for a
 * symlink whose target is no such file, the last 64-hex component of the target.
 */
async function readPointerFile(path: string, isLink: boolean): Promise<ObjectId | undefined> {
  try {
    // Only the first bytes: an id and a newline; a huge stray file costs nothing.
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(80);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      const text = buf.subarray(0, bytesRead).toString('utf8').trim();
      if (isObjectId(text)) return text;
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (!isErrno(err, 'ENOENT') && !isErrno(err, 'EISDIR') && !isErrno(err, 'ENOTDIR') && !isErrno(err, 'ELOOP')) throw err;
  }
  if (!isLink) return undefined;
  const target = await readlink(path).catch(() => '');
  return target.split('/').reverse().find(isObjectId);
}
