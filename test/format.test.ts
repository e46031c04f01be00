import protobuf from 'protobufjs/minimal.js';
import { describe, expect, it } from 'vitest';
import { TroveError } from '../src/util/errors.js';
import {
  assertValidName,
  type Commit,
  compareNames,
  comparePackages,
  decodeCommit,
  decodeTree,
  encodeCommit,
  encodeTree,
  nameProblem,
  objectId,
  type Tree,
  type TreeEntry,
} from '../src/format/index.js';
import { hashBytes } from '../src/util/hash.js';
import { type GenerationInput, precedence } from '../src/system/generations/tree.js';

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const blob = (s: string) => hashBytes(utf8(s));

const HELLO = blob('hello\n');
const BASH = blob('#!/bin/bash ELF pretend\n');
const EMPTY_TREE = hashBytes(new Uint8Array());

/** A small tree with every kind of entry, unusual modes, owners and xattrs. */
function richTree(): Tree {
  return {
    entries: [
      { name: 'hello', kind: 'file', id: HELLO, mode: 0o644, uid: 0, gid: 0, size: 6, xattrs: [] },
      { name: 'bin', kind: 'dir', id: EMPTY_TREE, mode: 0o755, uid: 0, gid: 0, size: 0, xattrs: [] },
      { name: 'sh', kind: 'symlink', target: 'bash', mode: 0o777, uid: 0, gid: 0, size: 4, xattrs: [] },
      { name: 'etc-link', kind: 'symlink', target: '/etc/../etc', mode: 0o777, uid: 1, gid: 2, size: 11, xattrs: [] },
      { name: 'passwd', kind: 'file', id: BASH, mode: 0o4755, uid: 0, gid: 0, size: 24, xattrs: [] },
      {
        name: 'ping',
        kind: 'file',
        id: BASH,
        mode: 0o750,
        uid: 1000,
        gid: 100,
        size: 24,
        xattrs: [
          { name: 'user.comment', value: utf8('a comment') },
          { name: 'security.capability', value: new Uint8Array([1, 0, 0, 2, 0, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) },
        ],
      },
      { name: 'caf\u00e9', kind: 'file', id: HELLO, mode: 0o600, uid: 65534, gid: 65534, size: 6, xattrs: [] },
      { name: 'big', kind: 'file', id: HELLO, mode: 0o444, uid: 0, gid: 0, size: 2 ** 40 + 7, xattrs: [] },
      { name: 'private', kind: 'dir', id: EMPTY_TREE, mode: 0o555, uid: 0, gid: 0, size: 0, xattrs: [{ name: 'user.x', value: utf8('1') }] },
    ],
  };
}

const RICH_TREE_ID = hashBytes(encodeTree(richTree()));

function minimalCommit(): Commit {
  return { tree: EMPTY_TREE, root: { mode: 0o755, uid: 0, gid: 0, xattrs: [] }, parents: [], subject: '', body: '', timestamp: 0, metadata: [] };
}

function packageCommit(): Commit {
  return {
    tree: RICH_TREE_ID,
    root: { mode: 0o755, uid: 0, gid: 0, xattrs: [{ name: 'user.root', value: utf8('yes') }] },
    parents: [blob('parent one'), blob('parent two')],
    subject: 'bash 5.2.15-2',
    body: 'Imported from bash_5.2.15-2+b2_amd64.deb\n\nsecond paragraph',
    timestamp: 1_700_000_000,
    metadata: [
      { key: 'source', value: 'debian' },
      { key: 'build-host', value: 'ci-7' },
      { key: 'z', value: '' },
    ],
    package: { name: 'bash', arch: 'amd64', version: '5.2.15', revision: 3, depends: ['libtinfo6', 'base-files', 'debianutils'], preDepends: [], provides: [], multiArch: '' },
  };
}

/** A package commit with every relationship field, and a generation with a dependency package. */
function relationsCommits(): Commit[] {
  const pkg = packageCommit();
  pkg.package = {
    ...pkg.package!,
    depends: ['debianutils (>= 5.6-0.1)', 'base-files (>= 2.1.12)'],
    preDepends: ['libtinfo6 (>= 6)', 'libc6 (>= 2.36)'],
    provides: ['sh', 'bash-static (= 5.2.15)'],
    multiArch: 'foreign',
  };
  const gen = generationCommit();
  gen.generation!.packages[0] = { ...gen.generation!.packages[0]!, dependency: true };
  return [pkg, gen];
}

function generationCommit(): Commit {
  return {
    tree: RICH_TREE_ID,
    root: { mode: 0o755, uid: 0, gid: 0, xattrs: [] },
    parents: [blob('previous generation')],
    subject: 'system generation 12',
    body: '',
    timestamp: 1_700_000_123,
    metadata: [],
    generation: {
      profile: 'system',
      packages: [
        { name: 'zsh', arch: 'amd64', version: '5.9', revision: 1, commit: blob('zsh'), priority: 0 },
        { name: 'bash', arch: 'i386', version: '5.2.15', revision: 2, commit: blob('bash i386'), priority: -5 },
        { name: 'bash', arch: 'amd64', version: '5.2.15', revision: 3, commit: blob('bash'), priority: 10 },
      ],
      conflicts: [
        { path: 'usr/share/man/man1/sh.1', winner: 'bash-amd64-5.2.15-3', losers: ['zsh-amd64-5.9-1', 'bash-i386-5.2.15-2'] },
        { path: 'bin/sh', winner: 'bash-amd64-5.2.15-3', losers: ['zsh-amd64-5.9-1'] },
      ],
    },
  };
}

/** Golden ids: these pin format v1 and must never change. */
const GOLDEN = {
  emptyTree: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  richTree: 'c83433a821ee8faa8a9bf693bb24bacd5c9f768ceada15f5fc3d847a367f1a1c',
  minimalCommit: '2a7b59f3ebf4d6b9079377e6537e6fa8f8e1620c2fcaa0051b3047f7518f5167',
  packageCommit: '3bbdeced776c99b6f519eeb4e46f8b2390e4b7cbbadbabb6b8768b7a2d26494e',
  generationCommit: '9b9c82997d8fa0d2ba8b3ef099cb5f986b67c7c94a2e8dfbf0d95346feb43e31',
};

function shuffled<T>(list: T[], seed: number): T[] {
  const out = [...list];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Comparable form: xattr values as hex, entries and lists in canonical order. */
function normTree(t: Tree) {
  return [...t.entries]
    .sort((a, b) => compareNames(a.name, b.name))
    .map((e) => ({
      ...e,
      xattrs: [...e.xattrs].sort((a, b) => compareNames(a.name, b.name)).map((x) => [x.name, Buffer.from(x.value).toString('hex')]),
    }));
}

function normCommit(c: Commit) {
  return {
    ...c,
    root: { ...c.root, xattrs: c.root.xattrs.map((x) => [x.name, Buffer.from(x.value).toString('hex')]) },
    metadata: [...c.metadata].sort((a, b) => compareNames(a.key, b.key)),
    package: c.package && {
      ...c.package,
      depends: [...c.package.depends].sort(compareNames),
      preDepends: [...c.package.preDepends].sort(compareNames),
      provides: [...c.package.provides].sort(compareNames),
    },
    generation: c.generation && {
      ...c.generation,
      packages: [...c.generation.packages].sort(comparePackages),
      conflicts: [...c.generation.conflicts]
        .sort((a, b) => compareNames(a.path, b.path))
        .map((x) => ({ ...x, losers: [...x.losers].sort(compareNames) })),
    },
  };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TroveError);
    return (err as TroveError).code;
  }
  return undefined;
}

