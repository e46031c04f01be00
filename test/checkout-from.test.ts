// A hard-link checkout that starts from another commit's hard-link checkout
// (checkout's `from`, which activation uses): the result must be exactly what
// a checkout from nothing gives, entry by entry and inode by inode, and the
// checkout it started from must not change.
import { chmodSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Repo } from '../src/repo/repo.js';
import { checkout } from '../src/repo/checkout.js';
import { linksNatively } from '../src/repo/link-worker.js';
import { troveOk } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';

const isRoot = process.getuid?.() === 0;

/** Every entry under `root`: kind, mode, owner, inode, and a file's bytes or a symlink's target. */
function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string, rel: string) => {
    const st = lstatSync(dir);
    out.set(rel || '.', `dir ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`);
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const s = lstatSync(path);
      if (s.isDirectory()) walk(path, r);
      else if (s.isSymbolicLink()) out.set(r, `symlink ${s.uid}:${s.gid} ino ${s.ino} -> ${readlinkSync(path)}`);
      else out.set(r, `file ${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid} ino ${s.ino} ${readFileSync(path).toString('base64')}`);
    }
  };
  walk(root, '');
  return out;
}

/** Commit A: files, modes, a deep unchanged subtree, symlinks, a setuid file, directories of several modes. */
function treeA(src: string): void {
  rmSync(src, { recursive: true, force: true });
  const w = (p: string, content: string, mode = 0o644) => {
    mkdirSync(join(src, p, '..'), { recursive: true });
    writeFileSync(join(src, p), content);
    chmodSync(join(src, p), mode);
  };
  for (let i = 0; i < 30; i++) w(`usr/share/deep/a/b/c/f${i}`, `deep ${i}\n`);
  w('usr/bin/tool', 'tool 1\n', 0o755);
  w('usr/bin/su', 'su\n', 0o4755);
  w('etc/conf', 'conf 1\n');
  w('etc/secret', 'secret\n', 0o600);
  w('etc/mode-only', 'same bytes\n');
  w('var/gone/file', 'gone\n');
  w('var/becomes-dir', 'a file first\n');
  mkdirSync(join(src, 'var/becomes-link'), { recursive: true });
  w('var/becomes-link/x', 'x\n');
  symlinkSync('../usr/bin/tool', join(src, 'etc/tool-link'));
  symlinkSync('conf', join(src, 'etc/retarget'));
  mkdirSync(join(src, 'srv/locked'), { recursive: true });
  w('srv/locked/inside', 'inside\n');
  chmodSync(join(src, 'srv/locked'), 0o750);
  for (let i = 0; i < 10; i++) w(`pkgs/hello-amd64-1-1/usr/share/doc/f${i}`, `doc ${i}\n`);
  w('pkgs/other-amd64-1-1/usr/bin/other', 'other\n', 0o755);
  if (isRoot) lchownSync(join(src, 'etc/conf'), 33, 33);
}

/** Commit B: A with one change of every kind. */
function treeB(src: string): void {
  treeA(src);
  writeFileSync(join(src, 'usr/bin/tool'), 'tool 2\n');
  writeFileSync(join(src, 'etc/conf'), 'conf 2\n');
  chmodSync(join(src, 'etc/mode-only'), 0o640);
  rmSync(join(src, 'var/gone'), { recursive: true });
  rmSync(join(src, 'var/becomes-dir'));
  mkdirSync(join(src, 'var/becomes-dir'));
  writeFileSync(join(src, 'var/becomes-dir/inner'), 'inner\n');
  rmSync(join(src, 'var/becomes-link'), { recursive: true });
  symlinkSync('/srv', join(src, 'var/becomes-link'));
  rmSync(join(src, 'etc/retarget'));
  symlinkSync('secret', join(src, 'etc/retarget'));
  chmodSync(join(src, 'srv/locked'), 0o700);
  mkdirSync(join(src, 'opt/new/sub'), { recursive: true });
  writeFileSync(join(src, 'opt/new/sub/file'), 'new\n');
  // A package's directory renamed with its version, one file changed in it.
  renameSync(join(src, 'pkgs/hello-amd64-1-1'), join(src, 'pkgs/hello-amd64-2-1'));
  writeFileSync(join(src, 'pkgs/hello-amd64-2-1/usr/share/doc/f0'), 'doc 0, version 2\n');
  if (isRoot) lchownSync(join(src, 'usr/bin/su'), 0, 4);
}

/** A repository in a new temp dir with commits `a` (treeA) and `b` (treeB). */
async function twoCommits(prefix: string): Promise<{ dir: string; repoPath: string }> {
  const dir = tmpdir(prefix);
  const repoPath = join(dir, 'repo');
  const src = join(dir, 'src');
  await troveOk(repoPath, 'init');
  treeA(src);
  await troveOk(repoPath, 'commit', src, '-r', 'a', '--no-xattrs');
  treeB(src);
  await troveOk(repoPath, 'commit', src, '-r', 'b', '--no-xattrs');
  return { dir, repoPath };
}

