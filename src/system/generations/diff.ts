import { encodeTree, objectId } from '../../format/codec.js';
import type { Commit, GenerationPackage } from '../../format/types.js';
import type { ObjectId } from '../../util/hash.js';
import type { GetStore } from '../../store/types.js';
import { type Change, diffTrees } from '../../repo/diff.js';
import { readCommit, readTree } from '../../repo/objects.js';
import { packageLabel } from '../packages/model.js';

export interface PackageChanges {
  /** `<name>-<arch>-<version>-<revision>` labels. */
  added: string[];
  removed: string[];
  /**
   * The one instance of a name and arch replaced by another (a new revision),
   * or the same commit with another priority (shown as a `=PRIORITY` suffix
   * when not 0).
   */
  changed: { from: string; to: string }[];
}

export interface GenerationDiff {
  packages: PackageChanges;
  /** Paths of the exchange view (package directories left out) that changed. */
  files: Change[];
}

function withPriority(p: GenerationPackage): string {
  return p.priority === 0 ? packageLabel(p) : `${packageLabel(p)}=${p.priority}`;
}

/**
 * Packages added, removed and changed from generation `a` to generation `b`.
 * Instances are matched by commit first (the same commit with another
 * priority is a change); what is left of one name and arch is a change when
 * it is one instance on each side (a new revision), else removals and
 * additions, since a generation may hold several revisions of one package.
 */
export function diffPackages(a: GenerationPackage[], b: GenerationPackage[]): PackageChanges {
  const group = (ps: GenerationPackage[]) => {
    const m = new Map<string, GenerationPackage[]>();
    for (const p of ps) m.set(`${p.name}/${p.arch}`, [...(m.get(`${p.name}/${p.arch}`) ?? []), p]);
    return m;
  };
  const inA = group(a);
  const inB = group(b);
  const out: PackageChanges = { added: [], removed: [], changed: [] };
  for (const key of new Set([...inB.keys(), ...inA.keys()])) {
    const olds = inA.get(key) ?? [];
    const news = inB.get(key) ?? [];
    const newCommits = new Set(news.map((p) => p.commit));
    const oldCommits = new Set(olds.map((p) => p.commit));
    for (const p of news) {
      const same = olds.find((o) => o.commit === p.commit);
      if (same && same.priority !== p.priority) out.changed.push({ from: withPriority(same), to: withPriority(p) });
    }
    const gone = olds.filter((p) => !newCommits.has(p.commit));
    const fresh = news.filter((p) => !oldCommits.has(p.commit));
    if (gone.length === 1 && fresh.length === 1) out.changed.push({ from: withPriority(gone[0]!), to: withPriority(fresh[0]!) });
    else {
      out.removed.push(...gone.map(packageLabel));
      out.added.push(...fresh.map(packageLabel));
    }
  }
  return out;
}

/**
 * The exchange view of a generation as a tree id in an overlay store: its root
 * without the per-package directories (their content is in the union anyway).
 * Non-generation commits are returned as they are.
 */
async function viewOf(store: GetStore, c: Commit, overlay: Map<ObjectId, Uint8Array>): Promise<ObjectId> {
  if (!c.generation) return c.tree;
  const own = new Set(c.generation.packages.map(packageLabel));
  const root = await readTree(store, c.tree);
  const bytes = encodeTree({ entries: root.entries.filter((e) => !own.has(e.name)) });
  const id = objectId(bytes);
  overlay.set(id, bytes);
  return id;
}

/** What changed between two commits: packages (for generations) and files of the exchange view. */
export async function diffGenerations(store: GetStore, a: ObjectId, b: ObjectId): Promise<GenerationDiff> {
  const ca = await readCommit(store, a);
  const cb = await readCommit(store, b);
  const overlay = new Map<ObjectId, Uint8Array>();
  const view: GetStore = { get: async (id) => overlay.get(id) ?? store.get(id) };
  const files = await diffTrees(view, await viewOf(store, ca, overlay), await viewOf(store, cb, overlay));
  return { packages: diffPackages(ca.generation?.packages ?? [], cb.generation?.packages ?? []), files };
}
