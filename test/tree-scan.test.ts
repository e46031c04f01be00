// A whole tree listed and stated ahead of its import (scanTree in native/dirscan.c,
// src/util/stat-at.ts, importDir's prescan): the scan must visit directories in the order the
// import does, give the numbers lstat gives, leave to the import what it could not list, and an
// import must come out the same with the scan, without it and with a scan cut short, and take what
// changed after the scan as it now is: a directory swapped for a symlink is never read through.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readdirSync, renameSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTree } from '../src/format/codec.js';
import { compareNames } from '../src/format/names.js';
import { importDir, prescanDir } from '../src/repo/import/dir.js';
import { MemoryStore } from '../src/store/memory.js';
import { addonPath, loadAddon } from '../src/util/native-addon.js';
import { scanTree, type TreeScan } from '../src/util/stat-at.js';
import { trove } from './helpers/cli.js';
import { removeTree, tmpdir } from './helpers/tmp.js';
import { xattrsWork } from './helpers/xattrs.js';

const FIELDS = ['mode', 'uid', 'gid', 'size', 'mtimeMs', 'ctimeMs', 'ino', 'dev'] as const;


/**
 * Checks `scan` against the tree as Node sees it, in the import's order: each directory's names
 * sorted as trees sort them and the lstat of each, then each subdirectory's in name order, with
 * `unlisted` (relative paths) left to the import. Returns the directories it compared.
 */
function expectScanMatches(scan: TreeScan, root: string, unlisted: Set<string>, excluded = new Set<string>()): string[] {
  const seen: string[] = [];
  const visit = (rel: string) => {
    const got = scan.next(lstatSync(rel ? join(root, rel) : root));
    if (unlisted.has(rel)) {
      expect(got, `${rel || '.'} is left to the import`).toBeUndefined();
      return;
    }
    expect(got, `${rel || '.'} is listed`).toBeDefined();
    seen.push(rel);
    const abs = rel ? join(root, rel) : root;
    const names = readdirSync(abs).sort(compareNames);
    expect(got!.names, rel || '.').toEqual(names);
    for (const [i, name] of names.entries()) {
      const want = lstatSync(join(abs, name));
      for (const f of FIELDS) expect(Object.is(got!.stats[i]![f], want[f]), `${rel}/${name}.${f}`).toBe(true);
    }
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      if (lstatSync(join(abs, name)).isDirectory() && !excluded.has(r)) visit(r);
    }
  };
  visit('');
  expect(() => scan.next(lstatSync(root))).toThrow(/no more directories/);
  return seen;
}

