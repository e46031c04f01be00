import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildGeneration } from '../src/system/generations/build.js';
import { diffGenerations, diffPackages } from '../src/system/generations/diff.js';
import { listGenerationRows } from '../src/system/generations/list.js';
import { buildGenerationTree, type GenerationInput } from '../src/system/generations/tree.js';
import { readCommit, readTree } from '../src/repo/objects.js';
import { addPackage } from '../src/system/packages/add.js';
import { inputOf } from '../src/system/packages/spec.js';
import { listGenerations, readActive } from '../src/system/profiles.js';
import { Repo } from '../src/repo/repo.js';
import { getDebs } from './helpers/debs.js';
import { trove, troveAll, troveIn } from './helpers/cli.js';
import { entryAt, mkpkg } from './helpers/fixtures.js';
import { tmpdir } from './helpers/tmp.js';



function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

describe('generations of real Debian packages', () => {
  let debs: string[];
  beforeAll(() => {
    debs = getDebs(['bc', 'figlet', 'tzdata']);
  });

  it('hold one directory per package (its own tree) and the union at the top level, sharing ids', async () => {
    const repo = await Repo.init(join(tmpdir(), 'repo'));
    const pkgs = [];
    for (const d of debs) pkgs.push(await addPackage(repo, d));
    // Their dependencies (libc6, ...) are not in the repository: exactly these three.
    const r = await buildGeneration(repo, { specs: pkgs.map((p) => ({ name: p.info.name, priority: 0 })), noDeps: true });
    expect(r.number).toBe(1);
    const c = await readCommit(repo.store, r.commit);
    expect(c.generation!.profile).toBe('system');
    expect(c.generation!.packages.map((p) => p.name)).toEqual(['bc', 'figlet', 'tzdata']);
    for (const p of pkgs) {
      const own = await entryAt(repo, c.tree, `${p.info.name}-${p.info.arch}-${p.info.version}-${p.info.revision}`);
      expect(own?.id).toBe(p.tree);
    }
    const bc = pkgs[0]!;
    expect((await entryAt(repo, c.tree, 'usr/bin/bc'))?.id).toBe((await entryAt(repo, bc.tree, 'usr/bin/bc'))?.id);
    // A directory only tzdata provides is reused whole, by id.
    const tz = pkgs[2]!;
    const zoneinfo = await entryAt(repo, tz.tree, 'usr/share/zoneinfo');
    expect(zoneinfo?.kind).toBe('dir');
    expect((await entryAt(repo, c.tree, 'usr/share/zoneinfo'))?.id).toBe(zoneinfo!.id);
    // Directories several packages share are merged: usr/share/doc holds each package's docs.
    const docs = (await readTree(repo.store, (await entryAt(repo, c.tree, 'usr/share/doc'))!.id!)).entries.map((e) => e.name);
    expect(docs).toEqual(expect.arrayContaining(['bc', 'figlet', 'tzdata']));
    await repo.close();
  });
});

