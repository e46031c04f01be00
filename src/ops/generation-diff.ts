import { encodeTree, objectId } from '../format/codec.js';
import type { Commit, GenerationPackage } from '../format/types.js';
import type { ObjectId } from '../hash/index.js';
import type { GetStore } from '../store/types.js';
import { type Change, diffTrees } from './diff.js';
import { readCommit, readTree } from './objects.js';
import { packageLabel } from './pkg-add.js';

export interface PackageChanges {
  /** `<name>-<arch>-<version>-<revision>` labels. */
  added: string[];
  removed: string[];
  /** Same name and arch, another revision or priority (shown as a `=PRIORITY` suffix when not 0). */
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

/** Packages added, removed and changed from generation `a` to generation `b`. */
export function diffPackages(a: GenerationPackage[], b: GenerationPackage[]): PackageChanges {
  const key = (p: GenerationPackage) => `${p.name}/${p.arch}`;
  const inA = new Map(a.map((p) => [key(p), p]));
  const inB = new Map(b.map((p) => [key(p), p]));
  const out: PackageChanges = { added: [], removed: [], changed: [] };
  for (const p of b) {
    const old = inA.get(key(p));
    if (!old) out.added.push(packageLabel(p));
    else if (old.commit !== p.commit || old.priority !== p.priority) out.changed.push({ from: withPriority(old), to: withPriority(p) });
  }
  for (const p of a) if (!inB.has(key(p))) out.removed.push(packageLabel(p));
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
