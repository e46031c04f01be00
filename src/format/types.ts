import type { ObjectId } from '../util/hash.js';

/** The kind of a tree entry. */
export type EntryKind = 'file' | 'dir' | 'symlink';

/** One extended attribute. */
export interface Xattr {
  name: string;
  value: Uint8Array;
}

/** One name in a directory. `id` is a blob (file) or tree (dir) id; symlinks have none. */
export interface TreeEntry {
  name: string;
  kind: EntryKind;
  id?: ObjectId;
  /** Permission bits only (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** File: content length; symlink: target length in bytes; dir: 0. */
  size: number;
  /** Symlink target, verbatim. */
  target?: string;
  xattrs: Xattr[];
}

/** A directory's contents, sorted by name. */
export interface Tree {
  entries: TreeEntry[];
}

/** Metadata of a directory (the root's lives in the commit). */
export interface DirMeta {
  mode: number;
  uid: number;
  gid: number;
  xattrs: Xattr[];
}

export interface PackageInfo {
  name: string;
  arch: string;
  version: string;
  revision: number;
  /** Depends clauses in canonical form (`formatClause`), sorted, unique. */
  depends: string[];
  /** Pre-Depends clauses, same form. */
  preDepends: string[];
  /** Provides relations in canonical form (`name` or `name (= version)`), sorted, unique. */
  provides: string[];
  /** Multi-Arch: `same`, `foreign`, `allowed` or '' (none). */
  multiArch: string;
}

export interface GenerationPackage {
  name: string;
  arch: string;
  version: string;
  revision: number;
  commit: ObjectId;
  priority: number;
  /** True when the package came in only as a dependency of asked-for ones; absent/false: asked for. */
  dependency?: boolean;
}

export interface Conflict {
  path: string;
  winner: string;
  losers: string[];
}

export interface GenerationInfo {
  profile: string;
  packages: GenerationPackage[];
  conflicts: Conflict[];
}

/** A commit: one state of one tree. */
export interface Commit {
  tree: ObjectId;
  root: DirMeta;
  /** First parent first. */
  parents: ObjectId[];
  subject: string;
  body: string;
  /** Seconds since the Unix epoch. */
  timestamp: number;
  metadata: { key: string; value: string }[];
  package?: PackageInfo;
  generation?: GenerationInfo;
}

/** Default metadata of a directory made implicitly (root:root 0755). */
export const DEFAULT_DIR_META: DirMeta = { mode: 0o755, uid: 0, gid: 0, xattrs: [] };

/**
 * The largest tree or commit trove takes in (a pull, a pack) and parses when
 * it orders gc's deletions: anything bigger can only be a blob.
 */
export const MAX_META = 64 << 20;
