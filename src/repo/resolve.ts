import { corrupt, isTroveError, notFound, usage } from '../util/errors.js';
import { decodeCommit, decodeTree } from '../format/codec.js';
import type { Commit, TreeEntry } from '../format/types.js';
import { isObjectId, type ObjectId } from '../util/hash.js';
import { refNameProblem } from '../refs/refs.js';
import type { Repo } from './repo.js';
import { readCommit, readTree } from './objects.js';

/**
 * Resolves a revision to a commit id: a ref name (`main`, `pkg/bash/amd64`),
 * `remotes/<remote>/<ref>`, a full id, or a unique id prefix of at least 6 hex
 * digits, each optionally followed by `~N` (N first parents back) or `^`.
 * Whatever it names must be a commit: a tree or blob id is refused.
 */
export async function resolveRev(repo: Repo, spec: string): Promise<ObjectId> {
  const m = /^(.*?)((?:~\d*|\^)*)$/.exec(spec)!;
  const base = m[1]!;
  if (base === '') throw usage(`empty revision in ${JSON.stringify(spec)}`);
  const { id: start, ref } = await resolveBase(repo, base);
  let id = start;
  let c = await commitAt(repo, id, ref ? `ref ${ref}` : base, ref !== undefined);
  for (const step of m[2]!.match(/~\d*|\^/g) ?? []) {
    const n = step === '^' || step === '~' ? 1 : Number(step.slice(1));
    for (let i = 0; i < n; i++) {
      const parent = c.parents[0];
      if (!parent) throw notFound(`${spec}: commit ${id.slice(0, 12)} has no parent`, { spec, id });
      c = await commitAt(repo, parent, `the parent of ${id.slice(0, 12)}`, true);
      id = parent;
    }
  }
  return id;
}

/**
 * Reads the commit `id`, which `what` names. An object that is not a commit
 * is a usage error when the user named it by id (`stored` false), and
 * corruption when a ref or a parent link points at it.
 */
async function commitAt(repo: Repo, id: ObjectId, what: string, stored: boolean): Promise<Commit> {
  const bytes = await repo.store.get(id);
  try {
    return decodeCommit(bytes);
  } catch (err) {
    if (!isTroveError(err, 'E_BAD_OBJECT')) throw err;
    const isTree = (() => {
      try {
        return decodeTree(bytes) !== undefined;
      } catch {
        return false;
      }
    })();
    const kind = isTree ? 'a tree' : 'a blob or a damaged commit';
    if (!stored) throw usage(`${what} is ${kind}, not a commit`);
    throw corrupt(`${what} points at ${id}, which is ${kind}, not a commit; run trove fsck`);
  }
}

async function resolveBase(repo: Repo, base: string): Promise<{ id: ObjectId; ref?: string }> {
  if (isObjectId(base)) {
    if (!(await repo.store.has(base))) throw notFound(`no such commit: ${base}`, { id: base });
    return { id: base };
  }
  if (base.startsWith('remotes/')) {
    const id = await repo.refs.read(base.slice('remotes/'.length), 'remotes');
    if (id) return { id, ref: base };
  } else if (refNameProblem(base) === null) {
    const id = await repo.refs.read(base);
    if (id) return { id, ref: base };
  }
  if (/^[0-9a-f]{6,63}$/.test(base)) {
    const matches: ObjectId[] = [];
    for (const id of await repo.store.idsWithPrefix(base)) {
      // Only commits count: a prefix shared with a blob or tree is not ambiguous.
      if (await readCommit(repo.store, id).then(() => true, () => false)) matches.push(id);
    }
    if (matches.length === 1) return { id: matches[0]! };
    if (matches.length > 1) throw usage(`ambiguous commit prefix ${base}: ${matches.map((x) => x.slice(0, 12)).join(', ')}`, { spec: base });
  }
  throw notFound(`unknown revision: ${base} (not a ref, commit id or unique commit id prefix)`, { spec: base });
}

/** The refs of a namespace that parse, and the names and errors of those that do not. */
export async function listRefsChecked(
  repo: Repo,
  ns = 'heads',
): Promise<{ refs: { name: string; id: ObjectId }[]; bad: { name: string; error: string }[] }> {
  const bad: { name: string; error: string }[] = [];
  const refs = await repo.refs.list(ns, { onCorrupt: (name, err) => bad.push({ name, error: err.message }) });
  return { refs, bad: bad.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
}

/**
 * Refuses (E_BAD_REF) a ref name that cannot be created next to the existing
 * refs: `a/b` while a ref `a` exists, or `a` while refs `a/...` exist.
 */
export async function assertRefFree(repo: Pick<Repo, 'refs'>, name: string, ns = 'heads'): Promise<void> {
  await repo.refs.assertFree(name, ns);
}

/** Splits `REV[:PATH]` (the path part may be empty or start with `/`). */
export function splitRevPath(spec: string): { rev: string; path: string } {
  const i = spec.indexOf(':');
  if (i < 0) return { rev: spec, path: '' };
  return { rev: spec.slice(0, i), path: spec.slice(i + 1) };
}

/** Path components of a path inside a tree; `..` is refused, `.` and empty parts dropped. */
export function splitTreePath(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw usage(`'..' is not allowed in a tree path: ${path}`);
  return parts;
}

export type Located =
  | { kind: 'root'; commit: Commit; commitId: ObjectId; tree: ObjectId }
  | { kind: 'entry'; commit: Commit; commitId: ObjectId; entry: TreeEntry };

/** Finds `REV:PATH`: the commit's root, or the entry at PATH. Symlinks along the way are not followed. */
export async function locate(repo: Repo, spec: string): Promise<Located> {
  const { rev, path } = splitRevPath(spec);
  const commitId = await resolveRev(repo, rev);
  const commit = await readCommit(repo.store, commitId);
  const parts = splitTreePath(path);
  if (parts.length === 0) return { kind: 'root', commit, commitId, tree: commit.tree };
  let treeId = commit.tree;
  let entry: TreeEntry | undefined;
  for (let i = 0; i < parts.length; i++) {
    const tree = await readTree(repo.store, treeId);
    entry = tree.entries.find((e) => e.name === parts[i]);
    if (!entry) throw notFound(`${parts.slice(0, i + 1).join('/')}: no such file or directory in ${rev}`, { spec, id: commitId });
    if (i < parts.length - 1) {
      if (entry.kind !== 'dir') throw notFound(`${parts.slice(0, i + 1).join('/')} is not a directory in ${rev}`, { spec, id: commitId });
      treeId = entry.id!;
    }
  }
  return { kind: 'entry', commit, commitId, entry: entry! };
}
