// A small file of a commit read whole in one call below its directory's descriptor
// (native/dirscan.c readAt, src/util/stat-at.ts readFileAt): its bytes and fstat when it is the
// regular file the lstat named, and nothing (the caller's usual way) for anything else.
import { closeSync, lstatSync, mkdirSync, openSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { setAttributeSync } from 'fs-xattr';
import { DIR_NOFOLLOW, READ_NOFOLLOW } from '../src/util/fd-path.js';
import { readFileAt } from '../src/util/stat-at.js';
import { xattrsWork } from './helpers/xattrs.js';
import { tmpdir } from './helpers/tmp.js';

describe('readFileAt', () => {
  const dir = tmpdir('trove-read-file-at');
  const at = (fn: (fd: number) => void) => {
    const fd = openSync(dir, DIR_NOFOLLOW);
    try {
      fn(fd);
    } finally {
      closeSync(fd);
    }
  };

  it('reads a regular file whole into the room given, with the fstat Node gives', () => {
    writeFileSync(join(dir, 'a'), 'hello, trove\n', { mode: 0o640 });
    const st = lstatSync(join(dir, 'a'));
    at((fd) => {
      const into = new Uint8Array(64).subarray(8, 8 + st.size);
      const got = readFileAt(fd, 'a', READ_NOFOLLOW, st, into, true);
      expect(Buffer.from(got!.bytes).toString()).toBe('hello, trove\n');
      expect(got!.bytes.byteOffset).toBe(8);
      for (const k of ['mode', 'uid', 'gid', 'size', 'mtimeMs', 'ctimeMs', 'ino', 'dev'] as const) expect(got!.st[k], k).toBe(st[k]);
    });
  });

  it('reads an empty file, and one that shrank since its lstat (its bytes as they are now)', () => {
    writeFileSync(join(dir, 'empty'), '');
    writeFileSync(join(dir, 'shrinks'), 'x'.repeat(100));
    const empty = lstatSync(join(dir, 'empty'));
    const before = lstatSync(join(dir, 'shrinks'));
    writeFileSync(join(dir, 'shrinks'), 'y'.repeat(10));
    at((fd) => {
      expect(readFileAt(fd, 'empty', READ_NOFOLLOW, empty, new Uint8Array(0), true)!.bytes.length).toBe(0);
      const got = readFileAt(fd, 'shrinks', READ_NOFOLLOW, before, new Uint8Array(before.size), true);
      expect(Buffer.from(got!.bytes).toString()).toBe('y'.repeat(10));
      expect(got!.st.size).toBe(10);
    });
  });

  it('gives nothing for a file that grew past its room, another inode, a symlink, a directory or a fifo', () => {
    writeFileSync(join(dir, 'grows'), 'x'.repeat(10));
    const small = lstatSync(join(dir, 'grows'));
    writeFileSync(join(dir, 'grows'), 'x'.repeat(11));
    writeFileSync(join(dir, 'swapped'), 'first');
    const first = lstatSync(join(dir, 'swapped'));
    writeFileSync(join(dir, 'other'), 'second');
    renameSync(join(dir, 'other'), join(dir, 'swapped'));
    symlinkSync('a', join(dir, 'link'));
    mkdirSync(join(dir, 'sub'));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    at((fd) => {
      expect(readFileAt(fd, 'grows', READ_NOFOLLOW, small, new Uint8Array(10), true)).toBeUndefined();
      expect(readFileAt(fd, 'swapped', READ_NOFOLLOW, first, new Uint8Array(16), true)).toBeUndefined();
      // Named by its own lstat, it reads: the refusal above is of the swap, not of the file.
      expect(readFileAt(fd, 'swapped', READ_NOFOLLOW, lstatSync(join(dir, 'swapped')), new Uint8Array(16), true)).toBeDefined();
      expect(readFileAt(fd, 'link', READ_NOFOLLOW, lstatSync(join(dir, 'link')), new Uint8Array(16), true)).toBeUndefined();
      expect(readFileAt(fd, 'sub', READ_NOFOLLOW, lstatSync(join(dir, 'sub')), new Uint8Array(16), true)).toBeUndefined();
      expect(readFileAt(fd, 'fifo', READ_NOFOLLOW, lstatSync(join(dir, 'fifo')), new Uint8Array(16), true)).toBeUndefined();
      expect(readFileAt(fd, 'missing', READ_NOFOLLOW, small, new Uint8Array(16), true)).toBeUndefined();
    });
  });

  it('gives nothing for a file with xattrs when they are wanted (the caller reads them), its bytes when not', (ctx) => {
    if (!xattrsWork(dir)) {
      // The filesystems CI runs on take user xattrs: only another machine's may skip this.
      expect(process.env.CI, `${dir} refuses user xattrs on this CI machine`).toBeFalsy();
      ctx.skip();
      return;
    }
    writeFileSync(join(dir, 'tagged'), 'tagged');
    setAttributeSync(join(dir, 'tagged'), 'user.tag', Buffer.from('1'));
    const st = lstatSync(join(dir, 'tagged'));
    at((fd) => {
      expect(readFileAt(fd, 'tagged', READ_NOFOLLOW, st, new Uint8Array(st.size), true)).toBeUndefined();
      expect(Buffer.from(readFileAt(fd, 'tagged', READ_NOFOLLOW, st, new Uint8Array(st.size), false)!.bytes).toString()).toBe('tagged');
    });
  });
});
