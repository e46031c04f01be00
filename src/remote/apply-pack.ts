import { chmodSync, closeSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { badObject, corrupt } from '../util/errors.js';
import { decodeCommit, decodeTree } from '../format/codec.js';
import { MAX_META, type TreeEntry } from '../format/types.js';
import { hashBytes, newHasher, type ObjectId } from '../util/hash.js';
import { type ObjectFiles, objectFileMode } from '../store/types.js';
import { crashPoint } from '../util/crash-point.js';
import { checkPresent, readStored, type ReferencedKind, storedAlike, storedCommitTree, storedTreeEntries } from './present.js';
import type { DiskSpace } from './disk-space.js';
import type { InstallTarget } from './install.js';
import { ByteReader, type FrameHeader, PATCH_MAX, type PackKind, readFrameHeader, readPackHeader } from './pack.js';
import { applyPatch } from './patch.js';

/** Blobs up to this size are read into memory; larger ones stream to a temp file. */
const SMALL_BLOB = 1 << 20;

/** Options of applying a pack; defaults as documented on each field. */
export interface ApplyPackInit {
  /** Where objects go. */
  store: InstallTarget & ObjectFiles;
  /** The commit the pack brings in: the pack must hold it, and every object in it must be reachable from it. */
  target: ObjectId;
  /**
   * A stored commit the pack was made from (a delta's `from`), with the ids
   * quarantine/ records: the target's trees are read beside its trees, so
   * that what both name alike is known stored without looking at it
   * (`storedAlike`; default: none, every stored object named is checked).
   */
  base?: { commit: ObjectId; quarantined: ReadonlySet<ObjectId> };
  /** Free space of the repository: each object's length is reserved before it is written (default: not checked). */
  space?: DiskSpace;
  /** Called after each object is stored (or found already stored), once the whole pack verified. */
  onObject?: (kind: PackKind, size: number, id: ObjectId) => void;
}

export interface ApplyPackResult {
  /** Objects in the pack. */
  objects: number;
  /** Objects that were new and got installed. */
  installed: number;
  /** Uncompressed object bytes in the pack. */
  bytes: number;
  /** Of those, bytes of the objects installed. */
  installedBytes: number;
}

/** An object of the pack, verified and written to a temp file (unless the store had it), not installed yet. */
interface Staged {
  id: ObjectId;
  kind: PackKind;
  size: number;
  /** The temp file; undefined when the store already holds the object. */
  tmp?: string;
  /** Objects of the pack it references (a tree's entries, a commit's tree and parents). */
  refs: ObjectId[];
  /** A blob first named by an executable file entry. */
  executable?: boolean;
  /** A tree's entries that are not symlinks, with their modes (to find what the pack's commits show to other users). */
  entries?: { name: string; id: ObjectId; kind: 'file' | 'dir'; mode: number; size: number }[];
  /** A tree's entries naming objects not earlier in the pack, which must be stored as what they are named as (checked once the pack is read). */
  stored?: TreeEntry[];
  /** A commit's root tree and whether other users may search it. */
  root?: { tree: ObjectId; open: boolean };
}

/**
 * The object a patch frame gives: its delta applied to the stored base
 * (read and checked against its id). A base this store does not have, a
 * delta that does not apply, or a result larger than a patch may give fails
 * the pack (E_CORRUPT); the result is then checked against the frame's id
 * like any object.
 */
async function patched(store: ObjectFiles & InstallTarget, h: FrameHeader, r: ByteReader): Promise<Buffer> {
  const base = h.base!;
  if (h.length > PATCH_MAX) throw corrupt(`pack: the patch of ${h.id} is larger than ${PATCH_MAX} bytes`);
  const delta = await r.read(h.length);
  const source = readStored(store, base);
  if (!source) throw corrupt(`pack: ${h.id} is a patch against ${base}, which is not stored here`);
  try {
    return applyPatch(source, delta, h.kind === 'tree' ? MAX_META : PATCH_MAX);
  } catch (err) {
    throw corrupt(`pack: the patch of ${h.id} against ${base}: ${(err as Error).message}`);
  }
}

/**
 * Applies an uncompressed pack stream in two steps. First every object is
 * read in order, re-hashed against its id and written to a temp file (not
 * into the store); trees and commits must decode, and everything an object
 * references must be earlier in the pack or already stored, as what it is
 * referenced as. A kind claimed by the pack must agree with how later
 * objects reference it. Then, once the stream ended where its header says,
 * the pack must hold `target` as a commit and nothing that `target` does
 * not reach: an object nothing asked for refuses the whole pack. Only then
 * are the new objects installed, in pack order (everything an object
 * references before it), so the store keeps its invariant. On any error
 * every temp file is removed and nothing from the pack is stored.
 */
export async function applyPack(init: ApplyPackInit, source: AsyncIterable<Buffer>): Promise<ApplyPackResult> {
  const { store, space } = init;
  const r = new ByteReader(source);
  const { count, patches } = await readPackHeader(r);
  const staged = new Map<ObjectId, Staged>();
  const result: ApplyPackResult = { objects: 0, installed: 0, bytes: 0, installedBytes: 0 };

  /** Throws unless `id`, referenced as a `kind` by `from`, is earlier in the pack or stored. */
  const requireInstalled = (id: ObjectId, kind: PackKind, from: ObjectId, size?: number): void => {
    const s = staged.get(id);
    if (s !== undefined) {
      if (s.kind !== kind) throw badObject(`pack: ${from} references ${id} as a ${kind}, but the pack sent it as a ${s.kind}`);
      if (size !== undefined && s.size !== size) throw badObject(`pack: ${from} says blob ${id} has ${size} bytes, the pack sent ${s.size}`);
      return;
    }
    // Already stored: it must be what the pack references it as (a stored blob is no tree).
    requireStored(store, id, kind, size, `pack: ${from}`);
  };

  try {
    for (;;) {
      const h = await readFrameHeader(r, patches);
      if (!h) break;
      if (++result.objects > count) throw corrupt(`pack holds more objects than the ${count} announced`);
      if (staged.has(h.id)) throw corrupt(`pack holds ${h.id} twice`);
      const { id, kind } = h;
      const have = store.hasSync(id);
      if (kind === 'blob' && h.base === undefined && h.length > SMALL_BLOB) {
        // Streamed to a temp file, hashed on the way: never held in memory.
        result.bytes += h.length;
        staged.set(id, { id, kind, size: h.length, refs: [], tmp: await stageStream(init, id, r.chunks(h.length), h.length, have) });
        continue;
      }
      if (kind !== 'blob' && h.base === undefined && h.length > MAX_META) throw corrupt(`pack: ${kind} ${id} is larger than ${MAX_META} bytes`);
      const bytes = h.base === undefined ? await r.read(h.length) : await patched(store, h, r);
      result.bytes += bytes.length;
      const actual = hashBytes(bytes);
      if (actual !== id) throw corrupt(`pack: wrong bytes for object ${id} (they hash to ${actual})`);
      const refs: ObjectId[] = [];
      const extra: Pick<Staged, 'entries' | 'root' | 'stored'> = {};
      if (kind === 'tree') {
        const treeEntries = decodeTree(bytes).entries;
        extra.entries = treeEntries.flatMap((e) => (e.kind === 'symlink' ? [] : [{ name: e.name, id: e.id!, kind: e.kind, mode: e.mode, size: e.size }]));
        extra.stored = [];
        for (const e of treeEntries) {
          if (e.kind === 'symlink') continue;
          const child = staged.get(e.id!);
          if (!child) {
            extra.stored.push(e);
            continue;
          }
          requireInstalled(e.id!, e.kind === 'dir' ? 'tree' : 'blob', id, e.kind === 'file' ? e.size : undefined);
          refs.push(e.id!);
          // The first tree to name a blob of this pack decides whether its object file is executable.
          if (e.kind === 'file' && child.executable === undefined) child.executable = (e.mode & 0o111) !== 0;
        }
      } else if (kind === 'commit') {
        const commit = decodeCommit(bytes);
        requireInstalled(commit.tree, 'tree', id);
        for (const p of commit.parents) requireInstalled(p, 'commit', id);
        for (const c of [commit.tree, ...commit.parents]) if (staged.has(c)) refs.push(c);
        extra.root = { tree: commit.tree, open: (commit.root.mode & 0o001) !== 0 };
      }
      let tmp: string | undefined;
      if (!have) {
        space?.reserve(bytes.length, `object ${id} of the pack`);
        tmp = store.tempPath('pack');
        // Private until the whole pack shows otherwise (docs/security.md, "Private files").
        writeFileSync(tmp, bytes, { mode: objectFileMode(kind === 'blob' ? { private: true } : undefined), flag: 'wx' });
        space?.wrote(bytes.length, `object ${id} of the pack`, true);
      }
      staged.set(id, { id, kind, size: bytes.length, refs, tmp, ...extra });
    }
    if (result.objects !== count) throw corrupt(`pack ended after ${result.objects} of ${count} objects`);
    if (!(await r.atEnd())) throw corrupt('pack has trailing bytes after its end marker');
    checkStoredReferences(store, staged, init.target, init.base);

    const top = staged.get(init.target);
    if (top?.kind !== 'commit') throw badObject(`pack does not hold commit ${init.target}`);
    // Everything in the pack must be reachable from the target: nothing is stored that the pull did not ask for.
    const reached = new Set<ObjectId>([init.target]);
    const todo = [init.target];
    while (todo.length) {
      for (const c of staged.get(todo.pop()!)!.refs) {
        if (!reached.has(c)) {
          reached.add(c);
          todo.push(c);
        }
      }
    }
    if (reached.size !== staged.size) {
      const extra = [...staged.keys()].filter((id) => !reached.has(id));
      throw corrupt(`pack holds ${extra.length} object(s) that commit ${init.target} does not reach (${extra[0]}${extra.length > 1 ? ', ...' : ''}); the pack is refused and nothing from it is stored`);
    }

    // Pack order is install order: everything an object references is installed before it.
    const shown = shownBlobs(staged);
    for (const s of staged.values()) {
      if (s.tmp !== undefined && !store.hasSync(s.id)) {
        if (s.kind === 'blob' && (s.executable || shown.has(s.id))) chmodSync(s.tmp, objectFileMode({ executable: s.executable === true, private: !shown.has(s.id) }));
        store.installSync(s.tmp, s.id);
        s.tmp = undefined;
        crashPoint('pull:install');
        result.installed++;
        result.installedBytes += s.size;
      }
      init.onObject?.(s.kind, s.size, s.id);
    }
    return result;
  } finally {
    for (const s of staged.values()) if (s.tmp !== undefined) rmSync(s.tmp, { force: true });
    // A pack refused halfway: the decompressor behind the reader is stopped, not left waiting.
    await r.close().catch(() => undefined);
  }
}

/**
 * Throws unless every object a tree of the pack names without sending it
 * earlier is stored as what the tree names it as (checkPresent). Trees are
 * walked from the target's root beside the stored tree at the same path in
 * `base`'s; an entry that stored tree names alike needs no check (see
 * storedTreeEntries). Trees the walk does not reach (a parent commit's) are
 * checked entry by entry.
 */
function checkStoredReferences(store: ObjectFiles, staged: Map<ObjectId, Staged>, target: ObjectId, base: ApplyPackInit['base']): void {
  const quarantined = base?.quarantined ?? new Set<ObjectId>();
  const done = new Set<ObjectId>();
  const check = (tree: ObjectId, baseTree: ObjectId | undefined): void => {
    const stack: [ObjectId, ObjectId | undefined][] = [[tree, baseTree]];
    while (stack.length > 0) {
      const [id, b] = stack.pop()!;
      const s = staged.get(id);
      if (s?.kind !== 'tree' || done.has(id)) continue;
      done.add(id);
      const beside = b === undefined ? undefined : storedTreeEntries(store, b);
      for (const e of s.stored ?? []) {
        if (storedAlike(quarantined, beside?.get(e.name), e)) continue;
        requireStored(store, e.id!, e.kind === 'dir' ? 'tree' : 'blob', e.kind === 'file' ? e.size : undefined, `pack: ${id}`);
      }
      for (const e of s.entries ?? []) {
        if (e.kind !== 'dir' || !staged.has(e.id)) continue;
        const under = beside?.get(e.name);
        stack.push([e.id, under?.kind === 'dir' ? under.id : undefined]);
      }
    }
  };
  const root = staged.get(target)?.root?.tree;
  if (root !== undefined) check(root, base === undefined ? undefined : storedCommitTree(store, base.commit));
  for (const s of staged.values()) if (s.kind === 'tree') check(s.id, undefined);
}

/**
 * Throws unless `id`, which `from` references as a `kind` (of `size` bytes,
 * for a blob) and which is not earlier in the pack, is stored as that
 * (checkPresent): E_CORRUPT when it is not stored at all.
 */
function requireStored(store: ObjectFiles, id: ObjectId, kind: ReferencedKind, size: number | undefined, from: string): void {
  if (!checkPresent(store, id, kind, size, from)) throw corrupt(`${from} references ${kind} ${id}, which is neither earlier in the pack nor in the store`);
}

/**
 * The blobs of the pack its commits show to other users: a file readable by
 * others below directories all searchable by others, walked from the
 * commits' roots through the pack's own trees. Those are installed public,
 * every other blob private.
 */
function shownBlobs(staged: Map<ObjectId, Staged>): Set<ObjectId> {
  const shown = new Set<ObjectId>();
  const seen = new Set<ObjectId>();
  const stack: ObjectId[] = [];
  for (const s of staged.values()) if (s.root?.open) stack.push(s.root.tree);
  while (stack.length > 0) {
    const tree = stack.pop()!;
    if (seen.has(tree)) continue;
    seen.add(tree);
    for (const e of staged.get(tree)?.entries ?? []) {
      if (e.kind === 'dir') {
        if ((e.mode & 0o001) !== 0) stack.push(e.id);
      } else if ((e.mode & 0o004) !== 0) shown.add(e.id);
    }
  }
  return shown;
}

/**
 * Writes a large blob of the pack to a temp file, hashing on the way; the
 * temp path, or undefined when the store already has the blob (its bytes are
 * then still read and checked, so a pack cannot carry anything unverified).
 */
async function stageStream(init: ApplyPackInit, id: ObjectId, chunks: AsyncIterable<Buffer>, size: number, have: boolean): Promise<string | undefined> {
  const { store, space } = init;
  const what = `object ${id} of the pack`;
  if (!have) space?.reserve(size, what);
  const tmp = have ? undefined : store.tempPath('pack');
  const fd = tmp === undefined ? undefined : openSync(tmp, 'wx', objectFileMode({ private: true }));
  let written = 0;
  try {
    const h = newHasher();
    for await (const c of chunks) {
      h.update(c);
      if (fd !== undefined) {
        for (let off = 0; off < c.length; ) off += writeSync(fd, c, off);
        written += c.length;
        space?.wrote(c.length, what, true);
      }
    }
    const actual = h.digest('hex');
    if (actual !== id) throw corrupt(`pack: wrong bytes for object ${id} (they hash to ${actual})`);
    return tmp;
  } catch (err) {
    if (tmp !== undefined) rmSync(tmp, { force: true });
    throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
    if (!have) space?.release(size - written);
  }
}