describe('golden ids', () => {
  it('the empty tree is the SHA-256 of no bytes', () => {
    expect(encodeTree({ entries: [] })).toHaveLength(0);
    expect(objectId(encodeTree({ entries: [] }))).toBe(GOLDEN.emptyTree);
  });

  it('pins a tree with files, dirs, symlinks, set-id modes, owners and xattrs', () => {
    expect(objectId(encodeTree(richTree()))).toBe(GOLDEN.richTree);
  });

  it('pins a minimal commit', () => {
    expect(objectId(encodeCommit(minimalCommit()))).toBe(GOLDEN.minimalCommit);
  });

  it('pins a package commit with parents, metadata, body and root xattrs', () => {
    expect(objectId(encodeCommit(packageCommit()))).toBe(GOLDEN.packageCommit);
  });

  it('pins a generation commit', () => {
    expect(objectId(encodeCommit(generationCommit()))).toBe(GOLDEN.generationCommit);
  });

  it('pins the exact bytes of small objects (checked by hand against the .proto)', () => {
    // entry{ name(1)="sh", kind(2)=SYMLINK, mode(4)=0777, size(7)=4, target(8)="bash" }
    const symlinkTree = encodeTree({ entries: [{ name: 'sh', kind: 'symlink', target: 'bash', mode: 0o777, uid: 0, gid: 0, size: 4, xattrs: [] }] });
    expect(Buffer.from(symlinkTree).toString('hex')).toBe('0a110a027368100320ff033804420462617368');
    // tree(1)=<32 bytes>, root(2)={ mode(1)=0755 }; uid, gid, subject, timestamp omitted as defaults
    expect(Buffer.from(encodeCommit(minimalCommit())).toString('hex')).toBe(`0a20${EMPTY_TREE}120308ed03`);
  });

  it('an object id is the sha256sum of the stored bytes', () => {
    const bytes = encodeTree(richTree());
    expect(objectId(bytes)).toBe(hashBytes(bytes));
    expect(objectId(utf8('hello\n'))).toBe('5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03');
  });
});

