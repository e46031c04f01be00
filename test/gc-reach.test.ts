// A gc that finds nothing to delete records what it marked (gc-reach); the next gc reads only the
// commits and trees that record does not cover. The record is used only to conclude that nothing
// is garbage: a stale, forged or broken record may make gc mark everything again, never delete
// a reachable object.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashBytes } from '../src/util/hash.js';
import { decodeCommit, decodeTree } from '../src/format/codec.js';
import { Repo } from '../src/repo/repo.js';
import { SortedPrefixes, PrefixList } from '../src/repo/reach.js';
import { troveIn, troveOk } from './helpers/cli.js';
import { removeTree, tmpdir } from './helpers/tmp.js';

interface GcJson {
  listed: boolean;
  reused: boolean;
  treesRead: number;
  kept: number;
  deleted: { objects: number; commits: number; trees: number; blobs: number };
}

describe('SortedPrefixes', () => {
  /** A pseudo-random 64-character id (the first 16 digits matter), from a small seed. */
  const idOf = (n: number) => hashBytes(Buffer.from(`id ${n}`));
  const prefixes = (ids: string[]) => {
    const l = new PrefixList();
    for (const id of ids) l.add(id);
    return l.sorted();
  };
  const key = (id: string) => id.slice(0, 16);

  it('sorts without repeats, finds exactly its ids, and merges with additions and removals', () => {
    const ids = Array.from({ length: 3000 }, (_, i) => idOf(i));
    const a = prefixes([...ids.slice(0, 2000), ...ids.slice(0, 500)]);
    expect(a.size).toBe(2000);
    for (const id of ids.slice(0, 2000)) expect(a.has(id)).toBe(true);
    for (const id of ids.slice(2000)) expect(a.has(id)).toBe(false);
    // Merge: 1500-2999 added, every third of 0-2999 removed.
    const more = prefixes(ids.slice(1500));
    const less = prefixes(ids.filter((_, i) => i % 3 === 0));
    const m = a.merge(more, less);
    const want = new Set(ids.filter((_, i) => i % 3 !== 0).map(key));
    expect(m.size).toBe(want.size);
    for (const id of ids) expect(m.has(id)).toBe(want.has(key(id)));
    // A record read back must be strictly increasing.
    expect(SortedPrefixes.sorted(m.pairs.slice())).toBeDefined();
    const swapped = m.pairs.slice();
    swapped.set(m.pairs.subarray(0, 2), 2);
    swapped.set(m.pairs.subarray(2, 4), 0);
    expect(SortedPrefixes.sorted(swapped)).toBeUndefined();
    // The all-zero prefix is an id like any other.
    const zero = `${'0'.repeat(16)}${'f'.repeat(48)}`;
    const z = prefixes([zero, ids[0]!]);
    expect(z.has(zero)).toBe(true);
    expect(z.size).toBe(2);
  });
});

