import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TroveError } from '../src/util/errors.js';
import { readCommit, readTree } from '../src/repo/objects.js';
import { addPackage, canonicalClauses, canonicalMultiArch, canonicalProvides } from '../src/system/packages/add.js';
import { listPackages, packageHistory } from '../src/system/packages/list.js';
import { parsePackageSpec } from '../src/system/packages/spec.js';
import { Repo } from '../src/repo/repo.js';
import { getDebs } from './helpers/debs.js';
import { trove, troveAll } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';


const countObjects = async (repo: Repo) => {
  let n = 0;
  for await (const _ of repo.store.list()) n++;
  return n;
};

function dpkgField(deb: string, field: string): string {
  return execFileSync('dpkg-deb', ['-f', deb, field], { encoding: 'utf8' }).trim();
}

describe('trove pkg', () => {
  let bc: string;
  let tzdata: string;
  beforeAll(() => {
    [bc, tzdata] = getDebs(['bc', 'tzdata']) as [string, string];
  });

  it('fills name, arch, version and dependencies from a .deb control file', async () => {
    const repo = await Repo.init(join(tmpdir(), 'repo'));
    const r = await addPackage(repo, bc);
    expect(r.info.name).toBe('bc');
    expect(r.info.arch).toBe(dpkgField(bc, 'Architecture'));
    expect(r.info.version).toBe(dpkgField(bc, 'Version'));
    expect(r.info.revision).toBe(1);
    // Depends as the .deb says it, each clause canonical: versions kept.
    const depends = dpkgField(bc, 'Depends').split(',').map((d) => d.trim().replace(/\(\s*(\S+)\s*(\S+)\s*\)/, '($1 $2)'));
    expect(r.info.depends).toEqual([...new Set(depends)].sort());
    expect(r.info.depends.some((d) => /^libc6 \(>= [0-9.]+\)$/.test(d))).toBe(true);
    expect(r.info.preDepends).toEqual([]);
    expect(r.info.multiArch).toBe(dpkgField(bc, 'Multi-Arch'));
    expect(r.ref).toBe(`pkg/bc/${r.info.arch}`);
    const c = await readCommit(repo.store, r.commit);
    expect(c.package).toEqual(r.info);
    const top = (await readTree(repo.store, c.tree)).entries.map((e) => e.name);
    expect(top).toContain('usr');
    // The package's files are its data archive: usr/bin/bc is there.
    const usr = (await readTree(repo.store, (await readTree(repo.store, c.tree)).entries.find((e) => e.name === 'usr')!.id!)).entries;
    const bin = await readTree(repo.store, usr.find((e) => e.name === 'bin')!.id!);
    expect(bin.entries.map((e) => e.name)).toContain('bc');
    await repo.close();
  });

  it('stores Pre-Depends, Depends, versioned Provides and Multi-Arch as the .deb says them', async () => {
    const [bash, perl] = getDebs(['bash', 'perl-base']) as [string, string];
    const repo = await Repo.init(join(tmpdir(), 'repo'));
    // dpkg-deb's text, split into clauses, spaced the canonical way.
    const field = (deb: string, name: string) =>
      [...new Set(dpkgField(deb, name).split(',').map((d) => d.trim().replace(/\s+/g, ' ').replace(/\(\s*([<>=]+)\s*/g, '($1 ')).filter((d) => d !== ''))].sort();
    for (const deb of [bash, perl]) {
      const r = await addPackage(repo, deb);
      expect(r.info.depends, deb).toEqual(field(deb, 'Depends'));
      expect(r.info.preDepends, deb).toEqual(field(deb, 'Pre-Depends'));
      expect(r.info.provides, deb).toEqual(field(deb, 'Provides'));
      // `no` is the same as no field: stored empty.
      expect(r.info.multiArch, deb).toBe(dpkgField(deb, 'Multi-Arch').replace(/^no$/, ''));
      expect((await readCommit(repo.store, r.commit)).package).toEqual(r.info);
    }
    const p = (await packageHistory(repo, 'perl-base'))[0]!.info;
    expect(p.preDepends.some((d) => /^libc6 \(>= [0-9.]+\)$/.test(d))).toBe(true);
    expect(p.provides.some((d) => /^libscalar-list-utils-perl \(= 1:[0-9.]+\)$/.test(d))).toBe(true);
    expect(p.multiArch).toBe('');
    const b = (await packageHistory(repo, 'bash'))[0]!.info;
    expect(b.preDepends.length).toBeGreaterThan(0);
    expect(b.multiArch).toBe('foreign');
    await repo.close();
  });

  it('re-adding identical content writes no objects and makes no new revision', async () => {
    const repo = await Repo.init(join(tmpdir(), 'repo'));
    const first = await addPackage(repo, tzdata);
    const before = await countObjects(repo);
    const again = await addPackage(repo, tzdata);
    expect(again.unchanged).toBe(true);
    expect(again.commit).toBe(first.commit);
    expect(again.written.objects).toBe(0);
    expect(await countObjects(repo)).toBe(before);
    expect((await packageHistory(repo, 'tzdata')).length).toBe(1);
    // An explicit higher revision of the same content is a deliberate rebuild: a new commit.
    const bumped = await addPackage(repo, tzdata, { revision: 5 });
    expect(bumped.unchanged).toBe(false);
    expect(bumped.info.revision).toBe(5);
    expect(bumped.tree).toBe(first.tree);
    expect(await countObjects(repo)).toBe(before + 1);
    await repo.close();
  });

  it('revisions are monotonic: default previous + 1, a lower or equal explicit one is refused', async () => {
    const dir = tmpdir();
    const repo = await Repo.init(join(dir, 'repo'));
    const src = join(dir, 'src');
    mkdirSync(join(src, 'bin'), { recursive: true });
    const add = (content: string, revision?: number) => {
      writeFileSync(join(src, 'bin', 'tool'), content);
      return addPackage(repo, src, { name: 'tool', arch: 'amd64', version: '1.0', revision });
    };
    expect((await add('one')).info.revision).toBe(1);
    expect((await add('two')).info.revision).toBe(2);
    expect((await add('three', 7)).info.revision).toBe(7);
    for (const rev of [7, 3]) {
      const err = await add(`four ${rev}`, rev).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TroveError);
      expect((err as TroveError).code).toBe('E_EXISTS');
    }
    expect((await add('five')).info.revision).toBe(8);
    const history = await packageHistory(repo, 'tool', 'amd64');
    expect(history.map((h) => h.info.revision)).toEqual([8, 7, 2, 1]);
    await repo.close();
  });

  it('concurrent pkg add processes of one package get distinct revisions on one first-parent chain', async () => {
    const dir = tmpdir();
    const repoPath = join(dir, 'repo');
    expect((await trove(['--repo', repoPath, 'init'])).code).toBe(0);
    const n = 6;
    const sources = Array.from({ length: n }, (_, i) => {
      // Enough files that the imports overlap: the tip must be read after the import, under the ref lock.
      const src = join(dir, `src${i}`);
      for (let f = 0; f < 400; f++) {
        mkdirSync(join(src, 'share', `d${f % 8}`), { recursive: true });
        writeFileSync(join(src, 'share', `d${f % 8}`, `f${f}`), `source ${i} file ${f}\n`);
      }
      return src;
    });
    // Real processes (troveAll): concurrent imports contend for the ref lock as separate processes do.
    const runs = await troveAll(sources.map((src, i) => ['--repo', repoPath, 'pkg', 'add', src, '--name', 'tool', '--arch', 'amd64', '--version', `1.${i}`, '--json']));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const added = runs.map((r) => JSON.parse(r.stdout) as { commit: string; unchanged: boolean; info: { revision: number } });
    expect(added.every((a) => !a.unchanged)).toBe(true);
    expect(added.map((a) => a.info.revision).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    const repo = await Repo.open(repoPath);
    const history = await packageHistory(repo, 'tool', 'amd64');
    // Nothing lost: every commit is on the ref's history, each the parent of the next revision.
    expect(history.map((h) => h.info.revision)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(new Set(history.map((h) => h.commit))).toEqual(new Set(added.map((a) => a.commit)));
    await repo.close();
  });

  it('concurrent adds in one process queue for the ref lock (more of them than libuv has threads)', async () => {
    const dir = tmpdir();
    const repo = await Repo.init(join(dir, 'repo'));
    const adds = Array.from({ length: 8 }, (_, i) => {
      const src = join(dir, `src${i}`);
      mkdirSync(join(src, 'bin'), { recursive: true });
      writeFileSync(join(src, 'bin', 'tool'), `tool ${i}`);
      return addPackage(repo, src, { name: 'tool', arch: 'amd64', version: `1.${i}` });
    });
    const results = await Promise.all(adds);
    expect(results.map((r) => r.info.revision).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await packageHistory(repo, 'tool', 'amd64')).map((h) => h.info.revision)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    await repo.close();
  });

  it('a ref write with an expected value is a compare-and-swap', async () => {
    const repo = await Repo.init(join(tmpdir(), 'repo'));
    const a = (await repo.store.put(Buffer.from('a'))).id;
    const b = (await repo.store.put(Buffer.from('b'))).id;
    await repo.refs.update('x', a, { expected: null });
    const stale = await repo.refs.update('x', b, { expected: null }).catch((e: unknown) => e);
    expect((stale as TroveError).code).toBe('E_LOCKED');
    expect(await repo.refs.read('x')).toBe(a);
    await repo.refs.update('x', b, { expected: a });
    expect(await repo.refs.read('x')).toBe(b);
    await repo.close();
  });

  it('a directory needs --name, --arch and --version', async () => {
    const dir = tmpdir();
    const repo = await Repo.init(join(dir, 'repo'));
    mkdirSync(join(dir, 'src'));
    const err = await addPackage(repo, join(dir, 'src'), { name: 'x', arch: 'amd64' }).catch((e: unknown) => e);
    expect((err as TroveError).code).toBe('E_USAGE');
    await repo.close();
  });

  it('CLI: pkg add, list and show', async () => {
    const dir = tmpdir();
    const repo = join(dir, 'repo');
    expect((await trove(['--repo', repo, 'init'])).code).toBe(0);
    const add = await trove(['--repo', repo, 'pkg', 'add', bc, '--json']);
    expect(add.code).toBe(0);
    expect(JSON.parse(add.stdout).info.name).toBe('bc');
    mkdirSync(join(dir, 'src', 'bin'), { recursive: true });
    writeFileSync(join(dir, 'src', 'bin', 'x'), 'x');
    const own = await trove(['--repo', repo, 'pkg', 'add', join(dir, 'src'), '--name', 'mytool', '--arch', 'all', '--version', '0.1', '--depends', 'bc, libc6']);
    expect(own.code).toBe(0);
    expect(own.stdout).toContain('pkg/mytool/all');
    const lower = await trove(['--repo', repo, 'pkg', 'add', join(dir, 'src'), '--name', 'mytool', '--arch', 'all', '--version', '0.2', '--revision', '1']);
    expect(lower.code).toBe(4);
    const list = JSON.parse((await trove(['--repo', repo, 'pkg', 'list', '--json'])).stdout) as { info: { name: string; depends: string[] } }[];
    expect(list.map((p) => p.info.name)).toEqual(['bc', 'mytool']);
    expect(list[1]!.info.depends).toEqual(['bc', 'libc6']);
    const show = await trove(['--repo', repo, 'pkg', 'show', 'mytool']);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/revision 1/);
    expect((await trove(['--repo', repo, 'pkg', 'show', 'nosuch'])).code).toBe(3);
  });

  it('lists packages from their refs', async () => {
    const repo = await Repo.init(join(tmpdir(), 'repo'));
    await addPackage(repo, tzdata);
    await addPackage(repo, bc);
    expect((await listPackages(repo)).map((p) => p.ref)).toEqual([`pkg/bc/${dpkgField(bc, 'Architecture')}`, 'pkg/tzdata/all']);
    await repo.close();
  });
});

describe('package fields', () => {
  it('keeps Debian relationship fields whole, in canonical form', () => {
    expect(canonicalClauses('libc6 (>= 2.34), libfoo1:any | libbar2 (<< 3) [amd64], libc6 (>=2.30), libc6 (>= 2.34)', 'Depends')).toEqual([
      'libc6 (>= 2.30)',
      'libc6 (>= 2.34)',
      'libfoo1:any | libbar2 (<< 3)',
    ]);
    expect(canonicalClauses(undefined, 'Depends')).toEqual([]);
    expect(canonicalProvides('mail-transport-agent, awk (= 1.3.4)')).toEqual(['awk (= 1.3.4)', 'mail-transport-agent']);
    expect(() => canonicalProvides('awk (>= 1)')).toThrow(TroveError);
    expect(canonicalMultiArch('no')).toBe('');
    expect(canonicalMultiArch('foreign')).toBe('foreign');
    expect(() => canonicalMultiArch('sometimes')).toThrow(TroveError);
  });

  it('parses NAME[/ARCH][@REVISION][=PRIORITY]', () => {
    expect(parsePackageSpec('bash')).toEqual({ name: 'bash', priority: 0 });
    expect(parsePackageSpec('bash/amd64@3=-2')).toEqual({ name: 'bash', arch: 'amd64', revision: 3, priority: -2 });
    expect(() => parsePackageSpec('bash//x')).toThrow(TroveError);
    expect(() => parsePackageSpec('a b')).toThrow(TroveError);
  });
});
