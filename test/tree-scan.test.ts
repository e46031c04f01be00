// A whole tree listed and stated ahead of its import (scanTree in native/dirscan.c,
// src/util/stat-at.ts, importDir's prescan): the scan must visit directories in the order the
// import does, give the numbers lstat gives, leave to the import what it could not list, and an
// import must come out the same with the scan, without it and with a scan cut short, and refuse a
// directory swapped after the scan instead of reading through it.
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareNames } from '../src/format/names.js';
import { importDir, prescanDir } from '../src/repo/import/dir.js';
import { MemoryStore } from '../src/store/memory.js';
import { addonPath, loadAddon } from '../src/util/native-addon.js';
import { scanTree, type TreeScan } from '../src/util/stat-at.js';
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

  it('refuses a directory swapped for a symlink after the scan instead of reading through it', async () => {
    if (!built) return;
    const t = join(root, 'swap');
    mkdirSync(join(t, 'd'), { recursive: true });
    mkdirSync(join(root, 'elsewhere'));
    writeFileSync(join(t, 'd/secret'), 'what the scan saw');
    writeFileSync(join(root, 'elsewhere/secret'), 'outside the tree');
    const scan = await scanTree(t);
    renameSync(join(t, 'd'), join(t, 'd-old'));
    symlinkSync(join(root, 'elsewhere'), join(t, 'd'));
    const store = new MemoryStore();
    await expect(importDir(t, store, { prescan: Promise.resolve(scan) })).rejects.toThrow(/d\/secret changed while it was being read/);
    for await (const id of store.list()) expect(Buffer.from(await store.get(id)).toString()).not.toBe('outside the tree');
  });
});