describe('generation conflicts', () => {
  it('between packages: priority, then name order; identical files are no conflict', async () => {
    const repo = await Repo.init(join(tmpdir(), 'repo'));
    await mkpkg(repo, 'alpha', { 'bin/tool': 'alpha', 'share/same': 'same', 'lib/x': 'file' });
    await mkpkg(repo, 'beta', { 'bin/tool': 'beta', 'share/same': 'same', 'lib/x/inner': 'dir' });
    const plain = await buildGeneration(repo, { specs: [{ name: 'beta', priority: 0 }, { name: 'alpha', priority: 0 }] });
    expect(plain.conflicts).toEqual([
      { path: 'bin/tool', winner: 'alpha-amd64-1.0-1', losers: ['beta-amd64-1.0-1'] },
      { path: 'lib/x', winner: 'alpha-amd64-1.0-1', losers: ['beta-amd64-1.0-1'] },
    ]);
    const g1 = await readCommit(repo.store, plain.commit);
    expect(g1.generation!.conflicts).toEqual(plain.conflicts);
    expect((await entryAt(repo, g1.tree, 'lib/x'))?.kind).toBe('file');

    const prio = await buildGeneration(repo, { specs: [{ name: 'alpha', priority: 0 }, { name: 'beta', priority: 10 }] });
    expect(prio.conflicts.map((c) => c.winner)).toEqual(['beta-amd64-1.0-1', 'beta-amd64-1.0-1']);
    const g2 = await readCommit(repo.store, prio.commit);
    const tool = await entryAt(repo, g2.tree, 'bin/tool');
    expect(readFileSync(repo.store.pathOf(tool!.id!), 'utf8')).toBe('beta');
    expect((await entryAt(repo, g2.tree, 'lib/x/inner'))?.kind).toBe('file');
    await repo.close();
  });

  it('of the same package: the higher revision wins, whatever the priority', async () => {
    const repo = await Repo.init(join(tmpdir(), 'repo'));
    await mkpkg(repo, 'tool', { 'bin/tool': 'old' });
    await mkpkg(repo, 'tool', { 'bin/tool': 'new' });
    await mkpkg(repo, 'tool', { 'bin/tool': 'arm' }, { arch: 'arm64', revision: 1 });
    const r = await buildGeneration(repo, {
      specs: [
        { name: 'tool', arch: 'amd64', revision: 1, priority: 99 },
        { name: 'tool', arch: 'amd64', revision: 2, priority: 0 },
        { name: 'tool', arch: 'arm64', priority: 0 },
      ],
    });
    expect(r.conflicts).toEqual([{ path: 'bin/tool', winner: 'tool-amd64-1.0-2', losers: ['tool-amd64-1.0-1', 'tool-arm64-1.0-1'] }]);
    expect(r.packages).toEqual(['tool-amd64-1.0-1', 'tool-amd64-1.0-2', 'tool-arm64-1.0-1']);
    const tool = await entryAt(repo, (await readCommit(repo.store, r.commit)).tree, 'bin/tool');
    expect(readFileSync(repo.store.pathOf(tool!.id!), 'utf8')).toBe('new');
    await repo.close();
  });

  it('the same tree and conflicts whatever order the packages are given in', async () => {
    const repo = await Repo.init(join(tmpdir(), 'repo'));
    await mkpkg(repo, 'a', { 'bin/x': 'a', 'share/a': 'a', 'etc/conf': 'a' });
    await mkpkg(repo, 'b', { 'bin/x': 'b', 'share/b': 'b', etc: null });
    await mkpkg(repo, 'c', { 'bin/x': 'c', 'share/a': 'c', 'etc/conf/d': 'c' });
    await mkpkg(repo, 'c', { 'bin/x': 'c2', 'share/a': 'c', 'etc/conf/d': 'c' });
    const inputs: GenerationInput[] = [
      await inputOf(repo, (await repo.refs.read('pkg/a/amd64'))!, 0),
      await inputOf(repo, (await repo.refs.read('pkg/b/amd64'))!, 3),
      await inputOf(repo, (await repo.refs.read('pkg/c/amd64'))!, 0),
      await inputOf(repo, (await readCommit(repo.store, (await repo.refs.read('pkg/c/amd64'))!)).parents[0]!, 0),
    ];
    const results = new Set<string>();
    for (const order of permutations(inputs)) {
      const t = await buildGenerationTree(repo.store, order);
      results.add(JSON.stringify([t.tree, t.conflicts]));
    }
    expect(results.size).toBe(1);
    const [, conflicts] = JSON.parse([...results][0]!) as [string, { path: string; winner: string }[]];
    expect(conflicts.find((c) => c.path === 'bin/x')?.winner).toBe('b-amd64-1.0-1');
    expect(conflicts.find((c) => c.path === 'share/a')?.winner).toBe('a-amd64-1.0-1');
    await repo.close();
  });
});

