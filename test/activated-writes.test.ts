import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { beforeAll, describe, expect, it } from 'vitest';
import { isReadOnlyMount, unmount } from '../src/util/mount-table.js';
import { type RunResult, troveIn, troveOk, TROVE_BIN } from './helpers/cli.js';
import { sh, tmpdir } from './helpers/tmp.js';

/*
 * Nothing activated or checked out is writable into the store: every kind of
 * change, through every file type of an activated tree and of a `trove
 * checkout`, as root and as other users, leaves fsck clean and every
 * generation reading as committed (docs/reliability.md).
 */

const isRoot = process.getuid?.() === 0;

/**
 * Tries every change on each path, as a real process of `user` (null: this
 * user), and prints one line per attempt: `<op> <path> <errno code or ok>`.
 */
const ATTEMPTS = `
  const fs = require('fs'); const path = require('path');
  const out = [];
  const t = (op, p, fn) => { try { fn(); out.push(op + ' ' + p + ' ok'); } catch (e) { out.push(op + ' ' + p + ' ' + (e.code || e.message)); } };
  for (const p of process.argv.slice(1)) {
    const st = fs.lstatSync(p); const dir = path.dirname(p); const spare = path.join(dir, '.spare-' + path.basename(p));
    if (st.isFile()) {
      t('write', p, () => fs.writeFileSync(p, 'hacked\\n'));
      t('append', p, () => fs.appendFileSync(p, 'more\\n'));
      t('truncate', p, () => fs.truncateSync(p, 0));
      t('open-trunc', p, () => fs.closeSync(fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_TRUNC)));
    }
    if (st.isDirectory()) {
      t('mkdir-in', p, () => fs.mkdirSync(path.join(p, 'new-dir')));
      t('create-in', p, () => fs.writeFileSync(path.join(p, 'new-file'), 'x'));
    }
    if (!st.isSymbolicLink()) t('chmod', p, () => fs.chmodSync(p, 0o777));
    t('chown', p, () => fs.lchownSync(p, process.getuid(), process.getgid()));
    t('utimes', p, () => fs.lutimesSync(p, 1, 1));
    t('rename-over', p, () => { fs.writeFileSync(spare, 'replacement\\n'); fs.renameSync(spare, p); });
    t('rename-away', p, () => fs.renameSync(p, p + '.moved'));
    t('unlink', p, () => (st.isDirectory() ? fs.rmSync(p, { recursive: true }) : fs.unlinkSync(p)));
  }
  process.stdout.write(out.join('\\n') + '\\n');`;

function attempt(user: string | null, paths: string[]): string[] {
  const argv = [process.execPath, '-e', ATTEMPTS, ...paths];
  const r = user === null ? spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' }) : spawnSync('runuser', ['-u', user, '--', ...argv], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`attempts failed: ${r.stderr}`);
  return r.stdout.trim().split('\n');
}

/** Every entry under `dir`: kind, mode, owner and content (hash) or target: what "reads as committed" compares. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .sort()
    .map((name) => {
      const p = join(dir, name);
      const st = lstatSync(p);
      const what = st.isSymbolicLink()
        ? `-> ${readlinkSync(p)}`
        : st.isFile()
          ? createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16)
          : 'dir';
      return `${name} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${what}`;
    });
}

function asUser(user: string, args: string[]): RunResult {
  const r = spawnSync('runuser', ['-u', user, '--', process.execPath, TROVE_BIN, ...args], { cwd: '/', encoding: 'utf8' });
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** A package tree with every file type activation deals with; `n` makes its content differ per generation. */
function makeTree(root: string, n: number): void {
  mkdirSync(join(root, 'etc', 'sub'), { recursive: true });
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'var', 'www'), { recursive: true });
  writeFileSync(join(root, 'etc', 'cfg'), `config ${n}\n`);
  writeFileSync(join(root, 'etc', 'empty'), '');
  writeFileSync(join(root, 'etc', 'sub', 'deep'), 'deep\n');
  writeFileSync(join(root, 'bin', 'tool'), `#!/bin/sh\necho tool ${n}\n`, { mode: 0o755 });
  writeFileSync(join(root, 'bin', 'suid'), 'setuid\n');
  chmodSync(join(root, 'bin', 'suid'), 0o4755);
  // Owned by www-data (uid 33) as root: a shared variant in a hard-link checkout.
  writeFileSync(join(root, 'var', 'www', 'index.html'), `<p>${n}</p>\n`, { mode: 0o640 });
  if (isRoot) chownSync(join(root, 'var', 'www', 'index.html'), 33, 33);
  if (isRoot) chownSync(join(root, 'var', 'www'), 33, 33);
  writeFileSync(join(root, 'etc', 'xattr'), 'labelled\n');
  setAttributeSync(join(root, 'etc', 'xattr'), 'user.label', Buffer.from('kept'));
  symlinkSync('cfg', join(root, 'etc', 'link'));
  symlinkSync('/etc/passwd', join(root, 'etc', 'abs-link'));
}

