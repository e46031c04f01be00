import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, type Dirent, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { getAttributeSync, setAttributeSync } from 'fs-xattr';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.js';
import { expectSameTree, statListing } from './helpers/fstree.js';
import { runTrove, TROVE_BIN, trove } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';

const ID = /[0-9a-f]{64}/;

/** Runs trove on `repo` and expects success; returns stdout. */
async function ok(repo: string, ...args: string[]): Promise<string> {
  const r = await trove([...args, '--repo', repo]);
  expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
  return r.stdout;
}

/** Inode numbers of every file in the repository's objects and checkout variants. */
function repoInodes(repo: string): Set<number> {
  const out = new Set<number>();
  for (const top of ['objects', 'variants']) {
    let names: string[];
    try {
      names = readdirSync(join(repo, top), { recursive: true }) as string[];
    } catch {
      continue;
    }
    for (const n of names) {
      const st = lstatSync(join(repo, top, n));
      if (st.isFile()) out.add(st.ino);
    }
  }
  return out;
}

/** Regular files below `dir` (not symlinks), as relative paths. */
function regularFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as Dirent[])
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort();
}

describe('the CLI end to end', () => {
  let root: string;
  let repo: string;
  let src: string;
  let c1: string;
  let c2: string;

  beforeAll(() => {
    root = tmpdir('trove-cli');
    repo = join(root, 'repo');
    src = join(root, 'src');
    mkdirSync(join(src, 'sub', 'deeper'), { recursive: true });
    chmodSync(src, 0o755);
    writeFileSync(join(src, 'hello.txt'), 'hello\n');
    writeFileSync(join(src, 'modified'), 'version 1\n');
    writeFileSync(join(src, 'removed'), 'going away\n');
    writeFileSync(join(src, 'chmodded'), 'same content\n');
    writeFileSync(join(src, 'sub', 'deeper', 'f\u00fcr'), 'unicode name, unicode content: \u00e9\u00e8\n');
    writeFileSync(join(src, 'sub', 'script'), '#!/bin/sh\necho hi\n');
    chmodSync(join(src, 'sub', 'script'), 0o755);
    writeFileSync(join(src, 'setuid'), 'suid\n');
    chmodSync(join(src, 'setuid'), 0o4755);
    writeFileSync(join(src, 'owned'), 'owned\n');
    chownSync(join(src, 'owned'), 1000, 1000);
    chmodSync(join(src, 'owned'), 0o600);
    writeFileSync(join(src, 'hard1'), 'hard linked\n');
    linkSync(join(src, 'hard1'), join(src, 'sub', 'hard2'));
    symlinkSync('hello.txt', join(src, 'link'));
    symlinkSync('/etc/hostname', join(src, 'abs-link'));
    writeFileSync(join(src, 'xattr'), 'with xattr\n');
    setAttributeSync(join(src, 'xattr'), 'user.test', Buffer.from('kept'));
  });

  it('init creates a repository and refuses a second one', async () => {
    const r = await trove(['init', '--repo', repo]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`initialised empty trove repository in ${repo}`);
    const again = await trove(['init', '--repo', repo]);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/already exists/);
  });

  it('commit twice: the second has the first as parent', async () => {
    const out1 = await ok(repo, 'commit', src, '-r', 'main', '-m', 'first', '--meta', 'build=1');
    c1 = new RegExp(`^main -> (${ID.source})$`, 'm').exec(out1)![1]!;
    expect(out1).toMatch(/11 files, 2 dirs, 2 symlinks/);

    writeFileSync(join(src, 'modified'), 'version 2, longer\n');
    rmSync(join(src, 'removed'));
    writeFileSync(join(src, 'added'), 'new\n');
    chmodSync(join(src, 'chmodded'), 0o600);
    mkdirSync(join(src, 'newdir'));
    writeFileSync(join(src, 'newdir', 'x'), 'x\n');
    const json = JSON.parse(await ok(repo, 'commit', src, '-r', 'main', '-m', 'second', '--body', 'line one\nline two', '--json')) as {
      commit: string;
      parent: string;
      kind: string;
    };
    c2 = json.commit;
    expect(json).toMatchObject({ parent: c1, kind: 'dir' });
    expect(c2).toMatch(ID);
    expect(c2).not.toBe(c1);
  });

  it('log shows first-parent history, newest first', async () => {
    const log = await ok(repo, 'log', 'main');
    expect([...log.matchAll(/^commit (\S+)$/gm)].map((m) => m[1])).toEqual([c2, c1]);
    expect(log.indexOf('second')).toBeLessThan(log.indexOf('first'));
    expect(log).toContain('    line two');
    expect([...(await ok(repo, 'log', '-n', '1', 'main')).matchAll(/^commit /gm)]).toHaveLength(1);
    const json = JSON.parse(await ok(repo, 'log', '--json', 'main')) as { commit: string; parents: string[]; subject: string }[];
    expect(json.map((c) => [c.commit, c.parents, c.subject])).toEqual([
      [c2, [c1], 'second'],
      [c1, [], 'first'],
    ]);
  });

  it('show prints a commit by ref, ~N, id and id prefix', async () => {
    const show = await ok(repo, 'show', 'main');
    expect(show).toMatch(new RegExp(`^commit ${c2}$`, 'm'));
    expect(show).toMatch(new RegExp(`^parent ${c1}$`, 'm'));
    expect(show).toMatch(/^tree {3}[0-9a-f]{64}$/m);
    expect(show).toMatch(/^root {3}mode 0755 uid 0 gid 0$/m);
    for (const rev of ['main~1', 'main^', c1, c1.slice(0, 10)]) {
      const json = JSON.parse(await ok(repo, 'show', '--json', rev)) as { commit: string; metadata: unknown[]; parents: string[] };
      expect(json.commit).toBe(c1);
      expect(json.metadata).toEqual([{ key: 'build', value: '1' }]);
      expect(json.parents).toEqual([]);
    }
  });

  it('ls lists a directory, recursively, and REV:PATH', async () => {
    const top = (await ok(repo, 'ls', 'main')).trimEnd().split('\n');
    expect(top.map((l) => l.split(/\s+/).slice(5).join(' '))).toEqual([
      'abs-link -> /etc/hostname',
      'added',
      'chmodded',
      'hard1',
      'hello.txt',
      'link -> hello.txt',
      'modified',
      'newdir',
      'owned',
      'setuid',
      'sub',
      'xattr',
    ]);
    expect(top).toContain(`- 0600  1000  1000          6 owned`);
    expect(top).toContain(`- 4755     0     0          5 setuid`);
    expect(top).toContain(`d 0755     0     0          0 sub`);
    expect(top).toContain(`l 0777     0     0          9 link -> hello.txt`);

    const rec = await ok(repo, 'ls', '-R', 'main');
    expect(rec).toMatch(/^- 0755 +0 +0 +18 sub\/script$/m);
    expect(rec).toMatch(/^- 0644 .* sub\/deeper\/f\u00fcr$/m);
    expect((await ok(repo, 'ls', 'main:sub')).trimEnd().split('\n').map((l) => l.split(/\s+/).pop())).toEqual(['deeper', 'hard2', 'script']);
    expect(await ok(repo, 'ls', 'main:sub/script')).toMatch(/^- 0755 +0 +0 +18 script\n$/);
    const json = JSON.parse(await ok(repo, 'ls', '-R', '--json', 'main~1')) as { path: string; kind: string; id?: string; xattrs: string[] }[];
    expect(json.find((e) => e.path === 'removed')).toMatchObject({ kind: 'file' });
    expect(json.find((e) => e.path === 'xattr')).toMatchObject({ xattrs: ['user.test'] });
    expect(json.find((e) => e.path === 'hard1')!.id).toBe(json.find((e) => e.path === 'sub/hard2')!.id);
    expect((await trove(['ls', 'main:nope', '--repo', repo])).code).toBe(3);
  });

  it('cat prints exact content, at any revision', async () => {
    expect(await ok(repo, 'cat', 'main:modified')).toBe('version 2, longer\n');
    expect(await ok(repo, 'cat', 'main~1:modified')).toBe('version 1\n');
    expect(await ok(repo, 'cat', `${c1}:removed`)).toBe('going away\n');
    expect(await ok(repo, 'cat', 'main:sub/deeper/f\u00fcr')).toBe('unicode name, unicode content: \u00e9\u00e8\n');
    expect((await trove(['cat', 'main:removed', '--repo', repo])).code).toBe(3);
    expect((await trove(['cat', 'main:sub', '--repo', repo])).code).toBe(2);
  });

  it('refs list, set and delete', async () => {
    expect(await ok(repo, 'refs', 'list')).toBe(`${c2} main\n`);
    expect(await ok(repo, 'refs', 'set', 'release/1.0', 'main~1')).toContain(`release/1.0 -> ${c1}`);
    expect(await ok(repo, 'refs')).toBe(`${c2} main\n${c1} release/1.0\n`);
    expect(JSON.parse(await ok(repo, 'refs', 'list', '--json'))).toEqual([
      { ref: 'main', commit: c2 },
      { ref: 'release/1.0', commit: c1 },
    ]);
    expect(await ok(repo, 'show', '--json', 'release/1.0')).toContain(`"commit": "${c1}"`);
    await ok(repo, 'refs', 'delete', 'release/1.0');
    expect(await ok(repo, 'refs', 'list')).toBe(`${c2} main\n`);
    expect((await trove(['refs', 'delete', 'release/1.0', '--repo', repo])).code).toBe(3);
    expect((await trove(['show', 'release/1.0', '--repo', repo])).code).toBe(3);
  });

  it('diff lists A, D and M lines, --stat and --json', async () => {
    const diff = (await ok(repo, 'diff', 'main~1', 'main')).trimEnd().split('\n');
    expect(diff.slice(0, -1)).toEqual(['A added', 'M 0644 -> 0600 chmodded', 'M modified', 'A newdir/', 'A newdir/x', 'D removed']);
    expect(diff.at(-1)).toMatch(/^3 added, 1 removed, 2 modified; /);
    expect((await ok(repo, 'diff', '--stat', 'main~1', 'main')).trimEnd().split('\n')).toHaveLength(1);
    const json = JSON.parse(await ok(repo, 'diff', '--json', 'main~1', 'main')) as {
      changes: { kind: string; path: string; oldSize: number; newSize: number }[];
      stat: { added: number; removed: number; modified: number; bytesAdded: number; bytesRemoved: number };
    };
    expect(json.changes.find((c) => c.path === 'modified')).toMatchObject({ kind: 'modified', oldSize: 10, newSize: 18 });
    expect(json.stat).toEqual({ added: 3, removed: 1, modified: 2, bytesAdded: 4 + 2 + 8, bytesRemoved: 11 });
    expect(JSON.parse(await ok(repo, 'diff', '--stat', '--json', 'main~1', 'main'))).toEqual(json.stat);
    expect(await ok(repo, 'diff', 'main', 'main')).toMatch(/^0 added, 0 removed, 0 modified/);
    const back = await ok(repo, 'diff', 'main', 'main~1');
    expect(back).toMatch(/^D added$/m);
    expect(back).toMatch(/^A removed$/m);
  });

  it('checkout as a hard-link farm: same content and metadata, files share inodes with the repository', async () => {
    const dest = join(root, 'co-links');
    const r = JSON.parse(await ok(repo, 'checkout', '--hardlink', '--json', 'main', dest)) as { method: string; linked: number; copied: number };
    expect(r).toMatchObject({ method: 'hardlink', copied: 1 }); // only the file with an xattr is copied
    expectSameTree(src, dest);
    expect(getAttributeSync(join(dest, 'xattr'), 'user.test').toString()).toBe('kept');
    const inodes = repoInodes(repo);
    const files = regularFiles(dest);
    expect(files.length).toBe(r.linked + r.copied);
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const st = statSync(join(dest, f));
      if (f === 'xattr') {
        expect(st.nlink).toBe(1);
        expect(inodes.has(st.ino)).toBe(false);
      } else {
        expect({ f, linked: st.nlink > 1 && inodes.has(st.ino) }).toEqual({ f, linked: true });
      }
    }
  });

  it('checkout --copy: same content and metadata, every file its own inode', async () => {
    const dest = join(root, 'co-copy');
    const r = JSON.parse(await ok(repo, 'checkout', '--copy', '--json', 'main', dest)) as { method: string; linked: number; copied: number };
    expect(r).toMatchObject({ method: 'copy', linked: 0 });
    expectSameTree(src, dest);
    expect(getAttributeSync(join(dest, 'xattr'), 'user.test').toString()).toBe('kept');
    const inodes = repoInodes(repo);
    const files = regularFiles(dest);
    expect(files.length).toBe(r.copied);
    for (const f of files) {
      const st = statSync(join(dest, f));
      expect({ f, nlink: st.nlink, shared: inodes.has(st.ino) }).toEqual({ f, nlink: 1, shared: false });
    }
  });

  it('checkout of an older commit, and refusal of a non-empty destination', async () => {
    const dest = join(root, 'co-old');
    await ok(repo, 'checkout', 'main~1', dest);
    expect(statListing(dest).some((l) => l.startsWith('removed '))).toBe(true);
    expect(statListing(dest).some((l) => l.startsWith('added '))).toBe(false);
    const again = await trove(['checkout', 'main', dest, '--repo', repo]);
    expect(again.code).toBe(4);
    expect(statListing(dest).some((l) => l.startsWith('added '))).toBe(false);
  });

  it('finds the repository through $TROVE_REPO and ./repo', async () => {
    expect((await trove(['refs'], { env: { TROVE_REPO: repo } })).stdout).toBe(`${c2} main\n`);
    expect((await trove(['refs'], { cwd: root })).stdout).toBe(`${c2} main\n`);
  });

  it('fsck of the repository is clean', async () => {
    const report = JSON.parse(await ok(repo, 'fsck', '--json')) as { ok: boolean; commits: number; problems: unknown[] };
    expect(report).toMatchObject({ ok: true, commits: 2, problems: [] });
    expect(await ok(repo, 'fsck')).toMatch(/\nok\n$/);
  });

  it('errors map to stable exit codes', async () => {
    const unknownRef = await trove(['log', 'nosuch', '--repo', repo]);
    expect(unknownRef.code).toBe(3);
    expect(unknownRef.stderr).toMatch(/^trove: unknown revision: nosuch/);
    expect((await trove(['show', 'main~5', '--repo', repo])).code).toBe(3);
    expect((await trove(['checkout', 'nosuch', join(root, 'never'), '--repo', repo])).code).toBe(3);

    const notRepo = await trove(['ls', 'main', '--repo', join(root, 'src')]);
    expect(notRepo.code).toBe(9);
    expect(notRepo.stderr).toMatch(/no trove repository/);
    expect((await trove(['log', 'main', '--repo', join(root, 'missing')])).code).toBe(9);

    for (const bad of ['../evil', 'a..b', '.hidden', 'x/', 'with space', 'main.lock']) {
      const r = await trove(['commit', src, '-r', bad, '--repo', repo]);
      expect({ bad, code: r.code }).toEqual({ bad, code: 6 });
      expect(r.stderr).toMatch(/invalid ref name/);
    }
    expect((await trove(['refs', 'set', 'a..b', 'main', '--repo', repo])).code).toBe(6);
    expect(await ok(repo, 'refs')).toBe(`${c2} main\n`);

    expect((await trove(['no-such-command'])).code).toBe(2);
    expect((await trove(['cat', '--repo', repo])).code).toBe(2);
    expect((await trove(['commit', src, '--repo', repo])).code).toBe(2); // --ref is required
    expect((await trove(['commit', join(root, 'nowhere'), '-r', 'main', '--repo', repo])).code).toBe(3);
  });
});

