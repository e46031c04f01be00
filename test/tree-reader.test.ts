// decodeTree reads tree bytes directly and checks them on the way. Its oracle here is the
// definition of a canonical tree: protobufjs's decode of the bytes, the same validation, and
// encodeTree of the result giving back exactly the bytes. Both must accept and refuse the same
// trees, generated and damaged, and agree on what they hold.
import { describe, expect, it } from 'vitest';
import { decodeTree, encodeTree, nameProblem, readStoredTreeIndex, type Tree, type TreeEntry } from '../src/format/index.js';
import { trove } from '../src/format/generated/trove.js';
import { isTroveError } from '../src/util/errors.js';
import { damage } from './helpers/damage.js';
import { prng } from './helpers/prng.js';

const KINDS = new Map<number, TreeEntry['kind']>([
  [1, 'file'],
  [2, 'dir'],
  [3, 'symlink'],
]);

/** The oracle: decode with protobufjs, validate, and refuse unless encodeTree gives back the same bytes. */
function reference(bytes: Uint8Array): Tree {
  const msg = trove.v1.Tree.decode(bytes);
  const entries = msg.entries.map((e): TreeEntry => {
    const name = e.name ?? '';
    if (nameProblem(name)) throw new Error('bad name');
    const kind = KINDS.get(e.kind ?? 0);
    if (!kind) throw new Error('bad kind');
    const size = Number(e.size ?? 0);
    if (!Number.isSafeInteger(size)) throw new Error('size');
    const entry: TreeEntry = {
      name,
      kind,
      mode: e.mode ?? 0,
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      size,
      xattrs: (e.xattrs ?? []).map((x) => ({ name: x.name ?? '', value: new Uint8Array(x.value ?? []) })),
    };
    if (kind === 'symlink') entry.target = e.target ?? '';
    else {
      if (e.id?.length !== 32) throw new Error('id');
      entry.id = Buffer.from(e.id).toString('hex');
    }
    return entry;
  });
  const tree = { entries };
  if (!Buffer.from(encodeTree(tree)).equals(Buffer.from(bytes))) throw new Error('not canonical');
  return tree;
}

type Outcome = { ok: true; tree: Tree } | { ok: false; troveError: boolean };

function attempt(decode: (b: Uint8Array) => Tree, bytes: Uint8Array): Outcome {
  try {
    return { ok: true, tree: decode(bytes) };
  } catch (err) {
    return { ok: false, troveError: isTroveError(err, 'E_BAD_OBJECT') };
  }
}

/** Comparable form: xattr values as hex. */
const plain = (t: Tree) => t.entries.map((e) => ({ ...e, xattrs: e.xattrs.map((x) => ({ name: x.name, value: Buffer.from(x.value).toString('hex') })) }));

