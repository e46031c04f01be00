import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mountsUnder } from '../src/util/mount-table.js';
import { describe, expect, it } from 'vitest';
import { bytes } from '../src/cli/printers.js';
import { decodeCommit, decodeTree } from '../src/format/codec.js';
import type { ObjectId } from '../src/util/hash.js';
import { activate } from '../src/system/activation/activate.js';
import { fsck } from '../src/repo/fsck.js';
import { gc } from '../src/repo/gc.js';
import { buildGeneration } from '../src/system/generations/build.js';
import { parseDuration, pruneGenerations } from '../src/system/generations/prune.js';
import { listGenerations } from '../src/system/profiles.js';
import { systemRoots } from '../src/system/roots.js';
import { Repo } from '../src/repo/repo.js';
import { trove, troveIn } from './helpers/cli.js';
import { addPkg } from './helpers/fixtures.js';
import { tmpdir } from './helpers/tmp.js';
import { objectIds } from './helpers/objects.js';

async function allObjects(repo: Repo): Promise<Set<ObjectId>> {
  const ids = new Set<ObjectId>();
  for await (const id of repo.store.list()) ids.add(id);
  return ids;
}

/** Every stored commit or tree references only stored objects. */
async function closed(repo: Repo): Promise<string[]> {
  const ids = await allObjects(repo);
  const broken: string[] = [];
  for (const id of ids) {
    const bytes = await repo.store.get(id);
    let refs: ObjectId[] = [];
    try {
      const c = decodeCommit(bytes);
      refs = [c.tree, ...c.parents];
    } catch {
      try {
        refs = decodeTree(bytes).entries.flatMap((e) => (e.id ? [e.id] : []));
      } catch {
        continue;
      }
    }
    for (const r of refs) if (!ids.has(r)) broken.push(`${id} -> ${r}`);
  }
  return broken;
}

describe('gen prune', () => {
  it('keeps the newest and the active generation whatever the criteria', async () => {
    const dir = tmpdir();
    const repo = await Repo.init(join(dir, 'repo'));
    await addPkg(repo, dir, 'a', 2);
    for (let v = 1; v <= 5; v++) {
      await addPkg(repo, dir, 'a', 2, `${v}.0`);
      await buildGeneration(repo, { specs: [{ name: 'a', priority: 0 }] });
    }
    const gens = await listGenerations(repo, 'system');
    await activate(repo, gens[1]!.commit, { link: join(dir, 'ro') });
    const dry = await pruneGenerations(repo, { keep: 1, dryRun: true });
    expect(dry.removed).toEqual([1, 3, 4]);
    expect((await listGenerations(repo, 'system')).length).toBe(5);
    expect((await pruneGenerations(repo, { olderThan: parseDuration('1h') })).removed).toEqual([]);
    expect((await pruneGenerations(repo, { keep: 2 })).removed).toEqual([1, 3]);
    expect((await listGenerations(repo, 'system')).map((g) => g.number)).toEqual([2, 4, 5]);
    expect((await pruneGenerations(repo, { olderThan: 60, now: Date.now() / 1000 + 120 })).removed).toEqual([4]);
    expect(() => parseDuration('10 days')).toThrow();
    await repo.close();
  });
});

