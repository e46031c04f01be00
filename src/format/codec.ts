import { badObject, isTroveError } from '../util/errors.js';
import { bytesToId, hashBytes, idToBytes, isObjectId, type ObjectId } from '../util/hash.js';
import { trove } from './generated/trove.js';
import { compareNames, nameProblem } from './names.js';
import type { Commit, DirMeta, EntryKind, GenerationPackage, Tree, TreeEntry, Xattr } from './types.js';

const pb = trove.v1;

const KIND_TO_PB: Record<EntryKind, number> = {
  file: pb.EntryKind.ENTRY_KIND_FILE,
  dir: pb.EntryKind.ENTRY_KIND_DIR,
  symlink: pb.EntryKind.ENTRY_KIND_SYMLINK,
};
const PB_TO_KIND = new Map<number, EntryKind>(Object.entries(KIND_TO_PB).map(([k, v]) => [v, k as EntryKind]));

/** Copies only the fields that differ from their proto3 default, so encoding is canonical. */
function setIf<T extends object>(out: T, key: keyof T & string, value: unknown): void {
  if (value === undefined || value === null || value === 0 || value === '') return;
  if (value instanceof Uint8Array && value.length === 0) return;
  if (Array.isArray(value) && value.length === 0) return;
  (out as Record<string, unknown>)[key] = value;
}

function sortedXattrs(xattrs: Xattr[], where: string): { name?: string; value?: Uint8Array }[] {
  const sorted = [...xattrs].sort((a, b) => compareNames(a.name, b.name));
  return sorted.map((x, i) => {
    if (x.name.length === 0) throw badObject(`empty xattr name in ${where}`);
    if (i > 0 && sorted[i - 1]!.name === x.name) throw badObject(`duplicate xattr ${x.name} in ${where}`);
    const o: { name?: string; value?: Uint8Array } = {};
    setIf(o, 'name', x.name);
    setIf(o, 'value', x.value);
    return o;
  });
}

function checkMode(mode: number, where: string): void {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw badObject(`mode ${mode} out of range in ${where}`);
}

function entryToPb(e: TreeEntry): trove.v1.ITreeEntry {
  const problem = nameProblem(e.name);
  if (problem) throw badObject(`invalid entry name ${JSON.stringify(e.name)}: ${problem}`);
  checkMode(e.mode, e.name);
  const o: trove.v1.ITreeEntry = {};
  setIf(o, 'name', e.name);
  setIf(o, 'kind', KIND_TO_PB[e.kind]);
  if (e.kind === 'symlink') {
    if (e.id !== undefined) throw badObject(`symlink ${e.name} must not have an id`);
    if (!e.target) throw badObject(`symlink ${e.name} has an empty target`);
    setIf(o, 'target', e.target);
  } else {
    if (!e.id || !isObjectId(e.id)) throw badObject(`entry ${e.name} has no valid id`);
    if (e.target) throw badObject(`entry ${e.name} is not a symlink but has a target`);
    setIf(o, 'id', idToBytes(e.id));
  }
  if (e.kind === 'dir' && e.size !== 0) throw badObject(`directory ${e.name} must have size 0`);
  setIf(o, 'mode', e.mode);
  setIf(o, 'uid', e.uid);
  setIf(o, 'gid', e.gid);
  setIf(o, 'size', e.size);
  setIf(o, 'xattrs', sortedXattrs(e.xattrs, e.name));
  return o;
}

/** Canonical bytes of a tree (entries must have unique names; they are sorted here). */
export function encodeTree(tree: Tree): Uint8Array {
  const entries = [...tree.entries].sort((a, b) => compareNames(a.name, b.name));
  for (let i = 1; i < entries.length; i++) {
    if (entries[i - 1]!.name === entries[i]!.name) throw badObject(`duplicate entry name ${entries[i]!.name}`);
  }
  const msg: trove.v1.ITree = {};
  setIf(msg, 'entries', entries.map(entryToPb));
  return pb.Tree.encode(msg).finish();
}

function xattrsFromPb(list: trove.v1.IXattr[] | null | undefined): Xattr[] {
  return (list ?? []).map((x) => ({ name: x.name ?? '', value: x.value ?? new Uint8Array() }));
}

function decodeOrThrow<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isTroveError(err)) throw err;
    throw badObject(`${what} is not a valid protobuf message: ${(err as Error).message}`);
  }
}

