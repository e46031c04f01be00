import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, createReadStream, chownSync, linkSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setAttributeSync } from 'fs-xattr';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TreeEntry } from '../src/format/types.js';
import type { ObjectId } from '../src/util/hash.js';
import { importSource } from '../src/repo/import/source.js';
import { importTar } from '../src/repo/import/tar.js';
import { readTree } from '../src/repo/objects.js';
import { MemoryStore } from '../src/store/memory.js';
import { getDebs } from './helpers/debs.js';
import { paxRecord, paxTar } from './helpers/pax.js';
import { expectSameTree, statListing } from './helpers/fstree.js';
import { trove } from './helpers/cli.js';
import { xattrsWork } from './helpers/xattrs.js';
import { sh, tmpdir } from './helpers/tmp.js';

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** Every entry of a stored tree by path. */
async function flatten(store: MemoryStore, tree: ObjectId, prefix = ''): Promise<Map<string, TreeEntry>> {
  const out = new Map<string, TreeEntry>();
  for (const e of (await readTree(store, tree)).entries) {
    const path = prefix + e.name;
    out.set(path, e);
    if (e.kind === 'dir') for (const [p, c] of await flatten(store, e.id!, `${path}/`)) out.set(p, c);
  }
  return out;
}


const BIG = 9 * 1024 * 1024 + 17; // past the importer's whole-read limit: read in chunks

/** A directory with every kind of thing an OS tree holds. Needs root (chown). */
function makeSource(root: string, withXattrs: boolean): string {
  const src = join(root, 'src');
  mkdirSync(src, { mode: 0o755 });
  const file = (rel: string, content: string | Buffer, mode = 0o644) => {
    writeFileSync(join(src, rel), content);
    chmodSync(join(src, rel), mode);
  };
  file('hello.txt', 'hello\n');
  file('empty', '');
  file('name with spaces', 'spaces\n');
  file('\u00fcn\u00efcode', 'unicode\n');
  mkdirSync(join(src, 'bin'));
  file('bin/tool', '#!/bin/sh\necho tool\n', 0o4755);
  file('bin/sgid', 'sgid\n', 0o2711);
  file('secret', 'top secret\n', 0o600);
  chownSync(join(src, 'secret'), 1234, 5678);
  mkdirSync(join(src, 'owned'));
  file('owned/file', 'owned by 42\n', 0o640);
  chownSync(join(src, 'owned/file'), 42, 43);
  chownSync(join(src, 'owned'), 42, 43);
  chmodSync(join(src, 'owned'), 0o750);
  mkdirSync(join(src, 'ro'));
  file('ro/inner', 'read only\n', 0o444);
  chmodSync(join(src, 'ro'), 0o555);
  mkdirSync(join(src, 'links'));
  symlinkSync('/etc/passwd', join(src, 'links/abs'));
  symlinkSync('../../../../outside', join(src, 'links/escape'));
  symlinkSync('../hello.txt', join(src, 'links/rel'));
  symlinkSync('nowhere', join(src, 'links/dangling'));
  symlinkSync('../bin', join(src, 'links/dirlink'));
  file('hard1', 'shared inode\n');
  linkSync(join(src, 'hard1'), join(src, 'links/hard2'));
  const big = Buffer.alloc(BIG);
  for (let i = 0; i < BIG; i++) big[i] = (i * 31 + (i >> 12)) & 0xff;
  file('big.bin', big);
  file('xattr.txt', 'has an xattr\n');
  mkdirSync(join(src, 'xattrdir'));
  if (withXattrs) {
    setAttributeSync(join(src, 'xattr.txt'), 'user.test', Buffer.from('trove'));
    setAttributeSync(join(src, 'xattrdir'), 'user.dir', Buffer.from('on a directory'));
  }
  sh('mkfifo', [join(src, 'fifo')]);
  return src;
}

