import { isUtf8 } from 'node:buffer';
import { badObject, isTroveError } from '../util/errors.js';
import { bytesToId, hashBytes, idToBytes, isObjectId, type ObjectId } from '../util/hash.js';
import { trove } from './generated/trove.js';
import { compareNames, isWellFormedText, nameProblem } from './names.js';
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
    if (!isWellFormedText(x.name)) throw badObject(`xattr name in ${where} is not valid UTF-8`);
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
    if (!isWellFormedText(e.target)) throw badObject(`symlink ${e.name} has a target that is not valid UTF-8`);
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

/** Wire type of each TreeEntry field (trove.proto), by field number. */
const ENTRY_WIRE = [-1, 2, 0, 2, 0, 0, 0, 0, 2, 2];
const UINT32_MAX = 0xffffffff;

/**
 * Reads a tree's bytes straight into entries, checking on the way that they
 * are exactly what `encodeTree` writes for those entries: fields in
 * field-number order, each at most once (xattrs excepted) and with its wire
 * type, no unknown fields, no field holding its default, varints in their
 * shortest form, strings valid UTF-8. Then the checks `encodeTree` makes:
 * names, kinds, modes, ids, symlink targets, entries and xattrs in strict
 * name order. Bytes it accepts re-encode to themselves
 * (test/tree-reader.test.ts compares it with a decode and re-encode through
 * protobufjs on generated and damaged trees).
 */
class TreeReader {
  private pos = 0;
  private readonly buf: Buffer;

  constructor(bytes: Uint8Array) {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** A varint in its shortest form, at most `max` (at most 2^53 - 1). */
  private varint(end: number, max: number, what: string): number {
    const buf = this.buf;
    let value = 0;
    let scale = 1;
    for (let n = 0; n < 10; n++) {
      if (this.pos >= end) throw badObject('tree is not a valid protobuf message: a varint runs past its end');
      const b = buf[this.pos++]!;
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (b === 0 && n > 0) throw notCanonical(`${what} is a varint longer than it needs to be`);
        if (value > max) throw badObject(`tree: ${what} is out of range (${value})`);
        return value;
      }
      scale *= 128;
    }
    throw badObject('tree is not a valid protobuf message: a varint longer than 10 bytes');
  }

  /** The end of a length-delimited field starting at the current position, which must fit before `end`. */
  private delimited(end: number, what: string): number {
    const len = this.varint(end, end - this.pos, `the length of ${what}`);
    if (len === 0) throw notCanonical(`${what} is written empty`);
    if (len > end - this.pos) throw badObject(`tree is not a valid protobuf message: ${what} runs past its end`);
    return this.pos + len;
  }

  private string(end: number, what: string): string {
    const stop = this.delimited(end, what);
    const start = this.pos;
    this.pos = stop;
    if (!isUtf8(this.buf.subarray(start, stop))) throw badObject(`tree: ${what} is not valid UTF-8`);
    return this.buf.toString('utf8', start, stop);
  }

  entries(): TreeEntry[] {
    const end = this.buf.length;
    const out: TreeEntry[] = [];
    let prev: string | undefined;
    while (this.pos < end) {
      const tag = this.varint(end, UINT32_MAX, 'a field tag');
      if (tag !== 0x0a) throw tag >>> 3 === 1 ? badObject('tree is not a valid protobuf message: entries with the wrong wire type') : notCanonical(`unknown field ${tag >>> 3}`);
      const stop = this.delimited(end, 'an entry');
      const e = this.entry(stop);
      if (prev !== undefined && compareNames(prev, e.name) >= 0) {
        throw badObject(`tree entries are not in strict name order at ${JSON.stringify(e.name)}`);
      }
      prev = e.name;
      out.push(e);
    }
    return out;
  }

