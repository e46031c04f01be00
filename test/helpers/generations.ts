import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Repo } from '../../src/repo/repo.js';
import { buildGeneration } from '../../src/system/generations/build.js';
import { addPackage } from '../../src/system/packages/add.js';
import { tmpdir } from './tmp.js';

/** A repository with generations 1..n of profile `system`, each holding `etc/id` = its number. */
export async function repoWithGenerations(n: number): Promise<{ dir: string; repo: Repo; commits: string[] }> {
  const dir = tmpdir();
  const repo = await Repo.init(join(dir, 'repo'));
  const commits: string[] = [];
  for (let i = 1; i <= n; i++) {
    const src = join(dir, `src${i}`);
    mkdirSync(join(src, 'etc'), { recursive: true });
    writeFileSync(join(src, 'etc', 'id'), String(i));
    await addPackage(repo, src, { name: 'base', arch: 'amd64', version: `${i}.0` });
    commits.push((await buildGeneration(repo, { specs: [{ name: 'base', priority: 0 }] })).commit);
  }
  return { dir, repo, commits };
}

