import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAttributeSync, setAttributeSync } from 'fs-xattr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ObjectId } from '../src/util/hash.js';
import { commitSource, type CommitOptions, type CommitResult } from '../src/repo/commit.js';
import { readTree } from '../src/repo/objects.js';
import { Repo } from '../src/repo/repo.js';
import { importDir } from '../src/repo/import/dir.js';
import { MemoryStore } from '../src/store/memory.js';
import type { PutResult } from '../src/store/types.js';
import { trove } from './helpers/cli.js';
import { sh, tmpdir } from './helpers/tmp.js';

const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
/** Longer than the importer's racy margin (200 ms), so what we wrote before is old enough to be cached. */
const settle = () => new Promise((r) => setTimeout(r, 350));

const BIG_SIZE = 9 * 1024 * 1024 + 5; // read in chunks by putFileSync, not whole

/** True when the temp filesystem takes `user.*` xattrs (ext4, xfs, btrfs and tmpfs since 6.6 do). */
const xattrsWork = (() => {
  const probe = join(tmpdir('trove-xattr-probe'), 'probe');
  writeFileSync(probe, '');
  try {
    setAttributeSync(probe, 'user.probe', Buffer.from('1'));
    return getAttributeSync(probe, 'user.probe').toString() === '1';
  } catch (err) {
    console.warn(`xattr test skipped: the temp filesystem refuses user xattrs (${(err as Error).message})`);
    return false;
  }
})();

interface Fixture {
  src: string;
  /** Current content of every file, by path relative to src. */
  files: Map<string, Buffer>;
}

function write(fx: Fixture, rel: string, content: string | Buffer): void {
  const b = Buffer.from(content);
  writeFileSync(join(fx.src, rel), b);
  fx.files.set(rel, b);
}

/** An open repository whose transactions report the id of every object put into them. */
async function openCounting(path: string): Promise<{ repo: Repo; puts: ObjectId[] }> {
  const repo = await Repo.open(path);
  const puts: ObjectId[] = [];
  const original = repo.transaction.bind(repo);
  repo.transaction = () => {
    const txn = original();
    return new Proxy(txn, {
      get(target, prop, receiver) {
        const v: unknown = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function') return v;
        const fn = (v as (...a: unknown[]) => unknown).bind(target);
        if (typeof prop !== 'string' || !prop.startsWith('put')) return fn;
        return (...args: unknown[]) => {
          const r = fn(...args);
          if (r instanceof Promise) return r.then((p: PutResult) => (puts.push(p.id), p));
          puts.push((r as PutResult).id);
          return r;
        };
      },
    });
  };
  return { repo, puts };
}

