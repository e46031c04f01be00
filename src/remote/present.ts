import { readFileSync, statSync } from 'node:fs';
import { badObject, corrupt, isErrno } from '../util/errors.js';
import { decodeCommit, decodeTree, readStoredTreeIndex, type StoredEntry } from '../format/codec.js';
import { hashBytes, type ObjectId } from '../util/hash.js';
import type { TreeEntry } from '../format/types.js';
import type { ObjectFiles } from '../store/types.js';

/** The kinds a remote can reference an object as. */
export type ReferencedKind = 'commit' | 'tree' | 'blob';

/**
 * Throws unless the object `id` already in the store is what a remote
 * references it as: a commit or tree must decode as one (its bytes are read
 * and re-hashed), a blob must have the size its tree gives (`size`, when
 * known). A pull skips present objects with everything under them, so
 * without this a remote could name, say, a blob the client has as a
 * directory, and leave a tree that points at a blob (E_BAD_OBJECT, exit 5,
 * nothing is skipped unchecked). A missing object is not checked (false).
 */
export function checkPresent(store: Pick<ObjectFiles, 'pathOf'>, id: ObjectId, kind: ReferencedKind, size: number | undefined, where: string): boolean {
  const path = store.pathOf(id);
  if (kind === 'blob') {
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return false;
    if (size !== undefined && st.size !== size) {
      throw badObject(`${where} references blob ${id} of ${size} bytes, but the stored object with that id has ${st.size}`);
    }
    return true;
  }
  const bytes = readStored(store, id);
  if (!bytes) return false;
  try {
    if (kind === 'commit') decodeCommit(bytes);
    else decodeTree(bytes);
  } catch {
    throw badObject(`${where} references ${id} as a ${kind}, but the stored object with that id is not a ${kind}`);
  }
  return true;
}

/** A stored object's bytes, checked against its id (E_CORRUPT otherwise), or undefined when it is not stored. */
export function readStored(store: Pick<ObjectFiles, 'pathOf'>, id: ObjectId): Buffer | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(store.pathOf(id));
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  const actual = hashBytes(bytes);
  if (actual !== id) throw corrupt(`stored object ${id} is corrupt (its bytes hash to ${actual}); run trove fsck --repair`);
  return bytes;
}

/**
 * A stored tree's entries by name, or undefined when it is not stored: the
 * stored tree a fetched one is read beside (see `storedAlike`).
 */
export function storedTreeEntries(store: Pick<ObjectFiles, 'pathOf'>, id: ObjectId): Map<string, StoredEntry> | undefined {
  return asHint(() => {
    const bytes = readStored(store, id);
    return bytes ? readStoredTreeIndex(bytes) : undefined;
  });
}

/** The root tree of stored commit `id`, or undefined when it is not stored. */
export function storedCommitTree(store: Pick<ObjectFiles, 'pathOf'>, id: ObjectId): ObjectId | undefined {
  return asHint(() => {
    const bytes = readStored(store, id);
    return bytes ? decodeCommit(bytes).tree : undefined;
  });
}

/**
 * A base is only a hint: one that cannot be read (a corrupt object of the
 * generation being left, say) means no base, never a failed pull.
 */
function asHint<T>(read: () => T | undefined): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/**
 * Stored commits that fetched ones are read beside, and what the store says
 * is no longer under them.
 */
export interface Bases {
  /** A fetched commit to a stored commit likely to share most trees with it (the one a ref or profile held before). */
  commits: ReadonlyMap<ObjectId, ObjectId>;
  /** Ids with a record in quarantine/ (`quarantinedIds`), read under the same lock as the pull. */
  quarantined: ReadonlySet<ObjectId>;
}

/**
 * Whether entry `e` of a fetched tree is known stored, as what it is
 * referenced as, without looking at it: `stored`, the entry of the same name
 * in a stored tree, names the same object the same way (a directory with the
 * same id, a file with the same id and size), and quarantine/ has no record
 * of it. The store keeps that sound: an object is installed only after
 * everything it references (pulls, packs, commits), gc deletes what
 * references before what is referenced (an interrupted gc leaves no tree
 * without its children), and the one other way an object leaves,
 * `fsck --repair`, writes its quarantine/ record before it moves it. The
 * records are read when the pull starts; an object `fsck --repair`
 * quarantines while the pull runs (both take the shared lock) may still be
 * taken as stored, and is then like any object of a stored commit that fsck
 * quarantines: recorded, reported by fsck, fetched again by the next pull
 * or `fsck --repair`. An object damaged or deleted outside trove is not
 * noticed here, as it was not noticed in the base either: `fsck` finds it,
 * `fsck --repair` fetches it. Bases are commits the client chose (a ref's
 * previous tip, the active generation), never one a server names.
 */
export function storedAlike(quarantined: ReadonlySet<ObjectId>, stored: StoredEntry | undefined, e: Pick<TreeEntry, 'kind' | 'id' | 'size'>): boolean {
  if (stored === undefined || stored.kind !== e.kind || stored.id !== e.id || quarantined.has(e.id!)) return false;
  return e.kind === 'dir' || (e.kind === 'file' && stored.size === e.size);
}