describe('canonical encoding', () => {
  it('is independent of the order of entries and xattrs', () => {
    const canonical = Buffer.from(encodeTree(richTree()));
    for (let seed = 1; seed <= 20; seed++) {
      const t = richTree();
      const entries = shuffled(t.entries, seed).map((e) => ({ ...e, xattrs: shuffled(e.xattrs, seed + 100) }));
      expect(Buffer.from(encodeTree({ entries })).equals(canonical)).toBe(true);
    }
  });

  it('is independent of the order of metadata, depends, generation packages, conflicts and losers', () => {
    const pkg = Buffer.from(encodeCommit(packageCommit()));
    const gen = Buffer.from(encodeCommit(generationCommit()));
    for (let seed = 1; seed <= 20; seed++) {
      const p = packageCommit();
      p.metadata = shuffled(p.metadata, seed);
      p.package!.depends = shuffled(p.package!.depends, seed + 1);
      p.root.xattrs = shuffled(p.root.xattrs, seed + 2);
      expect(Buffer.from(encodeCommit(p)).equals(pkg)).toBe(true);
      const g = generationCommit();
      g.generation!.packages = shuffled(g.generation!.packages, seed);
      g.generation!.conflicts = shuffled(g.generation!.conflicts, seed + 3).map((c) => ({ ...c, losers: shuffled(c.losers, seed) }));
      expect(Buffer.from(encodeCommit(g)).equals(gen)).toBe(true);
    }
  });

  it('orders several revisions of one name and arch by revision, then commit: any input order gives the same bytes', () => {
    const g = generationCommit();
    const tool = (revision: number, commit: string, priority = 0) => ({ name: 'tool', arch: 'amd64', version: '1.0', revision, commit: blob(commit), priority });
    // Two commits of revision 2 (a ref deleted and re-added), and revision 1 and 3.
    g.generation!.packages.push(tool(1, 'tool r1'), tool(2, 'tool r2 a'), tool(2, 'tool r2 b'), tool(3, 'tool r3', 5));
    const canonical = Buffer.from(encodeCommit(g));
    const reversed = { ...g, generation: { ...g.generation!, packages: [...g.generation!.packages].reverse() } };
    expect(Buffer.from(encodeCommit(reversed)).equals(canonical)).toBe(true);
    for (let seed = 1; seed <= 20; seed++) {
      const p = { ...g, generation: { ...g.generation!, packages: shuffled(g.generation!.packages, seed) } };
      expect(Buffer.from(encodeCommit(p)).equals(canonical)).toBe(true);
    }
    const tools = decodeCommit(canonical).generation!.packages.filter((p) => p.name === 'tool');
    const r2 = [blob('tool r2 a'), blob('tool r2 b')].sort(compareNames);
    expect(tools.map((p) => [p.revision, p.commit])).toEqual([[3, blob('tool r3')], [2, r2[0]], [2, r2[1]], [1, blob('tool r1')]]);
  });

  it('within one name and arch the canonical order is the precedence order builds wrote, so stored generations stay canonical', () => {
    const g = generationCommit();
    const tool = (revision: number, commit: string, priority: number) => ({ name: 'tool', arch: 'amd64', version: '1.0', revision, commit: blob(commit), priority });
    g.generation!.packages.push(tool(1, 'a', 9), tool(2, 'b', 0), tool(2, 'c', 4), tool(2, 'd', 0));
    const inputs: GenerationInput[] = g.generation!.packages.map((pkg) => ({ pkg, tree: RICH_TREE_ID, root: g.root }));
    // What encodeCommit wrote before revision and commit were in the key: precedence order, stably sorted by name and arch.
    const written = precedence(inputs)
      .map((i) => i.pkg)
      .sort((a, b) => compareNames(a.name, b.name) || compareNames(a.arch, b.arch));
    expect(decodeCommit(encodeCommit(g)).generation!.packages).toEqual(written);
  });

  it('keeps the order of parents: it is meaningful', () => {
    const a = packageCommit();
    const b = packageCommit();
    b.parents.reverse();
    expect(objectId(encodeCommit(a))).not.toBe(objectId(encodeCommit(b)));
  });

  it('sorts entries bytewise by UTF-8, not by UTF-16 code units', () => {
    const mk = (name: string): TreeEntry => ({ name, kind: 'file', id: HELLO, mode: 0o644, uid: 0, gid: 0, size: 6, xattrs: [] });
    // U+1F600 is a surrogate pair (0xD83D...) in UTF-16 but F0 9F.. in UTF-8, after EF BF BC.
    const names = ['\u{1F600}', '\uFFFC', 'a', 'B', '\u00e9', 'z'];
    const decoded = decodeTree(encodeTree({ entries: names.map(mk) }));
    expect(decoded.entries.map((e) => e.name)).toEqual(['B', 'a', 'z', '\u00e9', '\uFFFC', '\u{1F600}']);
  });

  it('every changed field changes the id', () => {
    const base = objectId(encodeTree(richTree()));
    const variants: ((e: TreeEntry) => void)[] = [
      (e) => (e.mode = 0o640),
      (e) => (e.uid = 1),
      (e) => (e.gid = 1),
      (e) => (e.size = 7),
      (e) => (e.id = BASH),
      (e) => (e.xattrs = [{ name: 'user.a', value: utf8('') }]),
      (e) => (e.name = 'hellO'),
    ];
    const seen = new Set([base]);
    for (const change of variants) {
      const t = richTree();
      change(t.entries[0]!);
      const id = objectId(encodeTree(t));
      expect(seen.has(id)).toBe(false);
      seen.add(id);
    }
  });
});