describe('package changes between generations', () => {
  const pkg = (revision: number, priority = 0, name = 'tool') => ({ name, arch: 'amd64', version: '1.0', revision, commit: `${name}${revision}`.padEnd(64, '0'), priority });

  it('match instances by commit, so several revisions of one name and arch are told apart', () => {
    expect(diffPackages([pkg(1)], [pkg(1), pkg(2)])).toEqual({ added: ['tool-amd64-1.0-2'], removed: [], changed: [] });
    expect(diffPackages([pkg(1), pkg(2)], [pkg(2)])).toEqual({ added: [], removed: ['tool-amd64-1.0-1'], changed: [] });
    expect(diffPackages([pkg(1), pkg(2)], [pkg(3)])).toEqual({ added: ['tool-amd64-1.0-3'], removed: ['tool-amd64-1.0-1', 'tool-amd64-1.0-2'], changed: [] });
    expect(diffPackages([pkg(1), pkg(2)], [pkg(1), pkg(3)])).toEqual({ added: [], removed: [], changed: [{ from: 'tool-amd64-1.0-2', to: 'tool-amd64-1.0-3' }] });
    expect(diffPackages([pkg(1)], [pkg(2)])).toEqual({ added: [], removed: [], changed: [{ from: 'tool-amd64-1.0-1', to: 'tool-amd64-1.0-2' }] });
    expect(diffPackages([pkg(1), pkg(4, 0, 'x')], [pkg(1, 5), pkg(4, 0, 'x')])).toEqual({ added: [], removed: [], changed: [{ from: 'tool-amd64-1.0-1', to: 'tool-amd64-1.0-1=5' }] });
  });

  it('gen list and gen diff of generations holding two revisions of one package', async () => {
    const repo = await Repo.init(join(tmpdir(), 'repo'));
    await mkpkg(repo, 'tool', { 'bin/tool': 'one', 'share/one': '1' });
    await mkpkg(repo, 'tool', { 'bin/tool': 'two', 'share/two': '2' });
    const one = { name: 'tool', revision: 1, priority: 0 };
    const two = { name: 'tool', revision: 2, priority: 0 };
    const g1 = await buildGeneration(repo, { specs: [one] });
    const g2 = await buildGeneration(repo, { specs: [one, two] });
    await buildGeneration(repo, { specs: [two] });
    const rows = await listGenerationRows(repo);
    expect(rows.map((r) => [r.added, r.removed, r.changed])).toEqual([
      [['tool-amd64-1.0-1'], [], []],
      [['tool-amd64-1.0-2'], [], []],
      [[], ['tool-amd64-1.0-1'], []],
    ]);
    const d = await diffGenerations(repo.store, g1.commit, g2.commit);
    expect(d.packages).toEqual({ added: ['tool-amd64-1.0-2'], removed: [], changed: [] });
    expect(d.files.map((c) => `${c.kind} ${c.path}`)).toEqual(['modified bin/tool', 'added share/two']);
    await repo.close();
  });
});

describe('CLI: gen build, list, diff, install, remove', () => {
  it('records numbered generations and derives new ones from the active one', async () => {
    const dir = tmpdir();
    const repoPath = join(dir, 'repo');
    const link = join(dir, 'ro');
    const cli = troveIn(repoPath);
    expect((await cli('init')).code).toBe(0);
    const repo = await Repo.open(repoPath);
    await mkpkg(repo, 'a', { 'bin/a': 'a', 'bin/shared': 'from a' });
    await mkpkg(repo, 'b', { 'bin/b': 'b', 'bin/shared': 'from b' });
    await mkpkg(repo, 'c', { 'bin/c': 'c' });
    await repo.close();

    const build = await cli('gen', 'build', 'b', 'a');
    expect(build.code).toBe(0);
    expect(build.stdout).toContain('generation 1 of system');
    expect(build.stdout).toContain('conflict bin/shared: a-amd64-1.0-1 wins over b-amd64-1.0-1');
    const again = await cli('gen', 'build', 'a', 'b');
    expect(again.stdout).toContain('nothing new');
    const file = readFileSync(join(repoPath, 'profiles', 'system', '1'), 'utf8');
    expect(file).toMatch(/^[0-9a-f]{64}\n$/);

    expect((await cli('switch', '1', '--link', link)).code).toBe(0);
    const inst = await cli('install', 'c', '--json', '--link', link);
    expect(inst.code).toBe(0);
    const installed = JSON.parse(inst.stdout) as { generation: number; packages: string[]; activated: { generation: number } };
    expect(installed.generation).toBe(2);
    expect(installed.packages).toEqual(['a-amd64-1.0-1', 'b-amd64-1.0-1', 'c-amd64-1.0-1']);
    expect(installed.activated.generation).toBe(2);
    expect(readFileSync(join(link, 'bin', 'c'), 'utf8')).toBe('c');

    const rm = await cli('remove', 'a', '--link', link);
    expect(rm.code).toBe(0);
    expect(rm.stdout).toContain('generation 3 of system');
    expect(readFileSync(join(link, 'bin', 'shared'), 'utf8')).toBe('from b');
    expect((await cli('remove', 'nosuch', '--link', link)).code).toBe(3);

    const list = JSON.parse((await cli('gen', 'list', '--json')).stdout) as { generation: number; commit: string; timestamp: number; added: string[]; removed: string[]; active: boolean }[];
    expect(list.map((g) => g.generation)).toEqual([1, 2, 3]);
    expect(list[1]!.added).toEqual(['c-amd64-1.0-1']);
    expect(list[2]!.removed).toEqual(['a-amd64-1.0-1']);
    expect(list.map((g) => g.active)).toEqual([false, false, true]);
    const text = (await cli('gen', 'list')).stdout;
    expect(text).toMatch(/\*\s+3 .*-a-amd64-1.0-1/);
    // One line per generation: mark, number, short commit, the commit's date (ISO, UTC), package count, changes.
    const lines = text.trimEnd().split('\n');
    expect(lines.length).toBe(3);
    for (const [i, g] of list.entries()) {
      const date = new Date(g.timestamp * 1000).toISOString();
      expect(Math.abs(g.timestamp - Date.now() / 1000)).toBeLessThan(600);
      expect(lines[i]).toBe(`${g.active ? '*' : ' '} ${String(g.generation).padStart(4)}  ${g.commit.slice(0, 12)}  ${date}  ${i === 1 ? 3 : 2} packages  ${[...g.added.map((p) => `+${p}`), ...g.removed.map((p) => `-${p}`)].join(' ')}`);
    }
    const nope = await cli('gen', 'list', '--profile', 'nope');
    expect(nope.code).toBe(3);
    expect(nope.stderr).toContain('profile nope has no generations (no such profile; profiles: system)');
    expect(nope.stdout).toBe('');
    expect((await cli('gen', 'list', '--profile', 'nope', '--json')).code).toBe(3);

    const diff = await cli('gen', 'diff', '1', '3');
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('+ c-amd64-1.0-1');
    expect(diff.stdout).toContain('- a-amd64-1.0-1');
    expect(diff.stdout).toContain('D bin/a');
    expect(diff.stdout).toContain('A bin/c');
    expect(diff.stdout).toContain('M bin/shared');
    expect(diff.stdout).not.toContain('a-amd64-1.0-1/');
    for (const missing of ['100000', '0']) {
      const r = await cli('gen', 'diff', '1', missing);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`profile system has no generation ${missing} (it has 1, 2, 3)`);
    }

    const r2 = await Repo.open(repoPath);
    expect((await listGenerations(r2, 'system')).map((g) => g.number)).toEqual([1, 2, 3]);
    await r2.close();
    expect((await cli('fsck')).code).toBe(0);
  });
});