describe('directory import', () => {
  let root: string;
  let src: string;
  let withXattrs: boolean;

  beforeAll(() => {
    root = tmpdir('trove-import');
    withXattrs = xattrsWork(root);
    src = makeSource(root, withXattrs);
  });

  it('stores files, dirs, symlinks, hard links, modes, owners and xattrs; skips the fifo', async () => {
    const store = new MemoryStore();
    const r = await importSource(src, store);
    expect(r.kind).toBe('dir');
    const t = await flatten(store, r.tree);

    expect([...t.keys()].sort()).toEqual(
      [
        'big.bin', 'bin', 'bin/sgid', 'bin/tool', 'empty', 'hard1', 'hello.txt', 'links', 'links/abs', 'links/dangling',
        'links/dirlink', 'links/escape', 'links/hard2', 'links/rel', 'name with spaces', 'owned', 'owned/file', 'ro',
        'ro/inner', 'secret', 'xattr.txt', 'xattrdir', '\u00fcn\u00efcode',
      ].sort(),
    );
    expect(t.get('hello.txt')).toMatchObject({ kind: 'file', id: sha256('hello\n'), size: 6, mode: 0o644, uid: 0, gid: 0 });
    expect(t.get('empty')).toMatchObject({ kind: 'file', id: sha256(''), size: 0 });
    expect(t.get('bin/tool')).toMatchObject({ kind: 'file', mode: 0o4755 });
    expect(t.get('bin/sgid')).toMatchObject({ kind: 'file', mode: 0o2711 });
    expect(t.get('secret')).toMatchObject({ mode: 0o600, uid: 1234, gid: 5678, id: sha256('top secret\n') });
    expect(t.get('owned')).toMatchObject({ kind: 'dir', mode: 0o750, uid: 42, gid: 43, size: 0 });
    expect(t.get('owned/file')).toMatchObject({ mode: 0o640, uid: 42, gid: 43 });
    expect(t.get('ro')).toMatchObject({ kind: 'dir', mode: 0o555 });
    expect(t.get('ro/inner')).toMatchObject({ mode: 0o444 });
    // Symlinks are stored verbatim, wherever they point.
    expect(t.get('links/abs')).toMatchObject({ kind: 'symlink', target: '/etc/passwd', size: 11 });
    expect(t.get('links/escape')).toMatchObject({ kind: 'symlink', target: '../../../../outside' });
    expect(t.get('links/rel')).toMatchObject({ kind: 'symlink', target: '../hello.txt' });
    expect(t.get('links/dangling')).toMatchObject({ kind: 'symlink', target: 'nowhere' });
    expect(t.get('links/dirlink')).toMatchObject({ kind: 'symlink', target: '../bin' });
    expect(t.get('links/abs')).not.toHaveProperty('id');
    // Hard links: two names, one blob.
    expect(t.get('links/hard2')).toMatchObject({ kind: 'file', id: sha256('shared inode\n'), size: 13 });
    expect(t.get('hard1')!.id).toBe(t.get('links/hard2')!.id);
    expect(t.get('big.bin')).toMatchObject({ id: sha256(readFileSync(join(src, 'big.bin'))), size: BIG });
    expect(Buffer.from(await store.get(t.get('big.bin')!.id!)).equals(readFileSync(join(src, 'big.bin')))).toBe(true);
    if (withXattrs) {
      expect(t.get('xattr.txt')!.xattrs.map((x) => [x.name, Buffer.from(x.value).toString()])).toEqual([['user.test', 'trove']]);
      expect(t.get('xattrdir')!.xattrs.map((x) => [x.name, Buffer.from(x.value).toString()])).toEqual([['user.dir', 'on a directory']]);
    }
    expect(t.get('hello.txt')!.xattrs).toEqual([]);

    expect(t.has('fifo')).toBe(false);
    expect(r.report.skipped).toEqual([{ path: 'fifo', reason: 'fifo' }]);
    expect(r.report).toMatchObject({ files: 13, symlinks: 5, dirs: 5 });
    expect(r.root).toMatchObject({ mode: 0o755, uid: 0, gid: 0 });
  });

  it('does not store mtimes: touching files and dirs gives the same tree id; a chmod does not', async () => {
    const first = await importSource(src, new MemoryStore());
    const old = new Date('2001-02-03T04:05:06Z');
    for (const p of ['hello.txt', 'big.bin', 'bin', 'ro/inner', '.']) utimesSync(join(src, p), old, old);
    expect(statSync(join(src, 'hello.txt')).mtime.getTime()).toBe(old.getTime());
    const second = await importSource(src, new MemoryStore());
    expect(second.tree).toBe(first.tree);
    expect(second.root).toEqual(first.root);

    chmodSync(join(src, 'empty'), 0o640);
    try {
      const third = await importSource(src, new MemoryStore());
      expect(third.tree).not.toBe(first.tree);
    } finally {
      chmodSync(join(src, 'empty'), 0o644);
    }
  });

  it.each([
    ['.tar', [] as string[]],
    ['.tar.gz', ['-z']],
    ['.tar.xz', ['-J']],
    ['.tar.zst', ['--zstd']],
  ])('a %s of the same directory gives the same tree id', async (ext, flags) => {
    const dirImport = await importSource(src, new MemoryStore());
    const archive = join(root, `src${ext}`);
    sh('tar', ['--xattrs', '--numeric-owner', ...flags, '-C', src, '-cf', archive, '.'], { env: { XZ_OPT: '-1' } });
    // The fixture really exercises hard-link members.
    expect(sh('tar', ['-tvf', archive])).toMatch(/links\/hard2 link to \.\/hard1|hard1 link to \.\/links\/hard2/);
    const store = new MemoryStore();
    const tarImport = await importSource(archive, store);
    expect(tarImport.kind).toBe('tar');
    expect(tarImport.tree).toBe(dirImport.tree);
    expect(tarImport.root).toEqual(dirImport.root);
    expect(tarImport.report.skipped.map((s) => s.reason)).toEqual(['fifo']);
    expect(tarImport.report.files).toBe(dirImport.report.files);
    expect(tarImport.report.symlinks).toBe(dirImport.report.symlinks);
    const t = await flatten(store, tarImport.tree);
    expect(Buffer.from(await store.get(t.get('big.bin')!.id!)).equals(readFileSync(join(src, 'big.bin')))).toBe(true);
  });
});