describe('round trip', () => {
  it('decodeTree(encodeTree(x)) gives x back, sorted', () => {
    const t = richTree();
    const decoded = decodeTree(encodeTree(t));
    expect(normTree(decoded)).toEqual(normTree(t));
    expect(decoded.entries.find((e) => e.name === 'big')!.size).toBe(2 ** 40 + 7);
    expect(decoded.entries.find((e) => e.name === 'sh')).not.toHaveProperty('id');
    expect(decoded.entries.find((e) => e.name === 'hello')).not.toHaveProperty('target');
  });

  it('decodeCommit(encodeCommit(x)) gives x back for every kind of commit', () => {
    for (const c of [minimalCommit(), packageCommit(), generationCommit()]) {
      const bytes = encodeCommit(c);
      const decoded = decodeCommit(bytes);
      expect(normCommit(decoded)).toEqual(normCommit(c));
      expect(Buffer.from(encodeCommit(decoded)).equals(Buffer.from(bytes))).toBe(true);
    }
  });

  it('keeps Pre-Depends, Provides, Multi-Arch and the dependency mark; empty ones add no bytes', () => {
    const [pkg, gen] = relationsCommits() as [Commit, Commit];
    for (const c of [pkg, gen]) {
      const decoded = decodeCommit(encodeCommit(c));
      expect(normCommit(decoded)).toEqual(normCommit(c));
    }
    expect(decodeCommit(encodeCommit(pkg)).package!.preDepends).toEqual(['libc6 (>= 2.36)', 'libtinfo6 (>= 6)']);
    expect(objectId(encodeCommit(pkg))).not.toBe(GOLDEN.packageCommit);
    expect(objectId(encodeCommit(gen))).not.toBe(GOLDEN.generationCommit);
    // Absent and false are the same bytes: old generations read as "asked for".
    const plain = generationCommit();
    plain.generation!.packages[0] = { ...plain.generation!.packages[0]!, dependency: false };
    expect(objectId(encodeCommit(plain))).toBe(GOLDEN.generationCommit);
    expect(decodeCommit(encodeCommit(plain)).generation!.packages.every((p) => p.dependency === undefined)).toBe(true);
    expect(codeOf(() => encodeCommit({ ...pkg, package: { ...pkg.package!, multiArch: 'sometimes' } }))).toBe('E_BAD_OBJECT');
    expect(codeOf(() => encodeCommit({ ...pkg, package: { ...pkg.package!, provides: ['sh', 'sh'] } }))).toBe('E_BAD_OBJECT');
  });

  it('a commit without package or generation decodes without them', () => {
    const c = decodeCommit(encodeCommit(minimalCommit()));
    expect(c).not.toHaveProperty('package');
    expect(c).not.toHaveProperty('generation');
  });
});