/** The paths of every file type in a tree made by makeTree, under `base`. */
function targets(base: string): string[] {
  return ['etc/cfg', 'etc/empty', 'etc/sub/deep', 'bin/tool', 'bin/suid', 'var/www/index.html', 'etc/xattr', 'etc/link', 'etc/abs-link', 'etc/sub', 'var/www'].map((p) =>
    join(base, p),
  );
}

describe('nothing activated or checked out is writable into the store', () => {
  const dir = tmpdir('trove-writes');
  const repo = join(dir, 'repo');
  const link = join(dir, 'ro');
  const committed: string[][] = [];
  const cli = (...args: string[]) => troveOk(repo, ...args);

  /** fsck is clean and each generation, checked out afresh and through an activation, is what was committed. */
  async function expectIntact(profileLink = link): Promise<void> {
    expect(JSON.parse(await cli('fsck', '--json')).problems).toEqual([]);
    for (const n of [1, 2]) {
      const fresh = join(tmpdir('trove-writes-check'), 'co');
      await cli('checkout', String(n === 1 ? 'pkg/tree/amd64~1' : 'pkg/tree/amd64'), fresh);
      expect(listing(fresh)).toEqual(committed[n - 1]);
      await cli('switch', String(n), '--link', profileLink);
      expect(listing(join(profileLink, 'tree-amd64-' + `${n}.0-${n}`))).toEqual(committed[n - 1]);
    }
  }

  beforeAll(async () => {
    chmodSync(dir, 0o755); // other users (www-data) reach the link
    await cli('init');
    for (const n of [1, 2]) {
      const src = join(dir, `src${n}`);
      makeTree(src, n);
      committed.push(listing(src));
      await cli('pkg', 'add', src, '--name', 'tree', '--arch', 'amd64', '--version', `${n}.0`);
      await cli('gen', 'build', 'tree');
    }
  });

  it.runIf(isRoot)('as root, an activation is a read-only mount of hard links: every change is EROFS, for root and for the owner of a file', async () => {
    const sw = JSON.parse(await cli('switch', '1', '--link', link, '--json')) as { target: string; via: string };
    expect(sw.via).toBe('checkout');
    expect(isReadOnlyMount(sw.target)).toBe(true);
    const pkgDir = join(link, 'tree-amd64-1.0-1');
    // The files are the store's own inodes (hard links), so only the mount keeps them safe.
    expect(lstatSync(join(pkgDir, 'etc', 'cfg')).nlink).toBeGreaterThan(1);
    for (const user of [null, 'www-data']) {
      const results = attempt(user, targets(pkgDir));
      expect(results.length).toBeGreaterThan(60);
      const allowed = results.filter((r) => !r.endsWith(' EROFS') && !(user !== null && r.endsWith(' EACCES')) && !(user !== null && r.endsWith(' EPERM')));
      expect(allowed).toEqual([]);
    }
    expect(listing(pkgDir)).toEqual(committed[0]);
    await expectIntact();
  });

  it.runIf(isRoot)('after the mount is gone (a reboot), the link shows an empty directory, never the writable tree; status says so and switch mounts it again', async () => {
    const sw = JSON.parse(await cli('switch', '2', '--link', link, '--json')) as { target: string };
    unmount(sw.target);
    expect(readdirSync(link)).toEqual([]);
    const status = await troveIn(repo)('status');
    expect(status.stdout + status.stderr).toContain(
      `a read-only view of a checkout that is not mounted (after a reboot?), so it shows nothing; run as root: trove switch --restore (or trove switch 2)`,
    );
    const restored = JSON.parse(await cli('switch', '--restore', '--json')) as { restored: { link: string; target: string }[] };
    expect(restored.restored).toMatchObject([{ link, target: sw.target }]);
    expect(isReadOnlyMount(sw.target)).toBe(true);
    expect(await cli('switch', '--restore')).toBe('nothing to restore: every checkout an active link points at is in place\n');
    // A switch mounts it again too.
    unmount(sw.target);
    await cli('switch', '2', '--link', link);
    expect(isReadOnlyMount(sw.target)).toBe(true);
    expect(listing(join(link, 'tree-amd64-2.0-2'))).toEqual(committed[1]);
    expect(attempt(null, [join(link, 'tree-amd64-2.0-2', 'etc', 'cfg')]).every((r) => r.endsWith(' EROFS'))).toBe(true);
  });

  it('trove checkout gives copies by default: every change lands in the copy, none in the store', async () => {
    const co = join(tmpdir('trove-writes-co'), 'co');
    await cli('checkout', 'pkg/tree/amd64', co);
    const results = attempt(null, targets(co));
    // The copy is the caller's: the changes are allowed, and made.
    expect(results.filter((r) => r.startsWith('write ')).every((r) => r.endsWith(' ok'))).toBe(true);
    expect(existsSync(join(co, 'etc', 'cfg'))).toBe(false); // unlinked at the end
    await expectIntact();
  });

  it('as a user without root, an activation is a copy: changes land in it, never in the store', async () => {
    const own = join(tmpdir('trove-writes-user'), 'w');
    mkdirSync(own, { recursive: true });
    sh('cp', ['-a', repo, join(own, 'repo')]);
    // Not root's checkouts (the copy of a read-only mount is a plain tree): this user's own.
    sh('rm', ['-rf', join(own, 'repo', 'checkouts')]);
    mkdirSync(join(own, 'repo', 'checkouts'));
    for (const d of [join(own, '..'), own]) chmodSync(d, 0o755);
    sh('chown', ['-R', 'nobody', own]);
    const userRepo = join(own, 'repo');
    const userLink = join(own, 'ro');
    const sw = asUser('nobody', ['--repo', userRepo, 'switch', '1', '--link', userLink, '--json']);
    expect(sw.code, sw.stderr).toBe(0);
    const target = (JSON.parse(sw.stdout) as { target: string }).target;
    expect(isReadOnlyMount(target)).toBe(false);
    expect(existsSync(`${target}.links`)).toBe(false);
    const pkgDir = join(userLink, 'tree-amd64-1.0-1');
    expect(lstatSync(join(pkgDir, 'etc', 'cfg')).nlink).toBe(1);
    const results = attempt('nobody', targets(pkgDir));
    expect(results.filter((r) => r.startsWith('write ') && r.includes('/etc/cfg ')).at(0)).toMatch(/ ok$/);
    const fsck = asUser('nobody', ['--repo', userRepo, 'fsck', '--json']);
    expect(fsck.code, fsck.stderr).toBe(0);
    expect(JSON.parse(fsck.stdout).problems).toEqual([]);
    const fresh = join(own, 'fresh');
    expect(asUser('nobody', ['--repo', userRepo, 'checkout', 'pkg/tree/amd64~1', fresh]).code).toBe(0);
    // Without root, ownership is not restored: compare content and modes only.
    const contentOnly = (l: string[]) => l.map((e) => e.replace(/ \d+:\d+ /, ' '));
    expect(contentOnly(listing(fresh))).toEqual(contentOnly(committed[0]!));
  });
});

