import { closeSync, openSync, readSync } from 'node:fs';
import { decodeTree } from '../format/codec.js';
import { hashBytes, newHasher, type ObjectId } from '../util/hash.js';
import type { GetStore, PutResult } from '../store/types.js';
import { importDir } from './import/dir.js';

/**
 * The tree a directory on disk would commit to, without writing anything to
 * the repository: files are only hashed, and the trees are kept in memory.
 * For `trove diff REV DIR`. `get` reads those trees, then falls back to
 * `store` (for the commit side).
 */
export async function treeOfDir(dir: string, store: GetStore): Promise<{ tree: ObjectId; store: GetStore }> {
  const trees = new Map<ObjectId, Uint8Array>();
  const scratch = {
    hasSync: () => false,
    putSync(bytes: Uint8Array): PutResult {
      const id = hashBytes(bytes);
      // Only trees are read back; file contents are read from disk.
      try {
        decodeTree(bytes);
        trees.set(id, Uint8Array.from(bytes));
      } catch {
        // not a tree
      }
      return { id, size: bytes.length, written: false };
    },
    putFileSync(path: string): PutResult {
      const h = newHasher();
      const buf = Buffer.allocUnsafe(1 << 20);
      const fd = openSync(path, 'r');
      let size = 0;
      try {
        for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; size += n) h.update(buf.subarray(0, n));
      } finally {
        closeSync(fd);
      }
      return { id: h.digest('hex'), size, written: false };
    },
  };
  const imported = await importDir(dir, scratch, { xattrs: true });
  return {
    tree: imported.tree,
    store: { get: async (id) => trees.get(id) ?? store.get(id) },
  };
}
