import { chmodSync, statSync } from 'node:fs';
import { badObject, corrupt } from '../util/errors.js';
import { decodeCommit, decodeTree } from '../format/codec.js';
import { hashBytes, type ObjectId } from '../util/hash.js';
import { isPublicMode, type ObjectFiles, objectFileMode, publishedMode } from '../store/types.js';
import { checkPresent } from './present.js';
import { installStream, installVerifiedSync, type InstallTarget } from './install.js';
import { ByteReader, type PackKind, readFrameHeader, readPackHeader } from './pack.js';

/** Blobs up to this size are read into memory; larger ones stream to a temp file. */
const SMALL_BLOB = 1 << 20;
const MAX_META = 64 << 20;

/** Options of applying a pack; defaults as documented on each field. */
export interface ApplyPackInit {
  /** Where objects go; `pathOf` gives a blob installed from this pack mode 0755 when the first tree naming it marks it executable. */
  store: InstallTarget & ObjectFiles;
  /** Called after each object is verified and stored (or found already stored). */
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

/**
 * Installs the objects of an uncompressed pack stream as they arrive, in
 * order. Each object is re-hashed against its id; trees and commits must
 * decode, and an object is installed only after everything it references is
 * installed (from earlier in the pack) or was already in the store. A kind
 * claimed by the pack must agree with how later objects reference it. On any
 * error nothing unverified is stored and the store keeps its invariant.
 */
export async function applyPack(init: ApplyPackInit, source: AsyncIterable<Buffer>): Promise<ApplyPackResult> {
  const { store } = init;
  const r = new ByteReader(source);
  const count = await readPackHeader(r);
  const kinds = new Map<ObjectId, PackKind>();
  // Blobs this pack installed (private, mode 0600) that no tree has referenced yet: the
  // first tree to reference one decides whether its object file is executable.
  const unclaimed = new Set<ObjectId>();
  // Every blob this pack installed, and the trees and commit roots it carries: once the pack
  // is in, the blobs its commits show to other users are published (docs/security.md, "Private files").
  const installedBlobs = new Set<ObjectId>();
  const packTrees = new Map<ObjectId, { id: ObjectId; kind: 'file' | 'dir'; mode: number }[]>();
  const roots: { tree: ObjectId; open: boolean }[] = [];
  const result: ApplyPackResult = { objects: 0, installed: 0, bytes: 0, installedBytes: 0 };

  /** Throws unless `id`, referenced as a `kind` by `from`, is installed. */
  const requireInstalled = (id: ObjectId, kind: PackKind, from: ObjectId, size?: number): void => {
    const k = kinds.get(id);
    if (k !== undefined) {
      if (k !== kind) throw badObject(`pack: ${from} references ${id} as a ${kind}, but the pack sent it as a ${k}`);
      return;
    }
    // Already stored: it must be what the pack references it as (a stored blob is no tree).
    if (!checkPresent(store, id, kind, size, `pack: ${from}`)) {
      throw corrupt(`pack: ${from} references ${kind} ${id}, which is neither earlier in the pack nor in the store`);
    }
  };
  const done = (id: ObjectId, kind: PackKind, size: number, installed: boolean) => {
    kinds.set(id, kind);
    if (installed) {
      if (kind === 'blob') {
        unclaimed.add(id);
        installedBlobs.add(id);
      }
      result.installed++;
      result.installedBytes += size;
    }
    init.onObject?.(kind, size, id);
  };

  for (;;) {
    const h = await readFrameHeader(r);
    if (!h) break;
    if (++result.objects > count) throw corrupt(`pack holds more objects than the ${count} announced`);
    if (kinds.has(h.id)) throw corrupt(`pack holds ${h.id} twice`);
    result.bytes += h.length;
    const { id, kind } = h;
    if (kind === 'blob' && h.length > SMALL_BLOB) {
      // Streamed to a temp file, hashed on the way: never held in memory.
      if (store.hasSync(id)) {
        for await (const chunk of r.chunks(h.length)) void chunk;
        done(id, kind, h.length, false);
      } else {
        await installStream(store, id, r.chunks(h.length), h.length, 'pack', { private: true });
        done(id, kind, h.length, true);
      }
      continue;
    }
    if (kind !== 'blob' && h.length > MAX_META) throw corrupt(`pack: ${kind} ${id} is larger than ${MAX_META} bytes`);
    const bytes = await r.read(h.length);
    const actual = hashBytes(bytes);
    if (actual !== id) throw corrupt(`pack: wrong bytes for object ${id} (they hash to ${actual})`);
    if (kind === 'tree') {
      const entries = decodeTree(bytes).entries;
      for (const e of entries) if (e.kind !== 'symlink') requireInstalled(e.id!, e.kind === 'dir' ? 'tree' : 'blob', id, e.kind === 'file' ? e.size : undefined);
      for (const e of entries) {
        if (e.kind === 'file' && unclaimed.delete(e.id!) && (e.mode & 0o111) !== 0) chmodSync(store.pathOf(e.id!), objectFileMode({ executable: true, private: true }));
      }
      packTrees.set(id, entries.flatMap((e) => (e.kind === 'symlink' ? [] : [{ id: e.id!, kind: e.kind, mode: e.mode }])));
    } else if (kind === 'commit') {
      const commit = decodeCommit(bytes);
      requireInstalled(commit.tree, 'tree', id);
      for (const p of commit.parents) requireInstalled(p, 'commit', id);
      roots.push({ tree: commit.tree, open: (commit.root.mode & 0o001) !== 0 });
    }
    const fresh = !store.hasSync(id);
    if (fresh) installVerifiedSync(store, id, bytes, kind === 'blob' ? { private: true } : undefined);
    done(id, kind, bytes.length, fresh);
  }
  if (result.objects !== count) throw corrupt(`pack ended after ${result.objects} of ${count} objects`);
  if (!(await r.atEnd())) throw corrupt('pack has trailing bytes after its end marker');
  publishShown(store, roots, packTrees, installedBlobs);
  return result;
}

/**
 * Publishes the blobs a pack installed (private) that its commits show to
 * other users: a file readable by others below directories all searchable
 * by others, walked from the commits' roots through the pack's own trees.
 * Just installed, no checkout links them yet, so a chmod is enough.
 */
function publishShown(
  store: ObjectFiles,
  roots: { tree: ObjectId; open: boolean }[],
  trees: Map<ObjectId, { id: ObjectId; kind: 'file' | 'dir'; mode: number }[]>,
  installed: Set<ObjectId>,
): void {
  const seen = new Set<ObjectId>();
  const stack = roots.filter((r) => r.open).map((r) => r.tree);
  while (stack.length > 0) {
    const tree = stack.pop()!;
    if (seen.has(tree)) continue;
    seen.add(tree);
    for (const e of trees.get(tree) ?? []) {
      if (e.kind === 'dir') {
        if ((e.mode & 0o001) !== 0) stack.push(e.id);
      } else if ((e.mode & 0o004) !== 0 && installed.delete(e.id)) {
        const path = store.pathOf(e.id);
        const mode = statSync(path).mode;
        if (!isPublicMode(mode)) chmodSync(path, publishedMode(mode));
      }
    }
  }
}