// Hand-built protobuf, so that bytes the encoder would never produce can be tested.
type Field = [no: number, type: 'varint' | 'bytes' | 'string', value: number | string | Uint8Array];

function message(fields: Field[]): Uint8Array {
  const w = protobuf.Writer.create();
  for (const [no, type, value] of fields) {
    if (type === 'varint') w.uint32((no << 3) | 0).uint64(value as number);
    else if (type === 'string') w.uint32((no << 3) | 2).string(value as string);
    else w.uint32((no << 3) | 2).bytes(value as Uint8Array);
  }
  return w.finish();
}

const idBytes = (id: string) => new Uint8Array(Buffer.from(id, 'hex'));

/** A canonical file entry with the given name, then optional extra fields. */
function fileEntry(name: string | undefined, opts: { kind?: number; id?: Uint8Array; mode?: number; extra?: Field[] } = {}): Uint8Array {
  const fields: Field[] = [];
  if (name !== undefined) fields.push([1, 'string', name]);
  if (opts.kind !== 0) fields.push([2, 'varint', opts.kind ?? 1]);
  fields.push([3, 'bytes', opts.id ?? idBytes(HELLO)]);
  fields.push([4, 'varint', opts.mode ?? 0o644]);
  fields.push([7, 'varint', 6]);
  fields.push(...(opts.extra ?? []));
  return message(fields);
}

const treeOf = (...entries: Uint8Array[]) => message(entries.map((e): Field => [1, 'bytes', e]));

