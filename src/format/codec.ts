import { isUtf8 } from 'node:buffer';
import { badObject } from '../util/errors.js';
import { bytesToId, hashBytes, idToBytes, isObjectId, type ObjectId } from '../util/hash.js';
import { compareNames, isWellFormedText, nameProblem } from './names.js';
import type { Commit, EntryKind, GenerationPackage, PackageInfo, Tree, TreeEntry, Xattr } from './types.js';
import { ProtoWriter, readMessage, type Schema } from './wire.js';

/** EntryKind numbers of trove.proto. */
const KIND_TO_PB: Record<EntryKind, number> = { file: 1, dir: 2, symlink: 3 };
const PB_TO_KIND = new Map<number, EntryKind>(Object.entries(KIND_TO_PB).map(([k, v]) => [v, k as EntryKind]));

/** Xattrs sorted by name, after the checks every list of them must pass. */
function sortedXattrs(xattrs: Xattr[], where: string): Xattr[] {
  const sorted = [...xattrs].sort((a, b) => compareNames(a.name, b.name));
  sorted.forEach((x, i) => {
    if (x.name.length === 0) throw badObject(`empty xattr name in ${where}`);
    if (!isWellFormedText(x.name)) throw badObject(`xattr name in ${where} is not valid UTF-8`);
    // The kernel's lists of names end each at a NUL: one inside a name would read as two.
    if (x.name.includes('\0')) throw badObject(`xattr name in ${where} has a NUL byte`);
    if (i > 0 && sorted[i - 1]!.name === x.name) throw badObject(`duplicate xattr ${x.name} in ${where}`);
  });
  return sorted;
}

/** Xattr messages (name 1, value 2) as field `field` of the message `w` is writing. */
function writeXattrs(w: ProtoWriter, field: number, xattrs: Xattr[]): void {
  for (const x of xattrs) {
    w.message(
      field,
      () => {
        w.string(1, x.name);
        w.bytes(2, x.value);
      },
      true,
    );
  }
}

function checkMode(mode: number, where: string): void {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw badObject(`mode ${mode} out of range in ${where}`);
}

/** A TreeEntry message (trove.proto) after the checks encodeTree makes. */
function writeEntry(w: ProtoWriter, e: TreeEntry): void {
  const problem = nameProblem(e.name);
  if (problem) throw badObject(`invalid entry name ${JSON.stringify(e.name)}: ${problem}`);
  checkMode(e.mode, e.name);
  let id: Uint8Array | undefined;
  if (e.kind === 'symlink') {
    if (e.id !== undefined) throw badObject(`symlink ${e.name} must not have an id`);
    if (!e.target) throw badObject(`symlink ${e.name} has an empty target`);
    if (!isWellFormedText(e.target)) throw badObject(`symlink ${e.name} has a target that is not valid UTF-8`);
    if (e.target.includes('\0')) throw badObject(`symlink ${e.name} has a NUL byte in its target`);
  } else {
    if (!e.id || !isObjectId(e.id)) throw badObject(`entry ${e.name} has no valid id`);
    if (e.target) throw badObject(`entry ${e.name} is not a symlink but has a target`);
    id = idToBytes(e.id);
  }
  if (e.kind === 'dir' && e.size !== 0) throw badObject(`directory ${e.name} must have size 0`);
  const xattrs = sortedXattrs(e.xattrs, e.name);
  w.string(1, e.name);
  w.uint(2, KIND_TO_PB[e.kind]);
  if (id) w.bytes(3, id);
  w.uint(4, e.mode);
  w.uint(5, e.uid);
  w.uint(6, e.gid);
  w.uint(7, e.size);
  if (e.kind === 'symlink') w.string(8, e.target!);
  writeXattrs(w, 9, xattrs);
}

/** Canonical bytes of a tree (entries must have unique names; they are sorted here). */
export function encodeTree(tree: Tree): Uint8Array {
  const entries = [...tree.entries].sort((a, b) => compareNames(a.name, b.name));
  for (let i = 1; i < entries.length; i++) {
    if (entries[i - 1]!.name === entries[i]!.name) throw badObject(`duplicate entry name ${entries[i]!.name}`);
  }
  const w = new ProtoWriter();
  for (const e of entries) w.message(1, () => writeEntry(w, e), true);
  return w.finish();
}