describe('scanTree and the import that takes its listings', () => {
  const root = tmpdir('trove-tree-scan');
  const src = join(root, 'src');
  const built = loadAddon('dirscan') !== null;

  beforeAll(() => {
    // npm test builds the addon (scripts/build-native.mjs); elsewhere the import lists each directory itself.
    if (process.env.CI) expect(built, `${addonPath('dirscan')} (npm test builds it)`).toBe(true);
    mkdirSync(join(src, 'a/b/c'), { recursive: true });
    mkdirSync(join(src, 'empty'));
    mkdirSync(join(src, 'kept-out/inner'), { recursive: true });
    writeFileSync(join(src, 'top'), 'top');
    writeFileSync(join(src, 'a/one'), 'one');
    writeFileSync(join(src, 'a/b/two'), 'two');
    writeFileSync(join(src, 'a/b/c/three'), 'three');
    writeFileSync(join(src, 'kept-out/inner/x'), 'x');
    // UTF-16 puts U+E000 after the surrogates of U+1F600; UTF-8, and so trees, put it before.
    for (const name of ['\ue000', '😀', 'Z', 'é', '☃']) writeFileSync(join(src, 'a', name), name);
    symlinkSync('../top', join(src, 'a/link'));
    mkdirSync(join(src, 'a/sub-by-link-target'));
    expect(spawnSync('mkfifo', [join(src, 'a/fifo')]).status).toBe(0);
    if (xattrsWork(root)) {
      setAttributeSync(join(src, 'a/b'), 'user.dir', Buffer.from('on a directory'));
      setAttributeSync(join(src, 'a/one'), 'user.file', Buffer.from('on a file'));
    }
  });
  afterAll(() => removeTree(root));

  it('lists every directory in the import order with lstat numbers, leaving out what it is told to', async () => {
    if (!built) {
      expect(await scanTree(src)).toBeUndefined();
      return;
    }
    const scan = (await scanTree(src, [statSync(join(src, 'kept-out'))]))!;
    expect(scan.root.ino).toBe(statSync(src).ino);
    const seen = expectScanMatches(scan, src, new Set(), new Set(['kept-out']));
    expect(seen).toEqual(['', 'a', 'a/b', 'a/b/c', 'a/sub-by-link-target', 'empty']);
  });

  it('leaves to the import a directory with a name that is not UTF-8, and those past its budget', async () => {
    if (!built) return;
    const odd = join(root, 'odd');
    mkdirSync(join(odd, 'bad/below'), { recursive: true });
    mkdirSync(join(odd, 'good'));
    writeFileSync(Buffer.concat([Buffer.from(`${odd}/bad/`), Buffer.from([0x66, 0xff, 0x6f])]), 'not UTF-8');
    writeFileSync(join(odd, 'good/f'), 'f');
    // bad/ is left whole, and so is what is below it: the import lists it itself.
    expectScanMatches((await scanTree(odd))!, odd, new Set(['bad']));
    // A budget of 4 entries: the root's 2 and good/'s 1 fit, bad/ (2) does not.
    expectScanMatches((await scanTree(odd, [], 4))!, odd, new Set(['bad']));
    expectScanMatches((await scanTree(odd, [], 2))!, odd, new Set(['bad', 'good']));
    // A budget that is not a count is refused, not taken as none.
    for (const budget of [Number.NaN, Number.POSITIVE_INFINITY, -1]) await expect(scanTree(odd, [], budget), `budget ${budget}`).rejects.toThrow(/maxEntries/);
    removeTree(odd);
  });

  it('gives nothing for a root that is not a directory', async () => {
    expect(await scanTree(join(src, 'top'))).toBeUndefined();
    expect(await scanTree(join(root, 'missing'))).toBeUndefined();
  });

  it('makes the same tree and report with the scan, without it, with it cut short and with one of another directory', async () => {
    const exclude = [{ path: join(src, 'kept-out'), reason: 'left out' }];
    const run = async (prescan?: Promise<TreeScan | undefined>) => {
      const store = new MemoryStore();
      const out = await importDir(src, store, { exclude, ...(prescan ? { prescan } : {}) });
      const objects: string[] = [];
      for await (const id of store.list()) objects.push(id);
      return { tree: out.tree, root: out.root, report: out.report, objects: objects.sort() };
    };
    const plain = await run(Promise.resolve(undefined));
    expect(plain.report.skipped).toEqual([
      { path: 'a/fifo', reason: 'fifo' },
      { path: 'kept-out', reason: 'left out' },
    ]);
    expect(plain.report.files).toBe(9);
    expect(await run()).toEqual(plain);
    expect(await run(prescanDir(src, exclude))).toEqual(plain);
    for (const budget of [0, 3, 8, 12]) expect(await run(scanTree(src, [statSync(join(src, 'kept-out'))], budget)), `budget ${budget}`).toEqual(plain);
    // A scan of another directory is not taken for this one.
    expect(await run(prescanDir(join(src, 'a')))).toEqual(plain);
    // One that did not leave out what this import leaves out is out of step with it, and says so.
    if (built) {
      const scan = (await scanTree(src))!;
      scan.next(lstatSync(src));
      expect(() => scan.next(lstatSync(join(src, 'empty')))).toThrow(/out of step/);
    }
  });

  /** The entries of `tree` in `store` by path (`name`, `dir/name`), with kind and mode, and symlinks' targets. */
  const entriesOf = async (store: MemoryStore, tree: string, prefix = ''): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const e of decodeTree(await store.get(tree)).entries) {
      const path = `${prefix}${e.name}`;
      out[path] = `${e.kind} ${e.mode.toString(8)}${e.target ? ` -> ${e.target}` : ''}`;
      if (e.kind === 'dir') Object.assign(out, await entriesOf(store, e.id!, `${path}/`));
    }
    return out;
  };
  const noObjectHolds = async (store: MemoryStore, text: string) => {
    for await (const id of store.list()) expect(Buffer.from(await store.get(id)).toString()).not.toBe(text);
  };

  /**
   * A tree `name` holding `<at>d/secret`, scanned; then `<at>d` is moved aside and replaced by a symlink to
   * a directory outside the tree holding a file `outside`; then imported with the scan.
   */
  const swapAfterScan = async (name: string, at: string, outside: string) => {
    const t = join(root, name);
    const elsewhere = join(root, `${name}-elsewhere`);
    mkdirSync(join(t, `${at}d`), { recursive: true });
    mkdirSync(elsewhere);
    writeFileSync(join(t, `${at}d/secret`), 'what the scan saw');
    writeFileSync(join(elsewhere, 'secret'), outside);
    const scan = await scanTree(t);
    renameSync(join(t, `${at}d`), join(t, `${at}d-old`));
    symlinkSync(elsewhere, join(t, `${at}d`));
    const store = new MemoryStore();
    const got = await importDir(t, store, { prescan: Promise.resolve(scan) });
    return { t, elsewhere, store, got };
  };

  it('takes a directory swapped for a symlink after the scan as the symlink it now is, never reading through it', async () => {
    if (!built) return;
    const { elsewhere, store, got } = await swapAfterScan('swap', '', 'outside the tree');
    expect(await entriesOf(store, got.tree)).toEqual({ d: `symlink 777 -> ${elsewhere}`, 'd-old': 'dir 755', 'd-old/secret': 'file 644' });
    await noObjectHolds(store, 'outside the tree');
  });

  it('opens a scanned directory below its parent: one swapped deeper down after the scan is never read through', async () => {
    if (!built) return;
    // The root's own entries do not change, so its listing from the scan is taken; p's do.
    const { t, elsewhere, store, got } = await swapAfterScan('deep-swap', 'p/', 'outside the tree, deeper');
    const live = new MemoryStore();
    const want = await importDir(t, live, { prescan: Promise.resolve(undefined) });
    expect(got.tree).toBe(want.tree);
    expect(got.report).toEqual(want.report);
    expect((await entriesOf(store, got.tree))['p/d']).toBe(`symlink 777 -> ${elsewhere}`);
    await noObjectHolds(store, 'outside the tree, deeper');
  });

  it('records a directory made private after the scan as private, with the file written into it since', async () => {
    if (!built) return;
    const t = join(root, 'chmod');
    mkdirSync(join(t, 'p'), { recursive: true });
    writeFileSync(join(t, 'p/old'), 'there at the scan');
    const scan = scanTree(t);
    await scan;
    chmodSync(join(t, 'p'), 0o700);
    writeFileSync(join(t, 'p/key'), 'written after the scan');
    const store = new MemoryStore();
    const got = await importDir(t, store, { prescan: scan });
    expect(await entriesOf(store, got.tree)).toEqual({ p: 'dir 700', 'p/key': 'file 644', 'p/old': 'file 644' });
  });

  it('scans again after waiting for another process to release the repository lock: a file edited meanwhile is committed as it now is', async () => {
    if (!built) return;
    const repo = join(root, 'wait-repo');
    const t = join(root, 'wait-src');
    mkdirSync(join(t, 'p'), { recursive: true });
    writeFileSync(join(t, 'p/f'), 'v1');
    expect((await trove(['--repo', repo, 'init'])).code).toBe(0);
    // Older than the racy margin, so the stat cache remembers p/f.
    utimesSync(join(t, 'p/f'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    expect((await trove(['--repo', repo, 'commit', t, '--ref', 'x'])).code).toBe(0);
    // Another process holds the lock as gc does; the commit scans the tree, then waits for it.
    const holder = spawn('flock', ['-x', join(repo, 'lock'), '-c', 'sleep 2'], { stdio: 'ignore' });
    const gone = new Promise((resolve) => holder.once('exit', resolve));
    const held = () => spawnSync('flock', ['-n', '-s', join(repo, 'lock'), 'true']).status !== 0;
    while (!held()) await new Promise((r) => setTimeout(r, 20));
    const committing = trove(['--repo', repo, 'commit', t, '--ref', 'x']);
    await new Promise((r) => setTimeout(r, 700));
    // Edited in place while the commit waits: the same inode, its directory's entries unchanged.
    writeFileSync(join(t, 'p/f'), 'v2, written while the commit waited');
    await gone;
    expect((await committing).code).toBe(0);
    expect((await trove(['--repo', repo, 'cat', 'x:p/f'])).stdout).toBe('v2, written while the commit waited');
  });

  it('imports again only a directory changed since the scan, and takes the rest of the tree from the scan in step', async () => {
    if (!built) return;
    const make = (t: string) => {
      for (const d of ['a/x', 'a/y/deep', 'b', 'c/d']) mkdirSync(join(t, d), { recursive: true });
      for (const f of ['a/x/f', 'a/y/g', 'a/y/deep/k', 'b/h', 'c/d/i', 'top']) writeFileSync(join(t, f), f);
    };
    const changes: [string, (t: string) => void][] = [
      ['a file added to a/ (found while reading a/x/f, below it)', (t) => writeFileSync(join(t, 'a/new'), 'new')],
      ['a file added to a/y/', (t) => writeFileSync(join(t, 'a/y/new'), 'new')],
      ['a/y/ swapped for a symlink', (t) => {
        renameSync(join(t, 'a/y'), join(t, 'a/y-old'));
        symlinkSync('y-old', join(t, 'a/y'));
      }],
      ['c/d/ made private', (t) => chmodSync(join(t, 'c/d'), 0o700)],
    ];
    for (const [what, change] of changes) {
      const t = join(root, `redo-${changes.findIndex(([w]) => w === what)}`);
      make(t);
      const scan = scanTree(t);
      await scan;
      change(t);
      const store = new MemoryStore();
      const got = await importDir(t, store, { prescan: scan });
      const want = await importDir(t, new MemoryStore(), { prescan: Promise.resolve(undefined) });
      expect(got.tree, what).toBe(want.tree);
      expect(got.report, what).toEqual(want.report);
    }
  });
});