/** Asserts that `bytes` is exactly the canonical encoding produced by `reencode`. */
function assertCanonical(what: string, bytes: Uint8Array, reencoded: Uint8Array): void {
  if (Buffer.compare(Buffer.from(bytes), Buffer.from(reencoded)) !== 0) {
    throw badObject(`${what} is not canonically encoded (unsorted, duplicate, default or unknown fields)`);
  }
}

function idFromPb(bytes: Uint8Array | null | undefined, what: string): ObjectId {
  if (!bytes || bytes.length !== 32) throw badObject(`${what}: id must be 32 bytes`);
  return bytesToId(bytes);
}

/** Options of {@link decodeTree}. */
export interface DecodeTreeOptions {
  /**
   * Re-encode and compare, refusing any non-canonical bytes (default true).
   * Readers of the local store may pass false: every tree entered it either
   * from `encodeTree` or through this check, and its id (the hash, verified on
   * read) pins those bytes. Names, kinds, ids and strict name order are
   * checked either way.
   */
  canonical?: boolean;
}

/** Decodes and validates a tree; rejects bad names, bad kinds, unsorted or duplicate names and non-canonical bytes. */
export function decodeTree(bytes: Uint8Array, opts: DecodeTreeOptions = {}): Tree {
  const msg = decodeOrThrow('tree', () => pb.Tree.decode(bytes));
  const entries: TreeEntry[] = (msg.entries ?? []).map((e) => {
    const name = e.name ?? '';
    const problem = nameProblem(name);
    if (problem) throw badObject(`tree has invalid entry name ${JSON.stringify(name)}: ${problem}`);
    const kind = PB_TO_KIND.get(e.kind ?? 0);
    if (!kind) throw badObject(`tree entry ${JSON.stringify(name)} has unknown kind ${e.kind}`);
    const size = Number(e.size ?? 0);
    if (!Number.isSafeInteger(size)) throw badObject(`tree entry ${JSON.stringify(name)} has a size past 2^53 bytes`);
    const entry: TreeEntry = {
      name,
      kind,
      mode: e.mode ?? 0,
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      size,
      xattrs: xattrsFromPb(e.xattrs),
    };
    if (kind === 'symlink') entry.target = e.target ?? '';
    else entry.id = idFromPb(e.id, `tree entry ${JSON.stringify(name)}`);
    return entry;
  });
  const tree = { entries };
  if (opts.canonical ?? true) assertCanonical('tree', bytes, decodeOrThrow('tree', () => encodeTree(tree)));
  else {
    for (let i = 1; i < entries.length; i++) {
      if (compareNames(entries[i - 1]!.name, entries[i]!.name) >= 0) {
        throw badObject(`tree entries are not in strict name order at ${JSON.stringify(entries[i]!.name)}`);
      }
    }
  }
  return tree;
}

function dirMetaToPb(m: DirMeta): trove.v1.IDirMeta {
  checkMode(m.mode, 'root directory');
  const o: trove.v1.IDirMeta = {};
  setIf(o, 'mode', m.mode);
  setIf(o, 'uid', m.uid);
  setIf(o, 'gid', m.gid);
  setIf(o, 'xattrs', sortedXattrs(m.xattrs, 'root directory'));
  return o;
}

/**
 * The canonical order of a generation's packages. Several revisions of one
 * name and arch may share a generation: the higher revision (then priority)
 * first, as build's precedence order has always written them, then commit id.
 */
export function comparePackages(a: GenerationPackage, b: GenerationPackage): number {
  return (
    compareNames(a.name, b.name) ||
    compareNames(a.arch, b.arch) ||
    b.revision - a.revision ||
    b.priority - a.priority ||
    compareNames(a.commit, b.commit)
  );
}

function sortedUnique(list: string[], what: string): string[] {
  const s = [...list].sort(compareNames);
  for (let i = 1; i < s.length; i++) if (s[i - 1] === s[i]) throw badObject(`duplicate ${what} ${s[i]}`);
  return s;
}

const MULTI_ARCH = new Set(['', 'same', 'foreign', 'allowed']);

