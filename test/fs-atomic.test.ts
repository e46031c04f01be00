import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replaceAtomic, replaceAtomicSync, symlinkAtomic, tempName, tempOwner, writeFileAtomic } from '../src/util/fs-atomic.js';
import { tmpdir } from './helpers/tmp.js';

function scratch(): { dir: string; tmp: string } {
  const dir = tmpdir('trove-fs-atomic');
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  return { dir, tmp };
}

describe('fs-atomic', () => {
  it('writes a new file and replaces an old one, leaving no temp file', async () => {
    const { dir, tmp } = scratch();
    const path = join(dir, 'a', 'b', 'file');
    await writeFileAtomic(path, 'one\n', { tmpDir: tmp });
    expect(readFileSync(path, 'utf8')).toBe('one\n');
    await writeFileAtomic(path, Buffer.from('two\n'), { tmpDir: tmp, fsync: true });
    expect(readFileSync(path, 'utf8')).toBe('two\n');
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('applies the mode', async () => {
    const { dir, tmp } = scratch();
    const old = process.umask(0o022);
    try {
      await writeFileAtomic(join(dir, 'x'), 'x', { tmpDir: tmp, mode: 0o755 });
      await writeFileAtomic(join(dir, 'y'), 'y', { tmpDir: tmp });
      await writeFileAtomic(join(dir, 'z'), 'z', { tmpDir: tmp, mode: 0o600 });
    } finally {
      process.umask(old);
    }
    expect(statSync(join(dir, 'x')).mode & 0o7777).toBe(0o755);
    expect(statSync(join(dir, 'y')).mode & 0o7777).toBe(0o644);
    expect(statSync(join(dir, 'z')).mode & 0o7777).toBe(0o600);
  });

  it('a failed write leaves the old content and no temp file', async () => {
    const { dir, tmp } = scratch();
    const path = join(dir, 'file');
    writeFileSync(path, 'old');
    const boom = new Error('boom');
    await expect(
      replaceAtomic(path, { tmpDir: tmp }, async (t) => {
        writeFileSync(t, 'half of the new');
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(tmp)).toEqual([]);
    expect(() =>
      replaceAtomicSync(path, { tmpDir: tmp }, (t) => {
        writeFileSync(t, 'half');
        throw boom;
      }),
    ).toThrow(boom);
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('a failed rename leaves the old content and no temp file', async () => {
    const { dir, tmp } = scratch();
    // A non-empty directory cannot be replaced by a file: rename fails with EISDIR.
    const path = join(dir, 'dir');
    mkdirSync(join(path, 'inside'), { recursive: true });
    await expect(writeFileAtomic(path, 'new', { tmpDir: tmp })).rejects.toMatchObject({ code: 'EISDIR' });
    expect(statSync(join(path, 'inside')).isDirectory()).toBe(true);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('the sync variant returns what fill returns and replaces the file', () => {
    const { dir, tmp } = scratch();
    const path = join(dir, 'file');
    writeFileSync(path, 'old');
    const r = replaceAtomicSync(path, { tmpDir: tmp, fsync: true }, (t) => {
      writeFileSync(t, 'new');
      return 7;
    });
    expect(r).toBe(7);
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('swaps a symlink by creating it beside the link', async () => {
    const { dir } = scratch();
    const link = join(dir, 'links', 'current');
    await symlinkAtomic('/one', link, { tag: '.current.trove' });
    expect(readlinkSync(link)).toBe('/one');
    symlinkSync('/ignored', join(dir, 'other'));
    await symlinkAtomic('/two', link, { tag: '.current.trove' });
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('/two');
    expect(readdirSync(join(dir, 'links'))).toEqual(['current']);
  });

  it('temp names are unique and carry the pid the stale-temp sweep reads', () => {
    const names = new Set(Array.from({ length: 1000 }, () => tempName('/x', 'ref')));
    expect(names.size).toBe(1000);
    for (const n of [...names].slice(0, 3)) {
      expect(n.startsWith(`/x/ref-${process.pid}-`)).toBe(true);
      expect(tempOwner(basename(n))).toBe(process.pid);
    }
    // The old gc-epoch temp name was invisible to the sweep; its tag now is one word.
    expect(tempOwner(`gc-epoch-${process.pid}`)).toBeUndefined();
    expect(tempOwner(basename(tempName('/x', 'gcepoch')))).toBe(process.pid);
    expect(tempOwner('.current.trove-12-ab')).toBeUndefined();
  });
});