describe('concurrent installs', () => {
  it('processes installing at once each derive from the one before: no package is dropped', async () => {
    const dir = tmpdir();
    const repoPath = join(dir, 'repo');
    const link = join(dir, 'ro');
    const repo = await Repo.init(repoPath);
    const files = (name: string) => Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`usr/share/${name}/d${i % 6}/f${i}`, `${name} ${i}`]));
    await mkpkg(repo, 'base', { 'bin/base': 'base', ...files('base') });
    const names = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
    for (const name of names) await mkpkg(repo, name, { [`bin/${name}`]: name, ...files(name) });
    await buildGeneration(repo, { specs: [{ name: 'base', priority: 0 }] });
    await repo.close();
    expect((await trove(['--repo', repoPath, 'switch', '1', '--link', link])).code).toBe(0);

    // Real processes (troveAll): concurrent installs contend for the repository's locks as separate processes do.
    const runs = await troveAll(names.map((name) => ['--repo', repoPath, 'install', name, '--json']));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const numbers = runs.map((r) => (JSON.parse(r.stdout) as { generation: number }).generation);
    expect(numbers.sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7]);

    const r2 = await Repo.open(repoPath);
    const gens = await listGenerations(r2, 'system');
    expect(gens.map((g) => g.number)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // Generation k holds base and k - 1 of the packages: each added one to the one before it.
    for (const [i, g] of gens.entries()) {
      const pkgs = (await readCommit(r2.store, g.commit)).generation!.packages.map((p) => p.name);
      expect(pkgs.length).toBe(i + 1);
      if (i > 0) {
        const prev = (await readCommit(r2.store, gens[i - 1]!.commit)).generation!.packages.map((p) => p.name);
        expect(pkgs).toEqual(expect.arrayContaining(prev));
      }
    }
    const newest = gens.at(-1)!;
    expect((await readCommit(r2.store, newest.commit)).generation!.packages.map((p) => p.name).sort()).toEqual(['base', ...names]);
    // The last activation is the newest generation, and the link shows it.
    expect((await readActive(r2, 'system'))?.commit).toBe(newest.commit);
    expect(readlinkSync(link)).toBe(join(repoPath, 'checkouts', newest.commit));
    for (const name of names) expect(readFileSync(join(link, 'bin', name), 'utf8')).toBe(name);
    await r2.close();
  });
});
