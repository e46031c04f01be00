import { lstatSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { badRef, corrupt, isErrno, isTroveError, locked, notFound, TroveError } from '../util/errors.js';
import { isObjectId, type ObjectId } from '../util/hash.js';
import { writeFileAtomicSync } from '../util/fs-atomic.js';
import type { Release } from '../store/lock.js';
import { lockUpdates } from './locks.js';
import { RefTransaction, updateRefs } from './transaction.js';

/** Removes `dir` when it is an empty directory; whether it did. */
function removedEmpty(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

const COMPONENT = /^[A-Za-z0-9_+@-][A-Za-z0-9._+@-]*$/;

/** Why `name` is not a valid ref name (like `main` or `pkg/bash/amd64`), or null. */
export function refNameProblem(name: string): string | null {
  if (name.length === 0) return 'empty ref name';
  if (name.length > 255) return 'ref name longer than 255 characters';
  for (const part of name.split('/')) {
    if (!COMPONENT.test(part)) return `bad component ${JSON.stringify(part)} (allowed: letters, digits, . _ + @ -; not starting with .)`;
    if (part.endsWith('.lock') || part.includes('..')) return `bad component ${JSON.stringify(part)}`;
  }
  return null;
}

export function assertRefName(name: string): void {
  const p = refNameProblem(name);
  if (p) throw badRef(`invalid ref name ${JSON.stringify(name)}: ${p}`, { ref: name });
}

/**
 * Refs are files under `<repo>/refs/<namespace>/<name>` holding a commit id
 * and a newline, replaced atomically by temp file and rename. Namespaces:
 * `heads` (local branches), `remotes/<remote>` (remote tracking).
 */
export class Refs {
  constructor(
    private readonly refsDir: string,
    private readonly tmpDir: string,
  ) {}

  private path(name: string, ns: string): string {
    assertRefName(name);
    return join(this.refsDir, ns, name);
  }

  /** The commit id of a ref, or undefined when it does not exist. */
  async read(name: string, ns = 'heads'): Promise<ObjectId | undefined> {
    return this.readSync(name, ns);
  }

  /**
   * `read`, blocking: a ref is one small file, and listing thousands of them
   * (a server's package refs) through the thread pool cost an event-loop
   * round trip each.
   */
  private readSync(name: string, ns: string): ObjectId | undefined {
    try {
      const text = readFileSync(this.path(name, ns), 'utf8').trim();
      if (!isObjectId(text)) throw corrupt(`ref ${ns}/${name} holds no valid id`, { ref: name });
      return text;
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR') || isErrno(err, 'EISDIR')) return undefined;
      throw err;
    }
  }

  /**
   * Takes the update lock of a ref (`<repo>/locks/ref-<ns>%<name>`). Hold it
   * from reading the tip to writing the ref whenever the new value is
   * computed from the old one (a parent, the next revision).
   */
  lock(name: string, ns = 'heads'): Promise<Release> {
    assertRefName(name);
    return lockUpdates(dirname(this.refsDir), 'ref', `${ns}/${name}`);
  }

  /**
   * Points `name` at `id`, atomically. With `expected` (an id, or null for
   * "does not exist yet") it is a compare-and-swap: E_LOCKED when the ref
   * holds something else. The compare and the swap are one step only for
   * writers that hold `lock(name)`; `update` takes it.
   */
  async write(name: string, id: ObjectId, ns = 'heads', opts: { expected?: ObjectId | null } = {}): Promise<void> {
    if (!isObjectId(id)) throw badRef(`not an object id: ${id}`, { ref: name });
    const dest = this.path(name, ns);
    if (opts.expected !== undefined) {
      const now = (await this.read(name, ns)) ?? null;
      if (now !== opts.expected) {
        throw locked(`ref ${name} moved to ${now ?? 'nothing'} while this update expected ${opts.expected ?? 'no ref'}; retry`, { ref: name, expected: opts.expected, actual: now });
      }
    }
    // Blocking calls: a ref is one small file, and an install or a pull writes a hundred of them, where each
    // trip through the thread pool would cost more than the call.
    // `delete` of a ref beside this one removes the directories it leaves
    // empty, and may do so inside our recursive mkdir or between it and our
    // rename (ENOENT): again.
    for (let attempt = 1; ; attempt++) {
      try {
        mkdirSync(dirname(dest), { recursive: true });
      } catch (err) {
        // A ref `a` exists where `a/b` needs a directory.
        if (isErrno(err, 'EEXIST') || isErrno(err, 'ENOTDIR')) {
          throw badRef(`ref ${name} conflicts with an existing ref (a ref cannot also be a directory of refs)`, { ref: name });
        }
        // A parent made by this mkdir removed by that delete before its child was made.
        if (isErrno(err, 'ENOENT') && attempt < 10) continue;
        throw err;
      }
      try {
        writeFileAtomicSync(dest, `${id}\n`, { tmpDir: this.tmpDir, tag: 'ref' });
        return;
      } catch (err) {
        // An empty directory where the ref goes holds no refs: it goes (rmdir fails on one that holds some).
        if (isErrno(err, 'EISDIR') && attempt < 10 && removedEmpty(dest)) continue;
        if (isErrno(err, 'EISDIR') || isErrno(err, 'ENOTDIR')) {
          throw badRef(`ref ${name} conflicts with an existing ref hierarchy`, { ref: name });
        }
        if (!(isErrno(err, 'ENOENT') && attempt < 10)) throw err;
      }
    }
  }

  /** `write` with `expected`, under the ref's update lock (one ref of `updateRefs`). */
  async update(name: string, id: ObjectId, opts: { expected: ObjectId | null; ns?: string }): Promise<void> {
    await updateRefs(this, [{ name, ns: opts.ns, expected: opts.expected, id }]);
  }

  /** Takes the update locks of several refs at once, for a read-modify-write of all of them (see RefTransaction). */
  transaction(keys: { name: string; ns?: string }[]): Promise<RefTransaction> {
    return RefTransaction.lock(this, keys);
  }

  /**
   * Refuses (E_BAD_REF) a ref name that cannot be created next to the
   * existing refs: `a/b` while a ref `a` exists, or `a` while refs `a/...` exist.
   */
  async assertFree(name: string, ns = 'heads'): Promise<void> {
    assertRefName(name);
    const parts = name.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      let isDir: boolean;
      try {
        isDir = lstatSync(join(this.refsDir, ns, prefix)).isDirectory();
      } catch (err) {
        if (isErrno(err, 'ENOENT')) return;
        throw err;
      }
      if (i < parts.length && !isDir) throw badRef(`cannot create ref ${name}: ref ${prefix} exists`, { ref: name });
      // An empty directory (left by a delete before deletes removed them) holds no refs: `write` replaces it.
      if (i === parts.length && isDir && readdirSync(join(this.refsDir, ns, prefix)).length > 0) {
        throw badRef(`cannot create ref ${name}: ${name}/ is a directory of refs`, { ref: name });
      }
    }
  }

  /**
   * Deletes a ref, under its update lock, and then the directories it leaves
   * empty (up to the namespace's own), so that `a` can be created once the
   * last `a/...` is gone. A directory that a writer fills meanwhile stays
   * (rmdir fails on it), and a writer whose directory goes retries (`write`).
   * `held`: the caller already holds the ref's update lock (a transaction).
   */
  async delete(name: string, ns = 'heads', opts: { held?: boolean } = {}): Promise<void> {
    const p = this.path(name, ns);
    const release = opts.held ? async () => {} : await this.lock(name, ns);
    try {
      try {
        await rm(p);
      } catch (err) {
        const shown = ns === 'heads' ? name : `${ns}/${name}`;
        if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) throw notFound(`no such ref: ${shown}`, { ref: shown });
        if (isErrno(err, 'ERR_FS_EISDIR')) throw notFound(`no such ref: ${shown} (${shown}/ is a directory of refs)`, { ref: shown });
        throw err;
      }
      const top = join(this.refsDir, ns);
      for (let dir = dirname(p); dir.startsWith(`${top}/`); dir = dirname(dir)) {
        try {
          await rmdir(dir);
        } catch (err) {
          if (isErrno(err, 'ENOTEMPTY') || isErrno(err, 'EEXIST') || isErrno(err, 'ENOENT')) break;
          throw err;
        }
      }
    } finally {
      await release();
    }
  }

  /**
   * All refs of a namespace, sorted by name. A ref file that does not hold an
   * id (E_CORRUPT) stops the listing, unless `onCorrupt` takes it.
   */
  async list(ns = 'heads', opts: { onCorrupt?: (name: string, err: TroveError) => void } = {}): Promise<{ name: string; id: ObjectId }[]> {
    const base = join(this.refsDir, ns);
    const out: { name: string; id: ObjectId }[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch (err) {
        if (isErrno(err, 'ENOENT')) return;
        throw err;
      }
      for (const e of entries) {
        const name = prefix ? `${prefix}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(join(dir, e.name), name);
        else if (e.isFile() && refNameProblem(name) === null) {
          try {
            const id = this.readSync(name, ns);
            if (id) out.push({ name, id });
          } catch (err) {
            if (!(isTroveError(err, 'E_CORRUPT') && opts.onCorrupt)) throw err;
            opts.onCorrupt(name, err);
          }
        }
      }
    };
    await walk(base, '');
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
