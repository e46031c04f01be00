import { badObject, corrupt } from '../errors.js';
import { decodeCommit, decodeTree } from '../format/codec.js';
import { hashBytes, type ObjectId } from '../hash/index.js';
import type { DiskStore } from '../store/disk.js';
import { installStream, installVerified } from './install.js';
import { ByteReader, type PackKind, readFrameHeader, readPackHeader } from './pack.js';

/** Blobs up to this size are read into memory; larger ones stream to a temp file. */
const SMALL_BLOB = 1 << 20;
const MAX_META = 64 << 20;

/** Options of applying a pack; defaults as documented on each field. */
export interface ApplyPackInit {
  store: DiskStore;
  /** Called after each object is verified and stored. */
  onObject?: (kind: PackKind, size: number) => void;
  /** Object writes in flight at once (default 32). */
  writes?: number;
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
 * Installs the objects of an uncompressed pack stream as they arrive. Each
 * object is re-hashed against its id; trees and commits must decode, and an
 * object is installed only after everything it references is installed (from
 * earlier in the pack) or was already in the store. A kind claimed by the pack
 * must agree with how later objects reference it. On any error nothing
 * unverified is stored and the store keeps its invariant.
 */
export async function applyPack(init: ApplyPackInit, source: AsyncIterable<Buffer>): Promise<ApplyPackResult> {
  const { store } = init;
  const r = new ByteReader(source);
  const count = await readPackHeader(r);
  const kinds = new Map<ObjectId, PackKind>();
  const installs = new Map<ObjectId, Promise<void>>();
  const result: ApplyPackResult = { objects: 0, installed: 0, bytes: 0, installedBytes: 0 };
  const limit = init.writes ?? 32;
  let active = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;

  const track = (id: ObjectId, kind: PackKind, size: number, job: () => Promise<boolean>) => {
    active++;
    const p = job().then(
      (installed) => {
        if (installed) {
          result.installed++;
          result.installedBytes += size;
        }
        init.onObject?.(kind, size);
      },
      (err) => {
        failure ??= err;
        throw err;
      },
    );
    p.catch(() => {}).finally(() => {
      active--;
      wake?.();
    });
    installs.set(id, p);
  };

  /** What must be installed before something referencing `id` as `kind`; checked as of now. */
  const dependency = (id: ObjectId, kind: PackKind, from: ObjectId): Promise<unknown> => {
    const k = kinds.get(id);
    if (k !== undefined) {
      if (k !== kind) throw badObject(`pack: ${from} references ${id} as a ${kind}, but the pack sent it as a ${k}`);
      return installs.get(id)!;
    }
    const p = store.has(id).then((has) => {
      if (!has) throw corrupt(`pack: ${from} references ${kind} ${id}, which is neither earlier in the pack nor in the store`);
    });
    p.catch(() => {}); // awaited by the referencing object's job; never left unhandled
    return p;
  };

  const putIfNew = async (id: ObjectId, bytes: Uint8Array): Promise<boolean> => {
    if (await store.has(id)) return false;
    await installVerified(store, id, bytes);
    return true;
  };

  try {
    for (;;) {
      if (failure !== undefined) throw failure;
      while (active >= limit) await new Promise<void>((res) => (wake = res));
      const h = await readFrameHeader(r);
      if (!h) break;
      if (++result.objects > count) throw corrupt(`pack holds more objects than the ${count} announced`);
      if (kinds.has(h.id)) throw corrupt(`pack holds ${h.id} twice`);
      result.bytes += h.length;
      if (h.kind === 'blob' && h.length > SMALL_BLOB) {
        // Streamed in order: the reader cannot move on until these bytes are consumed.
        if (await store.has(h.id)) {
          for await (const _ of r.chunks(h.length)); // eslint-disable-line @typescript-eslint/no-unused-vars
          track(h.id, 'blob', h.length, async () => false);
        } else {
          await installStream(store, h.id, r.chunks(h.length), h.length, 'pack');
          track(h.id, 'blob', h.length, async () => true);
        }
        kinds.set(h.id, 'blob');
        continue;
      }
      if (h.kind !== 'blob' && h.length > MAX_META) throw corrupt(`pack: ${h.kind} ${h.id} is larger than ${MAX_META} bytes`);
      const bytes = await r.read(h.length);
      const actual = hashBytes(bytes);
      if (actual !== h.id) throw corrupt(`pack: wrong bytes for object ${h.id} (they hash to ${actual})`);
      const id = h.id;
      if (h.kind === 'blob') {
        track(id, 'blob', bytes.length, () => putIfNew(id, bytes));
      } else if (h.kind === 'tree') {
        const tree = decodeTree(bytes);
        const deps = tree.entries.filter((e) => e.kind !== 'symlink').map((e) => dependency(e.id!, e.kind === 'dir' ? 'tree' : 'blob', id));
        track(id, 'tree', bytes.length, async () => {
          await Promise.all(deps);
          return putIfNew(id, bytes);
        });
      } else {
        const commit = decodeCommit(bytes);
        const deps = [dependency(commit.tree, 'tree', id), ...commit.parents.map((p) => dependency(p, 'commit', id))];
        track(id, 'commit', bytes.length, async () => {
          await Promise.all(deps);
          return putIfNew(id, bytes);
        });
      }
      kinds.set(id, h.kind);
    }
    if (result.objects !== count) throw corrupt(`pack ended after ${result.objects} of ${count} objects`);
    if (!(await r.atEnd())) throw corrupt('pack has trailing bytes after its end marker');
    await Promise.all(installs.values());
    return result;
  } catch (err) {
    await Promise.allSettled(installs.values());
    throw failure ?? err;
  }
}
