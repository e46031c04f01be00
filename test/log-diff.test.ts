import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { trove } from './helpers/cli.js';
import { repoWithGenerations } from './helpers/fixtures.js';
import { sh, tmpdir } from './helpers/tmp.js';

/** log, show and diff as a git user expects them: see docs/cli.md. */

let root: string;
let repo: string;
let src: string;
const c: string[] = [];

const run = (...args: string[]) => trove(['--repo', repo, ...args]);
async function ok(...args: string[]): Promise<string> {
  const r = await run(...args);
  expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
  return r.stdout;
}
async function commit(subject: string, ref = 'os/main'): Promise<string> {
  const id = (JSON.parse(await ok('commit', src, '-r', ref, '-m', subject, '--json')) as { commit: string }).commit;
  c.push(id);
  return id;
}

beforeAll(async () => {
  root = tmpdir('trove-log-diff');
  repo = join(root, 'repo');
  src = join(root, 'src');
  await ok('init');
  mkdirSync(join(src, 'usr', 'bin'), { recursive: true });
  mkdirSync(join(src, 'etc'), { recursive: true });
  writeFileSync(join(src, 'etc', 'motd'), 'line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\n');
  writeFileSync(join(src, 'usr', 'bin', 'x'), '#!/bin/sh\necho x\n');
  chmodSync(join(src, 'usr', 'bin', 'x'), 0o644);
  writeFileSync(join(src, 'usr', 'bin', 'blob'), Buffer.from([0, 1, 2, 3, 255]));
  await commit('first'); // c[0]
  // Text edit, binary edit, a new file, a removed file.
  writeFileSync(join(src, 'etc', 'motd'), 'line 1\nline 2\nline 3\nline four\nline 5\nline 6\nline 7\nline 8\n');
  writeFileSync(join(src, 'usr', 'bin', 'blob'), Buffer.from([0, 1, 2, 4, 255]));
  writeFileSync(join(src, 'etc', 'new'), 'new\n');
  await commit('second'); // c[1]
  // A mode-only change.
  chmodSync(join(src, 'usr', 'bin', 'x'), 0o755);
  rmSync(join(src, 'etc', 'new'));
  await commit('third'); // c[2]
});

describe('log', () => {
  it('-1 REV, -n N, --oneline, --format and a default revision', async () => {
    expect(await ok('log', '-1', 'os/main', '--oneline')).toBe(`${c[2]!.slice(0, 12)} third\n`);
    expect(await ok('log', 'os/main', '-2', '--oneline')).toBe(`${c[2]!.slice(0, 12)} third\n${c[1]!.slice(0, 12)} second\n`);
    expect(await ok('log', '-n', '1', '--format', '%H|%h|%s|%P|%%|%t', 'os/main~1')).toBe(`${c[1]}|${c[1]!.slice(0, 12)}|second|${c[0]}|%|${(JSON.parse(await ok('show', '--json', c[1]!)) as { tree: string }).tree.slice(0, 12)}\n`);
    expect(await ok('log', '--format', 'x%ny %s')).toBe('x\ny third\nx\ny second\nx\ny first\n');
    // The only ref is the default.
    expect(await ok('log', '--oneline')).toBe(await ok('log', '--oneline', 'os/main'));
    const bad = await run('log', '--format', '%Q', 'os/main');
    expect({ code: bad.code, stderr: bad.stderr }).toEqual({
      code: 2,
      stderr: 'trove: --format: unknown placeholder at "%Q" (known: %H %h %T %t %P %p %s %b %ad %at %n %% %(package) %(profile))\n',
    });
    const two = await run('log', 'os/main', 'main');
    expect({ code: two.code, stderr: two.stderr }).toEqual({ code: 2, stderr: 'trove: log takes one revision, got 2: os/main main\n' });
    const neg = await run('log', '-x', 'os/main');
    expect({ code: neg.code, stderr: neg.stderr }).toEqual({ code: 2, stderr: "trove: unknown option '-x'\n" });
  });
});