describe('a source directory given as a symlink', () => {
  it('records the root metadata of the directory it points at, not the link\'s 0777', async () => {
    const root = tmpdir('trove-linked-root');
    const dir = join(root, 'target');
    mkdirSync(dir);
    writeFileSync(join(dir, 'f'), 'through a link\n');
    chmodSync(dir, 0o750);
    chownSync(dir, 7, 8);
    const link = join(root, 'link');
    symlinkSync(dir, link);
    expect(lstatSync(link).mode & 0o7777).toBe(0o777);

    const direct = await importSource(dir, new MemoryStore());
    expect(direct.root).toMatchObject({ mode: 0o750, uid: 7, gid: 8 });
    for (const path of [link, `${link}/`]) {
      const viaLink = await importSource(path, new MemoryStore());
      expect(viaLink.root).toEqual(direct.root);
      expect(viaLink.tree).toBe(direct.tree);
    }
    // Below the top, a symlink to a directory is still a symlink.
    symlinkSync(dir, join(dir, 'inner'));
    const store = new MemoryStore();
    const t = await flatten(store, (await importSource(link, store)).tree);
    expect(t.get('inner')).toMatchObject({ kind: 'symlink', target: dir });
  });
});

describe('PAX xattrs', () => {
  // A vfs_cap_data v2 value (cap_setuid=ep): NUL bytes and a 0x80 that is not UTF-8.
  const CAPABILITY = Buffer.from('0100000280000000000000000000000000000000', 'hex');

  it('keeps a binary value byte for byte (security.capability)', async () => {
    const pax = Buffer.concat([paxRecord('SCHILY.xattr.security.capability', CAPABILITY), paxRecord('SCHILY.xattr.user.text', 'plain')]);
    const store = new MemoryStore();
    const r = await importTar(Readable.from([paxTar(pax, 'ping', 'ping\n')]), store);
    const e = (await flatten(store, r.tree)).get('ping')!;
    expect(e).toMatchObject({ kind: 'file', id: sha256('ping\n') });
    expect(e.xattrs.map((x) => [x.name, Buffer.from(x.value).toString('hex')])).toEqual([
      ['security.capability', CAPABILITY.toString('hex')],
      ['user.text', Buffer.from('plain').toString('hex')],
    ]);
  });

  it('reads what GNU tar --xattrs writes, binary values included', async () => {
    const root = tmpdir('trove-gnu-xattrs');
    if (!xattrsWork(root)) return;
    const value = Buffer.from([0x00, 0xff, 0xfe, 0x0a, 0x3d, 0x01, 0x80]); // NUL, invalid UTF-8, newline, '='
    mkdirSync(join(root, 'd'));
    writeFileSync(join(root, 'd', 'f'), 'tagged\n');
    setAttributeSync(join(root, 'd', 'f'), 'user.bin', value);
    sh('tar', ['--xattrs', '--xattrs-include=user.*', '--numeric-owner', '-C', join(root, 'd'), '-cf', join(root, 'x.tar'), '.']);
    const store = new MemoryStore();
    const r = await importSource(join(root, 'x.tar'), store);
    const e = (await flatten(store, r.tree)).get('f')!;
    expect(e.xattrs.map((x) => [x.name, Buffer.from(x.value).toString('hex')])).toEqual([['user.bin', value.toString('hex')]]);
  });
});

