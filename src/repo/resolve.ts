import { corrupt, isTroveError, notFound, type TroveError, usage } from '../util/errors.js';
import { decodeCommit, decodeTree } from '../format/codec.js';
import type { Commit, TreeEntry } from '../format/types.js';
import { isObjectId, type ObjectId } from '../util/hash.js';
import { refNameProblem } from '../refs/refs.js';
import type { Repo } from './repo.js';
import { readCommit, readTree } from './objects.js';
import { editDistance } from '../util/suggest.js';

/**
 * What a higher layer adds to revisions: the generation numbers of a profile
 * (the system layer's `revisionScope`). The repository layer knows no
 * profiles; with a scope, a bare number names a generation first.
 */
export interface RevisionScope {
  profile: string;
  /** The commit of generation `n` of the profile, or undefined. */
  generation(n: number): Promise<ObjectId | undefined>;
  /** The E_NOT_FOUND for a number that is no generation of the profile (naming those it has). */
  noGeneration(n: string): Promise<TroveError>;
  /** What `HEAD` names when no ref is called that: the default revision (the active commit, else the only ref). */
  head?(): Promise<ObjectId>;
}

export interface ResolveOptions {
  scope?: RevisionScope;
}

/** `~N`, `~`, `^N`, `^` and `@{...}` suffixes, in order, after the base. */
const SUFFIXES = /^(.*?)((?:~\d*|\^\d*|@\{[^{}]*\})*)$/;

/**
 * Resolves a revision to a commit id. The base is one of:
 * - a full commit id, or a unique commit id prefix of at least 6 hex digits;
 * - with a scope, a generation number of its profile (`7`), and `HEAD` (or `@`)
 *   for its default revision unless a ref is called that;
 * - a ref: `NAME` (`refs/heads/NAME`, else the remote-tracking `refs/remotes/NAME`,
 *   so `origin/os/main` works as in git), `refs/heads/NAME`,
 *   `refs/remotes/REMOTE/NAME`, `remotes/REMOTE/NAME` or `REMOTE:NAME` (ostree);
 * followed by any of `~N` (N first parents back; `~` is `~1`), `^N` (the Nth
 * parent; `^` is `^1`, `^0` the commit itself). `@{N}` is refused: trove
 * keeps no reflog. Whatever it names must be a commit: a tree or blob id or
 * prefix is a usage error (exit 2), a ref pointing at one corruption.
 * Every "unknown revision" error ends with the nearest valid spelling.
 */
export async function resolveRev(repo: Repo, spec: string, opts: ResolveOptions = {}): Promise<ObjectId> {
  const m = SUFFIXES.exec(spec)!;
  const base = m[1]!;
  if (base === '') throw usage(`empty revision in ${JSON.stringify(spec)}`);
  const steps = m[2]!.match(/~\d*|\^\d*|@\{[^{}]*\}/g) ?? [];
  const reflog = steps.find((s) => s.startsWith('@{'));
  if (reflog) {
    throw usage(
      `${spec}: trove keeps no reflog, so ${reflog} has nothing to read; a ref's earlier commits are its first parents: ${base}~N (trove log ${base} lists them)`,
      { spec },
    );
  }
  const { id: start, ref } = await resolveBase(repo, base, opts);
  let id = start;
  let c = await commitAt(repo, id, ref ?? base, ref !== undefined);
  let here = base;
  for (const step of steps) {
    const digits = step.slice(1);
    if (step.startsWith('~')) {
      const n = digits === '' ? 1 : Number(digits);
      let k = 0;
      const at = here;
      for (; k < n; k++) {
        const parent = c.parents[0];
        const spelled = k === 0 ? at : `${at}~${k}`;
        if (!parent) throw notFound(`unknown revision ${spec}: ${spelled} (${id.slice(0, 12)}) has no parent, so the furthest back is ${spelled}`, { spec, id });
        c = await parentAt(repo, spec, spelled, id, parent);
        id = parent;
      }
      here = `${at}~${n}`;
    } else {
      const n = digits === '' ? 1 : Number(digits);
      if (n === 0) continue;
      const parent = c.parents[n - 1];
      if (!parent) {
        const p = c.parents.length;
        const have = p === 0 ? 'has no parent (a root commit)' : p === 1 ? `has 1 parent: ${here}^` : `has ${p} parents: ${here}^1 to ${here}^${p}`;
        throw notFound(`unknown revision ${spec}: ${here} (${id.slice(0, 12)}) ${have}`, { spec, id });
      }
      c = await parentAt(repo, spec, here, id, parent);
      id = parent;
      here = `${here}${step}`;
    }
  }
  return id;
}

