import { usage } from '../../util/errors.js';
import { compareNames, nameProblem } from '../../format/names.js';
import type { Conflict, DirMeta, GenerationPackage, TreeEntry } from '../../format/types.js';
import type { ObjectId } from '../../util/hash.js';
import type { ObjectStore } from '../../store/types.js';
import { TreeCache, writeTree } from '../../repo/objects.js';
import { packageLabel } from '../packages/model.js';

/** A package as a generation sees it: its description, root tree and root metadata. */
export interface GenerationInput {
  pkg: GenerationPackage;
  tree: ObjectId;
  root: DirMeta;
}

export interface GenerationTree {
  tree: ObjectId;
  /** Sorted by path. */
  conflicts: Conflict[];
  /** Inputs in precedence order, winner first. */
  ordered: GenerationInput[];
  treesRead: number;
}

/**
 * Orders packages so that the first one wins every conflict: instances of the
 * same name stay together, highest revision first; between names, the higher
 * declared priority (of the name's instances, the highest), then name order.
 * The key is total, so the result never depends on the order of the input.
 */
export function precedence(inputs: GenerationInput[]): GenerationInput[] {
  const groupPriority = new Map<string, number>();
  for (const { pkg } of inputs) groupPriority.set(pkg.name, Math.max(groupPriority.get(pkg.name) ?? pkg.priority, pkg.priority));
  return [...inputs].sort((x, y) => {
    const a = x.pkg;
    const b = y.pkg;
    return (
      groupPriority.get(b.name)! - groupPriority.get(a.name)! ||
      compareNames(a.name, b.name) ||
      b.revision - a.revision ||
      b.priority - a.priority ||
      compareNames(a.arch, b.arch) ||
      compareNames(a.commit, b.commit)
    );
  });
}

interface Claim {
  /** Index in precedence order: lower wins. */
  rank: number;
  entry: TreeEntry;
}

function sameEntry(a: TreeEntry, b: TreeEntry): boolean {
  return (
    a.kind === b.kind &&
    a.id === b.id &&
    a.target === b.target &&
    a.mode === b.mode &&
    a.uid === b.uid &&
    a.gid === b.gid &&
    a.xattrs.length === b.xattrs.length &&
    a.xattrs.every((x, i) => x.name === b.xattrs[i]!.name && Buffer.compare(Buffer.from(x.value), Buffer.from(b.xattrs[i]!.value)) === 0)
  );
}

/**
 * Builds a generation's tree: one directory per package (an entry pointing at
 * the package's own tree) and the union of all packages at the top level.
 * Only tree objects are read, and only where two packages share a directory;
 * a directory that one package alone provides is reused whole by id.
 */
export async function buildGenerationTree(store: Pick<ObjectStore, 'get' | 'put'>, inputs: GenerationInput[]): Promise<GenerationTree> {
  const ordered = precedence(inputs);
  const labels = ordered.map((i) => packageLabel(i.pkg));
  const seen = new Set<string>();
  for (const l of labels) {
    const problem = nameProblem(l);
    if (problem) throw usage(`package directory name ${JSON.stringify(l)} is invalid: ${problem}`);
    if (seen.has(l)) throw usage(`package ${l} is listed twice`);
    seen.add(l);
  }
  const trees = new TreeCache(store);
  let treesRead = 0;
  const read = async (id: ObjectId) => {
    treesRead++;
    return (await trees.get(id)).entries;
  };
  const conflicts: Conflict[] = [];
  const conflict = (path: string, winner: Claim, losers: Claim[]) =>
    conflicts.push({ path, winner: labels[winner.rank]!, losers: losers.map((c) => labels[c.rank]!).sort(compareNames) });

  /** The children of several directories, grouped by name; claims keep precedence order. */
  const claimsByName = async (dirs: { rank: number; id: ObjectId }[]): Promise<Map<string, Claim[]>> => {
    const byName = new Map<string, Claim[]>();
    const lists = await Promise.all(dirs.map((d) => read(d.id)));
    dirs.forEach((d, i) => {
      for (const entry of lists[i]!) {
        const claims = byName.get(entry.name);
        if (claims) claims.push({ rank: d.rank, entry });
        else byName.set(entry.name, [{ rank: d.rank, entry }]);
      }
    });
    return byName;
  };

  /** The children of several directories claimed at `prefix`, merged. */
  const mergeChildren = async (dirs: { rank: number; id: ObjectId }[], prefix: string): Promise<TreeEntry[]> => {
    const byName = await claimsByName(dirs);
    return Promise.all([...byName.values()].map((claims) => resolve(claims, prefix + claims[0]!.entry.name)));
  };

  /** One name claimed by one or more packages (claims in precedence order). */
  const resolve = async (claims: Claim[], path: string): Promise<TreeEntry> => {
    const winner = claims[0]!;
    if (claims.length === 1) return winner.entry;
    if (winner.entry.kind !== 'dir') {
      const losers = claims.slice(1).filter((c) => !sameEntry(c.entry, winner.entry));
      if (losers.length > 0) conflict(path, winner, losers);
      return winner.entry;
    }
    const dirs = claims.filter((c) => c.entry.kind === 'dir');
    const others = claims.filter((c) => c.entry.kind !== 'dir');
    if (others.length > 0) conflict(path, winner, others);
    if (dirs.every((d) => d.entry.id === winner.entry.id)) return winner.entry;
    const entries = await mergeChildren(
      dirs.map((d) => ({ rank: d.rank, id: d.entry.id! })),
      `${path}/`,
    );
    return { ...winner.entry, id: await writeTree(store, { entries }) };
  };

  const own: TreeEntry[] = ordered.map((i, rank) => ({
    name: labels[rank]!,
    kind: 'dir',
    id: i.tree,
    mode: i.root.mode,
    uid: i.root.uid,
    gid: i.root.gid,
    size: 0,
    xattrs: i.root.xattrs,
  }));
  const top = await claimsByName(ordered.map((i, rank) => ({ rank, id: i.tree })));
  const union = await Promise.all(
    [...top].map(async ([name, claims]) => {
      const owner = labels.indexOf(name);
      if (owner < 0) return resolve(claims, name);
      // A package's own directory outranks any union entry of the same name.
      conflict(name, { rank: owner, entry: own[owner]! }, claims);
      return undefined;
    }),
  );
  const entries = [...own, ...union.filter((e): e is TreeEntry => e !== undefined)];
  const tree = await writeTree(store, { entries });
  conflicts.sort((a, b) => compareNames(a.path, b.path));
  return { tree, conflicts, ordered, treesRead };
}