describe('tar streams', () => {
  it('imports an archive that is a byte range of a bigger file and fits in one chunk', async () => {
    // This is how a .deb member is read; the whole range arrives before the compression is sniffed.
    const root = tmpdir('trove-range');
    mkdirSync(join(root, 'd'));
    writeFileSync(join(root, 'd', 'f'), 'in a range\n');
    sh('tar', ['--numeric-owner', '-C', join(root, 'd'), '-czf', join(root, 'a.tar.gz'), '.']);
    const tgz = readFileSync(join(root, 'a.tar.gz'));
    const padded = join(root, 'padded');
    writeFileSync(padded, Buffer.concat([Buffer.alloc(1000, 0x55), tgz, Buffer.alloc(1000, 0xaa)]));
    const store = new MemoryStore();
    const ranged = await importTar(createReadStream(padded, { start: 1000, end: 1000 + tgz.length - 1 }), store);
    const whole = await importSource(join(root, 'a.tar.gz'), new MemoryStore());
    expect(ranged.tree).toBe(whole.tree);
    expect((await flatten(store, ranged.tree)).get('f')).toMatchObject({ id: sha256('in a range\n') });
  });
});

describe('.deb import matches dpkg-deb -x', () => {
  let repo: string;
  beforeAll(async () => {
    repo = join(tmpdir('trove-deb'), 'repo');
    expect((await trove(['init', '--repo', repo])).code).toBe(0);
  });

  // hello: plain; tzdata: hundreds of symlinks; perl-base: a hard link (perl5.36.0 -> perl).
  it.each(['hello', 'tzdata', 'perl-base'])('%s', async (name) => {
    const [deb] = getDebs([name]);
    const work = tmpdir(`trove-deb-${name}`);
    const ref = `deb/${name}`;
    const c = await trove(['commit', deb!, '--repo', repo, '-r', ref, '--json']);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    expect(JSON.parse(c.stdout)).toMatchObject({ kind: 'deb' });
    const expected = join(work, 'expected');
    sh('dpkg-deb', ['-x', deb!, expected]);
    const out = join(work, 'checkout');
    const co = await trove(['checkout', '--hardlink', '--repo', repo, ref, out]);
    expect(co.stderr).toBe('');
    expect(co.code).toBe(0);
    expectSameTree(expected, out);
    // A real package: many paths, and the comparison covered every one.
    expect(statListing(out).length).toBeGreaterThan(20);

    const hardLinked = spawnSync('find', [expected, '-type', 'f', '-links', '+1', '-printf', '%i %P\\n'], { encoding: 'utf8' }).stdout;
    if (name === 'perl-base') {
      expect(hardLinked).toMatch(/usr\/bin\/perl5\.\d+\.\d+\n/);
      const a = statSync(join(out, 'usr/bin/perl'));
      const b = statSync(join(out, hardLinked.match(/usr\/bin\/perl5\.\d+\.\d+/)![0]));
      expect(b.ino).toBe(a.ino);
    }
    if (name === 'tzdata') expect(statListing(out).filter((l) => / l /.test(l)).length).toBeGreaterThan(100);
  });
});
