import { ioError, isErrno, usage } from '../util/errors.js';
import type { TreeEntry } from '../format/types.js';
import { readTreeSync } from './objects.js';
import type { Repo } from './repo.js';
import { locate, type ResolveOptions } from './resolve.js';

/** Reading paths inside a commit: `trove ls` and `trove cat`. */

export interface ListedEntry {
  /** The path below the listed directory (the entry's name for a file). */
  path: string;
  entry: TreeEntry;
}

/**
 * The entries of the directory `REV[:PATH]` names, in tree order (with
 * `recursive`, each directory followed by its contents); for a file or
 * symlink, that one entry.
 */
export async function listPath(repo: Repo, spec: string, opts: { recursive?: boolean } & ResolveOptions = {}): Promise<ListedEntry[]> {
  const loc = await locate(repo, spec, opts);
  const rows: ListedEntry[] = [];
  const walk = async (treeId: string, prefix: string): Promise<void> => {
    // Blocking: `ls -r` of a system reads its ~2,000 trees one after another.
    for (const e of readTreeSync(repo.store, treeId).entries) {
      rows.push({ path: prefix + e.name, entry: e });
      if (opts.recursive && e.kind === 'dir') await walk(e.id!, `${prefix}${e.name}/`);
    }
  };
  if (loc.kind === 'root') await walk(loc.tree, '');
  else if (loc.entry.kind === 'dir') await walk(loc.entry.id!, '');
  else rows.push({ path: loc.entry.name, entry: loc.entry });
  return rows;
}

/** The content of the file `REV:PATH` names, verified against its id; E_USAGE for a directory or symlink. */
export async function readFileAt(repo: Repo, spec: string, opts: ResolveOptions = {}): Promise<Uint8Array> {
  const loc = await locate(repo, spec, opts);
  if (loc.kind === 'root' || loc.entry.kind === 'dir') throw usage(`${spec} is a directory`, { spec });
  if (loc.entry.kind === 'symlink') throw usage(`${spec} is a symlink to ${loc.entry.target}`, { spec });
  try {
    return await repo.store.get(loc.entry.id!);
  } catch (err) {
    // A private object (docs/security.md, "Private files"): only the repository's owner reads it.
    if (!isErrno(err, 'EACCES')) throw err;
    const path = repo.store.pathOf(loc.entry.id!);
    throw ioError(`cannot read ${spec}: its content is private (no commit shows it to other users), and its object ${path} is readable by the repository's owner only; run as that user (or root)`, { spec, path }, { cause: err });
  }
}
