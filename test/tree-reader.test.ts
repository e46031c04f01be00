// decodeTree reads tree bytes directly and checks them on the way. Its oracle here is the
// definition of a canonical tree: protobufjs's decode of the bytes, the same validation, and
// encodeTree of the result giving back exactly the bytes. Both must accept and refuse the same
// trees, generated and damaged, and agree on what they hold.
import { describe, expect, it } from 'vitest';
import { decodeTree, encodeTree, nameProblem, type Tree, type TreeEntry } from '../src/format/index.js';
import { trove } from '../src/format/generated/trove.js';
import { isTroveError } from '../src/util/errors.js';
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

/** Names and targets the oracle accepts but UTF-8 does not: lone surrogates, which protobufjs writes as 3-byte sequences. */
const illFormed = (t: Tree) => t.entries.some((e) => !e.name.isWellFormed() || !(e.target ?? '').isWellFormed() || e.xattrs.some((x) => !x.name.isWellFormed()));

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

/** One random change to `bytes`: a byte changed, inserted or removed, a cut, or a slice moved. */
function damage(bytes: Uint8Array, rnd: () => number): Uint8Array {
  const int = (n: number) => Math.floor(rnd() * n);
  const b = [...bytes];
  const at = int(b.length + 1);
  const special = [0x00, 0x01, 0x02, 0x08, 0x0a, 0x10, 0x12, 0x1a, 0x20, 0x3a, 0x42, 0x4a, 0x7f, 0x80, 0xff, 0xed, 0xc0];
  switch (int(6)) {
    case 0:
      if (b.length) b[Math.min(at, b.length - 1)] = int(2) ? int(256) : special[int(special.length)]!;
      break;
    case 1:
      b.splice(at, 0, int(2) ? int(256) : special[int(special.length)]!);
      break;
    case 2:
      b.splice(at, 1 + int(3));
      break;
    case 3:
      b.length = at;
      break;
    case 4:
      if (b.length) b[Math.min(at, b.length - 1)]! ^= 1 << int(8);
      break;
    default: {
      const len = 1 + int(8);
      const moved = b.splice(at, len);
      b.splice(int(b.length + 1), 0, ...moved);
    }
  }
  return new Uint8Array(b);
}

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
      for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) bytes = damage(bytes, rnd);
      const mine = attempt(decodeTree, bytes);
      const theirs = attempt(reference, bytes);
      const where = `seed 23, case ${i}: ${Buffer.from(bytes).toString('hex')}`;
      if (!mine.ok) {
        // Refusals are trove's E_BAD_OBJECT, never a stray exception.
        expect(mine.troveError, where).toBe(true);
        refused++;
        // Stricter only where protobufjs reads lone surrogates out of bytes that are not UTF-8.
        if (theirs.ok) expect(illFormed(theirs.tree), where).toBe(true);
        continue;
      }
      accepted++;
      expect(theirs.ok, where).toBe(true);
      if (theirs.ok) expect(plain(mine.tree), where).toEqual(plain(theirs.tree));
    }
    // Both sides of the comparison were exercised.
    expect(refused).toBeGreaterThan(10_000);
    expect(accepted).toBeGreaterThan(500);
  });
});
