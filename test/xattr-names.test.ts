// The xattrs of a file a commit holds open, listed by one flistxattr on its descriptor
// (native/dirscan.c xattrNames, src/repo/import/xattrs.ts), against fs-xattr's list by path.
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { setAttributeSync } from 'fs-xattr';
import { readXattrs } from '../src/repo/import/xattrs.js';
import { loadAddon } from '../src/util/native-addon.js';
import { xattrsWork } from './helpers/xattrs.js';
import { tmpdir } from './helpers/tmp.js';

type XattrNames = { xattrNames(fd: number): string | number };
const addon = loadAddon<XattrNames>('dirscan');

/** readXattrs by descriptor and by path, for the file or directory at `path`. */
function both(path: string): { byFd: [string, string][]; byPath: [string, string][] } {
  const fd = openSync(path, 'r');
  try {
    const pairs = (xs: ReturnType<typeof readXattrs>) => xs.map((x): [string, string] => [x.name, Buffer.from(x.value).toString()]).sort();
    return { byFd: pairs(readXattrs(`/proc/self/fd/${fd}`, fd)), byPath: pairs(readXattrs(path)) };
  } finally {
    closeSync(fd);
  }
}

describe('xattr names by descriptor', () => {
  const dir = tmpdir('trove-xattr-names');
  // tmpfs takes user xattrs whose names add up to more than a page (ext4 keeps them in one block).
  const shm = join('/dev/shm', `trove-xattr-names-${process.pid}`);
  afterAll(() => rmSync(shm, { recursive: true, force: true }));

  it('is built (the commit falls back to fs-xattr without it)', () => {
    expect(addon?.xattrNames).toBeTypeOf('function');
  });

  it('gives none for a file without xattrs, and the same names and values as a list by path', () => {
    const plain = join(dir, 'plain');
    writeFileSync(plain, 'x');
    expect(both(plain)).toEqual({ byFd: [], byPath: [] });
    const fd = openSync(plain, 'r');
    expect(addon!.xattrNames(fd)).toBe('');
    closeSync(fd);
    if (!xattrsWork(dir)) return;
    const file = join(dir, 'file');
    writeFileSync(file, 'y');
    setAttributeSync(file, 'user.one', Buffer.from('1'));
    setAttributeSync(file, 'user.two', Buffer.from('second'));
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    setAttributeSync(sub, 'user.dir', Buffer.from('on a directory'));
    expect(both(file).byFd).toEqual([['user.one', '1'], ['user.two', 'second']]);
    expect(both(file).byFd).toEqual(both(file).byPath);
    expect(both(sub).byFd).toEqual([['user.dir', 'on a directory']]);
  });

  it('lists names adding up to more than its first buffer (4 KiB)', (ctx) => {
    mkdirSync(shm, { recursive: true });
    if (!xattrsWork(shm)) {
      // Linux 6.6 and later take user xattrs on tmpfs: only an older kernel outside CI may skip this.
      expect(process.env.CI, 'tmpfs refuses user xattrs on this CI machine').toBeFalsy();
      ctx.skip();
      return;
    }
    const file = join(shm, 'many');
    writeFileSync(file, 'z');
    const names = Array.from({ length: 40 }, (_, i) => `user.${String(i).padStart(3, '0')}${'n'.repeat(200)}`);
    for (const n of names) setAttributeSync(file, n, Buffer.from(n.slice(5, 8)));
    const { byFd, byPath } = both(file);
    expect(byFd.map(([n]) => n)).toEqual(names.slice().sort());
    expect(byFd).toEqual(byPath);
  });

  it('answers a negative errno for a descriptor that is not open', () => {
    expect(addon!.xattrNames(1 << 20)).toBe(-9);
  });
});