describe('binary output', () => {
  it('cat writes a binary file byte for byte', async () => {
    const root = tmpdir('trove-binary');
    const repo = join(root, 'repo');
    const src = join(root, 'src');
    mkdirSync(src);
    // Every byte value, including invalid UTF-8 sequences, then random bytes.
    const content = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(200_000)]);
    writeFileSync(join(src, 'blob.bin'), content);
    expect((await trove(['init', '--repo', repo])).code).toBe(0);
    expect((await trove(['commit', src, '-r', 'main', '--repo', repo])).code).toBe(0);
    const r = await trove(['cat', 'main:blob.bin', '--repo', repo]);
    expect(r.code).toBe(0);
    expect(r.stdoutBytes.equals(content)).toBe(true);
  });
});

describe('a closed pipe', () => {
  // A real process: EPIPE is what a process's stdout gets when its reader goes away (`trove ls -R main | head`),
  // and bin/trove.js is what turns it into a quiet exit.
  it('ends the output quietly with status 0, like coreutils', async () => {
    const root = tmpdir('trove-epipe');
    const repo = join(root, 'repo');
    const src = join(root, 'src');
    for (let d = 0; d < 20; d++) {
      mkdirSync(join(src, `directory-${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) writeFileSync(join(src, `directory-${d}`, `a-file-with-a-longer-name-${f}`), `${d}/${f}\n`);
    }
    expect((await trove(['init', '--repo', repo])).code).toBe(0);
    expect((await trove(['commit', src, '-r', 'main', '--repo', repo])).code).toBe(0);
    const full = await trove(['ls', '-R', 'main', '--repo', repo]);
    expect(full.code).toBe(0);
    // Far more than a pipe holds (64 KiB), so the writer meets the closed pipe.
    expect(full.stdoutBytes.length).toBeGreaterThan(128 << 10);
    const r = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; first: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [TROVE_BIN, 'ls', '-R', 'main', '--repo', repo], { stdio: ['ignore', 'pipe', 'pipe'] });
      let first = '';
      let stderr = '';
      // Like `head`: read the first chunk, then close the pipe.
      child.stdout.once('data', (c: Buffer) => {
        first = c.toString();
        child.stdout.destroy();
      });
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, first, stderr }));
    });
    expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(r.first.length).toBeGreaterThan(0);
    expect(full.stdout.startsWith(r.first)).toBe(true);
  });
});

/** The whole program, every command registered, as `trove --help` builds it. */
const fullProgram = await buildProgram();

describe('--help', () => {
  /** Every command and subcommand, with its path from the root. */
  function commands(cmd: Command, path: string[] = []): { path: string[]; cmd: Command }[] {
    return cmd.commands.flatMap((c) => [{ path: [...path, c.name()], cmd: c }, ...commands(c, [...path, c.name()])]);
  }
  const all = commands(fullProgram);

  it('covers the foundation commands', () => {
    const names = all.map((c) => c.path.join(' '));
    for (const n of ['init', 'commit', 'ls', 'cat', 'log', 'show', 'refs', 'refs list', 'refs set', 'refs delete', 'diff', 'checkout', 'fsck']) {
      expect(names).toContain(n);
    }
  });

  // A real process: the exit status and output of the built binary itself (bin/trove.js), not of main().
  it('trove --version prints the package version; a mistyped command is a usage error naming it', () => {
    const r = runTrove(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')).version);
    const withRepo = runTrove(['--repo', '/nonexistent', '--version']);
    expect([withRepo.code, withRepo.stdout]).toEqual([0, r.stdout]);
    const bad = runTrove(['--repo', '/nonexistent', 'chekout', 'x', 'y']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown command 'chekout'/);
    expect(bad.stderr).toMatch(/checkout/);
  });

  it('trove --help lists every command', async () => {
    const r = await trove(['--help']);
    expect(r.code).toBe(0);
    for (const c of fullProgram.commands) expect(r.stdout).toContain(c.name());
    expect(r.stdout).toMatch(/Exit status/);
  });

  it.each(all.map((c) => [c.path.join(' '), c] as const))('trove %s --help exits 0 and documents its arguments', async (_name, { path, cmd }) => {
    const r = await trove([...path, '--help']);
    expect(r.code).toBe(0);
    const flat = (t: string) => t.replace(/\s+/g, ' ');
    const names = [cmd.name(), ...cmd.aliases()].join('|');
    expect(r.stdout.split('\n')[0]).toBe(`Usage: trove ${[...path.slice(0, -1), names].join(' ')} ${cmd.usage()}`);
    expect(flat(r.stdout)).toContain(flat(cmd.description()));
    for (const arg of cmd.registeredArguments) {
      const shown = arg.required ? `<${arg.name()}${arg.variadic ? '...' : ''}>` : `[${arg.name()}${arg.variadic ? '...' : ''}]`;
      expect(r.stdout.split('\n')[0]).toContain(shown);
      if (arg.description) {
        const section = r.stdout.split('\nArguments:\n')[1]?.split('\n\n')[0] ?? '';
        expect(section).toMatch(new RegExp(`^\\s+${arg.name().replace(/[[\]:.*]/g, '\\$&')}\\s`, 'm'));
        expect(flat(section)).toContain(flat(arg.description));
      }
    }
    for (const sub of cmd.commands) expect(r.stdout).toContain(sub.name());
  });
});