describe('CLI: gen prune and gc', () => {
  it('prune by count and age, dry run first; gc --dry-run text and --json agree with the real run', async () => {
    const dir = tmpdir();
    const repoPath = join(dir, 'repo');
    const link = join(dir, 'ro');
    const repo = await Repo.init(repoPath);
    const gens: string[] = [];
    for (let v = 1; v <= 5; v++) {
      await addPkg(repo, dir, 'a', 3, `${v}.0`);
      gens.push((await buildGeneration(repo, { specs: [{ name: 'a', priority: 0 }] })).commit);
    }
    await activate(repo, gens[0]!, { link });
    await activate(repo, gens[1]!, { link });
    await repo.close();
    const cli = troveIn(repoPath);
    const numbers = () => readdirSync(join(repoPath, 'profiles', 'system')).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);

    for (const bad of [[], ['--keep', 'x'], ['--older-than', '10days']]) expect((await cli('gen', 'prune', ...bad)).code).toBe(2);
    const dry = await cli('gen', 'prune', '--keep', '2', '--dry-run');
    expect(dry.code).toBe(0);
    // 2 is active, 4 and 5 are the two newest.
    expect(dry.stdout).toBe('would remove 2 generations: 1 3; kept 2 4 5\n');
    expect(JSON.parse((await cli('gen', 'prune', '--keep', '2', '--dry-run', '--json')).stdout)).toEqual({ removed: [1, 3], kept: [2, 4, 5] });
    expect(numbers()).toEqual([1, 2, 3, 4, 5]);
    expect((await cli('gen', 'prune', '--older-than', '1h')).stdout).toBe('removed 0 generations; kept 1 2 3 4 5\n');
    expect(numbers()).toEqual([1, 2, 3, 4, 5]);
    expect((await cli('gen', 'prune', '--keep', '2')).stdout).toBe('removed 2 generations: 1 3; kept 2 4 5\n');
    expect(numbers()).toEqual([2, 4, 5]);

    const objects = () => objectIds(repoPath).size;
    const before = objects();
    const preview = JSON.parse((await cli('gc', '--dry-run', '--json')).stdout) as {
      dryRun: boolean;
      kept: number;
      deleted: { objects: number; bytes: number; commits: number; trees: number; blobs: number };
      checkouts: string[];
      variants: { files: number; bytes: number };
    };
    expect(preview.dryRun).toBe(true);
    // The two pruned generation commits go; their packages stay on pkg/a's history.
    expect(preview.deleted.commits).toBe(2);
    expect(preview.deleted.blobs).toBe(0);
    expect(preview.checkouts).toEqual([gens[0]]);
    const d = preview.deleted;
    const text = await cli('gc', '--dry-run');
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      `would delete ${d.objects} objects (${d.commits} commits, ${d.trees} trees, ${d.blobs} blobs), ${bytes(d.bytes)}; kept ${preview.kept}\n` +
        `would delete 1 checkouts and ${preview.variants.files} unused variants (${bytes(preview.variants.bytes)})\n`,
    );
    expect(objects()).toBe(before);
    expect(existsSync(join(repoPath, 'checkouts', gens[0]!))).toBe(true);

    const real = JSON.parse((await cli('gc', '--json')).stdout) as typeof preview;
    expect(real.dryRun).toBe(false);
    expect(real.deleted).toEqual(preview.deleted);
    expect(real.kept).toBe(preview.kept);
    expect(objects()).toBe(before - d.objects);
    expect(existsSync(join(repoPath, 'checkouts', gens[0]!))).toBe(false);
    // Right after a gc that listed the store, its count says nothing is garbage: not listed again.
    expect((await cli('gc')).stdout).toBe(
      `deleted 0 objects (0 commits, 0 trees, 0 blobs), 0 B; kept ${preview.kept} (by the store's count, not listed; --full lists it)\ndeleted 0 checkouts and 0 unused variants (0 B)\n`,
    );
    expect((await cli('gc', '--full')).stdout).toBe(`deleted 0 objects (0 commits, 0 trees, 0 blobs), 0 B; kept ${preview.kept}\ndeleted 0 checkouts and 0 unused variants (0 B)\n`);
    expect((await cli('fsck')).code).toBe(0);
  });
});

