// Repositories and packages built through the library, for tests that need them as a starting point.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_DIR_META, type TreeEntry } from '../../src/format/types.js';
import type { ObjectId } from '../../src/util/hash.js';
import { readTree, writeCommit, writeTree } from '../../src/repo/objects.js';
import { Repo } from '../../src/repo/repo.js';
import { buildGeneration } from '../../src/system/generations/build.js';
import { addPackage, type PkgAddOptions } from '../../src/system/packages/add.js';
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

/**
 * Writes a linear history of `n` tiny commits straight through the library:
 * commit i holds `value` = i, and from commit `fault` on also `broken`.
 */
export async function history(repo: Repo, n: number, fault: number, ref: string): Promise<ObjectId[]> {
  const brokenBlob = (await repo.store.put(Buffer.from('broken\n'))).id;
  const ids: ObjectId[] = [];
  for (let i = 0; i < n; i++) {
    const content = Buffer.from(`${i}\n`);
    const value = (await repo.store.put(content)).id;
    const file = { kind: 'file' as const, mode: 0o644, uid: 0, gid: 0, xattrs: [] };
    const entries = [{ ...file, name: 'value', id: value, size: content.length }];
    if (i >= fault) entries.push({ ...file, name: 'broken', id: brokenBlob, size: 7 });
    const tree = await writeTree(repo.store, { entries });
    const parents = ids.length ? [ids.at(-1)!] : [];
    ids.push(await writeCommit(repo.store, { tree, root: DEFAULT_DIR_META, parents, subject: `commit ${i}`, body: '', timestamp: 1_700_000_000 + i, metadata: [] }));
  }
  await repo.refs.write(ref, ids.at(-1)!);
  return ids;
}

/** Commits a package made of `files` (path -> content; a value of null makes a directory). */
export async function mkpkg(repo: Repo, name: string, files: Record<string, string | null>, opts: Partial<PkgAddOptions> = {}) {
  const src = tmpdir('trove-pkg');
  for (const [path, content] of Object.entries(files)) {
    if (content === null) mkdirSync(join(src, path), { recursive: true });
    else {
      mkdirSync(dirname(join(src, path)), { recursive: true });
      writeFileSync(join(src, path), content);
    }
  }
  return addPackage(repo, src, { name, arch: 'amd64', version: '1.0', ...opts });
}

/** The entry at `path` of a tree, or undefined. */
export async function entryAt(repo: Repo, tree: ObjectId, path: string): Promise<TreeEntry | undefined> {
  let id = tree;
  let entry: TreeEntry | undefined;
  for (const part of path.split('/')) {
    entry = (await readTree(repo.store, id)).entries.find((e) => e.name === part);
    if (!entry) return undefined;
    id = entry.id ?? '';
  }
  return entry;
}