describe('decode rejects', () => {
  it('hand-built canonical bytes are accepted (control for the cases below)', () => {
    const bytes = treeOf(fileEntry('a'), fileEntry('b'));
    const t = decodeTree(bytes);
    expect(t.entries.map((e) => e.name)).toEqual(['a', 'b']);
    expect(Buffer.from(encodeTree(t)).equals(Buffer.from(bytes))).toBe(true);
  });

  it.each([
    ['empty (written)', ''],
    ['dot', '.'],
    ['dot-dot', '..'],
    ['slash', 'a/b'],
    ['leading slash', '/etc'],
    ['NUL', 'a\0b'],
    ['too long', 'x'.repeat(256)],
  ])('an entry named %s', (_label, name) => {
    expect(codeOf(() => decodeTree(treeOf(fileEntry(name))))).toBe('E_BAD_OBJECT');
    // The encoder refuses to produce such a name in the first place.
    const e: TreeEntry = { name, kind: 'file', id: HELLO, mode: 0o644, uid: 0, gid: 0, size: 6, xattrs: [] };
    expect(codeOf(() => encodeTree({ entries: [e] }))).toBe('E_BAD_OBJECT');
  });

  it('an entry without a name', () => {
    expect(codeOf(() => decodeTree(treeOf(fileEntry(undefined))))).toBe('E_BAD_OBJECT');
  });

  it('a name that is not valid UTF-8', () => {
    // The name field holds raw bytes 0xff 0xfe: not UTF-8.
    const entry = message([
      [1, 'bytes', new Uint8Array([0x61, 0xff, 0xfe])],
      [2, 'varint', 1],
      [3, 'bytes', idBytes(HELLO)],
      [4, 'varint', 0o644],
      [7, 'varint', 6],
    ]);
    expect(codeOf(() => decodeTree(treeOf(entry)))).toBe('E_BAD_OBJECT');
  });

  it('unsorted entries', () => {
    expect(codeOf(() => decodeTree(treeOf(fileEntry('b'), fileEntry('a'))))).toBe('E_BAD_OBJECT');
  });

  it('duplicate names', () => {
    expect(codeOf(() => decodeTree(treeOf(fileEntry('a'), fileEntry('a'))))).toBe('E_BAD_OBJECT');
    const e: TreeEntry = { name: 'a', kind: 'file', id: HELLO, mode: 0o644, uid: 0, gid: 0, size: 6, xattrs: [] };
    expect(codeOf(() => encodeTree({ entries: [e, { ...e, id: BASH }] }))).toBe('E_BAD_OBJECT');
  });

  it('a field written with its default value', () => {
    // uid 0 written explicitly: the same tree as the canonical one, but not the same bytes.
    const withUid0 = fileEntry('a', { extra: [[5, 'varint', 0]] });
    expect(codeOf(() => decodeTree(treeOf(withUid0)))).toBe('E_BAD_OBJECT');
    const emptyTarget = fileEntry('a', { extra: [[8, 'string', '']] });
    expect(codeOf(() => decodeTree(treeOf(emptyTarget)))).toBe('E_BAD_OBJECT');
  });

  it('fields out of field-number order', () => {
    const entry = message([
      [2, 'varint', 1],
      [1, 'string', 'a'],
      [3, 'bytes', idBytes(HELLO)],
      [4, 'varint', 0o644],
      [7, 'varint', 6],
    ]);
    expect(codeOf(() => decodeTree(treeOf(entry)))).toBe('E_BAD_OBJECT');
  });

  it('an unknown field', () => {
    const entry = fileEntry('a', { extra: [[15, 'varint', 1]] });
    expect(codeOf(() => decodeTree(treeOf(entry)))).toBe('E_BAD_OBJECT');
  });

  it('unsorted or duplicate xattrs', () => {
    const x = (name: string) => message([[1, 'string', name], [2, 'bytes', utf8('v')]]);
    const good = fileEntry('a', { extra: [[9, 'bytes', x('user.a')], [9, 'bytes', x('user.b')]] });
    expect(decodeTree(treeOf(good)).entries[0]!.xattrs.map((e) => e.name)).toEqual(['user.a', 'user.b']);
    const unsorted = fileEntry('a', { extra: [[9, 'bytes', x('user.b')], [9, 'bytes', x('user.a')]] });
    expect(codeOf(() => decodeTree(treeOf(unsorted)))).toBe('E_BAD_OBJECT');
    const dup = fileEntry('a', { extra: [[9, 'bytes', x('user.a')], [9, 'bytes', x('user.a')]] });
    expect(codeOf(() => decodeTree(treeOf(dup)))).toBe('E_BAD_OBJECT');
  });

  it.each([0, 1, 31, 33, 64])('an id of %i bytes', (n) => {
    const entry = fileEntry('a', { id: new Uint8Array(n).fill(0xab) });
    expect(codeOf(() => decodeTree(treeOf(entry)))).toBe('E_BAD_OBJECT');
  });

  it.each([0, 4, 7, 1000])('unknown kind %i', (kind) => {
    expect(codeOf(() => decodeTree(treeOf(fileEntry('a', { kind }))))).toBe('E_BAD_OBJECT');
  });

  it('a symlink with an id, or a file with a target', () => {
    const symlinkWithId = message([
      [1, 'string', 'l'],
      [2, 'varint', 3],
      [3, 'bytes', idBytes(HELLO)],
      [4, 'varint', 0o777],
      [7, 'varint', 1],
      [8, 'string', 'x'],
    ]);
    expect(codeOf(() => decodeTree(treeOf(symlinkWithId)))).toBe('E_BAD_OBJECT');
    const fileWithTarget = fileEntry('a', { extra: [[8, 'string', '/etc']] });
    expect(codeOf(() => decodeTree(treeOf(fileWithTarget)))).toBe('E_BAD_OBJECT');
  });

  it('a mode outside 07777', () => {
    expect(codeOf(() => decodeTree(treeOf(fileEntry('a', { mode: 0o100644 }))))).toBe('E_BAD_OBJECT');
  });

  it('bytes that are not protobuf at all', () => {
    expect(codeOf(() => decodeTree(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])))).toBe('E_BAD_OBJECT');
    expect(codeOf(() => decodeCommit(utf8('tree 1234\nparent 5678\n')))).toBe('E_BAD_OBJECT');
  });

  it('commits with bad ids, unsorted metadata or defaults written', () => {
    const good = message([[1, 'bytes', idBytes(EMPTY_TREE)], [4, 'string', 's']]);
    expect(decodeCommit(good).subject).toBe('s');
    expect(codeOf(() => decodeCommit(message([[4, 'string', 's']])))).toBe('E_BAD_OBJECT');
    expect(codeOf(() => decodeCommit(message([[1, 'bytes', new Uint8Array(31)]])))).toBe('E_BAD_OBJECT');
    expect(
      codeOf(() => decodeCommit(message([[1, 'bytes', idBytes(EMPTY_TREE)], [3, 'bytes', new Uint8Array(33)]]))),
    ).toBe('E_BAD_OBJECT');
    const kv = (k: string) => message([[1, 'string', k], [2, 'string', 'v']]);
    expect(
      codeOf(() => decodeCommit(message([[1, 'bytes', idBytes(EMPTY_TREE)], [7, 'bytes', kv('b')], [7, 'bytes', kv('a')]]))),
    ).toBe('E_BAD_OBJECT');
    expect(codeOf(() => decodeCommit(message([[1, 'bytes', idBytes(EMPTY_TREE)], [6, 'varint', 0]])))).toBe('E_BAD_OBJECT');
  });

  it('a one-bit change in a subject decodes to different content under a different id', () => {
    const bytes = Buffer.from(encodeCommit(packageCommit()));
    const subjectAt = bytes.indexOf('bash 5.2.15-2');
    const flipped = Buffer.from(bytes);
    flipped[subjectAt] = flipped[subjectAt]! ^ 0x20; // 'b' -> 'B'
    const c = decodeCommit(flipped);
    expect(c.subject).toBe('Bash 5.2.15-2');
    expect(objectId(flipped)).not.toBe(GOLDEN.packageCommit);
  });
});

