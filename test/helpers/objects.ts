import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Ids of every object stored in the repository at `repo` (object files only, not temp files). */
export function objectIds(repo: string): Set<string> {
  const out = new Set<string>();
  for (const shard of readdirSync(join(repo, 'objects'))) {
    if (!/^[0-9a-f]{2}$/.test(shard)) continue;
    for (const n of readdirSync(join(repo, 'objects', shard))) if (/^[0-9a-f]{62}$/.test(n)) out.add(shard + n);
  }
  return out;
}