  private entry(end: number): TreeEntry {
    let name = '';
    let kindNo = 0;
    let id: string | undefined;
    let idLength = 0;
    let mode = 0;
    let uid = 0;
    let gid = 0;
    let size = 0;
    let target: string | undefined;
    const xattrs: Xattr[] = [];
    let last = 0;
    while (this.pos < end) {
      const tag = this.varint(end, UINT32_MAX, 'a field tag');
      const field = tag >>> 3;
      const wire = tag & 7;
      if (field === 0 || field >= ENTRY_WIRE.length) throw notCanonical(`unknown field ${field} in an entry`);
      if (wire !== ENTRY_WIRE[field]) throw badObject(`tree is not a valid protobuf message: entry field ${field} has wire type ${wire}`);
      if (field < last || (field === last && field !== 9)) throw notCanonical(`entry field ${field} is out of order or repeated`);
      last = field;
      switch (field) {
        case 1:
          name = this.string(end, 'an entry name');
          break;
        case 2:
          kindNo = this.varint(end, UINT32_MAX, 'a kind');
          if (kindNo === 0) throw notCanonical('a kind is written as its default');
          break;
        case 3: {
          const stop = this.delimited(end, 'an id');
          idLength = stop - this.pos;
          if (idLength === 32) id = this.buf.toString('hex', this.pos, stop);
          this.pos = stop;
          break;
        }
        case 4:
          mode = this.nonDefault(end, UINT32_MAX, 'a mode');
          break;
        case 5:
          uid = this.nonDefault(end, UINT32_MAX, 'a uid');
          break;
        case 6:
          gid = this.nonDefault(end, UINT32_MAX, 'a gid');
          break;
        case 7:
          size = this.nonDefault(end, Number.MAX_SAFE_INTEGER, 'a size');
          break;
        case 8:
          target = this.string(end, 'a symlink target');
          break;
        default:
          xattrs.push(this.xattr(this.delimited(end, 'an xattr')));
      }
    }
    const problem = nameProblem(name);
    if (problem) throw badObject(`tree has invalid entry name ${JSON.stringify(name)}: ${problem}`);
    const kind = PB_TO_KIND.get(kindNo);
    if (!kind) throw badObject(`tree entry ${JSON.stringify(name)} has unknown kind ${kindNo}`);
    checkMode(mode, name);
    for (let i = 1; i < xattrs.length; i++) {
      const order = compareNames(xattrs[i - 1]!.name, xattrs[i]!.name);
      if (order >= 0) throw badObject(`${order === 0 ? 'duplicate' : 'unsorted'} xattr ${xattrs[i]!.name} in ${name}`);
    }
    const entry: TreeEntry = { name, kind, mode, uid, gid, size, xattrs };
    if (kind === 'symlink') {
      if (idLength !== 0) throw badObject(`symlink ${name} must not have an id`);
      if (target === undefined) throw badObject(`symlink ${name} has an empty target`);
      entry.target = target;
    } else {
      if (id === undefined) throw badObject(`tree entry ${JSON.stringify(name)}: id must be 32 bytes`);
      if (target !== undefined) throw badObject(`entry ${name} is not a symlink but has a target`);
      if (kind === 'dir' && size !== 0) throw badObject(`directory ${name} must have size 0`);
      entry.id = id;
    }
    return entry;
  }

  private nonDefault(end: number, max: number, what: string): number {
    const v = this.varint(end, max, what);
    if (v === 0) throw notCanonical(`${what} is written as its default`);
    return v;
  }

  private xattr(end: number): Xattr {
    let name = '';
    let value: Uint8Array = new Uint8Array();
    let last = 0;
    while (this.pos < end) {
      const tag = this.varint(end, UINT32_MAX, 'a field tag');
      if ((tag !== 0x0a && tag !== 0x12) || tag >>> 3 <= last) throw notCanonical(`xattr field ${tag >>> 3} (wire type ${tag & 7}) is unknown, out of order or repeated`);
      last = tag >>> 3;
      if (last === 1) name = this.string(end, 'an xattr name');
      else {
        const stop = this.delimited(end, 'an xattr value');
        value = this.buf.subarray(this.pos, stop);
        this.pos = stop;
      }
    }
    if (name.length === 0) throw badObject('empty xattr name in a tree entry');
    return { name, value };
  }
}

function notCanonical(detail: string): Error {
  return badObject(`tree is not canonically encoded (unsorted, duplicate, default or unknown fields): ${detail}`);
}

/** Decodes and validates a tree; rejects bad names, bad kinds, unsorted or duplicate names and non-canonical bytes. */
export function decodeTree(bytes: Uint8Array): Tree {
  return { entries: new TreeReader(bytes).entries() };
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
