// A directory's entries stated in one call (native/dirscan.c, src/util/stat-at.ts): the numbers
// must be the ones node:fs gives, to the bit, since the stat cache compares them with numbers a
// Stats gave when it recorded an entry.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, fsyncSync, lstatSync, mkdirSync, openSync, symlinkSync, truncateSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addonPath, loadAddon } from '../src/util/native-addon.js';
import { lstatAllAt } from '../src/util/stat-at.js';
import { readFiles, warmFiles } from '../src/util/file-batches.js';
import { removeTree, tmpdir } from './helpers/tmp.js';

const FIELDS = ['mode', 'uid', 'gid', 'size', 'mtimeMs', 'ctimeMs', 'ino', 'dev'] as const;
const KINDS = ['isFile', 'isDirectory', 'isSymbolicLink', 'isFIFO', 'isSocket', 'isCharacterDevice'] as const;

describe('lstatAllAt', () => {
  const dir = tmpdir('trove-stat-at');
  afterAll(() => removeTree(dir));

  it('gives every field and file type as lstatSync does, and undefined for a name not there', () => {
    // npm test builds the addon (scripts/build-native.mjs); elsewhere the importer stats entries from JavaScript.
    if (process.env.CI) expect(loadAddon('dirscan'), `${addonPath('dirscan')} (npm test builds it)`).not.toBeNull();
    if (loadAddon('dirscan') === null) {
      expect(lstatAllAt(0, ['x'])).toBeUndefined();
      return;
    }
    writeFileSync(join(dir, 'file'), 'content');
    // Times with nanoseconds (a change time of now, a modification time before 1970: Node's utimes
    // takes no negative time, touch does), and a size past 2^32 (sparse).
    expect(spawnSync('touch', ['-m', '-d', '1969-07-20 20:17:40.123456789 UTC', join(dir, 'file')]).status).toBe(0);
    writeFileSync(join(dir, 'later'), '');
    utimesSync(join(dir, 'later'), 1_700_000_000.5, 1_700_000_000.25);
    writeFileSync(join(dir, 'big'), '');
    truncateSync(join(dir, 'big'), 2 ** 40 + 3);
    mkdirSync(join(dir, 'sub'));
    symlinkSync('../elsewhere/ünïcode', join(dir, 'link'));
    writeFileSync(join(dir, 'naïve – ☃'), 'x');
    expect(spawnSync('mkfifo', [join(dir, 'fifo')]).status).toBe(0);
    const names = ['file', 'big', 'sub', 'link', 'naïve – ☃', 'fifo', 'later', 'missing', 'x'.repeat(300)];
    const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      const got = lstatAllAt(fd, names)!;
      expect(got).toHaveLength(names.length);
      for (const [i, name] of names.entries()) {
        if (name === 'missing' || name.length === 300) {
          expect(got[i], name).toBeUndefined();
          continue;
        }
        const want = lstatSync(join(dir, name));
        const mine = got[i]!;
        for (const f of FIELDS) expect(Object.is(mine[f], want[f]), `${name}.${f}: ${mine[f]} against ${want[f]}`).toBe(true);
        for (const k of KINDS) expect(mine[k](), `${name}.${k}()`).toBe(want[k]());
      }
      // What the cases above were made to test, as set.
      expect(got[0]!.mtimeMs).toBeLessThan(0);
      expect(got[0]!.mtimeMs % 1).not.toBe(0);
      expect(got[6]!.mtimeMs).toBe(1_700_000_000_250);
      expect(got[1]!.size).toBe(2 ** 40 + 3);
    } finally {
      closeSync(fd);
    }
  });
});

describe('warmFiles', () => {
  const dir = tmpdir('trove-warm');
  afterAll(() => removeTree(dir));

  /** Pages of `path` in the page cache (fincore, util-linux). */
  const resident = (path: string) => Number(spawnSync('fincore', ['-n', '-b', '-o', 'RES', path], { encoding: 'utf8' }).stdout.trim());

  it('brings the first maxBytes of each regular file into the page cache, and counts only those it could open', async () => {
    if (process.env.CI) expect(loadAddon('dirscan'), `${addonPath('dirscan')} (npm test builds it)`).not.toBeNull();
    if (loadAddon('dirscan') === null) {
      expect(warmFiles([join(dir, 'x')], 1)).toBeUndefined();
      return;
    }
    const files = ['a', 'b'].map((n) => join(dir, n));
    for (const f of files) {
      const fd = openSync(f, 'w');
      writeSync(fd, Buffer.alloc(4 << 20, 7));
      fsyncSync(fd);
      closeSync(fd);
      // Written back, so the pages can be dropped: dd's nocache asks the kernel to let them go.
      expect(spawnSync('dd', [`if=${f}`, 'iflag=nocache', 'count=0', 'status=none']).status).toBe(0);
    }
    expect(spawnSync('mkfifo', [join(dir, 'fifo')]).status).toBe(0);
    mkdirSync(join(dir, 'sub'));
    expect(files.map(resident), 'the pages were dropped before the call').toEqual([0, 0]);
    // A FIFO (opened without blocking), a directory, a missing file and a name with a NUL are passed over.
    const n = await warmFiles([files[0]!, join(dir, 'fifo'), join(dir, 'sub'), join(dir, 'missing'), `${files[1]}\0x`, files[1]!], 1 << 20)!;
    expect(n).toBe(2);
    // The read is started, not waited for. The whole first MiB, also where the device's limits
    // (read_ahead_kb 128, max_sectors_kb 1020) cap one advice a page short of it.
    const deadline = Date.now() + 5000;
    while (files.some((f) => resident(f) < 1 << 20) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const f of files) expect(resident(f), f).toBeGreaterThanOrEqual(1 << 20);
    // Not much past maxBytes: the kernel's own read-ahead window at most.
    for (const f of files) expect(resident(f), f).toBeLessThan(4 << 20);
  });
});

describe('readFiles', () => {
  const dir = tmpdir('trove-read-files');
  afterAll(() => removeTree(dir));

  it('reads each regular file whole, and answers the others with a negative errno', async () => {
    if (process.env.CI) expect(loadAddon('dirscan'), `${addonPath('dirscan')} (npm test builds it)`).not.toBeNull();
    if (loadAddon('dirscan') === null) return expect(readFiles([join(dir, 'x')], 1)).toBeUndefined();
    writeFileSync(join(dir, 'small'), 'twelve bytes');
    writeFileSync(join(dir, 'empty'), '');
    writeFileSync(join(dir, 'big'), Buffer.alloc(100, 1));
    expect(spawnSync('mkfifo', [join(dir, 'fifo')]).status).toBe(0);
    mkdirSync(join(dir, 'sub'));
    symlinkSync('small', join(dir, 'link'));
    const names = ['small', 'empty', 'big', 'fifo', 'sub', 'link', 'missing'];
    const got = await readFiles([...names.map((n) => join(dir, n)), `${join(dir, 'small')}\0x`], 50)!;
    expect(got.map((r) => (typeof r === 'number' ? r : r.toString()))).toEqual([
      'twelve bytes',
      '',
      -osConstants.errno.EFBIG,
      -osConstants.errno.EINVAL,
      -osConstants.errno.EINVAL,
      // Symlinks are not followed.
      -osConstants.errno.ELOOP,
      -osConstants.errno.ENOENT,
      -osConstants.errno.EINVAL,
    ]);
  });
});
