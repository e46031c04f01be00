import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { getDebs } from './helpers/debs.js';
import { troveIn } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';

interface Show {
  generation: number;
  asked: string[];
  dependencies: string[];
  packages: { name: string; label: string; dependency: boolean }[];
}

/** A repository and a `pkg add` of a one-file package with the given relationship options. */
async function setup() {
  const dir = tmpdir();
  const repo = join(dir, 'repo');
  const cli = troveIn(repo);
  expect((await cli('init')).code).toBe(0);
  let n = 0;
  const add = async (name: string, version: string, ...opts: string[]) => {
    const src = join(dir, `src${n++}`);
    mkdirSync(join(src, 'usr', 'share', name), { recursive: true });
    writeFileSync(join(src, 'usr', 'share', name, 'version'), `${name} ${version}\n`);
    const r = await cli('pkg', 'add', src, '--name', name, '--arch', 'amd64', '--version', version, ...opts);
    expect(r.code, r.stderr).toBe(0);
  };
  const show = async (...args: string[]) => JSON.parse((await cli('gen', 'show', '--json', ...args)).stdout) as Show;
  return { dir, repo, cli, add, show };
}

describe('gen build and install resolve dependencies', () => {
  it('gen build adds the closure, marks what came in as a dependency, and --no-deps gives exactly the names', async () => {
    const { cli, add, show } = await setup();
    await add('app', '1.0', '--depends', 'libfoo (>= 2) | libbar, mta');
    await add('libfoo', '1.5');
    await add('libbar', '3', '--pre-depends', 'libc6 (>= 2.36)');
    await add('libc6', '2.36-9');
    await add('postfix', '3.7', '--provides', 'mta');
    await add('unrelated', '1');
    const b = await cli('gen', 'build', 'app', '--json');
    expect(b.code, b.stderr).toBe(0);
    const built = JSON.parse(b.stdout) as { packages: string[]; dependencies: string[] };
    // libfoo 1.5 does not satisfy (>= 2): the second alternative; mta through postfix's Provides.
    expect(built.packages).toEqual(['app-amd64-1.0-1', 'libbar-amd64-3-1', 'libc6-amd64-2.36-9-1', 'postfix-amd64-3.7-1']);
    expect(built.dependencies).toEqual(['libbar-amd64-3-1', 'libc6-amd64-2.36-9-1', 'postfix-amd64-3.7-1']);
    const g = await show();
    expect(g.asked).toEqual(['app-amd64-1.0-1']);
    expect(g.dependencies).toEqual(built.dependencies);
    expect(g.packages.map((p) => [p.name, p.dependency])).toEqual([
      ['app', false],
      ['libbar', true],
      ['libc6', true],
      ['postfix', true],
    ]);
    const text = (await cli('gen', 'show')).stdout;
    expect(text).toContain('packages 4: 1 asked for, 3 as dependencies; 0 conflicts');
    expect(text).toContain('  asked  app-amd64-1.0-1\n');
    expect(text).toContain('  dep    libbar-amd64-3-1\n');
    const list = JSON.parse((await cli('gen', 'list', '--json')).stdout) as { asked: string[]; dependencies: string[] }[];
    expect(list.map((r) => [r.asked, r.dependencies])).toEqual([[['app-amd64-1.0-1'], built.dependencies]]);

    const exact = await cli('gen', 'build', 'app', '--no-deps', '--json');
    expect(exact.code, exact.stderr).toBe(0);
    expect(JSON.parse(exact.stdout)).toMatchObject({ generation: 2, packages: ['app-amd64-1.0-1'], dependencies: [] });
    // Asking for a dependency by name makes it asked for: a new generation with the same packages.
    const both = JSON.parse((await cli('gen', 'build', 'app', 'libbar', '--json')).stdout) as { generation: number; dependencies: string[] };
    expect(both.generation).toBe(3);
    expect(both.dependencies).toEqual(['libc6-amd64-2.36-9-1', 'postfix-amd64-3.7-1']);
    expect((await show('1')).asked).toEqual(['app-amd64-1.0-1']);

    // A newer libfoo now satisfies the first alternative; but the profile's
    // newest generation has libbar, which satisfies the clause too: it stays.
    await add('libfoo', '2.1');
    const kept = JSON.parse((await cli('gen', 'build', 'app', '--json')).stdout) as { dependencies: string[] };
    expect(kept.dependencies).toEqual(['libbar-amd64-3-1', 'libc6-amd64-2.36-9-1', 'postfix-amd64-3.7-1']);
    const fresh = JSON.parse((await cli('gen', 'build', 'app', '--profile', 'fresh', '--json')).stdout) as { dependencies: string[] };
    expect(fresh.dependencies).toEqual(['libfoo-amd64-2.1-2', 'postfix-amd64-3.7-1']);
  });

  it('an unsatisfiable dependency fails with the chain that needs it, and records nothing', async () => {
    const { cli, add } = await setup();
    await add('gcc-12', '12.2.0-14', '--depends', 'cpp-12 (= 12.2.0-14), libc6');
    await add('cpp-12', '12.2.0-14', '--depends', 'libmpc3 (>= 1.1.0)');
    await add('libc6', '2.36-9');
    const r = await cli('gen', 'build', 'gcc-12');
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toBe('trove: gcc-12 -> cpp-12 -> libmpc3 (>= 1.1.0): no package provides libmpc3');
    expect(r.stdout).toBe('');
    expect((await cli('gen', 'list')).code).toBe(3);
    await add('libmpc3', '1.0.1-2');
    const old = await cli('gen', 'build', 'gcc-12');
    expect(old.stderr.trim()).toBe('trove: gcc-12 -> cpp-12 -> libmpc3 (>= 1.1.0): no version fits (versions of libmpc3: 1.0.1-2)');
    // --no-deps builds what was named, whatever its dependencies.
    expect((await cli('gen', 'build', 'gcc-12', '--no-deps')).code).toBe(0);
    const inst = await cli('install', 'gcc-12', '--no-switch');
    expect(inst.code).toBe(3);
    expect(inst.stderr).toContain('gcc-12 -> cpp-12 -> libmpc3 (>= 1.1.0)');
    expect((JSON.parse((await cli('gen', 'list', '--json')).stdout) as unknown[]).length).toBe(1);
  });

  it('install keeps installed dependencies that still satisfy; remove drops what nothing asked for needs', async () => {
    const { dir, cli, add, show } = await setup();
    const link = join(dir, 'ro');
    await add('editor', '1', '--depends', 'libui (>= 1), libcommon');
    await add('libui', '1.0');
    await add('libcommon', '1');
    expect((await cli('install', 'editor', '--link', link)).code).toBe(0);
    await add('libui', '1.1');
    await add('viewer', '1', '--depends', 'libui (>= 1), libview');
    await add('libview', '1', '--depends', 'libcommon');
    const inst = await cli('install', 'viewer', '--link', link, '--json');
    expect(inst.code, inst.stderr).toBe(0);
    const g = await show();
    expect(g.generation).toBe(2);
    // libui 1.0 (revision 1) stays: it still satisfies libui (>= 1).
    expect(g.asked).toEqual(['editor-amd64-1-1', 'viewer-amd64-1-1']);
    expect(g.dependencies).toEqual(['libcommon-amd64-1-1', 'libui-amd64-1.0-1', 'libview-amd64-1-1']);
    // Asking for it by name upgrades it and marks it asked for.
    await cli('install', 'libui', '--link', link);
    expect((await show()).asked).toEqual(['editor-amd64-1-1', 'libui-amd64-1.1-2', 'viewer-amd64-1-1']);

    const rm = await cli('remove', 'viewer', '--link', link);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).toContain('removed: viewer-amd64-1-1\n');
    // libview only viewer needed; libcommon editor needs too.
    expect(rm.stdout).toContain('no longer needed, removed: libview-amd64-1-1\n');
    expect((await show()).packages.map((p) => p.label)).toEqual(['editor-amd64-1-1', 'libcommon-amd64-1-1', 'libui-amd64-1.1-2']);
    const rm2 = JSON.parse((await cli('remove', 'editor', '--link', link, '--json')).stdout) as { removed: string[]; autoremoved: string[]; packages: string[] };
    expect(rm2.removed).toEqual(['editor-amd64-1-1']);
    expect(rm2.autoremoved).toEqual(['libcommon-amd64-1-1']);
    // libui was asked for: it stays.
    expect(rm2.packages).toEqual(['libui-amd64-1.1-2']);
  });

  it('remove --no-deps keeps dependencies nothing needs', async () => {
    const { dir, cli, add, show } = await setup();
    const link = join(dir, 'ro');
    await add('tool', '1', '--depends', 'libtool1');
    await add('libtool1', '1');
    expect((await cli('install', 'tool', '--link', link)).code).toBe(0);
    const rm = await cli('remove', 'tool', '--no-deps', '--link', link);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).not.toContain('no longer needed');
    expect((await show()).dependencies).toEqual(['libtool1-amd64-1-1']);
  });

  it('pkg add: relationship options are checked and stored canonically', async () => {
    const { cli, add } = await setup();
    await add('app', '1', '--depends', 'libc6 (>=2.36) , liba:any|libb (<< 3)', '--provides', 'virt (= 2), other', '--multi-arch', 'foreign');
    const p = JSON.parse((await cli('pkg', 'show', 'app', '--json')).stdout) as { info: Record<string, unknown> };
    expect(p.info).toMatchObject({ depends: ['liba:any | libb (<< 3)', 'libc6 (>= 2.36)'], preDepends: [], provides: ['other', 'virt (= 2)'], multiArch: 'foreign' });
    const shown = (await cli('pkg', 'show', 'app')).stdout;
    expect(shown).toContain('depends  liba:any | libb (<< 3), libc6 (>= 2.36)');
    expect(shown).toContain('provides other, virt (= 2)');
    for (const bad of [['--depends', 'libc6 (>= )'], ['--depends', 'Bad_Name'], ['--provides', 'virt (>= 2)'], ['--multi-arch', 'maybe']]) {
      const r = await cli('pkg', 'add', '.', '--name', 'x2', '--arch', 'amd64', '--version', '1', ...bad);
      expect(r.code, bad.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^trove: /);
    }
    expect((await cli('pkg', 'list', '--json')).stdout).not.toContain('x2');
  });
});

