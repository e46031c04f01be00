import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gunzipSync, gzipSync } from 'node:zlib';
import { corrupt } from '../util/errors.js';
import { decodeCommit, decodeTree } from '../format/codec.js';
import { MAX_META } from '../format/types.js';
import { hashBytes, type ObjectId } from '../util/hash.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import type { Repo } from '../repo/repo.js';
import { frameHeader, PACK_END, PackBuffer, packHeader } from './pack.js';
import { treesPackPath } from './layout.js';
import type { Transport } from './transport.js';

/**
 * Trees packs: one file per package commit a server's index lists, holding
 * the commit and every tree under it, and its history's (no blob), so that
 * a client learns a package's directories in one request instead of one
 * per tree, level after level. The index gives each pack's size (`IndexEntry.treesPack`); the pack
 * itself is not trusted: every object in it is hashed against its id, and a
 * client takes from it only what its walk from the commit reaches.
 */

/** Largest trees pack a client fetches or inflates, whatever the index says; a larger one is not written. */
export const MAX_TREES_PACK = 64 << 20;

const gunzipAsync = promisify(gunzip);

/** Packs up to this size (compressed) are inflated in the calling thread; larger ones in the thread pool. */
const INFLATE_HERE = 1 << 20;

type MetaKind = 'commit' | 'tree';

/**
 * The commits and trees `commit` reaches through its tree and its parents,
 * each once with its kind and bytes, as far as `bytesOf` has them (an id it
 * gives undefined for is not gone into): the one walk of a pack's writer and
 * of its reader.
 */
function reach(commit: ObjectId, bytesOf: (id: ObjectId, kind: MetaKind) => Buffer | undefined): Map<ObjectId, { kind: MetaKind; bytes: Buffer }> {
  const out = new Map<ObjectId, { kind: MetaKind; bytes: Buffer }>();
  const stack: [ObjectId, MetaKind][] = [[commit, 'commit']];
  while (stack.length > 0) {
    const [id, kind] = stack.pop()!;
    if (out.has(id)) continue;
    const bytes = bytesOf(id, kind);
    if (bytes === undefined) continue;
    out.set(id, { kind, bytes });
    if (kind === 'commit') {
      const c = decodeCommit(bytes);
      stack.push([c.tree, 'tree']);
      for (const p of c.parents) stack.push([p, 'commit']);
    } else {
      for (const e of decodeTree(bytes).entries) if (e.kind === 'dir') stack.push([e.id!, 'tree']);
    }
  }
  return out;
}

/**
 * Writes `packages/<commit>.trees` from the store and returns its size: the
 * commit, its trees, and the ancestors stored here with theirs (a pull keeps
 * a commit's history), each read verified once, in the order the walk met
 * them (a reader takes a pack whole). Undefined, writing nothing, when the
 * pack would pass MAX_TREES_PACK (inflated or not), which clients refuse.
 */
export async function writeTreesPack(repo: Repo, commit: ObjectId): Promise<number | undefined> {
  // A tree the server lacks fails the summary (getSync); a parent it lacks ends the history there.
  const metas = reach(commit, (id, kind) => (kind === 'commit' && id !== commit && !repo.store.hasSync(id) ? undefined : repo.store.getSync(id)));
  let raw = 12 + PACK_END.length;
  for (const m of metas.values()) raw += 41 + m.bytes.length;
  if (raw > MAX_TREES_PACK) return undefined;
  const parts = [packHeader(metas.size, false)];
  for (const [id, m] of metas) parts.push(frameHeader(m.kind, id, m.bytes.length), m.bytes);
  parts.push(PACK_END);
  const bytes = gzipSync(Buffer.concat(parts, raw));
  if (bytes.length > MAX_TREES_PACK) return undefined;
  await writeFileAtomic(join(repo.path, treesPackPath(commit)), bytes, { tmpDir: repo.tmpDir, tag: 'file' });
  return bytes.length;
}

/**
 * The objects of a fetched trees pack that its commit reaches (the commit
 * and the trees under it, each verified against its id and decoded):
 * E_CORRUPT naming `where` when the pack does not inflate, is badly framed,
 * holds a blob or a patch, an object larger than a tree may be, an object
 * whose bytes do not hash to its id, or lacks its commit. Objects the commit
 * does not reach are dropped.
 */
export async function readTreesPack(wire: Buffer, commit: ObjectId, where: string): Promise<Map<ObjectId, Buffer>> {
  let raw: Buffer;
  try {
    // A package's pack (tens of KiB) inflates in less time than a trip through the thread pool takes.
    raw = wire.length <= INFLATE_HERE ? gunzipSync(wire, { maxOutputLength: MAX_TREES_PACK }) : await gunzipAsync(wire, { maxOutputLength: MAX_TREES_PACK });
  } catch (err) {
    throw corrupt(`${where}: trees pack does not inflate (${(err as Error).message})`);
  }
  const r = new PackBuffer(raw);
  const all = new Map<ObjectId, Buffer>();
  try {
    const { count, patches } = r.header();
    if (patches) throw corrupt('it holds patches');
    for (;;) {
      const h = r.frame();
      if (!h) break;
      if (h.kind === 'blob') throw corrupt(`it holds blob ${h.id}`);
      if (h.length > MAX_META) throw corrupt(`${h.kind} ${h.id} is ${h.length} bytes`);
      const bytes = Buffer.from(r.read(h.length));
      if (hashBytes(bytes) !== h.id) throw corrupt(`${h.kind} ${h.id} does not hash to its id`);
      all.set(h.id, bytes);
    }
    if (all.size !== count || !r.atEnd) throw corrupt('its object count or end does not match its header');
    return reachedFrom(all, commit);
  } catch (err) {
    throw corrupt(`${where}: trees pack refused: ${(err as Error).message}`);
  }
}

/** The objects of `all` that `commit` reaches, through trees and parents, as far as `all` goes; throws when one does not decode. */
function reachedFrom(all: Map<ObjectId, Buffer>, commit: ObjectId): Map<ObjectId, Buffer> {
  if (!all.has(commit)) throw corrupt(`it lacks its commit ${commit}`);
  return new Map([...reach(commit, (id) => all.get(id))].map(([id, m]) => [id, m.bytes]));
}

/** Downloads and checks `commit`'s trees pack (`size` bytes, as the index or the summary says): its bytes and its objects. */
export async function downloadTreesPack(transport: Transport, commit: ObjectId, size: number): Promise<{ wire: Buffer; objects: Map<ObjectId, Buffer> }> {
  const path = treesPackPath(commit);
  const where = transport.describe(path);
  const wire = await transport.getBytes(path, { optional: true, maxBytes: Math.min(size, MAX_TREES_PACK) });
  if (!wire) throw corrupt(`${where} is not served`);
  return { wire, objects: await readTreesPack(wire, commit, where) };
}

/**
 * Adds the objects of `commit`'s trees pack to `packed`. A pack that cannot
 * be had, for whatever reason (not served, refused, a transfer that failed),
 * is reported through `onNotice` and adds nothing: the caller then requests
 * each object, and only a failure there fails it.
 */
export async function fetchTreesPack(transport: Transport, commit: ObjectId, size: number, packed: Map<ObjectId, Buffer>, onNotice?: (message: string) => void): Promise<void> {
  try {
    for (const [id, bytes] of (await downloadTreesPack(transport, commit, size)).objects) packed.set(id, bytes);
  } catch (err) {
    onNotice?.(`${(err as Error).message}; fetching its trees one by one`);
  }
}