describe('show', () => {
  it('lists what a commit changed against its first parent; --stat, --name-status; a root commit against an empty tree', async () => {
    const text = await ok('show', 'os/main~1');
    expect(text).toContain('\n    second\n\n');
    expect(text.split('\n').filter((l) => /^[ADM] /.test(l))).toEqual(['M etc/motd', 'A etc/new', 'M usr/bin/blob']);
    expect(text).toMatch(new RegExp(`\n1 added, 0 removed, 2 modified against the first parent ${c[0]!.slice(0, 12)}; \\+\\d+ B -\\d+ B\n$`));
    const ns = await ok('show', '--name-status', 'os/main');
    expect(ns.endsWith('\n    third\n\nD etc/new\nM 0644 -> 0755 usr/bin/x\n')).toBe(true);
    const patch = await ok('show', '-p', 'os/main');
    expect(patch.endsWith('\n    third\n\ndiff --git a/etc/new b/etc/new\ndeleted file mode 100644\n--- a/etc/new\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-new\ndiff --git a/usr/bin/x b/usr/bin/x\nold mode 100644\nnew mode 100755\n')).toBe(true);
    const st = await ok('show', '--stat', 'os/main');
    expect(st).not.toMatch(/^[ADM] /m);
    expect(st).toContain('0 added, 1 removed, 1 modified against the first parent');
    const rootShow = JSON.parse(await ok('show', '--json', c[0]!)) as { changes: { kind: string; path: string }[]; stat: { added: number } };
    expect(rootShow.changes.map((x) => `${x.kind} ${x.path}`)).toEqual(['added etc', 'added etc/motd', 'added usr', 'added usr/bin', 'added usr/bin/blob', 'added usr/bin/x']);
    expect(rootShow.stat.added).toBe(6);
  });

  it('a generation lists its packages in text mode', async () => {
    const { dir, repo: r, commits } = await repoWithGenerations(2);
    await r.close();
    const out = (await trove(['show', '2', '--repo', join(dir, 'repo')])).stdout;
    expect(out).toContain('generation of profile system: 1 packages, 0 conflicts\n');
    expect(out).toMatch(/\n {2}base\/amd64 2\.0 r\d+ [0-9a-f]{12}\n/);
    // Generation numbers wherever a revision is taken.
    const d = await trove(['diff', '--repo', join(dir, 'repo'), '1', '2', '--', 'etc']);
    expect(d.stdout).toBe('M etc/id\n0 added, 0 removed, 1 modified; +0 B -0 B\n');
    const ls = await trove(['ls', '1:etc', '--repo', join(dir, 'repo')]);
    expect(ls.stdout).toMatch(/^- 0644 +0 +0 +1 id\n$/);
    expect((await trove(['cat', '2:etc/id', '--repo', join(dir, 'repo')])).stdout).toBe('2');
    expect((JSON.parse((await trove(['show', '--json', '2', '--repo', join(dir, 'repo')])).stdout) as { commit: string }).commit).toBe(commits[1]);
  });
});