/** Runs `fn` with twoCommits' repository open, and its commits `a` and `b`. */
async function withTwoCommits(prefix: string, fn: (t: { dir: string; repo: Repo; a: string; b: string }) => Promise<void>): Promise<void> {
  const { dir, repoPath } = await twoCommits(prefix);
  const repo = await Repo.open(repoPath);
  try {
    await fn({ dir, repo, a: (await repo.refs.read('a'))!, b: (await repo.refs.read('b'))! });
  } finally {
    await repo.close();
  }
}

describe('a hard-link checkout started from another commit’s', () => {
  it('is the checkout from nothing, inode for inode, and leaves the one it started from as it was', async () => {
    await withTwoCommits('trove-checkout-from', async ({ dir, repo, a, b }) => {
      await checkout(repo, a, join(dir, 'a'), { hardlink: true });
      const before = snapshot(join(dir, 'a'));
      // Both ways, and back: B from A, A from that B.
      await checkout(repo, b, join(dir, 'b-fresh'), { hardlink: true });
      await checkout(repo, b, join(dir, 'b-from-a'), { hardlink: true, from: { dir: join(dir, 'a'), commit: a }, linker: 'worker' });
      expect(snapshot(join(dir, 'b-from-a'))).toEqual(snapshot(join(dir, 'b-fresh')));
      expect(snapshot(join(dir, 'a'))).toEqual(before);
      await checkout(repo, a, join(dir, 'a-from-b'), { hardlink: true, from: { dir: join(dir, 'b-from-a'), commit: b }, linker: 'worker' });
      expect(snapshot(join(dir, 'a-from-b'))).toEqual(before);
      // The unchanged deep subtree was linked, not rebuilt: its files are the same inodes as A's.
      expect(lstatSync(join(dir, 'b-from-a/usr/share/deep/a/b/c/f7')).ino).toBe(lstatSync(join(dir, 'a/usr/share/deep/a/b/c/f7')).ino);
      // The renamed package directory was moved and patched: its unchanged files' directory is A's copy, renamed.
      expect(readFileSync(join(dir, 'b-from-a/pkgs/hello-amd64-2-1/usr/share/doc/f0'), 'utf8')).toBe('doc 0, version 2\n');
      expect(readdirSync(join(dir, 'b-from-a/pkgs')).sort()).toEqual(['hello-amd64-2-1', 'other-amd64-1-1']);
      // A base that is missing: a checkout from nothing.
      await checkout(repo, b, join(dir, 'b-no-base'), { hardlink: true, from: { dir: join(dir, 'nothing-here'), commit: a }, linker: 'worker' });
      expect(snapshot(join(dir, 'b-no-base'))).toEqual(snapshot(join(dir, 'b-fresh')));
      // A copy that cannot run (no setpriv or cp on the PATH): a checkout from nothing too.
      const path = process.env.PATH;
      process.env.PATH = join(dir, 'no-such-bin');
      try {
        await checkout(repo, b, join(dir, 'b-no-cp'), { hardlink: true, from: { dir: join(dir, 'a'), commit: a }, linker: 'worker' });
      } finally {
        process.env.PATH = path;
      }
      expect(snapshot(join(dir, 'b-no-cp'))).toEqual(snapshot(join(dir, 'b-fresh')));
    });
  });

  // Without the addon (outside CI only: npm test builds it) `from` is always used, as the test above checks.
  it.runIf(linksNatively())('is not used when a native thread makes the links: a checkout from nothing is faster, and the same', async () => {
    await withTwoCommits('trove-checkout-from-native', async ({ dir, repo, a, b }) => {
      await checkout(repo, a, join(dir, 'a'), { hardlink: true });
      const fresh = await checkout(repo, b, join(dir, 'b-fresh'), { hardlink: true });
      const viaWorker = await checkout(repo, b, join(dir, 'b-from-a-worker'), { hardlink: true, from: { dir: join(dir, 'a'), commit: a }, linker: 'worker' });
      const native = await checkout(repo, b, join(dir, 'b-from-a'), { hardlink: true, from: { dir: join(dir, 'a'), commit: a } });
      // Every file linked anew, as from nothing; the copy of A and its patch link only what changed.
      expect(native.linked).toBe(fresh.linked);
      expect(viaWorker.linked).toBeLessThan(fresh.linked);
      expect(snapshot(join(dir, 'b-from-a'))).toEqual(snapshot(join(dir, 'b-fresh')));
      expect(snapshot(join(dir, 'b-from-a-worker'))).toEqual(snapshot(join(dir, 'b-fresh')));
    });
  });

  it('an activation after a switch shows the new commit exactly (started from the active checkout where the links are made in JavaScript)', async () => {
    const { dir, repoPath } = await twoCommits('trove-activate-from');
    const link = join(dir, 'current');
    await troveOk(repoPath, 'switch', 'a', '--link', link);
    const shownA = snapshot(link + '/');
    await troveOk(repoPath, 'switch', 'b', '--link', link);
    await troveOk(repoPath, 'checkout', '--hardlink', 'b', join(dir, 'b-fresh'));
    expect(snapshot(link + '/')).toEqual(snapshot(join(dir, 'b-fresh')));
    await troveOk(repoPath, 'switch', 'a', '--link', link);
    expect(snapshot(link + '/')).toEqual(shownA);
    await troveOk(repoPath, 'fsck');
  });
});