describe('gc', () => {
  it('a commit after gc does not trust the stat cache for objects gc deleted', async () => {
    const dir = tmpdir();
    const repo = join(dir, 'repo');
    const src = join(dir, 'src');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'sub', 'file'), `content ${randomBytes(8).toString('hex')}\n`);
    // Old enough for the stat cache to remember them (entries newer than 200 ms are not recorded).
    const past = new Date(Date.now() - 10_000);
    utimesSync(join(src, 'sub', 'file'), past, past);
    utimesSync(join(src, 'sub'), past, past);
    const t = async (...args: string[]) => {
      const r = await trove([...args, '--repo', repo]);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
      return r.stdout;
    };
    await t('init');
    await t('commit', src, '-r', 'a');
    await t('refs', 'delete', 'a');
    expect(JSON.parse(await t('gc', '--json')).deleted.blobs).toBe(1);
    const again = JSON.parse(await t('commit', src, '-r', 'b', '--json'));
    expect(again.written.objects).toBe(4); // blob, sub tree, root tree, commit: all written again
    const f = await trove(['fsck', '--json', '--repo', repo]);
    expect(f.stdout).toContain('"ok": true');
    expect(f.code).toBe(0);
  });

  it('frees what only pruned generations and deleted refs used; dry run reports the same and deletes nothing', async () => {
    const dir = tmpdir();
    const repoPath = join(dir, 'repo');
    const repo = await Repo.init(repoPath);
    const link = join(dir, 'ro');
    await addPkg(repo, dir, 'base', 10);
    await addPkg(repo, dir, 'extra', 10);
    const g1 = await buildGeneration(repo, { specs: [{ name: 'base', priority: 0 }, { name: 'extra', priority: 0 }] });
    await activate(repo, g1.commit, { link });
    await repo.refs.delete('pkg/extra/amd64');
    const g2 = await buildGeneration(repo, { specs: [{ name: 'base', priority: 0 }] });
    await activate(repo, g2.commit, { link });
    // The checkout of generation 1 links a variant (each package's 0750 script); generation 2's only base's.
    // As root each is a read-only mount of its hard-link tree `<id>.links` (system/activation/checkouts.ts).
    const entries = (id: string) => (process.getuid?.() === 0 ? [id, `${id}.links`] : [id]);
    expect(readdirSync(join(repoPath, 'checkouts')).sort()).toEqual([...entries(g1.commit), ...entries(g2.commit)].sort());

    const before = await allObjects(repo);
    const dry = await gc(repo, { roots: systemRoots, dryRun: true });
    expect(dry.deleted.objects).toBe(0);
    expect(dry.checkouts).toEqual([]);
    await pruneGenerations(repo, { keep: 1 });
    const preview = await gc(repo, { roots: systemRoots, dryRun: true });
    expect(await allObjects(repo)).toEqual(before);
    expect(existsSync(join(repoPath, 'checkouts', g1.commit))).toBe(true);
    // extra's commit; its trees /, usr, usr/bin, usr/share, usr/share/extra and 4 dirs; 10 files and
    // the script. Generation 1's commit and its merged trees /, usr, usr/bin, usr/share.
    expect(preview.deleted).toMatchObject({ commits: 2, trees: 13, blobs: 11 });
    expect(preview.checkouts).toEqual([g1.commit]);

    const real = await gc(repo, { roots: systemRoots });
    expect(real.deleted).toEqual(preview.deleted);
    expect(real.checkouts).toEqual([g1.commit]);
    expect(real.variants.files).toBe(1);
    expect(readdirSync(join(repoPath, 'checkouts')).sort()).toEqual(entries(g2.commit));
    expect(mountsUnder(join(repoPath, 'checkouts', g1.commit))).toEqual([]);
    expect((await allObjects(repo)).size).toBe(before.size - real.deleted.objects);
    const report = await fsck(repo, { roots: systemRoots });
    expect(report.problems).toEqual([]);
    expect(await closed(repo)).toEqual([]);
    await repo.close();

    const again = await trove(['--repo', repoPath, 'gc', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).deleted.objects).toBe(0);
  });

  it('interrupted at any point, leaves no object whose references are gone', async () => {
    for (const stopAfter of [1, 4, 9, 17]) {
      const dir = tmpdir();
      const repo = await Repo.init(join(dir, 'repo'));
      await addPkg(repo, dir, 'keep', 3);
      for (let v = 1; v <= 3; v++) await addPkg(repo, dir, 'gone', 8, `${v}.0`);
      await repo.refs.delete('pkg/gone/amd64');
      const realDelete = repo.store.delete.bind(repo.store);
      let deletions = 0;
      repo.store.delete = async (id) => {
        if (deletions++ >= stopAfter) throw new Error('killed');
        return realDelete(id);
      };
      await expect(gc(repo, { roots: systemRoots })).rejects.toThrow('killed');
      repo.store.delete = realDelete;
      expect(await closed(repo)).toEqual([]);
      expect((await fsck(repo, { roots: systemRoots })).ok).toBe(true);
      // A later gc finishes the job.
      await gc(repo, { roots: systemRoots });
      expect(await closed(repo)).toEqual([]);
      await repo.close();
    }
  });
});