describe('diff', () => {
  it('a mode-only change shows both modes, in text and JSON (octal strings)', async () => {
    expect(await ok('diff', 'os/main~1', 'os/main')).toBe('D etc/new\nM 0644 -> 0755 usr/bin/x\n0 added, 1 removed, 1 modified; +0 B -4 B\n');
    const j = JSON.parse(await ok('diff', '--json', 'os/main~1', 'os/main')) as { changes: Record<string, unknown>[] };
    expect(j.changes[1]).toMatchObject({ kind: 'modified', path: 'usr/bin/x', oldMode: '0644', newMode: '0755', changed: ['mode'] });
    expect(j.changes[0]).toMatchObject({ kind: 'removed', path: 'etc/new', oldMode: '0644' });
  });

  it('an owner change shows uid:gid on both sides', async () => {
    const t = join(root, 'tar');
    mkdirSync(join(t, 'd'), { recursive: true });
    writeFileSync(join(t, 'd', 'f'), 'same\n');
    sh('tar', ['--owner=0', '--group=0', '-C', t, '-cf', join(root, 'a.tar'), 'd']);
    sh('tar', ['--owner=1000', '--group=100', '-C', t, '-cf', join(root, 'b.tar'), 'd']);
    await ok('commit', join(root, 'a.tar'), '-r', 'own', '-m', 'a');
    await ok('commit', join(root, 'b.tar'), '-r', 'own', '-m', 'b');
    expect(await ok('diff', 'own~', 'own')).toBe('M 0:0 -> 1000:100 d/\nM 0:0 -> 1000:100 d/f\n0 added, 0 removed, 2 modified; +0 B -0 B\n');
    const j = JSON.parse(await ok('diff', '--json', 'own^', 'own')) as { changes: Record<string, unknown>[] };
    expect(j.changes[1]).toMatchObject({ path: 'd/f', oldUid: 0, oldGid: 0, newUid: 1000, newGid: 100, changed: ['owner'] });
  });

  it('-p: a unified diff of text files, "Binary files differ" for others, mode headers', async () => {
    const p = await ok('diff', '-p', c[0]!, c[1]!);
    expect(p).toBe(
      [
        'diff --git a/etc/motd b/etc/motd',
        '--- a/etc/motd',
        '+++ b/etc/motd',
        '@@ -1,7 +1,7 @@',
        ' line 1',
        ' line 2',
        ' line 3',
        '-line 4',
        '+line four',
        ' line 5',
        ' line 6',
        ' line 7',
        'diff --git a/etc/new b/etc/new',
        'new file mode 100644',
        '--- /dev/null',
        '+++ b/etc/new',
        '@@ -0,0 +1,1 @@',
        '+new',
        'diff --git a/usr/bin/blob b/usr/bin/blob',
        'Binary files a/usr/bin/blob and b/usr/bin/blob differ',
        '',
      ].join('\n'),
    );
    expect(await ok('diff', '-p', c[1]!, c[2]!, '--', 'usr')).toBe('diff --git a/usr/bin/x b/usr/bin/x\nold mode 100644\nnew mode 100755\n');
  });

  it('-- PATH... limits the diff to those paths', async () => {
    expect(await ok('diff', c[0]!, c[1]!, '--', 'etc/motd', 'usr/bin')).toBe('M etc/motd\nM usr/bin/blob\n0 added, 0 removed, 2 modified; +3 B -0 B\n');
    expect(await ok('diff', c[0]!, c[1]!, '--', 'usr/bin/blob')).toBe('M usr/bin/blob\n0 added, 0 removed, 1 modified; +0 B -0 B\n');
    expect(await ok('diff', c[0]!, c[1]!, '--', 'nothing/here')).toBe('0 added, 0 removed, 0 modified; +0 B -0 B\n');
    const noDash = await run('diff', c[0]!, c[1]!, 'etc');
    expect({ code: noDash.code, stderr: noDash.stderr }).toEqual({
      code: 2,
      stderr: `trove: diff takes two revisions (A B, or REV DIR); paths go after --: trove diff ${c[0]} ${c[1]} -- etc\n`,
    });
  });

  it('REV DIR: a commit against a directory on disk, writing nothing to the repository', async () => {
    const before = sh('find', [join(repo, 'objects'), '-type', 'f']).split('\n').sort();
    // The source is now what os/main holds.
    expect(await ok('diff', 'os/main', src)).toBe('0 added, 0 removed, 0 modified; +0 B -0 B\n');
    writeFileSync(join(src, 'etc', 'motd'), 'changed\n');
    writeFileSync(join(src, 'etc', 'extra'), 'extra\n');
    chmodSync(join(src, 'usr', 'bin', 'x'), 0o700);
    expect(await ok('diff', 'os/main', src)).toBe('A etc/extra\nM etc/motd\nM 0755 -> 0700 usr/bin/x\n1 added, 0 removed, 2 modified; +6 B -51 B\n');
    const p = await ok('diff', '-p', 'os/main', src, '--', 'etc/motd');
    expect(p).toContain('--- a/etc/motd\n+++ b/etc/motd\n@@ -1,8 +1,1 @@\n-line 1\n');
    expect(p).toContain('+changed\n');
    expect(sh('find', [join(repo, 'objects'), '-type', 'f']).split('\n').sort()).toEqual(before);
    const missing = await run('diff', 'os/main', join(root, 'nonexistent'));
    expect({ code: missing.code, stderr: missing.stderr }).toEqual({ code: 2, stderr: `trove: ${join(root, 'nonexistent')} is not a directory\n` });
  });
});

describe('delta', () => {
  it('delta A A refuses: there is nothing to send', async () => {
    const r = await run('delta', 'os/main', c[2]!);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
    expect(r.stderr).toBe(`trove: os/main and ${c[2]} are the same commit (${c[2]!.slice(0, 12)}): a pull from it to itself needs nothing, so there is no delta to write\n`);
    expect(sh('find', [repo, '-path', '*deltas*']).trim()).toBe('');
  });
});
