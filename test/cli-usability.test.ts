// Defects a new user hits on the first day, each run as the user would.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trove, TROVE_BIN, troveIn, troveOk } from './helpers/cli.js';
import { repoWithGenerations } from './helpers/fixtures.js';
import { ROOT, tmpdir } from './helpers/tmp.js';

describe('README: trove summary && trove serve', () => {
  it('serves the default repository (./repo) as written in the README', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const line = /^ {4}(trove summary && trove serve[^#\n]*?)\s*(#.*)?$/m.exec(readme)?.[1];
    expect(line).toBeDefined();
    expect(line).toContain('--port 8080');
    const dir = tmpdir('trove-readme-serve');
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'trove'), `#!/bin/sh\nexec "${process.execPath}" "${TROVE_BIN}" "$@"\n`);
    chmodSync(join(bin, 'trove'), 0o755);
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'hello'), 'hello\n');
    // The README's own layout: `trove init` in the working directory makes ./repo.
    expect((await trove(['init'], { cwd: dir })).code).toBe(0);
    expect((await trove(['commit', 'src', '--ref', 'os/main', '-m', 'one'], { cwd: dir })).code).toBe(0);
    // Any free port instead of 8080, so that the test never collides with a server.
    const child = spawn('bash', ['-c', line!.replace('--port 8080', '--port 0')], {
      cwd: dir,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, TROVE_REPO: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    try {
      let out = '';
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /serving \S+ at (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}${err}`)));
      });
      expect(out).toContain(`serving ${join(dir, 'repo')} at`);
      const summary = await fetch(new URL('summary', url.endsWith('/') ? url : `${url}/`));
      expect(summary.status).toBe(200);
      const ref = await fetch(new URL('refs/heads/os/main', url.endsWith('/') ? url : `${url}/`));
      expect(ref.status).toBe(200);
      expect((await ref.text()).trim()).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
    }
  });
});

describe('init inside the directory that is then committed', () => {
  it('leaves the repository out of the commit and says so', async () => {
    const dir = tmpdir('trove-init-here');
    writeFileSync(join(dir, 'a'), 'a\n');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'b'), 'b\n');
    expect((await trove(['init'], { cwd: dir })).code).toBe(0);
    const r = await trove(['commit', '.', '--ref', 'os/main', '-m', 'here'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('skipped repo (the repository itself, not committed into itself)\n');
    const ls = await troveOk(join(dir, 'repo'), 'ls', '-R', 'os/main', '--json');
    expect((JSON.parse(ls) as { path: string }[]).map((e) => e.path).sort()).toEqual(['a', 'sub', 'sub/b']);
    // Also when the repository is given by another spelling, and deeper down.
    const outer = tmpdir('trove-init-deep');
    mkdirSync(join(outer, 'x', 'y'), { recursive: true });
    writeFileSync(join(outer, 'x', 'f'), 'f\n');
    await troveOk(join(outer, 'x', 'y', 'store'), 'init');
    const deep = await trove(['--repo', `${outer}/x/../x/y/store`, 'commit', outer, '--ref', 'top']);
    expect(deep.code).toBe(0);
    expect(deep.stderr).toBe('skipped x/y/store (the repository itself, not committed into itself)\n');
    const json = JSON.parse(await troveOk(join(outer, 'x', 'y', 'store'), 'commit', outer, '--ref', 'top', '--json')) as { report: { skipped: unknown[] } };
    expect(json.report.skipped).toEqual([{ path: 'x/y/store', reason: 'the repository itself, not committed into itself' }]);
    // The repository itself as SOURCE is a usage error, and nothing is committed.
    const self = await trove(['commit', 'repo', '--ref', 'self'], { cwd: dir });
    expect(self.code).toBe(2);
    expect(self.stderr).toBe('trove: repo is the repository itself: commit the directory it holds, not the repository\n');
    expect(await troveOk(join(dir, 'repo'), 'refs')).not.toContain('self');
  });
});

describe('pkg list', () => {
  it('lines its columns up, however long the names and versions', async () => {
    const dir = tmpdir('trove-pkg-columns');
    const repo = join(dir, 'repo');
    await troveOk(repo, 'init');
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'f'), 'f\n');
    const pkgs = [
      ['a-package-name-longer-than-twenty-four-characters', 'amd64', '1.0'],
      ['z', 'all', '2:10.20.30-4+deb12u1'],
      ['mid', 'arm64', '3'],
    ];
    for (const [name, arch, version] of pkgs) await troveOk(repo, 'pkg', 'add', join(dir, 'src'), '--name', name!, '--arch', arch!, '--version', version!);
    const lines = (await troveOk(repo, 'pkg', 'list')).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const cols = lines.map((l) => l.split(/ {2,}/));
    for (const c of cols) expect(c).toEqual([expect.any(String), expect.any(String), expect.any(String), expect.stringMatching(/^[0-9a-f]{12}$/), 'local']);
    // Every column starts at the same place on every line.
    for (let i = 1; i < 5; i++) {
      const starts = lines.map((l, j) => l.indexOf(cols[j]![i]!, cols[j]![0]!.length));
      expect(new Set(starts).size, lines.join('\n')).toBe(1);
    }
    expect(cols.map((c) => c[0])).toEqual(['a-package-name-longer-than-twenty-four-characters', 'mid', 'z']);
    expect(cols.map((c) => c[2])).toEqual(['1.0-1', '3-1', '2:10.20.30-4+deb12u1-1']);
  });
});

describe('bisect', () => {
  it('names the first bad commit with its generation number and subject', async () => {
    const { dir, repo, commits } = await repoWithGenerations(5);
    await repo.close();
    const cli = troveIn(join(dir, 'repo'));
    const link = join(dir, 'ro');
    expect((await cli('bisect', 'start', '--good', '1', '--bad', '5', '--link', link)).code).toBe(0);
    const run = await cli('bisect', 'run', '--', 'sh', '-c', `test "$(cat ${link}/etc/id)" -lt 3`);
    expect(run.code, run.stderr).toBe(0);
    const subject = (await troveOk(join(dir, 'repo'), 'log', '-1', '--format', '%s', commits[2]!)).trim();
    expect(subject.length).toBeGreaterThan(0);
    expect(run.stdout).toContain(`first bad commit: ${commits[2]} (generation 3 of system) — ${subject}\n`);
    await cli('bisect', 'reset');
  });
});

describe('switch to a ref, then rollback', () => {
  it('returns to the commit switched from, generation or not', async () => {
    const { dir, repo, commits } = await repoWithGenerations(3);
    await repo.close();
    const cli = troveIn(join(dir, 'repo'));
    const link = join(dir, 'ro');
    const active = async () => JSON.parse((await cli('status', '--json')).stdout).active as { commit: string; generation: number | null };
    await troveOk(join(dir, 'repo'), 'switch', '2', '--link', link);
    // pkg/base/amd64 is generation 3's package: a commit that is no generation.
    const pkgTip = (await troveOk(join(dir, 'repo'), 'log', '-1', '--format', '%H', 'pkg/base/amd64')).trim();
    await troveOk(join(dir, 'repo'), 'switch', 'pkg/base/amd64');
    expect(await active()).toMatchObject({ commit: pkgTip, generation: null });
    expect(JSON.parse(readFileSync(join(dir, 'repo', 'profiles', 'system', 'active'), 'utf8')).before).toEqual({ commit: commits[1], generation: 2 });
    // Back to generation 2, the one switched from (not the newest, 3).
    const back = await cli('rollback');
    expect(back.code, back.stderr).toBe(0);
    expect(await active()).toMatchObject({ commit: commits[1], generation: 2 });
    expect(readFileSync(join(link, 'etc', 'id'), 'utf8')).toBe('2');
    // From one ref to another: rollback returns to the first.
    await troveOk(join(dir, 'repo'), 'switch', 'pkg/base/amd64');
    await troveOk(join(dir, 'repo'), 'commit', join(dir, 'src1'), '--ref', 'plain', '-m', 'plain');
    const plain = (await troveOk(join(dir, 'repo'), 'log', '-1', '--format', '%H', 'plain')).trim();
    await troveOk(join(dir, 'repo'), 'switch', 'plain');
    expect((await cli('rollback')).code).toBe(0);
    expect((await active()).commit).toBe(pkgTip);
    expect(plain).not.toBe(pkgTip);
    // From a generation, rollback is still the generation before it.
    await troveOk(join(dir, 'repo'), 'switch', '3');
    expect((await cli('rollback')).code).toBe(0);
    expect(await active()).toMatchObject({ generation: 2 });
  });
});