function assertCanonical(what: string, bytes: Uint8Array, reencoded: Uint8Array): void {
  if (Buffer.compare(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), Buffer.from(reencoded.buffer, reencoded.byteOffset, reencoded.byteLength)) !== 0) {
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

  /**
   * Each entry's name, kind, id and size, skipping the other fields and the
   * checks `entries` makes; for trees whose bytes were checked when they
   * were stored (see readStoredTreeIndex).
   */
  index(): Map<string, StoredEntry> {
    const end = this.buf.length;
    const out = new Map<string, StoredEntry>();
    while (this.pos < end) {
      if (this.varint(end, UINT32_MAX, 'a field tag') !== 0x0a) throw badObject('tree is not a valid protobuf message: not an entry');
      const stop = this.delimited(end, 'an entry');
      let name = '';
      let kind: EntryKind | undefined;
      let id: string | undefined;
      let size = 0;
      while (this.pos < stop) {
        const tag = this.varint(stop, UINT32_MAX, 'a field tag');
        const field = tag >>> 3;
        if ((tag & 7) === 0) {
          const v = this.varint(stop, Number.MAX_SAFE_INTEGER, 'a number');
          if (field === 2) kind = PB_TO_KIND.get(v);
          else if (field === 7) size = v;
        } else if ((tag & 7) === 2) {
          const at = this.delimited(stop, 'a field');
          if (field === 1) name = this.buf.toString('utf8', this.pos, at);
          else if (field === 3) id = this.buf.toString('hex', this.pos, at);
          this.pos = at;
        } else throw badObject(`tree is not a valid protobuf message: wire type ${tag & 7}`);
      }
      if (kind === undefined) throw badObject(`tree entry ${JSON.stringify(name)} has no valid kind`);
      out.set(name, kind === 'symlink' ? { kind, size } : { kind, id, size });
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
      // No filesystem can hold it: a target with a NUL would be served cut short at it.
      if (target.includes('\0')) throw badObject(`symlink ${name} has a NUL byte in its target`);
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
    if (name.includes('\0')) throw badObject('xattr name in a tree entry has a NUL byte');
    return { name, value };
  }
}

function notCanonical(detail: string): Error {
  return badObject(`tree is not canonically encoded (unsorted, duplicate, default or unknown fields): ${detail}`);
}

/** What readStoredTreeIndex says of a name. */
export type StoredEntry = Pick<TreeEntry, 'kind' | 'id' | 'size'>;

/**
 * The name, kind, id and size of every entry of a tree already in the
 * store, by name: only for bytes whose id was just checked against the
 * store's own object, which `decodeTree` checked when it was stored. A
 * pull reads the stored tree beside each fetched one with this, as a hint
 * of what it need not fetch (src/remote/present.ts); the full check there
 * cost 2.9 µs per entry, this a third of it.
 */
export function readStoredTreeIndex(bytes: Uint8Array): Map<string, StoredEntry> {
  return new TreeReader(bytes).index();
}

/** Decodes and validates a tree; rejects bad names, bad kinds, unsorted or duplicate names and non-canonical bytes. */
export function decodeTree(bytes: Uint8Array): Tree {
  return { entries: new TreeReader(bytes).entries() };
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

const XATTR: Schema = { 1: ['name', 'string'], 2: ['value', 'bytes'] };
const PACKAGE_INFO: Schema = {
  1: ['name', 'string'],
  2: ['arch', 'string'],
  3: ['version', 'string'],
  4: ['revision', 'uint64'],
  5: ['depends', 'string', 'repeated'],
  6: ['preDepends', 'string', 'repeated'],
  7: ['provides', 'string', 'repeated'],
  8: ['multiArch', 'string'],
};
const GENERATION_INFO: Schema = {
  1: ['profile', 'string'],
  2: [
    'packages',
    {
      1: ['name', 'string'],
      2: ['arch', 'string'],
      3: ['version', 'string'],
      4: ['revision', 'uint64'],
      5: ['commit', 'bytes'],
      6: ['priority', 'int32'],
      7: ['dependency', 'bool'],
    },
    'repeated',
  ],
  3: ['conflicts', { 1: ['path', 'string'], 2: ['winner', 'string'], 3: ['losers', 'string', 'repeated'] }, 'repeated'],
};
/** trove.proto's Commit, as readMessage reads it. */
const COMMIT: Schema = {
  1: ['tree', 'bytes'],
  2: ['root', { 1: ['mode', 'uint32'], 2: ['uid', 'uint32'], 3: ['gid', 'uint32'], 4: ['xattrs', XATTR, 'repeated'] }],
  3: ['parents', 'bytes', 'repeated'],
  4: ['subject', 'string'],
  5: ['body', 'string'],
  6: ['timestamp', 'int64'],
  7: ['metadata', { 1: ['key', 'string'], 2: ['value', 'string'] }, 'repeated'],
  8: ['package', PACKAGE_INFO],
  9: ['generation', GENERATION_INFO],
};

/** What readMessage gives for COMMIT: a field's property only when the bytes hold it. */
interface XattrMsg {
  name?: string;
  value?: Uint8Array;
}
interface CommitMsg {
  tree?: Uint8Array;
  root?: { mode?: number; uid?: number; gid?: number; xattrs?: XattrMsg[] };
  parents?: Uint8Array[];
  subject?: string;
  body?: string;
  timestamp?: number;
  metadata?: { key?: string; value?: string }[];
  package?: Partial<PackageInfo>;
  generation?: {
    profile?: string;
    packages?: { name?: string; arch?: string; version?: string; revision?: number; commit?: Uint8Array; priority?: number; dependency?: boolean }[];
    conflicts?: { path?: string; winner?: string; losers?: string[] }[];
  };
}

/** Canonical bytes of a commit. */
export function encodeCommit(c: Commit): Uint8Array {
  if (!isObjectId(c.tree)) throw badObject('commit tree id is not a valid id');
  for (const p of c.parents) if (!isObjectId(p)) throw badObject(`commit parent ${p} is not a valid id`);
  checkMode(c.root.mode, 'root directory');
  const rootXattrs = sortedXattrs(c.root.xattrs, 'root directory');
  const keys = sortedUnique(
    c.metadata.map((m) => m.key),
    'metadata key',
  );
  const byKey = new Map(c.metadata.map((m) => [m.key, m.value]));
  const p = c.package;
  const pkg = p && {
    depends: sortedUnique(p.depends, 'dependency'),
    preDepends: sortedUnique(p.preDepends, 'pre-dependency'),
    provides: sortedUnique(p.provides, 'provides entry'),
  };
  if (p && !MULTI_ARCH.has(p.multiArch)) throw badObject(`invalid multi-arch value ${JSON.stringify(p.multiArch)}`);
  const w = new ProtoWriter();
  w.bytes(1, idToBytes(c.tree));
  w.message(2, () => {
    w.uint(1, c.root.mode);
    w.uint(2, c.root.uid);
    w.uint(3, c.root.gid);
    writeXattrs(w, 4, rootXattrs);
  });
  for (const parent of c.parents) w.bytes(3, idToBytes(parent));
  w.string(4, c.subject);
  w.string(5, c.body);
  w.int(6, c.timestamp);
  for (const key of keys) {
    w.message(
      7,
      () => {
        w.string(1, key);
        w.string(2, byKey.get(key)!);
      },
      true,
    );
  }
  if (p && pkg) {
    w.message(
      8,
      () => {
        w.string(1, p.name);
        w.string(2, p.arch);
        w.string(3, p.version);
        w.uint(4, p.revision);
        for (const d of pkg.depends) w.string(5, d);
        for (const d of pkg.preDepends) w.string(6, d);
        for (const d of pkg.provides) w.string(7, d);
        w.string(8, p.multiArch);
      },
      true,
    );
  }
  const g = c.generation;
  if (g) {
    w.message(
      9,
      () => {
        w.string(1, g.profile);
        for (const q of [...g.packages].sort(comparePackages)) {
          w.message(
            2,
            () => {
              w.string(1, q.name);
              w.string(2, q.arch);
              w.string(3, q.version);
              w.uint(4, q.revision);
              w.bytes(5, idToBytes(q.commit));
              w.int(6, q.priority);
              w.bool(7, q.dependency === true);
            },
            true,
          );
        }
        for (const x of [...g.conflicts].sort((a, b) => compareNames(a.path, b.path))) {
          w.message(
            3,
            () => {
              w.string(1, x.path);
              w.string(2, x.winner);
              for (const l of [...x.losers].sort(compareNames)) w.string(3, l);
            },
            true,
          );
        }
      },
      true,
    );
  }
  return w.finish();
}

/** Decodes and validates a commit; rejects malformed ids and non-canonical bytes. */
export function decodeCommit(bytes: Uint8Array): Commit {
  const m = readMessage(bytes, COMMIT, 'commit') as CommitMsg;
  const c: Commit = {
    tree: idFromPb(m.tree, 'commit tree'),
    root: {
      mode: m.root?.mode ?? 0,
      uid: m.root?.uid ?? 0,
      gid: m.root?.gid ?? 0,
      xattrs: (m.root?.xattrs ?? []).map((x) => ({ name: x.name ?? '', value: x.value ?? new Uint8Array() })),
    },
    parents: (m.parents ?? []).map((p) => idFromPb(p, 'commit parent')),
    subject: m.subject ?? '',
    body: m.body ?? '',
    timestamp: m.timestamp ?? 0,
    metadata: (m.metadata ?? []).map((kv) => ({ key: kv.key ?? '', value: kv.value ?? '' })),
  };
  if (m.package) {
    const p = m.package;
    c.package = {
      name: p.name ?? '',
      arch: p.arch ?? '',
      version: p.version ?? '',
      revision: p.revision ?? 0,
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
        revision: p.revision ?? 0,
        commit: idFromPb(p.commit, 'generation package commit'),
        priority: p.priority ?? 0,
        ...(p.dependency ? { dependency: true } : {}),
      })),
      conflicts: (g.conflicts ?? []).map((x) => ({ path: x.path ?? '', winner: x.winner ?? '', losers: x.losers ?? [] })),
    };
  }
  assertCanonical('commit', bytes, encodeCommit(c));
  return c;
}

/** Id of an encoded object. */
export const objectId = hashBytes;
