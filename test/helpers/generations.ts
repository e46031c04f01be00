import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
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

/**
 * A package `name` whose files are `n` small unique files in nested directories, and one script of
 * mode 0750: its object file is 0755, so a hard-link checkout links a 0750 variant of it.
 */
export async function addPkg(repo: Repo, dir: string, name: string, n: number, version = '1.0') {
  const src = join(dir, `src-${name}-${version}`);
  for (let i = 0; i < n; i++) {
    const d = join(src, 'usr', 'share', name, `d${i % 4}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}`), `${name} ${version} ${i}\n`);
  }
  mkdirSync(join(src, 'usr', 'bin'), { recursive: true });
  writeFileSync(join(src, 'usr', 'bin', name), `#!/bin/sh\necho ${name} ${version}\n`);
  chmodSync(join(src, 'usr', 'bin', name), 0o750);
  return addPackage(repo, src, { name, arch: 'amd64', version });
}