/** The commit `parent` of `child` (spelled `here`); E_NOT_FOUND when a shallow pull left it out. */
async function parentAt(repo: Repo, spec: string, here: string, child: ObjectId, parent: ObjectId): Promise<Commit> {
  if (!(await repo.store.has(parent))) {
    throw notFound(`unknown revision ${spec}: the parent ${parent.slice(0, 12)} of ${here} (${child.slice(0, 12)}) is not in this repository`, { spec, id: parent });
  }
  return commitAt(repo, parent, `the parent of ${child.slice(0, 12)}`, true);
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

const isCommit = (repo: Repo, id: ObjectId) => readCommit(repo.store, id).then(() => true, () => false);

const REF_PREFIXES = [
  ['refs/heads/', 'heads'],
  ['refs/remotes/', 'remotes'],
  ['remotes/', 'remotes'],
] as const;

/**
 * The one ref that `refs set` and `refs delete` act on: `refs/heads/X` and
 * `X` are heads, `refs/remotes/R/X` and `remotes/R/X` the remote-tracking
 * ref X of remote R, as revisions read them. A remote-tracking ref has two
 * components at least: `remotes/x` is refused (E_USAGE).
 */
export function namedRef(spelled: string): { ns: 'heads' | 'remotes'; name: string } {
  for (const [prefix, ns] of REF_PREFIXES) {
    if (!spelled.startsWith(prefix)) continue;
    const name = spelled.slice(prefix.length);
    if (ns === 'remotes' && !name.includes('/')) throw usage(`${spelled} is no remote-tracking ref: spell it ${prefix}REMOTE/REF`);
    return { ns, name };
  }
  return { ns: 'heads', name: spelled };
}

/** The refs a ref-like spelling may name, in the order they are tried (none when it cannot be a ref). */
function refSpelling(base: string): { ns: string; name: string }[] {
  const ok = (name: string) => refNameProblem(name) === null;
  for (const [prefix, ns] of REF_PREFIXES) {
    if (base.startsWith(prefix)) {
      const name = base.slice(prefix.length);
      // A remote-tracking ref is REMOTE/NAME: at least two components.
      return ok(name) && (ns === 'heads' || name.includes('/')) ? [{ ns, name }] : [];
    }
  }
  const colon = base.indexOf(':');
  if (colon >= 0) {
    const name = `${base.slice(0, colon)}/${base.slice(colon + 1)}`;
    return ok(base.slice(0, colon)) && ok(base.slice(colon + 1)) ? [{ ns: 'remotes', name }] : [];
  }
  if (!ok(base)) return [];
  const out = [{ ns: 'heads', name: base }];
  if (base.includes('/')) out.push({ ns: 'remotes', name: base });
  return out;
}

async function resolveBase(repo: Repo, base: string, opts: ResolveOptions): Promise<{ id: ObjectId; ref?: string }> {
  if (isObjectId(base)) {
    if (!(await repo.store.has(base))) throw notFound(`unknown revision: ${base} (no object has this id in the repository; a commit of a remote arrives with trove pull)`, { id: base });
    return { id: base };
  }
  const digits = /^[0-9]+$/.test(base);
  if (digits && opts.scope) {
    const id = await opts.scope.generation(Number(base));
    if (id) return { id, ref: `generation ${base} of profile ${opts.scope.profile}` };
  }
  for (const r of refSpelling(base)) {
    const id = await repo.refs.read(r.name, r.ns);
    if (id) return { id, ref: `ref ${r.ns === 'heads' ? r.name : `remotes/${r.name}`}` };
  }
  if ((base === 'HEAD' || base === '@') && opts.scope?.head) return { id: await opts.scope.head(), ref: 'HEAD' };
  if (/^[0-9a-f]{6,63}$/.test(base)) {
    const matches: ObjectId[] = [];
    const others: ObjectId[] = [];
    for (const id of await repo.store.idsWithPrefix(base)) {
      // Only commits count: a prefix shared with a blob or tree is not ambiguous.
      ((await isCommit(repo, id)) ? matches : others).push(id);
    }
    if (matches.length === 1) return { id: matches[0]! };
    if (matches.length > 1) throw usage(`ambiguous commit prefix ${base}: ${matches.map((x) => x.slice(0, 12)).join(', ')}`, { spec: base });
    // Named by prefix as by full id: a tree or blob is a usage error (exit 2).
    if (others.length === 1) await commitAt(repo, others[0]!, `${base} (${others[0]})`, false);
    if (others.length > 1) throw usage(`${base}: no commit id starts with it, only ${others.length} trees or blobs`, { spec: base });
  }
  if (digits && opts.scope) {
    const e = await opts.scope.noGeneration(base);
    if (base.length >= 6) throw notFound(`${e.message}, and no commit id starts with ${base}`, { ...e.data, spec: base });
    const short = base.length >= 4 ? await shortPrefixHint(repo, base) : '';
    throw notFound(`${e.message}${short ? `; ${short}` : ''}`, { ...e.data, spec: base });
  }
  if (/^[0-9a-f]{1,5}$/.test(base)) {
    throw notFound(`unknown revision: ${base} (${await shortPrefixHint(repo, base)})`, { spec: base });
  }
  throw notFound(`unknown revision: ${base} (${await refHint(repo, base)})`, { spec: base });
}

/** "a commit id prefix needs at least 6 hex digits", naming the commit it would be. */
async function shortPrefixHint(repo: Repo, base: string): Promise<string> {
  const hint = 'a commit id prefix needs at least 6 hex digits';
  const commits: ObjectId[] = [];
  if (base.length >= 2) for (const id of await repo.store.idsWithPrefix(base)) if (await isCommit(repo, id)) commits.push(id);
  if (commits.length === 1) return `${hint}: did you mean ${uniquePrefix(commits[0]!, await repo.store.idsWithPrefix(base.slice(0, 2)))}?`;
  if (commits.length > 1) return `${hint}; ${commits.length} commits start with ${base}`;
  return `${hint}, and no commit starts with ${base}`;
}

/** The shortest prefix of `id` (6 digits at least) that no other id in `all` shares. */
function uniquePrefix(id: ObjectId, all: ObjectId[]): string {
  for (let n = 6; n < 64; n++) {
    const p = id.slice(0, n);
    if (all.every((o) => o === id || !o.startsWith(p))) return p;
  }
  return id;
}

/** The spellings of every ref: `NAME` for local refs, `REMOTE/NAME` for remote-tracking ones. */
async function refSpellings(repo: Repo): Promise<string[]> {
  const ignore = { onCorrupt: () => {} };
  const heads = (await repo.refs.list('heads', ignore)).map((r) => r.name);
  const local = new Set(heads);
  const remotes = (await repo.refs.list('remotes', ignore)).map((r) => (local.has(r.name) ? `remotes/${r.name}` : r.name));
  return [...heads, ...remotes];
}

/** The hint of an unknown revision: the nearest ref spelling, else the refs there are. */
async function refHint(repo: Repo, base: string): Promise<string> {
  const all = await refSpellings(repo);
  if (all.length === 0) return 'not a ref, commit id or unique commit id prefix; the repository has no refs';
  // What was meant, with the spellings of the namespaces taken off.
  const want = base.replace(/^refs\/(heads|remotes)\//, '').replace(/^remotes\//, '').replace(':', '/');
  let best: { name: string; d: number } | undefined;
  for (const name of all) {
    const plain = name.replace(/^remotes\//, '');
    const tail = plain.endsWith(`/${want}`) || want.endsWith(`/${plain}`);
    // A ref that ends the spelling (or the other way round) is nearest, the longest first; else edit distance.
    const d = tail ? -plain.length : editDistance(want, plain);
    if (!best || d < best.d) best = { name, d };
  }
  if (best && best.d <= Math.max(2, Math.floor(want.length / 3))) return `not a ref, commit id or unique commit id prefix; did you mean ${best.name}?`;
  const shown = all.slice(0, 6).join(', ');
  return `not a ref, commit id or unique commit id prefix; refs: ${shown}${all.length > 6 ? `, and ${all.length - 6} more (trove refs lists them)` : ''}`;
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

/** Splits `REV[:PATH]` (the path part may be empty or start with `/`) at the first colon. */
export function splitRevPath(spec: string): { rev: string; path: string } {
  const i = spec.indexOf(':');
  if (i < 0) return { rev: spec, path: '' };
  return { rev: spec.slice(0, i), path: spec.slice(i + 1) };
}

/**
 * Splits `REV[:PATH]` where REV may itself be `REMOTE:REF`: with two colons
 * the first two parts are the revision (`origin:os/main:usr/bin`); with one,
 * `A:B` is the remote-tracking ref B of remote A when that ref exists, else
 * path B of revision A.
 */
export async function splitRevPathIn(repo: Repo, spec: string): Promise<{ rev: string; path: string }> {
  const first = spec.indexOf(':');
  if (first < 0) return { rev: spec, path: '' };
  const second = spec.indexOf(':', first + 1);
  if (second >= 0) {
    const rev = spec.slice(0, second);
    if (refNameProblem(spec.slice(0, first)) === null && refNameProblem(spec.slice(first + 1, second)) === null) return { rev, path: spec.slice(second + 1) };
  }
  const remote = spec.slice(0, first);
  const name = spec.slice(first + 1);
  if (second < 0 && refNameProblem(remote) === null && refNameProblem(name) === null && (await repo.refs.read(`${remote}/${name}`, 'remotes'))) return { rev: spec, path: '' };
  return splitRevPath(spec);
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
export async function locate(repo: Repo, spec: string, opts: ResolveOptions = {}): Promise<Located> {
  const { rev, path } = await splitRevPathIn(repo, spec);
  const commitId = await resolveRev(repo, rev, opts);
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
