import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IdPrefixMap, IdPrefixSet } from '../src/util/id-set.js';

const randomId = () => randomBytes(32).toString('hex');

describe('IdPrefixSet', () => {
  it('holds every id added through many growths, and answers no for others', () => {
    const set = new IdPrefixSet(4);
    const added = Array.from({ length: 50_000 }, randomId);
    for (const id of added) expect(set.add(id)).toBe(true);
    expect(set.size).toBe(added.length);
    for (const id of added) expect(set.has(id)).toBe(true);
    for (const id of added.slice(0, 100)) expect(set.add(id)).toBe(false);
    expect(set.size).toBe(added.length);
    for (let i = 0; i < 50_000; i++) expect(set.has(randomId())).toBe(false);
  });

  it('tells ids apart by their first 64 bits only', () => {
    const set = new IdPrefixSet();
    const id = randomId();
    set.add(id);
    expect(set.has(`${id.slice(0, 16)}${'0'.repeat(48)}`)).toBe(true);
    expect(set.has(`${id.slice(0, 15)}${id[15] === 'f' ? 'e' : 'f'}${id.slice(16)}`)).toBe(false);
  });

  it('keeps an id whose first 64 bits are zero, which empty slots are made of', () => {
    const set = new IdPrefixSet(2);
    const zero = `${'0'.repeat(16)}${randomId().slice(16)}`;
    expect(set.has(zero)).toBe(false);
    expect(set.add(zero)).toBe(true);
    for (let i = 0; i < 100; i++) set.add(randomId());
    expect(set.has(zero)).toBe(true);
    expect(set.add(zero)).toBe(false);
    expect(set.size).toBe(101);
  });
});

describe('IdPrefixMap', () => {
  it('keeps a number per id through many growths, the all-zero prefix too, and overwrites', () => {
    const map = new IdPrefixMap(2);
    const zero = `${'0'.repeat(16)}${randomId().slice(16)}`;
    map.set(zero, 7);
    const ids = Array.from({ length: 30_000 }, randomId);
    ids.forEach((id, i) => map.set(id, i * 1.5));
    expect(map.size).toBe(ids.length + 1);
    ids.forEach((id, i) => expect(map.get(id)).toBe(i * 1.5));
    expect(map.get(zero)).toBe(7);
    map.set(ids[0]!, 2 ** 53);
    expect(map.get(ids[0]!)).toBe(2 ** 53);
    expect(map.size).toBe(ids.length + 1);
    for (let i = 0; i < 10_000; i++) expect(map.get(randomId())).toBeUndefined();
  });
});