describe('nameProblem', () => {
  it.each(['a', 'hello.txt', '...', '.hidden', '..a', 'a..', 'a b', ' ', '\u00e9', '\\', '-', 'x'.repeat(255), '\u00e9'.repeat(127), '\u{1F600}'])(
    'accepts %j',
    (name) => {
      expect(nameProblem(name)).toBeNull();
      expect(() => assertValidName(name)).not.toThrow();
    },
  );

  it.each([
    ['', /empty/],
    ['.', /not allowed/],
    ['..', /not allowed/],
    ['a/b', /\//],
    ['/', /\//],
    ['a/', /\//],
    ['\0', /NUL/],
    ['a\0b', /NUL/],
    ['x'.repeat(256), /255/],
    ['\u00e9'.repeat(128), /255/],
    ['bad\uFFFDname', /UTF-8/],
  ])('refuses %j', (name, why) => {
    expect(nameProblem(name)).toMatch(why);
    expect(codeOf(() => assertValidName(name, 'test'))).toBe('E_BAD_NAME');
  });

  it('compareNames orders by UTF-8 bytes', () => {
    expect(compareNames('a', 'b')).toBeLessThan(0);
    expect(compareNames('B', 'a')).toBeLessThan(0);
    expect(compareNames('a', 'a')).toBe(0);
    expect(compareNames('ab', 'a')).toBeGreaterThan(0);
    expect(compareNames('\u{1F600}', '\uFFFC')).toBeGreaterThan(0);
  });
});

describe('compareNames', () => {
  it('orders names as their UTF-8 bytes, on random names with surrogate pairs, lone surrogates and U+E000-U+FFFF', () => {
    // Units from the ranges where UTF-16 and UTF-8 orders part: ASCII, Latin, below and past the surrogates.
    const pool = ['a', 'b', 'z', '~', '\u00e9', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uff5e', '\uffff', '\ud83d\ude00', '\ud800\udc00', '\udbff\udfff', '\ud800', '\udc00'];
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const name = () => Array.from({ length: 1 + rnd(4) }, () => pool[rnd(pool.length)]!).join('');
    const sign = (x: number) => Math.sign(x) + 0;
    for (let i = 0; i < 20_000; i++) {
      const a = name();
      const b = rnd(4) === 0 ? a + name() : name();
      expect(sign(compareNames(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      expect(sign(compareNames(b, a))).toBe(sign(-compareNames(a, b)));
    }
  });
});