function randomTree(rnd: () => number): Tree {
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const units = ['a', 'b', 'Z', '0', '.', '-', '_', ' ', '\u00e9', '\u07ff', '\u0800', '\ue000', '\uffff', '\u{1F600}', '\u4e2d'];
  const word = () => Array.from({ length: 1 + int(6) }, () => pick(units)).join('');
  const id = () => Buffer.from(Array.from({ length: 32 }, () => int(256))).toString('hex');
  const value = () => Array.from([0, 1, 2, 3, 1000, 0x7f, 0x80, 0x3fff, 0x4000, 0xffffffff], (v) => v)[int(10)]!;
  const names = new Set<string>();
  for (let n = int(12); names.size < n; ) {
    const w = word();
    if (!nameProblem(w)) names.add(w);
  }
  const entries = [...names].map((name): TreeEntry => {
    const kind = pick(['file', 'dir', 'symlink'] as const);
    const xattrs = int(3) === 0 ? [...new Set(Array.from({ length: 1 + int(3) }, () => `user.${word()}`))].map((n) => ({ name: n, value: new Uint8Array(Buffer.from(int(2) ? word() : '')) })) : [];
    const base = { name, kind, mode: pick([0, 0o644, 0o755, 0o4755, 0o7777, 1]), uid: value(), gid: value(), xattrs };
    if (kind === 'symlink') {
      const target = word() + (int(2) ? '/../x' : '');
      return { ...base, target, size: Buffer.byteLength(target) };
    }
    if (kind === 'dir') return { ...base, id: id(), size: 0 };
    return { ...base, id: id(), size: pick([0, 1, 6, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) };
  });
  return { entries };
}

/** Bytes `damage` favours: the tags, varint and UTF-8 bytes of the format. */
const SPECIAL = [0x00, 0x01, 0x02, 0x08, 0x0a, 0x10, 0x12, 0x1a, 0x20, 0x3a, 0x42, 0x4a, 0x7f, 0x80, 0xff, 0xed, 0xc0];

describe('decodeTree against decode and re-encode through protobufjs', () => {
  it('reads every generated tree back as it was written', () => {
    const rnd = prng(11);
    for (let i = 0; i < 3_000; i++) {
      const tree = randomTree(rnd);
      const bytes = encodeTree(tree);
      const got = decodeTree(bytes);
      expect(plain(got)).toEqual(plain(reference(bytes)));
      expect(Buffer.from(encodeTree(got)).equals(Buffer.from(bytes))).toBe(true);
    }
  });

  it('accepts and refuses the same damaged trees, and agrees on what the accepted ones hold', () => {
    const rnd = prng(23);
    let refused = 0;
    let accepted = 0;
    for (let i = 0; i < 30_000; i++) {
      let bytes: Uint8Array = encodeTree(randomTree(rnd));
      for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) bytes = damage(bytes, rnd, SPECIAL);
      const mine = attempt(decodeTree, bytes);
      const theirs = attempt(reference, bytes);
      const where = `seed 23, case ${i}: ${Buffer.from(bytes).toString('hex')}`;
      if (!mine.ok) {
        // Refusals are trove's E_BAD_OBJECT, never a stray exception.
        if (!mine.troveError) expect.fail(`${where}: decodeTree failed with something other than E_BAD_OBJECT`);
        refused++;
        // protobufjs reads lone surrogates out of 3-byte sequences that are not UTF-8, but
        // encodeTree refuses to write them, so the oracle refuses those trees too.
        if (theirs.ok) expect.fail(`${where}: decodeTree refused a tree decode-and-re-encode accepts`);
        continue;
      }
      accepted++;
      if (!theirs.ok) expect.fail(`${where}: decodeTree accepted a tree decode-and-re-encode refuses`);
      expect(plain(mine.tree), where).toEqual(plain(theirs.tree));
    }
    // Both sides of the comparison were exercised.
    expect(refused).toBeGreaterThan(10_000);
    expect(accepted).toBeGreaterThan(500);
  });
});

describe('readStoredTreeIndex', () => {
  it('says of every name of a stored tree what decodeTree says: kind, id and size', () => {
    const rnd = prng(41);
    for (let i = 0; i < 3_000; i++) {
      const bytes = encodeTree(randomTree(rnd));
      const expected = new Map(decodeTree(bytes).entries.map((e) => [e.name, e.kind === 'symlink' ? { kind: e.kind, size: e.size } : { kind: e.kind, id: e.id, size: e.size }]));
      expect(readStoredTreeIndex(bytes)).toEqual(expected);
    }
  });

  it('fails on bytes that are not a tree, which a pull then takes as no hint', () => {
    expect(() => readStoredTreeIndex(new Uint8Array([0x12, 0x01, 0x00]))).toThrow(expect.objectContaining({ code: 'E_BAD_OBJECT' }) as unknown as Error);
    expect(() => readStoredTreeIndex(new Uint8Array([0x0a, 0x05, 0x0a, 0x01]))).toThrow(expect.objectContaining({ code: 'E_BAD_OBJECT' }) as unknown as Error);
  });
});

