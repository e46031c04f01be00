import { encodeTree } from '../format/codec.js';
import { compareNames } from '../format/names.js';
import type { Commit, TreeEntry } from '../format/types.js';
import { hashBytes, type ObjectId } from '../util/hash.js';
import type { GetStore, GetSyncStore, HasStore } from '../store/types.js';
import { hasGetSync, readCommit, TreeCache } from './objects.js';

export type ChangeKind = 'added' | 'removed' | 'modified';

/** What of an entry a modification changed. */
export type Aspect = 'content' | 'target' | 'mode' | 'owner' | 'xattrs';

export interface Change {
  kind: ChangeKind;
  path: string;
  /** Entry kind on the side that has it (the new side for modifications). */
  entryKind: TreeEntry['kind'];
  oldSize: number;
  newSize: number;
  /** Permission bits as octal text (`"0755"`) on the side(s) that have the entry. */
  oldMode?: string;
  newMode?: string;
  oldUid?: number;
  oldGid?: number;
  newUid?: number;
  newGid?: number;
  /** Content ids (files) on the side(s) that have them, for content diffs. */
  oldId?: ObjectId;
  newId?: ObjectId;
  /** Symlink targets on the side(s) that have them. */
  oldTarget?: string;
  newTarget?: string;
  /** For a modification: what changed. */
  changed?: Aspect[];
}

/** `0755`-style text of permission bits. */
export function modeText(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

function side(which: 'old' | 'new', e: TreeEntry): Partial<Change> {
  const out: Record<string, unknown> = { [`${which}Mode`]: modeText(e.mode), [`${which}Uid`]: e.uid, [`${which}Gid`]: e.gid };
  if (e.kind === 'file') out[`${which}Id`] = e.id;
  if (e.kind === 'symlink') out[`${which}Target`] = e.target;
  return out as Partial<Change>;
}

function aspects(p: TreeEntry, q: TreeEntry): Aspect[] {
  const out: Aspect[] = [];
  if (p.kind !== 'dir' && p.id !== q.id) out.push('content');
  if (p.target !== q.target) out.push('target');
  if (p.mode !== q.mode) out.push('mode');
  if (p.uid !== q.uid || p.gid !== q.gid) out.push('owner');
  if (!sameXattrs(p, q)) out.push('xattrs');
  return out;
}

/**
 * Path limits (`diff A B -- PATH...`): a change is kept when its path is one
 * of them or below one; a directory is walked when it is on the way to one.
 */
class Limits {
  private readonly paths: string[];
  constructor(paths: string[] | undefined) {
    this.paths = (paths ?? []).map((p) => p.split('/').filter((x) => x !== '' && x !== '.').join('/'));
    if (this.paths.includes('')) this.paths = [];
  }
  keeps(path: string): boolean {
    return this.paths.length === 0 || this.paths.some((l) => path === l || path.startsWith(`${l}/`));
  }
  walks(path: string): boolean {
    return this.keeps(path) || this.paths.some((l) => l.startsWith(`${path}/`));
  }
}

/**
 * Differences between two trees, as paths. Subtrees with the same id are
 * skipped without being read; a type change is a removal plus an addition.
 * A modification is any change of content, target, mode, owner or xattrs.
 */
export async function diffTrees(store: GetStore, a: ObjectId, b: ObjectId, opts: { paths?: string[] } = {}): Promise<Change[]> {
  const trees = new TreeCache(store);
  const limits = new Limits(opts.paths);
  const out: Change[] = [];
  const addAll = async (kind: 'added' | 'removed', e: TreeEntry, path: string): Promise<void> => {
    if (!limits.walks(path)) return;
    if (limits.keeps(path)) {
      out.push({ kind, path, entryKind: e.kind, oldSize: kind === 'removed' ? e.size : 0, newSize: kind === 'added' ? e.size : 0, ...side(kind === 'added' ? 'new' : 'old', e) });
    }
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
        if (!limits.walks(path)) {
          // Outside every path limit.
        } else if (p!.kind !== q!.kind) {
          await addAll('removed', p!, path);
          await addAll('added', q!, path);
        } else {
          if (limits.keeps(path) && (!sameMeta(p!, q!) || (p!.kind !== 'dir' && !sameContent(p!, q!)))) {
            out.push({ kind: 'modified', path, entryKind: q!.kind, oldSize: p!.size, newSize: q!.size, ...side('old', p!), ...side('new', q!), changed: aspects(p!, q!) });
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
  return p.mode === q.mode && p.uid === q.uid && p.gid === q.gid && sameXattrs(p, q);
}

function sameXattrs(p: TreeEntry, q: TreeEntry): boolean {
  if (p.xattrs.length !== q.xattrs.length) return false;
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

const EMPTY_TREE = encodeTree({ entries: [] });
const EMPTY_TREE_ID = hashBytes(EMPTY_TREE);

/**
 * What a commit changed against its first parent, or against an empty tree
 * for a root commit; null when the parent is not in the repository (a
 * shallow pull).
 */
export async function commitChanges(
  store: GetStore & HasStore,
  commit: Commit,
  opts: { paths?: string[] } = {},
): Promise<{ parent: ObjectId | null; changes: Change[] } | null> {
  const parent = commit.parents[0];
  if (parent === undefined) {
    const view: GetStore & Partial<GetSyncStore> = { get: async (id) => (id === EMPTY_TREE_ID ? EMPTY_TREE : store.get(id)) };
    // Blocking reads where the store has them (see TreeCache): a root commit's diff reads every tree.
    if (hasGetSync(store)) view.getSync = (id) => (id === EMPTY_TREE_ID ? EMPTY_TREE : store.getSync(id));
    return { parent: null, changes: await diffTrees(view, EMPTY_TREE_ID, commit.tree, opts) };
  }
  if (!(await store.has(parent))) return null;
  const p = await readCommit(store, parent);
  return { parent, changes: await diffTrees(store, p.tree, commit.tree, opts) };
}
