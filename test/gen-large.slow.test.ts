// A long loop, in the `slow` project (npm run test:fast leaves it out): a generation of 120 packages.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ObjectId } from '../src/util/hash.js';
import { buildGeneration } from '../src/system/generations/build.js';
import { Repo } from '../src/repo/repo.js';
import { entryAt, mkpkg } from './helpers/fixtures.js';
import { tmpdir } from './helpers/tmp.js';

describe('large generations', () => {
  it('building one of 120 packages reads only tree objects and writes only merged directories', async () => {
    const repo = await Repo.init(join(tmpdir(), 'repo'));
    const blobs = new Set<ObjectId>();
    let files = 0;
    for (let i = 0; i < 120; i++) {
      const name = `p${String(i).padStart(3, '0')}`;
      const content: Record<string, string> = {
        [`usr/bin/${name}`]: `#!/bin/sh\necho ${name}\n`,
        [`usr/share/doc/${name}/copyright`]: `copyright ${name}\n`,
        [`usr/share/doc/${name}/README`]: `readme ${name}\n`,
        [`usr/lib/${name}/data/a`]: `a ${i}\n`,
        [`usr/lib/${name}/data/b`]: `b ${i}\n`,
        [`usr/lib/${name}/data/c`]: `c ${i}\n`,
        [`usr/lib/${name}/data/d`]: `d ${i}\n`,
        [`usr/lib/${name}/data/e`]: `e ${i}\n`,
      };
      files += Object.keys(content).length;
      const p = await mkpkg(repo, name, content);
      for (const path of Object.keys(content)) blobs.add((await entryAt(repo, p.tree, path))!.id!);
    }
    const gets: ObjectId[] = [];
    const realGet = repo.store.get.bind(repo.store);
    const realGetSync = repo.store.getSync.bind(repo.store);
    repo.store.get = async (id) => {
      gets.push(id);
      return realGet(id);
    };
    // Reads of one object after another are blocking (the package closure's commits): counted too.
    repo.store.getSync = (id) => {
      gets.push(id);
      return realGetSync(id);
    };
    const specs = Array.from({ length: 120 }, (_, i) => ({ name: `p${String(i).padStart(3, '0')}`, priority: 0 }));
    const r = await buildGeneration(repo, { specs });
    repo.store.get = realGet;
    repo.store.getSync = realGetSync;
    expect(gets.length).toBeGreaterThan(120);
    expect(gets.filter((id) => blobs.has(id))).toEqual([]);
    // New: root, usr, usr/bin, usr/lib, usr/share, usr/share/doc, and the commit.
    expect(r.written.objects).toBe(7);
    expect(r.written.objects).toBeLessThan(files / 100);
    expect(r.packages.length).toBe(120);
    await repo.close();
  });
});