describe('decodeTree at the edges', () => {
  const varint = (v: bigint): number[] => {
    const out: number[] = [];
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) b |= 0x80;
      out.push(b);
    } while (v > 0n);
    return out;
  };
  const field = (no: number, wire: number, body: number[]): number[] => [...varint(BigInt((no << 3) | wire)), ...body];
  const bytesField = (no: number, b: number[]): number[] => field(no, 2, [...varint(BigInt(b.length)), ...b]);
  const id = Array.from({ length: 32 }, (_, i) => i);
  const entry = (size: bigint, extra: number[] = []) => [
    ...bytesField(1, [...Buffer.from('f')]),
    ...field(2, 0, varint(1n)),
    ...bytesField(3, id),
    ...field(4, 0, varint(0o644n)),
    ...field(7, 0, varint(size)),
    ...extra,
  ];
  const tree = (...entries: number[][]) => new Uint8Array(entries.flatMap((e) => bytesField(1, e)));

  it('reads a view at a non-zero offset of a larger buffer as the same tree', () => {
    const bytes = tree(entry(6n));
    const padded = Buffer.concat([Buffer.from('junk before'), bytes, Buffer.from('junk after')]);
    const view = new Uint8Array(padded.buffer, padded.byteOffset + 11, bytes.length);
    expect(decodeTree(view)).toEqual(decodeTree(bytes));
    expect(decodeTree(bytes).entries[0]!.size).toBe(6);
  });

  it('takes sizes up to 2^53 - 1 and refuses 2^53 to 2^64 - 1', () => {
    expect(decodeTree(tree(entry(2n ** 53n - 1n))).entries[0]!.size).toBe(Number.MAX_SAFE_INTEGER);
    for (const size of [2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n]) {
      expect(() => decodeTree(tree(entry(size))), String(size)).toThrow(expect.objectContaining({ code: 'E_BAD_OBJECT' }) as unknown as Error);
    }
  });

  it('refuses a field whose length runs past its entry, though not past the tree', () => {
    const good = entry(6n);
    // The entry claims 5 fewer bytes than it holds: its last field (size) then runs past its end,
    // into bytes that are still inside the tree.
    const cut = [...varint(BigInt((1 << 3) | 2)), ...varint(BigInt(good.length - 5)), ...good];
    expect(() => decodeTree(new Uint8Array(cut))).toThrow(expect.objectContaining({ code: 'E_BAD_OBJECT' }) as unknown as Error);
  });

  it('encodeTree refuses what decodeTree would refuse to read back: lone surrogates in names, targets, xattr names', () => {
    const base = { kind: 'file' as const, id: Buffer.from(id).toString('hex'), mode: 0o644, uid: 0, gid: 0, size: 1, xattrs: [] };
    expect(() => encodeTree({ entries: [{ ...base, name: 'a\ud800' }] })).toThrow(expect.objectContaining({ code: 'E_BAD_OBJECT' }) as unknown as Error);
    expect(() => encodeTree({ entries: [{ ...base, name: 'l', kind: 'symlink', id: undefined, target: 'x\udc00' }] })).toThrow(expect.objectContaining({ code: 'E_BAD_OBJECT' }) as unknown as Error);
    // No filesystem holds a NUL in a symlink's target: neither written nor read.
    expect(() => encodeTree({ entries: [{ ...base, name: 'l', kind: 'symlink', id: undefined, target: 'abc\0def' }] })).toThrow(/NUL byte in its target/);
    const withNul = trove.v1.Tree.encode({ entries: [{ name: 'l', kind: trove.v1.EntryKind.ENTRY_KIND_SYMLINK, mode: 0o777, target: 'abc\0def' }] }).finish();
    expect(() => decodeTree(withNul)).toThrow(/NUL byte in its target/);
    // Nor in an xattr's name, which the kernel's lists of names end at.
    expect(() => encodeTree({ entries: [{ ...base, name: 'a', xattrs: [{ name: 'user.a\0user.b', value: new Uint8Array([1]) }] }] })).toThrow(/has a NUL byte/);
    const xattrNul = trove.v1.Tree.encode({
      entries: [{ name: 'a', kind: trove.v1.EntryKind.ENTRY_KIND_FILE, id: Buffer.from(id), mode: 0o644, size: 1, xattrs: [{ name: 'user.a\0user.b', value: Buffer.from([1]) }] }],
    }).finish();
    expect(() => decodeTree(xattrNul)).toThrow(/has a NUL byte/);
    expect(() => encodeTree({ entries: [{ ...base, name: 'a', xattrs: [{ name: 'user.\ud83d', value: new Uint8Array([1]) }] }] })).toThrow(expect.objectContaining({ code: 'E_BAD_OBJECT' }) as unknown as Error);
    // A surrogate pair is one character, and fine.
    expect(decodeTree(encodeTree({ entries: [{ ...base, name: 'a\ud83d\ude00' }] })).entries[0]!.name).toBe('a\u{1F600}');
  });
});
