import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { corrupt, isTroveError } from '../util/errors.js';
import { decodeCommit, decodeTree } from '../format/codec.js';
import { MAX_META } from '../format/types.js';
import { hashBytes, type ObjectId } from '../util/hash.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import type { Repo } from '../repo/repo.js';
import { ByteReader, type PackEntry, packStream, readFrameHeader, readPackHeader } from './pack.js';
import { treesPackPath } from './layout.js';
import type { Transport } from './transport.js';

/**
 * Trees packs: one file per package commit a server's index lists, holding
 * the commit and every tree under it (no blob), so that a client learns a
 * package's directories in one request instead of one per tree, level after
 * level. The index gives each pack's size (`IndexEntry.treesPack`); the pack
 * itself is not trusted: every object in it is hashed against its id, and a
 * client takes from it only what its walk from the commit reaches.
 */

/** Largest trees pack a client fetches or inflates, whatever the index says. */
export const MAX_TREES_PACK = 64 << 20;

/** The commit and trees of `commit`, each after the trees it references. */
function treesOf(repo: Repo, commit: ObjectId): PackEntry[] {
  const out: PackEntry[] = [];
  const seen = new Set<ObjectId>();
  const visit = (id: ObjectId): void => {
    if (seen.has(id)) return;
    seen.add(id);
    for (const e of decodeTree(repo.store.getSync(id)).entries) if (e.kind === 'dir') visit(e.id!);
    out.push({ id, kind: 'tree' });
  };
  visit(decodeCommit(repo.store.getSync(commit)).tree);
  out.push({ id: commit, kind: 'commit' });
  return out;
}

/** Writes `packages/<commit>.trees` from the store (every object read verified); returns its size. */
export async function writeTreesPack(repo: Repo, commit: ObjectId): Promise<number> {
  const parts: Buffer[] = [];
  for await (const b of packStream(repo.store, treesOf(repo, commit))) parts.push(b);
  const bytes = gzipSync(Buffer.concat(parts));
  await writeFileAtomic(join(repo.path, treesPackPath(commit)), bytes, { tmpDir: repo.tmpDir, tag: 'file' });
  return bytes.length;
}

/**
 * The objects of a fetched trees pack, each verified against its id:
 * E_CORRUPT naming `where` when the pack does not inflate, is badly framed,
 * holds a blob or a patch, an object larger than a tree may be, or an
 * object whose bytes do not hash to its id.
 */
export async function readTreesPack(wire: Buffer, where: string): Promise<Map<ObjectId, Buffer>> {
  let raw: Buffer;
  try {
    raw = gunzipSync(wire, { maxOutputLength: MAX_TREES_PACK });
  } catch (err) {
    throw corrupt(`${where}: trees pack does not inflate (${(err as Error).message})`);
  }
  const r = new ByteReader((async function* () {
    yield raw;
  })());
  const out = new Map<ObjectId, Buffer>();
  try {
    const { count, patches } = await readPackHeader(r);
    if (patches) throw corrupt('it holds patches');
    for (;;) {
      const h = await readFrameHeader(r);
      if (!h) break;
      if (h.kind === 'blob') throw corrupt(`it holds blob ${h.id}`);
      if (h.length > MAX_META) throw corrupt(`${h.kind} ${h.id} is ${h.length} bytes`);
      const bytes = Buffer.from(await r.read(h.length));
      if (hashBytes(bytes) !== h.id) throw corrupt(`${h.kind} ${h.id} does not hash to its id`);
      out.set(h.id, bytes);
    }
    if (out.size !== count || !(await r.atEnd())) throw corrupt('its object count or end does not match its header');
  } catch (err) {
    throw corrupt(`${where}: trees pack refused: ${(err as Error).message}`);
  }
  return out;
}

/**
 * Adds the verified objects of `commit`'s trees pack (`size` bytes, as the
 * package index or the summary says) to `packed`. A pack that is missing or
 * refused is reported through `onNotice` and adds nothing: the caller then
 * requests each object.
 */
export async function fetchTreesPack(transport: Transport, commit: ObjectId, size: number, packed: Map<ObjectId, Buffer>, onNotice?: (message: string) => void): Promise<void> {
  const path = treesPackPath(commit);
  const where = transport.describe(path);
  try {
    const wire = await transport.getBytes(path, { optional: true, maxBytes: Math.min(size, MAX_TREES_PACK) });
    if (!wire) return onNotice?.(`${where} is not served; fetching its trees one by one`);
    for (const [id, bytes] of await readTreesPack(wire, where)) packed.set(id, bytes);
  } catch (err) {
    if (!isTroveError(err, 'E_CORRUPT')) throw err;
    onNotice?.(`${err.message}; fetching its trees one by one`);
  }
}
