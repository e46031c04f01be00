import { compareNames } from '../format/names.js';
import type { TreeEntry } from '../format/types.js';
import type { ObjectId } from '../util/hash.js';
import type { GetStore } from '../store/types.js';
import { TreeCache } from './objects.js';

export type ChangeKind = 'added' | 'removed' | 'modified';

export interface Change {
  kind: ChangeKind;
  path: string;
  /** Entry kind on the side that has it (the new side for modifications). */
  entryKind: TreeEntry['kind'];
  oldSize: number;
  newSize: number;
}

/**
 * Differences between two trees, as paths. Subtrees with the same id are
 * skipped without being read; a type change is a removal plus an addition.
 * A modification is any change of content, target, mode, owner or xattrs.
 */
export async function diffTrees(store: GetStore, a: ObjectId, b: ObjectId): Promise<Change[]> {
  const trees = new TreeCache(store);
  const out: Change[] = [];
  const addAll = async (kind: 'added' | 'removed', e: TreeEntry, path: string): Promise<void> => {
    out.push({ kind, path, entryKind: e.kind, oldSize: kind === 'removed' ? e.size : 0, newSize: kind === 'added' ? e.size : 0 });
    if (e.kind === 'dir') for (const c of (await trees.get(e.id!)).entries) await addAll(kind, c, `${path}/${c.name}`);
  };
  const walk = async (x: ObjectId, y: ObjectId, prefix: string): Promise<void> => {
    if (x === y) return;
    const ex = (await trees.get(x)).entries;
    const ey = (await trees.get(y)).entries;
    let i = 0;
    let j = 0;
    while (i < ex.length || j < ey.length) {
      const p = ex[i];
      const q = ey[j];
      const c = !p ? 1 : !q ? -1 : compareNames(p.name, q.name);
      if (c < 0) {
        await addAll('removed', p!, prefix + p!.name);
        i++;
      } else if (c > 0) {
        await addAll('added', q!, prefix + q!.name);
        j++;
      } else {
        const path = prefix + p!.name;
        if (p!.kind !== q!.kind) {
          await addAll('removed', p!, path);
          await addAll('added', q!, path);
        } else {
          if (!sameMeta(p!, q!) || (p!.kind !== 'dir' && !sameContent(p!, q!))) {
            out.push({ kind: 'modified', path, entryKind: q!.kind, oldSize: p!.size, newSize: q!.size });
          }
          if (p!.kind === 'dir') await walk(p!.id!, q!.id!, `${path}/`);
        }
        i++;
        j++;
      }
    }
  };
  await walk(a, b, '');
  return out;
}

function sameContent(p: TreeEntry, q: TreeEntry): boolean {
  return p.id === q.id && p.target === q.target;
}

function sameMeta(p: TreeEntry, q: TreeEntry): boolean {
  if (p.mode !== q.mode || p.uid !== q.uid || p.gid !== q.gid || p.xattrs.length !== q.xattrs.length) return false;
  return p.xattrs.every((x, i) => x.name === q.xattrs[i]!.name && Buffer.compare(Buffer.from(x.value), Buffer.from(q.xattrs[i]!.value)) === 0);
}

/** Counts and byte totals of a diff, for `--stat`. */
export function diffStat(changes: Change[]) {
  const s = { added: 0, removed: 0, modified: 0, bytesAdded: 0, bytesRemoved: 0 };
  for (const c of changes) {
    s[c.kind]++;
    if (c.entryKind === 'dir') continue;
    s.bytesAdded += Math.max(0, c.newSize - c.oldSize);
    s.bytesRemoved += Math.max(0, c.oldSize - c.newSize);
  }
  return s;
}
