import { mkdirSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Repo } from '../src/repo/repo.js';
import { MAX_TREES_PACK } from '../src/remote/trees-pack.js';
import { trove, troveOk } from './helpers/cli.js';
import { type Nginx, objectRequests, startNginx } from './helpers/nginx.js';
import { objectIds, reachable } from './helpers/objects.js';
import { tmpdir } from './helpers/tmp.js';

/** Directories of symlinks with 4 KB targets: trees past MAX_TREES_PACK in all, without a file to write. */
const DIRS = 17;
const LINKS = 1000;

describe('a trees pack past its 64 MiB cap', () => {
  const base = tmpdir('trove-trees-pack-cap');
  const server = join(base, 'server');
  let nginx: Nginx;
  let commit: string;
  let generation: string;

  beforeAll(async () => {
    const src = join(base, 'src');
    for (let d = 0; d < DIRS; d++) {
      // Each directory its own targets, so that its tree is an object of its own (about 4 MB).
      const target = `t${d}/${'d/'.repeat(1995)}f`;
      mkdirSync(join(src, `usr/share/big/d${d}`), { recursive: true });
      for (let i = 0; i < LINKS; i++) symlinkSync(target, join(src, `usr/share/big/d${d}/l${i}`));
    }
    await troveOk(server, 'init');
    await troveOk(server, 'pkg', 'add', src, '--name', 'big', '--arch', 'amd64', '--version', '1', '--no-update-summary');
    await troveOk(server, 'gen', 'build', 'big', '--no-update-summary');
    await troveOk(server, 'gen', 'publish');
    commit = readFileSync(join(server, 'refs/heads/pkg/big/amd64'), 'utf8').trim();
    generation = readFileSync(join(server, 'profiles/system/1'), 'utf8').trim();
    nginx = await startNginx(server);
  }, 120_000);
  afterAll(async () => nginx?.stop());

  const summary = () => JSON.parse(readFileSync(join(server, 'summary'), 'utf8'));
  const packs = () => readdirSync(join(server, 'packages')).filter((f) => f.endsWith('.trees'));

  it('is not written: the index and the summary name no pack, and the summary remembers why', async () => {
    // The commits and trees the package reaches are more than a pack may hold.
    const { metas } = await reachable(server, [commit]);
    expect([...metas.values()].reduce((n, size) => n + size, 0)).toBeGreaterThan(MAX_TREES_PACK);
    const s = summary();
    const index = JSON.parse(readFileSync(join(server, 'packages', s.packages.index), 'utf8')).packages;
    expect(index).toHaveLength(1);
    expect(index[0].commit).toBe(commit);
    expect(index[0]).not.toHaveProperty('treesPack');
    expect(s.generations.system.at(-1).commit).toBe(generation);
    expect(s.generations.system.at(-1)).not.toHaveProperty('treesPack');
    expect(packs()).toEqual([]);
    // Remembered in the LevelDB index, so that the next summary does not read every tree to learn it again.
    const repo = await Repo.open(server);
    try {
      const db = (await repo.indexDb())!;
      expect(await db.getJson(`treespack-too-large:${commit}`)).toBe(true);
      expect(await db.getJson(`treespack-too-large:${generation}`)).toBe(true);
    } finally {
      await repo.close();
    }
    await troveOk(server, 'summary');
    expect(packs()).toEqual([]);
    expect(summary().generations.system.at(-1)).not.toHaveProperty('treesPack');
  });

  it('a client installs the package without asking for a pack: its commit and trees come one by one', async () => {
    const c = join(base, 'client');
    await troveOk(c, 'init');
    await troveOk(c, 'remote', 'add', 'origin', nginx.url);
    nginx.clearLog();
    const r = await trove(['--repo', c, 'install', 'big', '--lazy', '--no-switch', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/trees pack|one by one/);
    const paths = nginx.accessLog().map((l) => l.path);
    expect(paths.filter((p) => p.endsWith('.trees'))).toEqual([]);
    const { metas } = await reachable(server, [commit]);
    expect(objectRequests(nginx).sort()).toEqual([...metas.keys()].sort());
    for (const id of metas.keys()) expect(objectIds(c).has(id)).toBe(true);
    await troveOk(c, 'fsck');
  });
});
