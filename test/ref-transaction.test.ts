import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ObjectId } from '../src/util/hash.js';
import { Refs } from '../src/refs/refs.js';
import { RefTransaction, updateRefs } from '../src/refs/transaction.js';
import { tmpdir } from './helpers/tmp.js';

const id = (s: string): ObjectId => createHash('sha256').update(s).digest('hex');
const [A, B, C] = [id('a'), id('b'), id('c')];

function newRefs(): Refs {
  const dir = tmpdir('trove-reftxn');
  mkdirSync(join(dir, 'refs', 'heads'), { recursive: true });
  return new Refs(join(dir, 'refs'), join(dir, 'tmp'));
}

async function all(refs: Refs, ns = 'heads'): Promise<Record<string, ObjectId>> {
  return Object.fromEntries((await refs.list(ns)).map((r) => [r.name, r.id]));
}

describe('ref transactions', () => {
  it('moves several refs, in two namespaces, when every expected value holds', async () => {
    const refs = newRefs();
    await refs.write('main', A);
    await updateRefs(refs, [
      { name: 'main', expected: A, id: B },
      { name: 'new', expected: null, id: C },
      { name: 'origin/main', ns: 'remotes', expected: null, id: A },
    ]);
    expect(await all(refs)).toEqual({ main: B, new: C });
    expect(await all(refs, 'remotes')).toEqual({ 'origin/main': A });
  });

  it('a stale expected value is E_LOCKED and moves no ref, not even those checked before it', async () => {
    const refs = newRefs();
    await refs.write('a', A);
    await refs.write('b', B);
    const stale = updateRefs(refs, [
      { name: 'a', expected: A, id: C },
      { name: 'new', expected: null, id: C },
      { name: 'b', expected: A, id: C },
    ]);
    await expect(stale).rejects.toMatchObject({ code: 'E_LOCKED', message: expect.stringContaining(`ref b moved to ${B}`) });
    expect(await all(refs)).toEqual({ a: A, b: B });
    // "Does not exist yet" is an expected value too.
    await expect(updateRefs(refs, [{ name: 'a', expected: null, id: C }], { retry: 'pull again' })).rejects.toMatchObject({
      code: 'E_LOCKED',
      message: expect.stringMatching(/; pull again$/),
    });
    expect(await all(refs)).toEqual({ a: A, b: B });
  });

  it('a name clash inside one update (ok and ok/sub) moves none', async () => {
    const refs = newRefs();
    await refs.write('x', A);
    await expect(
      updateRefs(refs, [
        { name: 'x', expected: A, id: B },
        { name: 'ok/sub', expected: null, id: A },
        { name: 'ok', expected: null, id: A },
      ]),
    ).rejects.toMatchObject({ code: 'E_BAD_REF' });
    expect(await all(refs)).toEqual({ x: A });
  });

  it('a clash with existing refs, either way round, moves none', async () => {
    const refs = newRefs();
    await refs.write('ok', A);
    await refs.write('dir/sub', A);
    for (const name of ['ok/sub', 'dir']) {
      await expect(
        updateRefs(refs, [
          { name: 'first', expected: null, id: B },
          { name, expected: null, id: B },
        ]),
      ).rejects.toMatchObject({ code: 'E_BAD_REF' });
    }
    expect(await all(refs)).toEqual({ ok: A, 'dir/sub': A });
  });

  it('a ref named twice in one update is refused', async () => {
    const refs = newRefs();
    await expect(
      updateRefs(refs, [
        { name: 'a', expected: null, id: A },
        { name: 'a', expected: null, id: B },
      ]),
    ).rejects.toMatchObject({ code: 'E_BAD_REF' });
    expect(await all(refs)).toEqual({});
  });

  it('when a move fails after others were made, those are put back', async () => {
    class Failing extends Refs {
      override async write(name: string, to: ObjectId, ns?: string, opts?: { expected?: ObjectId | null }): Promise<void> {
        if (name === 'c') throw new Error('disk full');
        return super.write(name, to, ns, opts);
      }
    }
    const dir = tmpdir('trove-reftxn');
    const refs = new Failing(join(dir, 'refs'), join(dir, 'tmp'));
    await refs.write('a', A);
    await expect(
      updateRefs(refs, [
        { name: 'a', expected: A, id: C },
        { name: 'b', expected: null, id: C },
        { name: 'c', expected: null, id: C },
      ]),
    ).rejects.toThrow('disk full');
    expect(await all(refs)).toEqual({ a: A });
  });

  it('parallel read-modify-write transactions chain: each derives from the one before', async () => {
    const refs = newRefs();
    const chain = Array.from({ length: 13 }, (_, i) => id(`rev ${i}`));
    await refs.write('main', chain[0]!);
    const step = async () => {
      const txn = await refs.transaction([{ name: 'main' }, { name: 'main' }]);
      try {
        const tip = await txn.read('main');
        const next = chain[chain.indexOf(tip!) + 1]!;
        await new Promise((r) => setTimeout(r, 2));
        await txn.update([{ name: 'main', expected: tip, id: next }]);
      } finally {
        await txn.release();
      }
    };
    await Promise.all(Array.from({ length: 12 }, step));
    expect(await refs.read('main')).toBe(chain[12]);
  });

  it('transactions over the same refs in opposite order do not deadlock', async () => {
    const refs = newRefs();
    const runs = Array.from({ length: 8 }, async (_, i) => {
      const keys = i % 2 ? [{ name: 'a' }, { name: 'b' }] : [{ name: 'b' }, { name: 'a' }];
      const txn = await RefTransaction.lock(refs, keys);
      try {
        const [a, b] = [await txn.read('a'), await txn.read('b')];
        await txn.update([
          { name: 'a', expected: a, id: id(`a${i}`) },
          { name: 'b', expected: b, id: id(`b${i}`) },
        ]);
      } finally {
        await txn.release();
      }
    });
    await Promise.all(runs);
    const end = await all(refs);
    // Both refs were last written by the same transaction.
    expect(end.a).toBe(id(`a${[...Array(8).keys()].find((i) => end.b === id(`b${i}`))}`));
  });

  it('refuses to update a ref it does not hold', async () => {
    const refs = newRefs();
    const txn = await refs.transaction([{ name: 'a' }]);
    try {
      await expect(txn.update([{ name: 'b', expected: null, id: A }])).rejects.toThrow('not locked');
    } finally {
      await txn.release();
    }
    await expect(txn.update([{ name: 'a', expected: null, id: A }])).rejects.toThrow('released');
  });
});
