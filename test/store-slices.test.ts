import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RepoSource } from '../src/fuse/source.js';
import { Repo } from '../src/repo/repo.js';
import { Transaction } from '../src/store/txn.js';
import { tempOwner } from '../src/util/fs-atomic.js';
import { generationNumber, profileNameProblem } from '../src/system/profiles.js';
import { tmpdir } from './helpers/tmp.js';

const text = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

describe('the disk store slices callers ask for', () => {
  it('lists ids by prefix, sorted, and nothing for a prefix that is not hex', async () => {
    const repo = await Repo.init(join(tmpdir(), 'repo'));
    const ids = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map(async (s) => (await repo.store.put(text(s))).id));
    const first = ids[0]!;
    expect(await repo.store.idsWithPrefix(first.slice(0, 2))).toEqual(ids.filter((id) => id.startsWith(first.slice(0, 2))).sort());
    expect(await repo.store.idsWithPrefix(first.slice(0, 10))).toEqual([first]);
    expect(await repo.store.idsWithPrefix(first)).toEqual([first]);
    expect(await repo.store.idsWithPrefix('../')).toEqual([]);
    await repo.close();
  });

  it('hands out temp paths in the repository tmp directory that the stale-temp sweep knows', async () => {
    const repo = await Repo.init(join(tmpdir(), 'repo'));
    const p = repo.store.tempPath('pull');
    expect(p.startsWith(`${repo.tmpDir}/pull-`)).toBe(true);
    expect(tempOwner(basename(p))).toBe(process.pid);
    await repo.close();
  });

  it('a finished transaction takes no put of any kind, and one that is open dedupes against the store', async () => {
    const repo = await Repo.init(join(tmpdir(), 'repo'));
    const kept = await repo.store.put(text('kept'));
    const txn = new Transaction(repo.store);
    expect(txn.putSync(text('kept')).written).toBe(false);
    expect((await txn.putVerified(kept.id, text('kept'))).written).toBe(false);
    await expect(txn.putVerified(kept.id, text('not kept'))).rejects.toMatchObject({ code: 'E_CORRUPT' });
    expect(txn.putSync(text('new')).written).toBe(true);
    await txn.commit();
    expect(() => txn.putSync(text('late'))).toThrow(/finished/);
    await expect(txn.put(text('kept'))).rejects.toThrow(/finished/);
    expect(readdirSync(repo.tmpDir)).toEqual([]);
    await repo.close();
  });
});

describe('the profile layout, parsed once', () => {
  it('knows generation numbers and profile names', () => {
    expect(['1', '12', '0', '01', 'active', '.tmp-3', '-1'].map(generationNumber)).toEqual([1, 12, null, null, null, null, null]);
    expect(profileNameProblem('system')).toBeNull();
    expect(profileNameProblem('a/b')).not.toBeNull();
  });

  it('the FUSE source shows only numbered generations of a profile', async () => {
    const repo = await Repo.init(join(tmpdir(), 'repo'));
    const id = (await repo.store.put(text('x'))).id;
    const dir = join(repo.path, 'profiles', 'system');
    mkdirSync(dir, { recursive: true });
    for (const name of ['1', '2', 'active', '007']) writeFileSync(join(dir, name), `${id}\n`);
    const source = new RepoSource(repo.store, repo.path);
    expect(await source.pointer('profiles', ['system'])).toEqual({
      kind: 'dir',
      children: [
        { name: '1', kind: 'commit', id },
        { name: '2', kind: 'commit', id },
      ],
    });
    expect(await source.pointer('profiles', ['system', '2'])).toEqual({ kind: 'commit', id });
    expect(await source.pointer('profiles', ['system', 'active'])).toBeUndefined();
    expect(await source.pointer('profiles', [])).toEqual({ kind: 'dir', children: [{ name: 'system', kind: 'dir' }] });
    // Every commit that refs (nested, many, read a few at a time) and generations name, once; a file that names none is left out.
    const ids = Array.from({ length: 40 }, (_, i) => 'ab'.repeat(31) + i.toString(16).padStart(2, '0'));
    mkdirSync(join(repo.path, 'refs', 'heads', 'pkg', 'x'), { recursive: true });
    ids.forEach((x, i) => writeFileSync(join(repo.path, 'refs', 'heads', ...(i % 2 ? ['pkg', 'x', `r${i}`] : [`r${i}`])), `${x}\n`));
    writeFileSync(join(repo.path, 'refs', 'heads', 'junk'), 'not an id\n');
    expect(await source.knownCommits()).toEqual([...ids, id].sort());
    await repo.close();
  });
});