/** Canonical bytes of a commit. */
export function encodeCommit(c: Commit): Uint8Array {
  if (!isObjectId(c.tree)) throw badObject('commit tree id is not a valid id');
  for (const p of c.parents) if (!isObjectId(p)) throw badObject(`commit parent ${p} is not a valid id`);
  const msg: trove.v1.ICommit = {};
  setIf(msg, 'tree', idToBytes(c.tree));
  const root = dirMetaToPb(c.root);
  if (Object.keys(root).length > 0) msg.root = root;
  setIf(msg, 'parents', c.parents.map(idToBytes));
  setIf(msg, 'subject', c.subject);
  setIf(msg, 'body', c.body);
  setIf(msg, 'timestamp', c.timestamp);
  const keys = sortedUnique(
    c.metadata.map((m) => m.key),
    'metadata key',
  );
  const byKey = new Map(c.metadata.map((m) => [m.key, m.value]));
  setIf(
    msg,
    'metadata',
    keys.map((key) => {
      const o: trove.v1.IKeyValue = {};
      setIf(o, 'key', key);
      setIf(o, 'value', byKey.get(key));
      return o;
    }),
  );
  if (c.package) {
    const p = c.package;
    const o: trove.v1.IPackageInfo = {};
    setIf(o, 'name', p.name);
    setIf(o, 'arch', p.arch);
    setIf(o, 'version', p.version);
    setIf(o, 'revision', p.revision);
    setIf(o, 'depends', sortedUnique(p.depends, 'dependency'));
    setIf(o, 'preDepends', sortedUnique(p.preDepends, 'pre-dependency'));
    setIf(o, 'provides', sortedUnique(p.provides, 'provides entry'));
    if (!MULTI_ARCH.has(p.multiArch)) throw badObject(`invalid multi-arch value ${JSON.stringify(p.multiArch)}`);
    setIf(o, 'multiArch', p.multiArch);
    msg.package = o;
  }
  if (c.generation) {
    const g = c.generation;
    const o: trove.v1.IGenerationInfo = {};
    setIf(o, 'profile', g.profile);
    const pkgs = [...g.packages].sort(comparePackages);
    setIf(
      o,
      'packages',
      pkgs.map((p) => {
        const q: trove.v1.IGenerationPackage = {};
        setIf(q, 'name', p.name);
        setIf(q, 'arch', p.arch);
        setIf(q, 'version', p.version);
        setIf(q, 'revision', p.revision);
        setIf(q, 'commit', idToBytes(p.commit));
        setIf(q, 'priority', p.priority);
        if (p.dependency === true) q.dependency = true;
        return q;
      }),
    );
    const conflicts = [...g.conflicts].sort((a, b) => compareNames(a.path, b.path));
    setIf(
      o,
      'conflicts',
      conflicts.map((c) => {
        const q: trove.v1.IConflict = {};
        setIf(q, 'path', c.path);
        setIf(q, 'winner', c.winner);
        setIf(q, 'losers', [...c.losers].sort(compareNames));
        return q;
      }),
    );
    msg.generation = o;
  }
  return pb.Commit.encode(msg).finish();
}

/** Decodes and validates a commit; rejects malformed ids and non-canonical bytes. */
export function decodeCommit(bytes: Uint8Array): Commit {
  const m = decodeOrThrow('commit', () => pb.Commit.decode(bytes));
  const c: Commit = {
    tree: idFromPb(m.tree, 'commit tree'),
    root: {
      mode: m.root?.mode ?? 0,
      uid: m.root?.uid ?? 0,
      gid: m.root?.gid ?? 0,
      xattrs: xattrsFromPb(m.root?.xattrs),
    },
    parents: (m.parents ?? []).map((p) => idFromPb(p, 'commit parent')),
    subject: m.subject ?? '',
    body: m.body ?? '',
    timestamp: Number(m.timestamp ?? 0),
    metadata: (m.metadata ?? []).map((kv) => ({ key: kv.key ?? '', value: kv.value ?? '' })),
  };
  if (m.package) {
    const p = m.package;
    c.package = {
      name: p.name ?? '',
      arch: p.arch ?? '',
      version: p.version ?? '',
      revision: Number(p.revision ?? 0),
      depends: p.depends ?? [],
      preDepends: p.preDepends ?? [],
      provides: p.provides ?? [],
      multiArch: p.multiArch ?? '',
    };
  }
  if (m.generation) {
    const g = m.generation;
    c.generation = {
      profile: g.profile ?? '',
      packages: (g.packages ?? []).map((p) => ({
        name: p.name ?? '',
        arch: p.arch ?? '',
        version: p.version ?? '',
        revision: Number(p.revision ?? 0),
        commit: idFromPb(p.commit, 'generation package commit'),
        priority: p.priority ?? 0,
        ...(p.dependency ? { dependency: true } : {}),
      })),
      conflicts: (g.conflicts ?? []).map((x) => ({ path: x.path ?? '', winner: x.winner ?? '', losers: x.losers ?? [] })),
    };
  }
  assertCanonical('commit', bytes, decodeOrThrow('commit', () => encodeCommit(c)));
  return c;
}

/** Id of an encoded object. */
export const objectId = hashBytes;
