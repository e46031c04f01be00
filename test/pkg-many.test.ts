// `trove pkg add` of several .deb files (and directories of them) in one
// process: every package as a single add would commit it, all or nothing.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCommit } from '../src/repo/objects.js';
import { Repo } from '../src/repo/repo.js';
import { addPackage, addPackages } from '../src/system/packages/add.js';
import { listPackages } from '../src/system/packages/list.js';
import { getDebs } from './helpers/debs.js';
import { troveIn } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';

/** Object files in the repository (objects/xx/...). */
function objectFiles(repo: string): number {
  const dir = join(repo, 'objects');
  let n = 0;
  for (const fan of readdirSync(dir)) if (/^[0-9a-f]{2}$/.test(fan)) n += readdirSync(join(dir, fan)).length;
  return n;
}

const NAMES = ['bc', 'hello', 'figlet', 'tzdata', 'libacl1', 'libattr1'];

describe('trove pkg add with several sources', () => {
  let debs: string[];
  beforeAll(() => {
    debs = getDebs(NAMES);
  });

  async function newRepo() {
    const path = join(tmpdir(), 'repo');
    await Repo.init(path);
    return { path, t: troveIn(path) };
  }

  it('adds several .debs in one call, each as a single add would', async () => {
    const { path, t } = await newRepo();
    const r = await t('pkg', 'add', ...debs);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(debs.length + 1);
    for (const [i, name] of NAMES.entries()) expect(lines[i]).toMatch(new RegExp(`^pkg/${name}/\\S+ -> [0-9a-f]{64} \\(${name}-`));
    expect(lines.at(-1)).toMatch(new RegExp(`^${debs.length} packages: ${debs.length} new revisions, 0 unchanged; \\d+ files; wrote \\d+ new objects`));

    // The same trees, metadata and revisions as one addPackage per .deb in another repository.
    const repo = await Repo.open(path);
    const single = await Repo.init(join(tmpdir(), 'single'));
    try {
      const listed = await listPackages(repo);
      expect(listed.map((p) => p.info.name).sort()).toEqual([...NAMES].sort());
      for (const deb of debs) {
        const one = await addPackage(single, deb);
        const mine = listed.find((p) => p.ref === one.ref)!;
        expect(mine.info).toEqual(one.info);
        const c = await readCommit(repo.store, mine.commit);
        expect(c.tree).toBe(one.tree);
        expect(c.root).toEqual((await readCommit(single.store, one.commit)).root);
        expect(c.parents).toEqual([]);
      }
    } finally {
      await repo.close();
      await single.close();
    }

    // Again: nothing new, no object written.
    const before = objectFiles(path);
    const again = await t('pkg', 'add', ...debs);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`${debs.length} packages: 0 new revisions, ${debs.length} unchanged; `);
    expect(again.stdout).toMatch(/wrote 0 new objects/);
    expect(objectFiles(path)).toBe(before);
  });

  it('a directory of .debs stands for its .debs; --json prints an array', async () => {
    const { path, t } = await newRepo();
    const dir = join(tmpdir(), 'debs');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    for (const d of debs.slice(0, 3)) copyFileSync(d, join(dir, basename(d)));
    // A symlink to a .deb counts; subdirectories and other files do not.
    symlinkSync(debs[3]!, join(dir, basename(debs[3]!)));
    copyFileSync(debs[4]!, join(dir, 'sub', basename(debs[4]!)));
    writeFileSync(join(dir, 'README'), 'not a package\n');
    const r = await t('pkg', 'add', '--json', dir, debs[5]!);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { source: string; ref: string; unchanged: boolean; info: { name: string; revision: number }; written: { objects: number } }[];
    expect(Array.isArray(out)).toBe(true);
    // In order: the directory's .debs sorted by file name, then the next argument.
    const expected = [...debs.slice(0, 4).map((d) => join(dir, basename(d)))].sort();
    expect(out.map((p) => p.source)).toEqual([...expected, debs[5]!]);
    expect(out.map((p) => p.info.name)).toEqual([...NAMES.slice(0, 4)].sort().concat(NAMES[5]!));
    for (const p of out) {
      expect(p.unchanged).toBe(false);
      expect(p.info.revision).toBe(1);
      expect(p.written.objects).toBeGreaterThan(0);
    }
    const repo = await Repo.open(path);
    try {
      expect((await listPackages(repo)).map((p) => p.info.name).sort()).toEqual(out.map((p) => p.info.name).sort());
    } finally {
      await repo.close();
    }
  });

  it('one .deb given twice: the second is committed on top of the first (here: unchanged)', async () => {
    const { path } = await newRepo();
    const repo = await Repo.open(path);
    try {
      const r = await addPackages(repo, [debs[0]!, debs[1]!, debs[0]!], { jobs: 3 });
      expect(r.packages.map((p) => p.unchanged)).toEqual([false, false, true]);
      expect(r.packages[2]!.commit).toBe(r.packages[0]!.commit);
      expect(r.packages[2]!.info.revision).toBe(1);
      // Objects written once for the shared transaction.
      expect(r.written.objects).toBe(objectFiles(path));
    } finally {
      await repo.close();
    }
  });

  it('a corrupt .deb among good ones: nothing is added, and the error names the file', async () => {
    const { path, t } = await newRepo();
    const dir = join(tmpdir(), 'bad');
    mkdirSync(dir);
    // Bytes overwritten in the middle of the data archive: the ar structure and control file are intact,
    // so the other imports run and this one fails while decompressing.
    const damaged = join(dir, 'damaged.deb');
    const bytes = readFileSync(debs[3]!);
    bytes.fill(0x55, Math.floor(bytes.length * 0.5), Math.floor(bytes.length * 0.5) + 4096);
    writeFileSync(damaged, bytes);
    const r = await t('pkg', 'add', ...debs.slice(0, 3), damaged, ...debs.slice(4));
    expect(r.code).toBe(6);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(damaged);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(objectFiles(path)).toBe(0);
    expect(readdirSync(join(path, 'refs', 'heads'))).toEqual([]);
    // No transaction left behind.
    expect(readdirSync(join(path, 'tmp')).filter((f) => f.startsWith('txn'))).toEqual([]);

    // A truncated one is refused before anything is imported.
    const truncated = join(dir, 'truncated.deb');
    copyFileSync(debs[0]!, truncated);
    truncateSync(truncated, Math.floor(statSync(truncated).size * 0.7));
    const r2 = await t('pkg', 'add', debs[1]!, truncated);
    expect(r2.code).toBe(6);
    expect(r2.stderr).toContain(truncated);
    expect(objectFiles(path)).toBe(0);

    // Not a .deb at all among several: a usage error naming it.
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'hello\n');
    const r3 = await t('pkg', 'add', debs[1]!, text);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain(`${text} is not a .deb`);
    const r4 = await t('pkg', 'add', debs[1]!, join(dir, 'missing.deb'));
    expect(r4.code).toBe(3);
    expect(r4.stderr).toContain(join(dir, 'missing.deb'));
    expect(objectFiles(path)).toBe(0);
  });

  it('options of one package are refused with several sources or a directory of .debs', async () => {
    const { path, t } = await newRepo();
    const dir = join(tmpdir(), 'debs');
    mkdirSync(dir);
    copyFileSync(debs[0]!, join(dir, basename(debs[0]!)));
    for (const opt of [['--name', 'x'], ['--arch', 'amd64'], ['--version', '1'], ['--revision', '5'], ['--depends', 'a']]) {
      const r = await t('pkg', 'add', ...opt, debs[0]!, debs[1]!);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${opt[0]} applies to one package, but several sources are given`);
    }
    const r = await t('pkg', 'add', '--version', '9', dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--version applies to one package, but ${dir} is a directory of .deb files`);
    expect(objectFiles(path)).toBe(0);

    // A directory without .debs is still one package's tree, and takes the options.
    const tree = join(tmpdir(), 'tree');
    mkdirSync(join(tree, 'bin'), { recursive: true });
    writeFileSync(join(tree, 'bin', 'tool'), '#!/bin/sh\n');
    const one = await t('pkg', 'add', '--name', 'tool', '--arch', 'all', '--version', '1.0', '--json', tree);
    expect(one.code).toBe(0);
    const res = JSON.parse(one.stdout) as { ref: string; kind: string };
    expect(res).toMatchObject({ ref: 'pkg/tool/all', kind: 'dir' });
  });
});
