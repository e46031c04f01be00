import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CachedEntry } from '../src/repo/import/stat-cache.js';
import { IndexStatCache } from '../src/repo/import/stat-cache-db.js';
import { IndexDb } from '../src/refs/index-db.js';
import { tmpdir } from './helpers/tmp.js';

const entry = (id: string): CachedEntry => ['f', 0, 1, 1, 1, 1, id];
const record = (tree: string) => ({ tree, entries: [entry(tree)] });

describe('the stat cache in the index', () => {
  it.each<[string, string[], string[]]>([
    ['/', ['/', '/etc', '/usr/bin'], []],
    ['/srv/root', ['/srv/root', '/srv/root/etc'], ['/srv/rootfs', '/srv', '/srv/root2/etc']],
  ])('loads the records of %s and the directories below it, nothing else', async (root, inside, outside) => {
    const db = (await IndexDb.open(join(tmpdir(), 'index')))!;
    const writer = new IndexStatCache(db, 3);
    for (const [i, dir] of [...inside, ...outside].entries()) writer.record(dir, record(String(i).padStart(64, '0')));
    await writer.flush();

    const reader = new IndexStatCache(db, 3);
    await reader.load(root);
    for (const dir of inside) expect(reader.lookup(dir), dir).toMatchObject({ trusted: true });
    for (const dir of outside) expect(reader.lookup(dir), dir).toBeUndefined();
    const older = new IndexStatCache(db, 4);
    await older.load(root);
    expect(older.lookup(inside[0]!)).toMatchObject({ trusted: false });
    await db.close();
  });

  it('reads a record stored with entries by name as tuples in the order trees sort names', async () => {
    const db = (await IndexDb.open(join(tmpdir(), 'index')))!;
    const id = 'a'.repeat(64);
    const xattrs: [string, string][] = [['user.k', Buffer.from('v').toString('base64')]];
    await db.putMany([['stat:/old', [3, id, { é: [0, 1, 2, 3, 4, id], b: [2, 5, 6, 7, 8, '../t'], a: [1, 0, 9, 9, 9, id, xattrs] }]]]);
    const cache = new IndexStatCache(db, 3);
    await cache.load('/old');
    expect(cache.lookup('/old')).toEqual({
      trusted: true,
      record: {
        tree: id,
        entries: [
          ['a', 1, 0, 9, 9, 9, id, xattrs],
          ['b', 2, 5, 6, 7, 8, '../t'],
          ['é', 0, 1, 2, 3, 4, id],
        ],
      },
    });
    await db.close();
  });
});