describe('gc and the record of what it marked', () => {
  let dir: string;
  let repo: string;
  let cli: ReturnType<typeof troveIn>;
  const gc = async (...args: string[]): Promise<GcJson> => JSON.parse(await troveOk(repo, 'gc', '--json', ...args)) as GcJson;
  const reach = () => join(repo, 'gc-reach');
  const head = (ref: string) => readFileSync(join(repo, 'refs', 'heads', ref), 'utf8').trim();
  const objectPath = (id: string) => join(repo, 'objects', id.slice(0, 2), id.slice(2));
  /** Commits a small tree with `text` in it under `ref` (on top of what it points at); returns the commit id. */
  const commit = async (ref: string, text: string): Promise<string> => {
    const src = join(dir, `src-${ref}-${text.length}`);
    removeTree(src);
    for (const d of ['etc', 'usr/share/doc']) mkdirSync(join(src, d), { recursive: true });
    writeFileSync(join(src, 'etc', 'id'), text);
    writeFileSync(join(src, 'usr', 'share', 'doc', 'same'), 'shared by every commit\n');
    return JSON.parse(await troveOk(repo, 'commit', src, '-r', ref, '--json')).commit as string;
  };
  /** Every object a full fsck finds: the store must be whole after each gc. */
  const fsckClean = async () => {
    const r = await cli('fsck');
    expect(r.code, r.stderr).toBe(0);
  };

  beforeEach(async () => {
    dir = tmpdir();
    repo = join(dir, 'repo');
    cli = troveIn(repo);
    await troveOk(repo, 'init');
    await commit('main', 'one\n');
  });
  afterEach(() => removeTree(dir));

  it('the gc after a full one reads nothing; after a new commit, only its commit and trees', async () => {
    // commit, root tree, etc, usr, usr/share, usr/share/doc, two blobs
    expect(await gc()).toMatchObject({ listed: true, reused: false, treesRead: 6, kept: 8 });
    expect(existsSync(reach())).toBe(true);
    expect(await gc()).toMatchObject({ listed: false, reused: true, treesRead: 0, kept: 8 });

    // On top of main: a commit, a root tree and etc/ are new, and one blob; usr/ is shared.
    await commit('main', 'two\n');
    const after = await gc();
    expect(after).toMatchObject({ listed: false, reused: true, treesRead: 3, kept: 12, deleted: { objects: 0 } });
    // What a full mark and listing find agrees.
    expect(await gc('--full')).toMatchObject({ listed: true, reused: false, treesRead: 9, kept: 12, deleted: { objects: 0 } });
    expect(await gc()).toMatchObject({ reused: true, treesRead: 0, kept: 12 });
    await fsckClean();
  });

  it('a root of the record that is no longer reachable makes gc mark everything, list the store and delete the garbage', async () => {
    await commit('other', 'other\n');
    await gc();
    expect((await cli('refs', 'delete', 'other')).code).toBe(0);
    const swept = await gc();
    expect(swept).toMatchObject({ listed: true, reused: false, kept: 8, deleted: { objects: 4, commits: 1, trees: 2, blobs: 1 } });
    expect(await gc()).toMatchObject({ listed: false, reused: true, treesRead: 0, kept: 8 });
    await fsckClean();
  });

  it('a deleted ref whose commit another root still reaches leaves the record in use', async () => {
    expect((await cli('refs', 'set', 'v1', 'main')).code).toBe(0);
    await commit('main', 'two\n');
    expect(await gc()).toMatchObject({ listed: true, kept: 12 });
    // v1's commit, a root of the record, is main's parent: still reachable, nothing is garbage.
    expect((await cli('refs', 'delete', 'v1')).code).toBe(0);
    expect(await gc()).toMatchObject({ reused: true, listed: false, treesRead: 0, kept: 12, deleted: { objects: 0 } });
    expect(await gc('--full')).toMatchObject({ listed: true, kept: 12, deleted: { objects: 0 } });
  });

  it('a record that is not one (bytes, truncated, zeros, out of order) is ignored, and a good one written again', async () => {
    await gc();
    const good = readFileSync(reach());
    const swapped = Buffer.from(good);
    good.copy(swapped, 32, 40, 48);
    good.copy(swapped, 40, 32, 40);
    for (const bad of [Buffer.from('not a record'), good.subarray(0, good.length - 1), Buffer.alloc(good.length), swapped]) {
      writeFileSync(reach(), bad);
      expect(await gc()).toMatchObject({ listed: false, reused: false, treesRead: 6, kept: 8 });
      // The full mark that matched the count wrote the record again.
      expect(readFileSync(reach()).equals(good)).toBe(true);
    }
  });

  it('a record that lies makes gc mark everything or keep garbage, never delete a reachable object', async () => {
    const main = await commit('main', 'two\n');
    await gc();
    // Calls the root commit complete and lists nothing below it: a count too low, so a full mark.
    writeFileSync(reach(), record([main], [main], []));
    expect(await gc()).toMatchObject({ reused: false, listed: false, kept: 12, deleted: { objects: 0 } });
    await fsckClean();

    // Holds the objects of a commit no ref keeps (recorded while a ref did), with roots that
    // are still reachable: its count matches, so the garbage stays until a gc that lists the store.
    await commit('gone', 'gone\n');
    await gc();
    const withGone = readFileSync(reach());
    expect((await cli('refs', 'delete', 'gone')).code).toBe(0);
    expect(withGone.readUInt32LE(16)).toBe(2);
    const ids = 32 + 8 * (withGone.readUInt32LE(8) + withGone.readUInt32LE(12));
    const onlyMain = Buffer.concat([withGone.subarray(0, ids), Buffer.from(main, 'hex')]);
    onlyMain.writeUInt32LE(1, 16);
    writeFileSync(reach(), onlyMain);
    expect(await gc()).toMatchObject({ reused: true, listed: false, deleted: { objects: 0 } });
    expect(await gc('--full')).toMatchObject({ reused: false, listed: true, deleted: { objects: 4, commits: 1 } });
    expect(await gc()).toMatchObject({ reused: true, treesRead: 0, kept: 12 });
    await fsckClean();
  });

  it('a gc whose mark meets an undecodable tree leaves no record, so its deletions cannot make the next gc keep garbage', async () => {
    await gc();
    expect(existsSync(reach())).toBe(true);
    // main's etc/ tree rots: a full mark keeps it but cannot see the blob below it.
    const r = await Repo.open(repo);
    const main = decodeCommit(r.store.getSync(head('main')));
    const etc = decodeTree(r.store.getSync(main.tree)).entries.find((e) => e.name === 'etc')!.id!;
    await r.close();
    writeFileSync(objectPath(etc), 'junk');
    await commit('x', 'x\n');
    expect((await cli('refs', 'delete', 'x')).code).toBe(0);
    const swept = JSON.parse(await troveOk(repo, 'gc', '--json')) as GcJson & { undecodable: { id: string }[] };
    expect(swept).toMatchObject({ reused: false, listed: true });
    expect(swept.undecodable.map((u) => u.id)).toEqual([etc]);
    expect(existsSync(reach())).toBe(false);
    // One garbage object, noted: found and deleted, not hidden by the old record's larger number.
    const again = await Repo.open(repo);
    const garbage = (await again.store.put(Buffer.from('one garbage object\n'))).id;
    await again.close();
    expect(await gc()).toMatchObject({ reused: false, listed: true, deleted: { objects: 1 } });
    expect(existsSync(objectPath(garbage))).toBe(false);
  });

  it('a dry run neither writes nor changes the record', async () => {
    await gc('--dry-run');
    expect(existsSync(reach())).toBe(false);
    await gc();
    const before = readFileSync(reach());
    await commit('main', 'two\n');
    expect(await gc('--dry-run')).toMatchObject({ reused: true, treesRead: 3, listed: false });
    expect(readFileSync(reach()).equals(before)).toBe(true);
  });
});

/** A record in gc-reach's layout (src/repo/reach.ts): these ids complete and others, these roots. */
function record(roots: string[], complete: string[], others: string[]): Buffer {
  const sorted = (ids: string[]) => [...new Set(ids.map((id) => id.slice(0, 16)))].sort();
  const c = sorted(complete);
  const o = sorted(others);
  const buf = Buffer.alloc(32 + 8 * (c.length + o.length) + 32 * roots.length);
  buf.write('trovrch1', 0, 'latin1');
  buf.writeUInt32LE(c.length, 8);
  buf.writeUInt32LE(o.length, 12);
  buf.writeUInt32LE(roots.length, 16);
  let at = 32;
  for (const p of [...c, ...o]) at = buf.writeBigUInt64LE(BigInt(`0x${p}`), at);
  for (const r of roots) at += buf.write(r, at, 'hex');
  return buf;
}
