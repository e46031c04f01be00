import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readCommit, readTree } from '../../src/repo/objects.js';
import { Repo } from '../../src/repo/repo.js';

/** Ids of every object stored in the repository at `repo` (object files only, not temp files). */
export function objectIds(repo: string): Set<string> {
  const out = new Set<string>();
  for (const shard of readdirSync(join(repo, 'objects'))) {
    if (!/^[0-9a-f]{2}$/.test(shard)) continue;
    for (const n of readdirSync(join(repo, 'objects', shard))) if (/^[0-9a-f]{62}$/.test(n)) out.add(shard + n);
  }
  return out;
}

/**
 * What the commits `commits` of the repository at `repo` reach: the commits
 * and trees, each once with its stored size (`metas`), and the files they
 * name, with their sizes (`files`).
 */
export async function reachable(repo: string, commits: string[]): Promise<{ metas: Map<string, number>; files: Map<string, number> }> {
  const r = await Repo.open(repo);
  try {
    const metas = new Map<string, number>();
    const files = new Map<string, number>();
    for (const id of commits) {
      metas.set(id, (await r.store.get(id)).length);
      const trees = [(await readCommit(r.store, id)).tree];
      while (trees.length) {
        const t = trees.pop()!;
        if (metas.has(t)) continue;
        metas.set(t, (await r.store.get(t)).length);
        for (const e of (await readTree(r.store, t)).entries) {
          if (e.kind === 'dir') trees.push(e.id!);
          else if (e.kind === 'file') files.set(e.id!, e.size);
        }
      }
    }
    return { metas, files };
  } finally {
    await r.close();
  }
}