describe('real Debian packages', () => {
  let hello: string;
  let libc6: string;
  beforeAll(() => {
    [hello, libc6] = getDebs(['hello', 'libc6']) as [string, string];
  });

  it('gen build of a real .deb pulls in its dependencies from their control fields', async () => {
    const { cli, add } = await setup();
    for (const d of [hello, libc6]) expect((await cli('pkg', 'add', d)).code).toBe(0);
    const libcVersion = execFileSync('dpkg-deb', ['-f', libc6, 'Version'], { encoding: 'utf8' }).trim();
    // libc6 depends on libgcc-s1, which is not there yet.
    const missing = await cli('gen', 'build', 'hello');
    expect(missing.code).toBe(3);
    expect(missing.stderr.trim()).toBe('trove: hello -> libc6 -> libgcc-s1: no package provides libgcc-s1');
    await add('libgcc-s1', '12.2.0-14', '--multi-arch', 'same');
    const b = await cli('gen', 'build', 'hello', '--json');
    expect(b.code, b.stderr).toBe(0);
    const built = JSON.parse(b.stdout) as { packages: string[]; dependencies: string[] };
    expect(built.packages.map((p) => p.replace(/-amd64-.*/, ''))).toEqual(['hello', 'libc6', 'libgcc-s1']);
    expect(built.dependencies).toEqual([`libc6-amd64-${libcVersion}-1`, 'libgcc-s1-amd64-12.2.0-14-1']);
  });

  it('a .deb with a malformed relationship field is refused as a bad archive', async () => {
    const { dir, cli } = await setup();
    const root = join(dir, 'bad');
    mkdirSync(join(root, 'control'), { recursive: true });
    mkdirSync(join(root, 'data', 'usr', 'share', 'bad'), { recursive: true });
    writeFileSync(join(root, 'data', 'usr', 'share', 'bad', 'f'), 'x\n');
    writeFileSync(join(root, 'control', 'control'), 'Package: badpkg\nVersion: 1.0\nArchitecture: amd64\nMaintainer: x <x@example.org>\nDescription: x\nDepends: libc6 (>= 2.36), libfoo (>= not-a-version)\n');
    writeFileSync(join(root, 'debian-binary'), '2.0\n');
    execFileSync('tar', ['-C', join(root, 'control'), '-czf', join(root, 'control.tar.gz'), './control']);
    execFileSync('tar', ['-C', join(root, 'data'), '-czf', join(root, 'data.tar.gz'), '.']);
    const deb = join(dir, 'bad.deb');
    execFileSync('ar', ['rc', deb, 'debian-binary', 'control.tar.gz', 'data.tar.gz'], { cwd: root });
    const r = await cli('pkg', 'add', deb);
    expect(r.code).toBe(6);
    expect(r.stderr.trim()).toBe(`trove: ${deb}: bad control file: Depends: invalid version "not-a-version" for libfoo: version number does not start with digit`);
    expect((await cli('pkg', 'list', '--json')).stdout.trim()).toBe('[]');
  });
});