describe('the stat cache', () => {
  let fx: Fixture;
  let repoPath: string;
  let repo: Repo;
  let puts: ObjectId[];
  /** Earlier contents by id, so that re-putting an old version is noticed too. */
  const knownOld = new Map<string, string>();

  beforeEach(async () => {
    knownOld.clear();
    const root = tmpdir('trove-incr');
    repoPath = join(root, 'repo');
    await (await Repo.init(repoPath)).close();
    fx = { src: join(root, 'src'), files: new Map() };
    mkdirSync(join(fx.src, 'sub', 'deep'), { recursive: true });
    write(fx, 'a.txt', 'alpha\n');
    write(fx, 'b.txt', 'bravo bravo\n');
    write(fx, 'c.txt', 'charlie 1\n');
    write(fx, 'sub/d.txt', 'delta\n');
    write(fx, 'sub/deep/e.txt', 'echo\n');
    const big = Buffer.alloc(BIG_SIZE);
    for (let i = 0; i < BIG_SIZE; i++) big[i] = (i * 13) & 0xff;
    write(fx, 'big.bin', big);
    ({ repo, puts } = await openCounting(repoPath));
  });

  afterEach(async () => {
    await repo.close();
  });

  /** Commits src on main; returns the result and the blob ids put during it. */
  async function commit(opts: Pick<CommitOptions, 'xattrs'> = {}): Promise<{ r: CommitResult; blobsPut: Set<string> }> {
    puts.length = 0;
    const r = await commitSource(repo, fx.src, { ref: 'main', ...opts });
    expect(r.statCache).toBe(true);
    // Trees and the commit are put too; keep what is file content (current or earlier).
    const contentIds = new Map<string, string>();
    for (const [rel, b] of fx.files) contentIds.set(sha256(b), rel);
    const blobsPut = new Set(puts.filter((id) => contentIds.has(id) || knownOld.has(id)).map((id) => contentIds.get(id) ?? knownOld.get(id)!));
    for (const [rel, b] of fx.files) knownOld.set(sha256(b), rel);
    return { r, blobsPut };
  }

  const total = () => [...fx.files.values()].reduce((n, b) => n + b.length, 0);
  const cat = (rel: string) => trove(['cat', `main:${rel}`, '--repo', repoPath]);

  it('re-reads exactly the files whose content changed', async () => {
    await settle();
    const first = await commit();
    expect(first.r.report).toMatchObject({ files: 6, cached: 0, bytesRead: total() });
    expect(first.blobsPut).toEqual(new Set(fx.files.keys()));

    const unchanged = await commit();
    expect(unchanged.r.report).toMatchObject({ files: 6, cached: 6, bytesRead: 0 });
    expect(unchanged.blobsPut).toEqual(new Set());
    expect(unchanged.r.tree).toBe(first.r.tree);
    expect(unchanged.r.parent).toBe(first.r.commit);

    write(fx, 'a.txt', 'alpha, now longer\n');
    await settle();
    const changed = await commit();
    expect(changed.r.report).toMatchObject({ files: 6, cached: 5, bytesRead: fx.files.get('a.txt')!.length });
    expect(changed.blobsPut).toEqual(new Set(['a.txt']));
    expect(changed.r.tree).not.toBe(first.r.tree);

    write(fx, 'sub/deep/e.txt', 'echo, deeper down\n');
    await settle();
    const deep = await commit();
    expect(deep.r.report).toMatchObject({ cached: 5, bytesRead: fx.files.get('sub/deep/e.txt')!.length });
    expect(deep.blobsPut).toEqual(new Set(['sub/deep/e.txt']));

    await repo.close();
    expect((await cat('a.txt')).stdout).toBe('alpha, now longer\n');
    expect((await cat('sub/deep/e.txt')).stdout).toBe('echo, deeper down\n');
    expect((await trove(['cat', 'main~1:sub/deep/e.txt', '--repo', repoPath])).stdout).toBe('echo\n');
    // The CLI shares the cache: nothing changed since, so nothing is read.
    const cli = await trove(['commit', fx.src, '-r', 'main', '--repo', repoPath, '--json']);
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ tree: deep.r.tree, report: { cached: 6, bytesRead: 0 } });
  });

  it('a changed mtime alone makes the file be read again, giving the same tree', async () => {
    await settle();
    const first = await commit();
    const later = new Date(Date.now() - 60_000);
    utimesSync(join(fx.src, 'b.txt'), later, later);
    await settle();
    const touched = await commit();
    expect(touched.r.report).toMatchObject({ cached: 5, bytesRead: fx.files.get('b.txt')!.length });
    expect(touched.blobsPut).toEqual(new Set(['b.txt']));
    expect(touched.r.tree).toBe(first.r.tree);
    expect(touched.r.written.objects).toBe(1); // only the new commit
  });

  it('a same-size change is seen, even with the old mtime put back (ctime and inode give it away)', async () => {
    await settle();
    const first = await commit();
    const c = join(fx.src, 'c.txt');
    const st = statSync(c, { bigint: true });
    const ref = join(fx.src, '..', 'times-of-c');
    sh('touch', ['-r', c, ref]); // keeps the nanoseconds, which utimes() from JS cannot
    write(fx, 'c.txt', 'charlie 2\n');
    expect(BigInt(fx.files.get('c.txt')!.length)).toBe(st.size);
    sh('touch', ['-m', '-r', ref, c]);
    expect(statSync(c, { bigint: true }).mtimeNs).toBe(st.mtimeNs);
    expect(statSync(c, { bigint: true }).ino).toBe(st.ino);
    await settle();
    const sameSize = await commit();
    expect(sameSize.r.report).toMatchObject({ cached: 5, bytesRead: Number(st.size) });
    expect(sameSize.blobsPut).toEqual(new Set(['c.txt']));
    expect(sameSize.r.tree).not.toBe(first.r.tree);

    // Replaced by rename with the same size and mtime: a new inode.
    const d = join(fx.src, 'sub/d.txt');
    const tmp = join(fx.src, '..', 'd.new');
    writeFileSync(tmp, 'DELTA\n');
    sh('touch', ['-r', d, tmp]);
    expect(statSync(tmp, { bigint: true }).mtimeNs).toBe(statSync(d, { bigint: true }).mtimeNs);
    renameSync(tmp, d);
    fx.files.set('sub/d.txt', Buffer.from('DELTA\n'));
    await settle();
    const renamed = await commit();
    expect(renamed.r.report).toMatchObject({ cached: 5, bytesRead: 6 });
    expect(renamed.blobsPut).toEqual(new Set(['sub/d.txt']));

    await repo.close();
    expect((await cat('c.txt')).stdout).toBe('charlie 2\n');
    expect((await cat('sub/d.txt')).stdout).toBe('DELTA\n');
  });

  it('a file changed just before a commit is not trusted by the next one (racy rule)', async () => {
    await settle();
    await commit();
    write(fx, 'a.txt', 'alpha 2\n');
    const racy = await commit(); // a.txt is seconds-fresh: read, but not remembered
    expect(racy.blobsPut).toEqual(new Set(['a.txt']));
    const again = await commit();
    expect(again.r.report).toMatchObject({ cached: 5, bytesRead: 8 });
    expect(again.blobsPut).toEqual(new Set(['a.txt']));
    await settle();
    const settled = await commit(); // old enough now: read once more and remembered
    expect(settled.blobsPut).toEqual(new Set(['a.txt']));
    const cached = await commit();
    expect(cached.r.report).toMatchObject({ cached: 6, bytesRead: 0 });
    expect(cached.blobsPut).toEqual(new Set());
  });

  it('a change met after unchanged subdirectories gives the tree and counts of an import without the cache', async () => {
    // In name order: sub/ (unchanged, entered while the directory still looks unchanged), then
    // the changed file, then another subdirectory; and below sub/, deep/ changed after d.txt.
    mkdirSync(join(fx.src, 'tail'));
    write(fx, 'tail/t.txt', 'tango\n');
    write(fx, 'sub.txt', 'sierra\n');
    symlinkSync('sub/d.txt', join(fx.src, 'link'));
    /** Commits, and expects the tree and counts of an import without the cache, `reread` files read again. */
    const commitLikeFresh = async (reread: number) => {
      const got = await commit();
      const want = await importDir(fx.src, new MemoryStore());
      const { files, dirs, symlinks } = want.report;
      expect(got.r.tree).toBe(want.tree);
      expect(got.r.report).toMatchObject({ files, dirs, symlinks, cached: files - reread });
      return got;
    };
    await settle();
    await commitLikeFresh(8);

    write(fx, 'sub.txt', 'sierra, changed\n');
    await settle();
    expect((await commitLikeFresh(1)).blobsPut).toEqual(new Set(['sub.txt']));

    write(fx, 'sub/deep/e.txt', 'echo, changed\n');
    await settle();
    await commitLikeFresh(1);

    // Nothing changed: every directory kept from its record, with the same counts.
    expect((await commitLikeFresh(0)).r.report.bytesRead).toBe(0);
  });

  it('added, removed and renamed files and directories are picked up', async () => {
    await settle();
    const first = await commit();
    write(fx, 'sub/new.txt', 'new file\n');
    rmSync(join(fx.src, 'b.txt'));
    fx.files.delete('b.txt');
    renameSync(join(fx.src, 'sub', 'deep'), join(fx.src, 'sub', 'moved'));
    fx.files.set('sub/moved/e.txt', fx.files.get('sub/deep/e.txt')!);
    fx.files.delete('sub/deep/e.txt');
    await settle();
    const next = await commit();
    expect(next.r.report.files).toBe(6);
    expect(next.blobsPut.has('sub/new.txt')).toBe(true);
    expect(next.blobsPut.has('a.txt')).toBe(false);
    expect(next.blobsPut.has('big.bin')).toBe(false);
    await repo.close();
    const diff = (await trove(['diff', 'main~1', 'main', '--repo', repoPath])).stdout;
    expect(diff).toMatch(/^D b\.txt$/m);
    expect(diff).toMatch(/^A sub\/new\.txt$/m);
    expect(diff).toMatch(/^D sub\/deep\/$/m);
    expect(diff).toMatch(/^A sub\/moved\/e\.txt$/m);
    expect(first.r.tree).not.toBe(next.r.tree);
  });

  it('deleting the index loses nothing but time', async () => {
    await settle();
    const first = await commit();
    const warm = await commit();
    expect(warm.r.report.cached).toBe(6);
    await repo.close();
    rmSync(join(repoPath, 'index'), { recursive: true, force: true });
    ({ repo, puts } = await openCounting(repoPath));
    const cold = await commit();
    expect(cold.r.report).toMatchObject({ cached: 0, bytesRead: total() });
    expect(cold.blobsPut).toEqual(new Set(fx.files.keys()));
    expect(cold.r.tree).toBe(first.r.tree);
    expect(cold.r.written.objects).toBe(1); // every blob and tree was already stored; only the commit is new
    const rewarmed = await commit();
    expect(rewarmed.r.report).toMatchObject({ cached: 6, bytesRead: 0 });
    expect(rewarmed.r.tree).toBe(first.r.tree);
  });

  it.skipIf(!xattrsWork)('an import without xattrs and one with them never reuse each other\'s records', async () => {
    const note = Buffer.from([0x00, 0xff, 0x01, 0x80]);
    setAttributeSync(join(fx.src, 'a.txt'), 'user.note', note);
    setAttributeSync(join(fx.src, 'sub'), 'user.dir', Buffer.from('on a directory'));
    await settle();
    /** name -> [xattr name, hex value][] of the root tree's entries. */
    const xattrsOf = async (r: CommitResult) =>
      new Map((await readTree(repo.store, r.tree)).entries.map((e) => [e.name, e.xattrs.map((x) => [x.name, Buffer.from(x.value).toString('hex')])]));
    const withNote = [['user.note', note.toString('hex')]];
    const withDir = [['user.dir', Buffer.from('on a directory').toString('hex')]];

    const bare = await commit({ xattrs: false });
    expect(bare.r.report).toMatchObject({ files: 6, cached: 0 });
    expect((await xattrsOf(bare.r)).get('a.txt')).toEqual([]);
    expect((await xattrsOf(bare.r)).get('sub')).toEqual([]);
    const bareAgain = await commit({ xattrs: false });
    expect(bareAgain.r.report).toMatchObject({ cached: 6, bytesRead: 0 });
    expect(bareAgain.r.tree).toBe(bare.r.tree);

    // The records above hold no xattrs because none were read: a miss for an import that reads them.
    const full = await commit();
    expect((await xattrsOf(full.r)).get('a.txt')).toEqual(withNote);
    expect((await xattrsOf(full.r)).get('sub')).toEqual(withDir);
    expect(full.r.tree).not.toBe(bare.r.tree);
    const fullAgain = await commit();
    expect(fullAgain.r.report).toMatchObject({ cached: 6, bytesRead: 0 });
    expect(fullAgain.r.tree).toBe(full.r.tree);

    // And the other way round: records that hold xattrs do not put them into an import without.
    const bareLast = await commit({ xattrs: false });
    expect(bareLast.r.tree).toBe(bare.r.tree);
    expect(bareLast.r.report).toMatchObject({ cached: 6, bytesRead: 0 });
  });
});