describe.runIf(isRoot)('a --hardlink checkout is the store: fsck finds what was written through it', () => {
  it('a write through a shared variant is corrupt-variant; fsck --repair removes it and the next checkout is right', async () => {
    const dir = tmpdir('trove-variant');
    chmodSync(dir, 0o755);
    const repo = join(dir, 'repo');
    const src = join(dir, 'src');
    makeTree(src, 1);
    await troveOk(repo, 'init');
    await troveOk(repo, 'commit', src, '-r', 'main');
    const co = join(dir, 'co');
    await troveOk(repo, 'checkout', '--hardlink', 'main', co);
    // Owned by uid 33: linked to a variant, not to the object; the owner writes through it.
    expect(attempt('www-data', [join(co, 'var', 'www', 'index.html')]).find((r) => r.startsWith('write '))).toMatch(/ ok$/);
    const found = await troveIn(repo)('fsck', '--json');
    expect(found.code).toBe(5);
    const problems = (JSON.parse(found.stdout) as { problems: { problem: string; where: string }[] }).problems;
    expect(problems).toMatchObject([{ problem: 'corrupt-variant', where: expect.stringMatching(/^variants\/640-33-33\//) }]);
    const repaired = await troveIn(repo)('fsck', '--repair');
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.stdout).toContain(`removed: checkout variant ${problems[0]!.where}`);
    const again = join(dir, 'again');
    await troveOk(repo, 'checkout', '--hardlink', 'main', again);
    expect(listing(again)).toEqual(listing(src));
  });
});
