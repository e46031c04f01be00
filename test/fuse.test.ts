import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  opendirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { getAttributeSync, listAttributesSync } from 'fs-xattr';
import { beforeAll, describe, expect, it } from 'vitest';
import { trove as schema } from '../src/format/generated/trove.js';
import type { Tree, TreeEntry } from '../src/format/types.js';
import { hashBytes, type ObjectId } from '../src/util/hash.js';
import { TroveError } from '../src/util/errors.js';
import { BlobReader } from '../src/fuse/blobs.js';
import { startDaemon } from '../src/fuse/daemon.js';
import { ERR } from '../src/fuse/errno.js';
import { type FuseHandlers, getBaseHandlers } from '../src/fuse/handlers.js';
import { Lru } from '../src/fuse/lru.js';
import { decodeCommit, decodeTree } from '../src/format/codec.js';
import { loadAddon } from '../src/util/native-addon.js';
import { FUSE3_ADDON, fuseOptions, inodeLimit, polling } from '../src/fuse/native.js';
import { type ReadTree, RepoSource } from '../src/fuse/source.js';
import type { Stat } from '../src/fuse/view.js';
import { TroveView } from '../src/fuse/view.js';
import { writeCommit, writeTree } from '../src/repo/objects.js';
import { Repo } from '../src/repo/repo.js';
import { expectSameTree } from './helpers/fstree.js';
import { alive, mountpoints, mountRepo, skipFuse, until } from './helpers/fuse.js';
import { trove, TROVE_BIN } from './helpers/cli.js';
import { sh, tmpdir } from './helpers/tmp.js';

const TIME = 1_700_000_000;
const utf8 = (s: string) => new Uint8Array(Buffer.from(s));

/** A repository written object by object, with every kind of entry and some hostile ones. */
interface Fixture {
  repo: Repo;
  a: ObjectId;
  b: ObjectId;
  bigA: Buffer;
  bigB: Buffer;
  blobs: Record<'gone' | 'short' | 'cached', ObjectId>;
}

async function buildFixture(dir: string): Promise<Fixture> {
  const repo = await Repo.init(join(dir, 'repo'));
  const s = repo.store;
  const put = async (bytes: Uint8Array) => (await s.put(bytes)).id;
  const file = (name: string, id: ObjectId, size: number, extra: Partial<TreeEntry> = {}): TreeEntry => ({
    name,
    kind: 'file',
    id,
    mode: 0o644,
    uid: 0,
    gid: 0,
    size,
    xattrs: [],
    ...extra,
  });
  const dirEntry = (name: string, id: ObjectId, extra: Partial<TreeEntry> = {}): TreeEntry => ({
    name,
    kind: 'dir',
    id,
    mode: 0o755,
    uid: 0,
    gid: 0,
    size: 0,
    xattrs: [],
    ...extra,
  });
  const link = (name: string, target: string): TreeEntry => ({
    name,
    kind: 'symlink',
    target,
    mode: 0o777,
    uid: 0,
    gid: 0,
    size: Buffer.byteLength(target),
    xattrs: [],
  });

  const hello = utf8('hello\n');
  const helloId = await put(hello);
  const bigA = randomBytes((1 << 20) + 17);
  const bigB = randomBytes((1 << 20) + 17);
  const empty = await writeTree(s, { entries: [] });
  const emptyFile = await put(new Uint8Array());
  const gone = await put(utf8('this object will be deleted\n'));
  const short = await put(utf8('this object will be truncated to a few bytes\n'));
  const cached = await put(utf8('read once, then served from the page cache\n'));
  // Garbage where a tree should be, and a tree with a name that escapes.
  const garbage = await put(utf8('not a protobuf tree \xff\xff'));
  const escaping = await put(
    schema.v1.Tree.encode({ entries: [{ name: '..', kind: schema.v1.EntryKind.ENTRY_KIND_FILE, id: Buffer.from(helloId, 'hex'), mode: 0o644, size: 6 }] }).finish(),
  );
  const many = await writeTree(s, { entries: Array.from({ length: 3000 }, (_, i) => file(`f${String(i).padStart(5, '0')}`, helloId, 6)) });

  const tree = async (big: Buffer, greeting: string) => {
    const bin = await writeTree(s, { entries: [file('bash', await put(big), big.length, { mode: 0o755 }), link('sh', 'bash')] });
    const etc = await writeTree(s, {
      entries: [
        file('greet', await put(utf8(greeting)), greeting.length),
        file('secret', helloId, 6, { mode: 0o600, uid: 1000, gid: 100, xattrs: [{ name: 'user.note', value: utf8('kept') }] }),
      ],
    });
    const lib = await writeTree(s, { entries: [dirEntry('a', empty), dirEntry('b', empty), file('libc.so', helloId, 6)] });
    return writeTree(s, {
      entries: [
        dirEntry('bin', bin),
        dirEntry('etc', etc),
        dirEntry('lib', lib),
        dirEntry('bad', garbage),
        dirEntry('evil', escaping),
        dirEntry('many', many),
        file('empty', emptyFile, 0),
        file('gone', gone, 28),
        file('short', short, 45),
        file('cached', cached, 43),
        file('liar', helloId, 2 ** 40),
        link('abs', '/etc/greet'),
      ],
    });
  };
  const commit = async (treeId: ObjectId, subject: string) =>
    writeCommit(s, { tree: treeId, root: { mode: 0o755, uid: 0, gid: 0, xattrs: [] }, parents: [], subject, body: '', timestamp: TIME, metadata: [] });
  const a = await commit(await tree(bigA, 'hello from A\n'), 'A');
  const b = await commit(await tree(bigB, 'hello from B\n'), 'B');
  await repo.refs.write('main', a);
  await repo.refs.write('pkg/bash/amd64', b);
  mkdirSync(join(repo.path, 'profiles', 'system'), { recursive: true });
  writeFileSync(join(repo.path, 'profiles', 'system', '1'), `${a}\n`);
  writeFileSync(join(repo.path, 'profiles', 'system', '2'), `${b}\n`);
  return { repo, a, b, bigA, bigB, blobs: { gone, short, cached } };
}

/** The handlers as promises. */
function client(h: FuseHandlers) {
  return {
    getattr: (p: string) => new Promise<{ errno: number; st?: Stat }>((r) => h.getattr(p, (errno, st) => r({ errno, st }))),
    readdir: (p: string) =>
      new Promise<{ errno: number; names?: string[]; stats?: Pick<Stat, 'ino' | 'mode'>[] }>((r) =>
        h.readdir(p, (errno, names, stats) => r({ errno, names, stats })),
      ),
    readdirplus: (p: string) =>
      new Promise<{ errno: number; names?: string[]; stats?: (Stat | Pick<Stat, 'ino' | 'mode'>)[]; plus?: boolean }>((r) =>
        h.readdirplus(p, (errno, names, stats, plus) => r({ errno, names, stats, plus })),
      ),
    readlink: (p: string) => new Promise<{ errno: number; target?: string }>((r) => h.readlink(p, (errno, target) => r({ errno, target }))),
    open: (p: string, flags: number) => new Promise<number>((r) => h.open(p, flags, (errno) => r(errno))),
    read: (p: string, len: number, pos: number) =>
      new Promise<{ n: number; data: Buffer }>((r) => {
        const buf = Buffer.alloc(len);
        h.read(p, 0, buf, len, pos, (n) => r({ n, data: buf.subarray(0, Math.max(n, 0)) }));
      }),
    getxattr: (p: string, name: string) => new Promise<{ errno: number; value?: Buffer }>((r) => h.getxattr(p, name, 0, (errno, value) => r({ errno, value }))),
    listxattr: (p: string) => new Promise<{ errno: number; names?: string[] }>((r) => h.listxattr(p, (errno, names) => r({ errno, names }))),
    statfs: (p: string) => new Promise<{ errno: number; flag?: number; namemax?: number }>((r) => h.statfs(p, (errno, i) => r({ errno, flag: i?.flag, namemax: i?.namemax }))),
  };
}

describe('FUSE handlers (no mount)', () => {
  let fx: Fixture;
  let fs: ReturnType<typeof client>;
  let view: TroveView;
  const logged: string[] = [];
  let A: string;
  let B: string;

  beforeAll(async () => {
    fx = await buildFixture(tmpdir('trove-fuse-h'));
    view = new TroveView(new RepoSource(fx.repo.store, fx.repo.path), { startTime: 5_000 });
    const blobs = new BlobReader({ pathOf: (id) => fx.repo.store.pathOf(id), maxOpen: 4 });
    fs = client(getBaseHandlers(view, blobs, { log: (m) => logged.push(m) }));
    A = `/commits/${fx.a}`;
    B = `/commits/${fx.b}`;
  });

  it('shows commits, refs and profiles at the top, with 2 + subdirectories links', async () => {
    const root = await fs.getattr('/');
    expect(root.errno).toBe(0);
    expect(root.st).toMatchObject({ ino: 1, mode: 0o040755, nlink: 5 });
    const top = await fs.readdir('/');
    expect(top.names).toEqual(['.', '..', 'commits', 'refs', 'profiles']);
    expect((await fs.getattr('/refs')).st?.nlink).toBe(3); // main and the pkg/ directory
  });

  it('lists the commits known from refs and profiles, and looks up any other lazily', async () => {
    const c = await fs.readdir('/commits');
    expect(c.names?.slice(2).sort()).toEqual([fx.a, fx.b].sort());
    expect(c.stats?.every((s) => (s.mode & 0o170000) === 0o040000)).toBe(true);
    expect((await fs.getattr(`/commits/${'0'.repeat(64)}`)).errno).toBe(ERR.ENOENT);
    expect((await fs.getattr('/commits/not-an-id')).errno).toBe(ERR.ENOENT);
    // A blob's id is not a commit.
    expect((await fs.getattr(`/commits/${fx.blobs.cached}`)).errno).toBe(ERR.ENOENT);
  });

  it('gives a commit root the commit metadata and time', async () => {
    const { st } = await fs.getattr(A);
    expect(st).toMatchObject({ mode: 0o040755, uid: 0, gid: 0, mtime: TIME * 1000, nlink: 2 + 6 });
  });

  it('stats files, directories and symlinks like the tree says', async () => {
    expect((await fs.getattr(`${A}/etc/secret`)).st).toMatchObject({ mode: 0o100600, uid: 1000, gid: 100, size: 6, nlink: 1, blocks: 1 });
    expect((await fs.getattr(`${A}/bin/bash`)).st).toMatchObject({ mode: 0o100755, size: fx.bigA.length });
    expect((await fs.getattr(`${A}/lib`)).st).toMatchObject({ mode: 0o040755, nlink: 4 });
    expect((await fs.getattr(`${A}/bin/sh`)).st).toMatchObject({ mode: 0o120777, size: 4 });
    expect((await fs.getattr(`${A}/empty`)).st).toMatchObject({ size: 0, blocks: 0 });
    expect((await fs.getattr(`${A}/liar`)).st?.size).toBe(2 ** 40);
  });

  it('lists a directory with . and .., in tree order, with inode numbers that getattr agrees with', async () => {
    const d = await fs.readdir(`${A}/etc`);
    expect(d.names).toEqual(['.', '..', 'greet', 'secret']);
    expect(d.stats?.[0]?.ino).toBe((await fs.getattr(`${A}/etc`)).st?.ino);
    expect(d.stats?.[1]?.ino).toBe((await fs.getattr(A)).st?.ino);
    expect(d.stats?.[2]).toEqual({ ino: (await fs.getattr(`${A}/etc/greet`)).st?.ino, mode: 0o100644 });
    const many = await fs.readdir(`${A}/many`);
    expect(many.names).toHaveLength(3002);
  });

  it('lists a directory with attributes (READDIRPLUS) exactly as getattr of each entry shows it, read first', async () => {
    // A view of its own, so the listing comes before any lookup of its entries.
    const fresh = new TroveView(new RepoSource(fx.repo.store, fx.repo.path), { startTime: 5_000 });
    const h = client(getBaseHandlers(fresh, new BlobReader({ pathOf: (id) => fx.repo.store.pathOf(id), maxOpen: 4 })));
    for (const dir of [`${B}/lib`, `${B}/bin`, `${B}/etc`, `${B}/many`]) {
      const listed = await h.readdirplus(dir);
      expect(listed).toMatchObject({ errno: 0, plus: true });
      const names = listed.names!.slice(2);
      expect(names.length).toBeGreaterThan(1);
      for (const [i, name] of names.entries()) expect(listed.stats![i + 2], `${dir}/${name}`).toEqual((await h.getattr(`${dir}/${name}`)).st);
    }
    expect((await h.readdirplus(`${B}/lib`)).stats!.slice(2, 4).map((s) => (s as Stat).nlink)).toEqual([2, 2]);
    // The commit's root holds a directory whose tree is garbage: its link count cannot be known, so the
    // listing goes without attributes, and only that entry fails.
    const root = await h.readdirplus(B);
    expect(root).toMatchObject({ errno: 0, plus: false });
    expect(root.names).toEqual(expect.arrayContaining(['bad', 'bin', 'etc', 'evil', 'many']));
    expect((await h.getattr(`${B}/bad`)).errno).toBe(ERR.EIO);
    expect((await h.getattr(`${B}/bin`)).errno).toBe(0);
    // Outside commits the listing carries no attributes.
    expect(await h.readdirplus('/refs')).toMatchObject({ errno: 0, plus: false });
  });

  it('keeps inode numbers unique and stable over a whole walk', async () => {
    const seen = new Map<number, string>();
    const walk = async (path: string): Promise<void> => {
      if (/\/(bad|evil)$/.test(path)) return;
      const { st } = await fs.getattr(path);
      expect(st, path).toBeDefined();
      const other = seen.get(st!.ino);
      expect(other, `${path} shares inode ${st!.ino} with ${other}`).toBeUndefined();
      seen.set(st!.ino, path);
      if ((st!.mode & 0o170000) !== 0o040000) return;
      for (const name of (await fs.readdir(path)).names!.slice(2)) await walk(`${path}/${name}`);
    };
    await walk(A);
    await walk(B);
    expect(seen.size).toBeGreaterThan(6000);
    expect((await fs.getattr(`${A}/many/f02999`)).st?.ino).toBe([...seen].find(([, p]) => p === `${A}/many/f02999`)?.[0]);
  });

  it('refuses new inode numbers once they run out, never reusing one, and keeps those handed out', async () => {
    const small = new TroveView(new RepoSource(fx.repo.store, fx.repo.path), { inodeLimit: 16 + 100 });
    const log: string[] = [];
    const h = client(getBaseHandlers(small, new BlobReader({ pathOf: (id) => fx.repo.store.pathOf(id) }), { log: (m) => log.push(m) }));
    const seen = new Map<number, string>();
    const refused: string[] = [];
    const walk = async (path: string): Promise<void> => {
      if (/\/(bad|evil)$/.test(path)) return;
      const { errno, st } = await h.getattr(path);
      if (errno === ERR.EOVERFLOW) return void refused.push(path);
      expect(errno, path).toBe(0);
      expect(st!.ino, path).toBeLessThan(16 + 100);
      expect(seen.get(st!.ino), `${path} shares inode ${st!.ino}`).toBeUndefined();
      seen.set(st!.ino, path);
      if ((st!.mode & 0o170000) !== 0o040000) return;
      const list = await h.readdir(path);
      if (list.errno === ERR.EOVERFLOW) return void refused.push(`${path}/`);
      for (const name of list.names!.slice(2)) await walk(`${path}/${name}`);
    };
    await walk(A);
    await walk(B);
    // The 3000-entry directory cannot get a block of numbers; everything smaller did.
    expect(refused).toEqual([`${A}/many/`, `${B}/many/`]);
    expect(log.join('\n')).toMatch(/readdir \/commits\/[0-9a-f]{64}\/many: out of inode numbers \(\d+ handed out, 3000 more wanted\)/);
    expect((await h.getattr(`${A}/many/f00000`)).errno).toBe(ERR.EOVERFLOW);
    expect(small.inodes.used).toBeLessThanOrEqual(100);
    for (const [ino, path] of seen) expect((await h.getattr(path)).st?.ino, path).toBe(ino);
  });

  it('reads symlinks verbatim, and refs and profiles as relative links into commits/', async () => {
    expect(await fs.readlink(`${A}/bin/sh`)).toEqual({ errno: 0, target: 'bash' });
    expect(await fs.readlink(`${A}/abs`)).toEqual({ errno: 0, target: '/etc/greet' });
    expect(await fs.readlink('/refs/main')).toEqual({ errno: 0, target: `../commits/${fx.a}` });
    expect(await fs.readlink('/refs/pkg/bash/amd64')).toEqual({ errno: 0, target: `../../../commits/${fx.b}` });
    expect(await fs.readlink('/profiles/system/2')).toEqual({ errno: 0, target: `../../commits/${fx.b}` });
    expect((await fs.readdir('/profiles/system')).names).toEqual(['.', '..', '1', '2']);
    expect((await fs.readlink(`${A}/etc/greet`)).errno).toBe(ERR.EINVAL);
  });

  it('sees refs and profiles change without remounting', async () => {
    expect((await fs.getattr('/refs/later')).errno).toBe(ERR.ENOENT);
    await fx.repo.refs.write('later', fx.b);
    expect(await fs.readlink('/refs/later')).toEqual({ errno: 0, target: `../commits/${fx.b}` });
    await fx.repo.refs.write('later', fx.a);
    expect((await fs.readlink('/refs/later')).target).toBe(`../commits/${fx.a}`);
    await fx.repo.refs.delete('later');
    expect((await fs.getattr('/refs/later')).errno).toBe(ERR.ENOENT);
    writeFileSync(join(fx.repo.path, 'profiles', 'system', '3'), `${fx.a}\n`);
    expect((await fs.readlink('/profiles/system/3')).target).toBe(`../../commits/${fx.a}`);
    rmSync(join(fx.repo.path, 'profiles', 'system', '3'));
    // Stray files are not generations: no id inside, or a dot name.
    writeFileSync(join(fx.repo.path, 'profiles', 'system', '.tmp-9'), `${fx.a}\n`);
    writeFileSync(join(fx.repo.path, 'profiles', 'system', 'notes'), 'hello\n');
    expect((await fs.readdir('/profiles/system')).names).toEqual(['.', '..', '1', '2']);
  });

  it('reads at any offset and size, and nothing past the end', async () => {
    expect((await fs.read(`${A}/etc/greet`, 4096, 0)).data.toString()).toBe('hello from A\n');
    expect((await fs.read(`${B}/etc/greet`, 4096, 6)).data.toString()).toBe('from B\n');
    expect((await fs.read(`${A}/etc/greet`, 4096, 13)).n).toBe(0);
    expect((await fs.read(`${A}/etc/greet`, 4096, 1 << 30)).n).toBe(0);
    expect((await fs.read(`${A}/empty`, 4096, 0)).n).toBe(0);
    const parts: Buffer[] = [];
    for (let pos = 0; pos < fx.bigA.length; pos += 131072) parts.push((await fs.read(`${A}/bin/bash`, 131072, pos)).data);
    expect(Buffer.concat(parts).equals(fx.bigA)).toBe(true);
    const mid = await fs.read(`${A}/bin/bash`, 1000, 777_777);
    expect(mid.data.equals(fx.bigA.subarray(777_777, 778_777))).toBe(true);
    const tail = await fs.read(`${A}/bin/bash`, 4096, fx.bigA.length - 10);
    expect(tail.data.equals(fx.bigA.subarray(-10))).toBe(true);
    // Many blobs through a reader that keeps only 4 files open.
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => fs.read(i % 2 ? `${A}/bin/bash` : `${B}/bin/bash`, 65536, i * 4096)));
    many.forEach((r, i) => expect(r.data.equals((i % 2 ? fx.bigA : fx.bigB).subarray(i * 4096, i * 4096 + 65536))).toBe(true));
    // The same through the thread pool, and through the polling wrapper the mount uses.
    const pooled = client(polling(getBaseHandlers(view, new BlobReader({ pathOf: (id) => fx.repo.store.pathOf(id), sync: false, maxOpen: 2 })), 1));
    const again = await Promise.all(Array.from({ length: 12 }, (_, i) => pooled.read(i % 2 ? `${A}/bin/bash` : `${B}/bin/bash`, 70000, i * 50000)));
    again.forEach((r, i) => expect(r.data.equals((i % 2 ? fx.bigA : fx.bigB).subarray(i * 50000, i * 50000 + 70000))).toBe(true));
    expect((await pooled.read(`${A}/etc/greet`, 4096, 0)).data.toString()).toBe('hello from A\n');
  });

  it('answers ENOENT for missing paths and ENOTDIR below a file', async () => {
    expect((await fs.getattr(`${A}/nope`)).errno).toBe(ERR.ENOENT);
    expect((await fs.getattr(`${A}/etc/nope/deeper`)).errno).toBe(ERR.ENOENT);
    expect((await fs.getattr(`${A}/etc/greet/x`)).errno).toBe(ERR.ENOTDIR);
    expect((await fs.getattr('/nope')).errno).toBe(ERR.ENOENT);
    expect((await fs.readdir(`${A}/nope`)).errno).toBe(ERR.ENOENT);
    expect((await fs.read(`${A}/nope`, 10, 0)).n).toBe(ERR.ENOENT);
    expect((await fs.readlink('/refs/nope')).errno).toBe(ERR.ENOENT);
  });

  it('refuses every change with EROFS, and write opens too', async () => {
    const h = getBaseHandlers(view, new BlobReader({ pathOf: (id) => fx.repo.store.pathOf(id) }));
    const refused: [keyof FuseHandlers, unknown[]][] = [
      ['write', [`${A}/etc/greet`, 0, Buffer.from('x'), 1, 0]],
      ['create', [`${A}/new`, 0o644]],
      ['unlink', [`${A}/etc/greet`]],
      ['rename', [`${A}/etc/greet`, `${A}/etc/g2`]],
      ['link', [`${A}/etc/greet`, `${A}/etc/g2`]],
      ['symlink', ['x', `${A}/etc/g2`]],
      ['mkdir', [`${A}/d`, 0o755]],
      ['rmdir', [`${A}/lib/a`]],
      ['chmod', [`${A}/etc/greet`, 0o777]],
      ['chown', [`${A}/etc/greet`, 1, 1]],
      ['truncate', [`${A}/etc/greet`, 0]],
      ['ftruncate', [`${A}/etc/greet`, 0, 0]],
      ['utimens', [`${A}/etc/greet`, 0, 0]],
      ['mknod', [`${A}/dev`, 0o600, 0]],
      ['setxattr', [`${A}/etc/greet`, 'user.x', Buffer.from('1'), 0, 0]],
      ['removexattr', [`${A}/etc/secret`, 'user.note']],
    ];
    for (const [op, args] of refused) {
      const errno = await new Promise<number>((r) => (h[op] as (...a: unknown[]) => void)(...args, (e: number) => r(e)));
      expect(errno, op).toBe(ERR.EROFS);
    }
    expect(await fs.open(`${A}/etc/greet`, constants.O_WRONLY)).toBe(ERR.EROFS);
    expect(await fs.open(`${A}/etc/greet`, constants.O_RDONLY | constants.O_TRUNC)).toBe(ERR.EROFS);
    expect(await fs.open(`${A}/etc/greet`, constants.O_RDONLY)).toBe(0);
    expect(await fs.open(`${A}/nope`, constants.O_RDONLY)).toBe(ERR.ENOENT);
    const zero = getBaseHandlers(view, new BlobReader({ pathOf: (id) => fx.repo.store.pathOf(id) }), { zeroMessageOpen: true });
    expect(await client(zero).open(`${A}/etc/greet`, constants.O_RDONLY)).toBe(ERR.ENOSYS);
  });

  it('serves xattrs from the tree', async () => {
    expect(await fs.listxattr(`${A}/etc/secret`)).toEqual({ errno: 0, names: ['user.note'] });
    expect((await fs.getxattr(`${A}/etc/secret`, 'user.note')).value?.toString()).toBe('kept');
    expect((await fs.getxattr(`${A}/etc/secret`, 'user.other')).errno).toBe(ERR.ENODATA);
    expect((await fs.listxattr(`${A}/etc/greet`)).names).toEqual([]);
  });

  it('reports statfs read-only', async () => {
    expect(await fs.statfs('/')).toEqual({ errno: 0, flag: 1, namemax: 255 });
  });

  it('gives EIO for an invalid tree, only for that directory', async () => {
    logged.length = 0;
    for (const dir of ['bad', 'evil']) {
      expect((await fs.getattr(`${A}/${dir}`)).errno, dir).toBe(ERR.EIO);
      expect((await fs.readdir(`${A}/${dir}`)).errno, dir).toBe(ERR.EIO);
      expect((await fs.getattr(`${A}/${dir}/x`)).errno, dir).toBe(ERR.EIO);
    }
    expect(logged.join('\n')).toMatch(/bad \(tree [0-9a-f]{64}\)/);
    expect(logged.join('\n')).toMatch(/evil .*'\.\.' is not allowed/);
    // The parent and the siblings are untouched.
    expect((await fs.readdir(A)).names).toContain('bad');
    expect((await fs.read(`${A}/etc/greet`, 100, 0)).data.toString()).toBe('hello from A\n');
  });

  it('gives EIO for a file whose object is missing, truncated or shorter than the tree says', async () => {
    const p = (id: ObjectId) => fx.repo.store.pathOf(id);
    rmSync(p(fx.blobs.gone));
    truncateSync(p(fx.blobs.short), 5);
    logged.length = 0;
    expect((await fs.read(`${A}/gone`, 4096, 0)).n).toBe(ERR.EIO);
    expect((await fs.read(`${A}/short`, 4096, 0)).n).toBe(ERR.EIO);
    expect((await fs.read(`${A}/liar`, 4096, 0)).n).toBe(ERR.EIO);
    expect(logged).toHaveLength(3);
    expect(logged.join('\n')).toMatch(/has 5 bytes, the tree says 45/);
    // Metadata still works, and so does every other file.
    expect((await fs.getattr(`${A}/gone`)).st?.size).toBe(28);
    expect((await fs.read(`${A}/bin/bash`, 10, 0)).data.equals(fx.bigA.subarray(0, 10))).toBe(true);
  });

  it('reads trees ahead in one call (with the dirscan addon), each decoded or failing as readTree fails', async () => {
    const source = new RepoSource(fx.repo.store, fx.repo.path, { maxTreeBytes: 10_000 });
    const root = await source.readTree((await source.readCommit(fx.a))!.tree);
    const idOf = (name: string) => root.entries.find((e) => e.name === name)!.id!;
    // etc: fine; many: past maxTreeBytes; bad: garbage, not a tree; then an id with no object.
    const ids = [idOf('etc'), idOf('many'), idOf('bad'), '0'.repeat(64)];
    const read = await source.readTrees(ids);
    if (!loadAddon('dirscan')) return expect(read).toBeUndefined();
    // Each read is checked and decoded only when the view calls it; what it gives is what readTree gives.
    const settle = (r: ReadTree | Error): Tree | Error => {
      if (r instanceof Error) return r;
      try {
        return r();
      } catch (err) {
        return err as Error;
      }
    };
    const got = read!.map(settle);
    expect(got).toHaveLength(4);
    expect(got[0]).toEqual(await source.readTree(ids[0]!));
    for (const i of [1, 2, 3]) {
      const alone = await source.readTree(ids[i]!).then(
        () => undefined,
        (err: unknown) => err as TroveError,
      );
      expect(alone, ids[i]).toBeDefined();
      expect(got[i], ids[i]).toBeInstanceOf(Error);
      expect((got[i] as TroveError).code, ids[i]).toBe(alone!.code);
    }
    // A tree whose bytes no longer hash to its id is refused, not decoded.
    const copy = join(tmpdir('trove-fuse-trees'), 'etc');
    const bytes = readFileSync(fx.repo.store.pathOf(ids[0]!));
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1);
    writeFileSync(copy, bytes);
    // A source whose store puts that copy where the tree's object belongs (readTrees asks it only for paths).
    const corrupt = new RepoSource({ pathOf: () => copy } as unknown as ConstructorParameters<typeof RepoSource>[0], fx.repo.path);
    const [bad, again] = (await corrupt.readTrees([ids[0]!, ids[0]!]))!.map(settle);
    expect((bad as Error).message).toMatch(/corrupt/);
    expect((again as Error).message).toMatch(/corrupt/);
  });

  it('answers a listing before decoding the trees it reads ahead below it, decodes those on later turns, and a corrupt one fails only its directory', async () => {
    const s = fx.repo.store;
    const dirs = (n: number, entries: TreeEntry[], prefix: string) =>
      Promise.all(Array.from({ length: n }, async (_, i) => ({ name: `${prefix}${i}`, kind: 'dir' as const, id: await writeTree(s, { entries }), mode: 0o755, uid: 0, gid: 0, size: 0, xattrs: [] })));
    const hello = (await s.put(utf8('hello\n'))).id;
    const file: TreeEntry = { name: 'f', kind: 'file', id: hello, mode: 0o644, uid: 0, gid: 0, size: 6, xattrs: [] };
    // Root d0..d3, each with e0..e4 (distinct trees: each names its own file), each holding one file.
    const level1 = await Promise.all(
      Array.from({ length: 4 }, async (_, d) => {
        const leaves = await Promise.all(Array.from({ length: 5 }, async (_, e) => ({ name: `e${e}`, kind: 'dir' as const, id: await writeTree(s, { entries: [{ ...file, name: `f${d}${e}` }] }), mode: 0o755, uid: 0, gid: 0, size: 0, xattrs: [] })));
        return { name: `d${d}`, kind: 'dir' as const, id: await writeTree(s, { entries: leaves }), mode: 0o755, uid: 0, gid: 0, size: 0, xattrs: [] };
      }),
    );
    const extra = await dirs(1, [file], 'x');
    const tree = await writeTree(s, { entries: [...level1, ...extra] });
    const c = await writeCommit(s, { tree, root: { mode: 0o755, uid: 0, gid: 0, xattrs: [] }, parents: [], subject: 'ahead', body: '', timestamp: TIME, metadata: [] });
    const leafOf = (d: number, e: number) => decodeTree(readFileSync(s.pathOf(level1[d]!.id))).entries[e]!.id!;
    // d3/e4's tree made corrupt on disk: read ahead with the others, it must fail only its own directory.
    const bad = leafOf(3, 4);
    const badPath = s.pathOf(bad);
    const good = readFileSync(badPath);
    const mode = statSync(badPath).mode & 0o777;
    chmodSync(badPath, 0o644);
    writeFileSync(badPath, Buffer.concat([good.subarray(0, good.length - 1), Buffer.from([good.at(-1)! ^ 1])]));
    try {
      const source = new RepoSource(s, fx.repo.path);
      const decoded = new Set<ObjectId>();
      const readTrees = source.readTrees.bind(source);
      source.readTrees = (ids) =>
        readTrees(ids)?.then((rs) =>
          rs.map((r, i) =>
            r instanceof Error
              ? r
              : () => {
                  // Each decode made to take 1 ms, so that how many one turn of the event loop decodes shows.
                  for (const t = performance.now(); performance.now() - t < 1; );
                  decoded.add(ids[i]!);
                  return r();
                },
          ),
        );
      if (!loadAddon('dirscan')) {
        // Without the addon nothing is read ahead in batches; the addon is built wherever CI runs.
        expect(process.env.CI).toBeUndefined();
        return;
      }
      const h = client(getBaseHandlers(new TroveView(source), new BlobReader({ pathOf: (id) => s.pathOf(id) })));
      const root = await h.readdirplus(`/commits/${c}`);
      expect(root.names).toEqual(['.', '..', 'd0', 'd1', 'd2', 'd3', 'x0']);
      // The listing's own trees (its subdirectories', for their link counts) were decoded for it...
      for (const e of level1) expect(decoded.has(e.id), e.name).toBe(true);
      expect(root.stats?.[2]).toMatchObject({ nlink: 7 });
      // ...and nothing below them yet: the read ahead of e0..e4 comes after the answer.
      const leaves = level1.flatMap((_, d) => Array.from({ length: 5 }, (_, e) => leafOf(d, e)));
      expect(leaves.filter((id) => decoded.has(id))).toEqual([]);
      // On later turns of the event loop they are read and decoded, the corrupt one included, a slice of
      // about 2 ms per turn (not a batch of 16 at once), so that requests arriving meanwhile are answered.
      const perTurn: number[] = [];
      let seen = decoded.size;
      await new Promise<void>((done, fail) => {
        const deadline = Date.now() + 5000;
        const turn = () => {
          perTurn.push(decoded.size - seen);
          seen = decoded.size;
          if (leaves.every((id) => decoded.has(id))) done();
          else if (Date.now() > deadline) fail(new Error(`read ahead: ${leaves.filter((id) => decoded.has(id)).length} of ${leaves.length} trees decoded`));
          else setImmediate(turn);
        };
        setImmediate(turn);
      });
      expect(Math.max(...perTurn)).toBeLessThanOrEqual(3);
      expect((await h.readdir(`/commits/${c}/d0/e0`)).names).toEqual(['.', '..', 'f00']);
      expect((await h.readdir(`/commits/${c}/d3/e3`)).names).toEqual(['.', '..', 'f33']);
      expect((await h.readdir(`/commits/${c}/d3/e4`)).errno).toBe(ERR.EIO);
      expect((await h.readdir(`/commits/${c}/d3`)).names).toEqual(['.', '..', 'e0', 'e1', 'e2', 'e3', 'e4']);
    } finally {
      writeFileSync(badPath, good);
      chmodSync(badPath, mode);
    }
  });

  it('refuses a tree object too large to decode safely, with EIO for that directory', async () => {
    const capped = new TroveView(new RepoSource(fx.repo.store, fx.repo.path, { maxTreeBytes: 10_000 }));
    const h = client(getBaseHandlers(capped, new BlobReader({ pathOf: (id) => fx.repo.store.pathOf(id) })));
    expect((await h.readdir(`${A}/many`)).errno).toBe(ERR.EIO);
    expect((await h.readdir(`${A}/etc`)).names).toEqual(['.', '..', 'greet', 'secret']);
  });

  it('refuses a path inside a commit longer than any imported tree may have (ENAMETOOLONG), whatever the tree says', async () => {
    const s = fx.repo.store;
    // Thirteen levels of 250-character names: 3,263 bytes, past MAX_TREE_PATH (3,072).
    const names = Array.from({ length: 13 }, (_, i) => `${String(i).padStart(2, '0')}${'d'.repeat(248)}`);
    let tree = await writeTree(s, { entries: [] });
    for (const name of [...names].reverse()) tree = await writeTree(s, { entries: [{ name, kind: 'dir', id: tree, mode: 0o755, uid: 0, gid: 0, size: 0, xattrs: [] }] });
    const deep = await writeCommit(s, { tree, root: { mode: 0o755, uid: 0, gid: 0, xattrs: [] }, parents: [], subject: 'deep', body: '', timestamp: TIME, metadata: [] });
    const path = (n: number) => `/commits/${deep}/${names.slice(0, n).join('/')}`;
    expect((await fs.getattr(path(12))).errno).toBe(0);
    expect((await fs.getattr(path(13))).errno).toBe(ERR.ENAMETOOLONG);
  });

  it('numbers inodes up to 2^53 through the libfuse 3 binding, 2^32 through fuse-native', () => {
    expect(inodeLimit(2)).toBe(2 ** 32);
    if (process.env.CI) expect(existsSync(FUSE3_ADDON)).toBe(true);
    expect(inodeLimit(3)).toBe(existsSync(FUSE3_ADDON) ? 2 ** 53 : 2 ** 32);
  });

  it('keeps decoded trees within the memory bound, and the latest tree over the whole bound in a place of its own', async () => {
    const source = new RepoSource(fx.repo.store, fx.repo.path);
    const manyTree = decodeTree(await fx.repo.store.get(decodeCommit(await fx.repo.store.get(fx.a)).tree)).entries.find((e) => e.name === 'many')!.id!;
    let manyReads = 0;
    const readTreeSync = source.readTreeSync.bind(source);
    source.readTreeSync = (id) => {
      if (id === manyTree) manyReads++;
      return readTreeSync(id);
    };
    const small = new TroveView(source, { treeCacheBytes: 4096 });
    const h = client(getBaseHandlers(small, new BlobReader({ pathOf: (id) => fx.repo.store.pathOf(id) })));
    for (const d of ['bin', 'etc', 'lib', 'lib/a', 'many']) expect((await h.readdir(`${A}/${d}`)).errno).toBe(0);
    // The 3000-entry tree is bigger than the whole bound: read once, and kept beside the cache while
    // smaller trees come and go, so lookups in it do not decode it again.
    for (const d of ['bin', 'etc', 'lib', 'lib/a']) expect((await h.readdir(`${A}/${d}`)).errno).toBe(0);
    for (const f of ['f00001', 'f00002', 'f02999']) expect((await h.getattr(`${A}/many/${f}`)).errno).toBe(0);
    expect((await h.readdir(`${A}/many`)).names).toHaveLength(3002);
    expect(manyReads).toBe(1);
    expect(small.cacheStats()).toMatchObject({ oversized: true });
    expect(small.cacheStats().treeBytes).toBeLessThanOrEqual(4096);
    expect(small.cacheStats().trees).toBeGreaterThan(0);
  });
});

describe('Lru', () => {
  it('evicts the least recently used entries past the cost bound', () => {
    const evicted: string[] = [];
    const lru = new Lru<string, string>({ maxCost: 10, costOf: (v) => v.length, onEvict: (v) => evicted.push(v) });
    lru.set('a', 'aaaa');
    lru.set('b', 'bbbb');
    expect(lru.get('a')).toBe('aaaa');
    lru.set('c', 'cccc');
    expect(evicted).toEqual(['bbbb']);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.cost).toBe(8);
    lru.set('huge', 'x'.repeat(11));
    expect(lru.get('huge')).toBeUndefined();
    expect(lru.size).toBe(2);
  });
});

describe('mount daemon start', () => {
  it('kills a daemon that never says it is ready, and says why with the tail of its log', async () => {
    const dir = tmpdir('trove-fuse-start');
    // A stand-in daemon that logs a line and then hangs, as one stuck in the mount call would.
    // It is given 2 s: a Node process on a loaded 2-core machine can take over 0.5 s to start.
    const main = join(dir, 'hang.cjs');
    writeFileSync(main, "process.stderr.write('stand-in daemon ' + process.pid + ' starting\\n'); setInterval(() => {}, 1000);\n");
    const t0 = Date.now();
    const err = (await startDaemon({ path: dir }, join(dir, 'mnt'), [], { readyTimeoutMs: 2000, main }).catch((e: unknown) => e)) as TroveError;
    expect(err).toBeInstanceOf(TroveError);
    expect(err.code).toBe('E_IO');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    expect(err.message).toMatch(/did not answer within 2 s, so it was killed/);
    const pid = Number(/stand-in daemon (\d+) starting/.exec(err.message)?.[1]);
    expect(err.message).toContain(`pid ${pid})`);
    expect(await until(() => !alive(pid), 3000)).toBe(true);
  });
});

describe('mount options', () => {
  it('mounts read-only with our inode numbers and long kernel caching', () => {
    const o = fuseOptions().slice(2).split(',');
    expect(o).toEqual(expect.arrayContaining(['ro', 'use_ino', 'kernel_cache', 'default_permissions', 'entry_timeout=86400', 'attr_timeout=86400', 'allow_other']));
    expect(fuseOptions({ suid: true })).toMatch(/,suid/);
    // libfuse 3 takes these two from the binding's init, and refuses them as options.
    expect(fuseOptions({}, 3).slice(2).split(',')).not.toEqual(expect.arrayContaining(['use_ino']));
    expect(fuseOptions({}, 3)).not.toMatch(/kernel_cache/);
  });
});

describe.skipIf(skipFuse())('FUSE mount (real)', () => {
  let fx: Fixture;
  let dir: string;
  let mnt: string;
  let pid: number;
  let A: string;
  let B: string;

  beforeAll(async () => {
    dir = tmpdir('trove-fuse-m');
    fx = await buildFixture(dir);
    await fx.repo.close();
    mnt = join(dir, 'mnt');
    pid = await mountRepo(fx.repo.path, mnt);
    A = join(mnt, 'commits', fx.a);
    B = join(mnt, 'commits', fx.b);
  });

  it('records the daemon in mount.json and serves the layout', () => {
    // Pid and start time name the daemon process, dev and ctl its mount (a pid reused later is not taken for
    // it; nor is a later connection given the same number: ctl is the inode of its fusectl directory).
    const rec = JSON.parse(readFileSync(join(fx.repo.path, 'mount.json'), 'utf8')) as { dev: string };
    expect(rec).toEqual({ mountpoint: mnt, pid, started: expect.any(Number), dev: expect.stringMatching(/^\d+:\d+$/), ctl: expect.any(Number) });
    expect(rec).toMatchObject({ ctl: statSync(join('/sys/fs/fuse/connections', rec.dev.split(':')[1]!)).ino });
    expect(alive(pid)).toBe(true);
    expect(mountpoints().has(mnt)).toBe(true);
    expect(readdirSync(mnt).sort()).toEqual(['commits', 'profiles', 'refs']);
    expect(readFileSync(join(mnt, 'refs', 'main', 'etc', 'greet'), 'utf8')).toBe('hello from A\n');
    expect(readFileSync(join(mnt, 'refs', 'pkg', 'bash', 'amd64', 'etc', 'greet'), 'utf8')).toBe('hello from B\n');
    expect(readFileSync(join(mnt, 'profiles', 'system', '1', 'etc', 'greet'), 'utf8')).toBe('hello from A\n');
    expect(readlinkSync(join(mnt, 'refs', 'main'))).toBe(`../commits/${fx.a}`);
    expect(readFileSync(join(A, 'bin', 'bash')).equals(fx.bigA)).toBe(true);
  });

  it('reads a directory ahead once two of its files have been read (with the dirscan addon)', async () => {
    // B's top directory, nothing of it read yet: its files of more than 0 bytes hold four distinct
    // blobs (short, gone, cached and liar's). cached is left unread for the page-cache test below.
    const warmed = async () => Number(/object files read ahead (\d+)/.exec(await statsLine(fx.repo.path, pid))?.[1]);
    const before = await warmed();
    expect(readFileSync(join(B, 'short'), 'utf8')).toBe('this object will be truncated to a few bytes\n');
    expect(await warmed()).toBe(before);
    expect(readFileSync(join(B, 'gone'), 'utf8')).toBe('this object will be deleted\n');
    expect(await warmed()).toBe(before + (loadAddon('dirscan') ? 4 : 0));
  });

  it('shows POSIX attributes through the kernel, with stable inode numbers', () => {
    const st = statSync(join(A, 'etc', 'secret'));
    expect(st.mode).toBe(0o100600);
    expect([st.uid, st.gid, st.size, st.nlink]).toEqual([1000, 100, 6, 1]);
    expect(st.mtimeMs).toBe(TIME * 1000);
    expect(statSync(join(A, 'lib')).nlink).toBe(4);
    expect(lstatSync(join(A, 'bin', 'sh')).isSymbolicLink()).toBe(true);
    expect(statSync(join(A, 'bin', 'bash')).ino).toBe(statSync(join(A, 'bin', 'bash')).ino);
    expect(statSync(join(A, 'bin', 'bash')).ino).not.toBe(statSync(join(B, 'bin', 'bash')).ino);
    const names = spawnSync('ls', ['-i', join(A, 'etc')], { encoding: 'utf8' }).stdout;
    expect(names).toContain(`${statSync(join(A, 'etc', 'greet')).ino} greet`);
    expect(getAttributeSync(join(A, 'etc', 'secret'), 'user.note').toString()).toBe('kept');
    expect(listAttributesSync(join(A, 'etc', 'secret'))).toEqual(['user.note']);
    expect(() => getAttributeSync(join(A, 'etc', 'greet'), 'user.note')).toThrow(/ENODATA|does not exist/);
    expect(sh('stat', ['-f', '-c', '%T %l', mnt]).trim()).toMatch(/^fuse\S* 255$/);
  });

  it('counts the requests it answers by operation, and the negative lookups apart, in its log on SIGUSR2', async () => {
    const logFile = join(fx.repo.path, 'mount.log');
    const counts = () => requestCounts(fx.repo.path, pid);
    const before = await counts();
    for (const name of ['absent-1', 'absent-2', 'absent-3']) expect(existsSync(join(A, 'etc', name))).toBe(false);
    expect(readdirSync(join(B, 'lib')).length).toBeGreaterThan(0);
    const after = await counts();
    const delta = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
    // One lookup each reaches the daemon as a getattr that answers ENOENT.
    expect(delta('getattr-enoent')).toBe(3);
    expect(delta('getattr')).toBeGreaterThanOrEqual(3);
    expect(delta(servedBy(fx.repo.path) === 3 ? 'readdirplus' : 'readdir')).toBe(1);
    expect(readFileSync(logFile, 'utf8')).toMatch(/ request-ms: \{.*"getattr":\d/);
  });

  it('lists a directory of 20,000 entries whole, in order, in parts of what the kernel takes', async () => {
    const s = fx.repo.store;
    const hello = (await s.put(utf8('hello\n'))).id;
    const names = Array.from({ length: 20_000 }, (_, i) => `n${String(i).padStart(6, '0')}`);
    const big = await writeTree(s, { entries: names.map((name) => ({ name, kind: 'file' as const, id: hello, mode: 0o644, uid: 0, gid: 0, size: 6, xattrs: [] })) });
    const c = await writeCommit(s, { tree: big, root: { mode: 0o755, uid: 0, gid: 0, xattrs: [] }, parents: [], subject: 'big', body: '', timestamp: TIME, metadata: [] });
    const dirPath = join(mnt, 'commits', c);
    expect(readdirSync(dirPath)).toEqual(names);
    // A second opener reads the daemon's kept listing: the same.
    expect(sh('ls', ['-f', dirPath]).split('\n').filter((n) => n.startsWith('n'))).toEqual(names);
  });

  it('gives each open of a changing directory its own listing: refs added and removed meanwhile neither skip nor repeat names', async () => {
    const heads = join(fx.repo.path, 'refs', 'heads', 'many');
    mkdirSync(heads);
    const before = Array.from({ length: 300 }, (_, i) => `r${String(i).padStart(3, '0')}`);
    for (const n of before) writeFileSync(join(heads, n), `${fx.a}\n`);
    try {
      const first = opendirSync(join(mnt, 'refs', 'many'));
      const seen = [first.readSync()!.name];
      // Meanwhile refs come and go, and another reader lists the directory from its start.
      for (let i = 0; i < 150; i++) rmSync(join(heads, before[i]!));
      const after = Array.from({ length: 200 }, (_, i) => `s${String(i).padStart(3, '0')}`);
      for (const n of after) writeFileSync(join(heads, n), `${fx.b}\n`);
      expect(readdirSync(join(mnt, 'refs', 'many')).sort()).toEqual([...before.slice(150), ...after].sort());
      for (let d = first.readSync(); d; d = first.readSync()) seen.push(d.name);
      first.closeSync();
      expect(seen.sort()).toEqual(before);
    } finally {
      rmSync(heads, { recursive: true, force: true });
    }
  });

  it("shows the top-level directories' link counts as they change", async () => {
    // 2 + the directories in refs/heads, as they are now (an earlier test's may have just gone).
    const heads = join(fx.repo.path, 'refs', 'heads');
    const expected = () => 2 + readdirSync(heads, { withFileTypes: true }).filter((d) => d.isDirectory()).length;
    expect(await until(() => statSync(join(mnt, 'refs')).nlink === expected(), 5000)).toBe(true);
    const before = expected();
    mkdirSync(join(heads, 'group'));
    writeFileSync(join(heads, 'group', 'x'), `${fx.a}\n`);
    try {
      expect(await until(() => statSync(join(mnt, 'refs')).nlink === before + 1, 5000)).toBe(true);
    } finally {
      rmSync(join(fx.repo.path, 'refs', 'heads', 'group'), { recursive: true, force: true });
    }
  });

  it('serves through libfuse 3 when its binding is built (always in CI), with listings that carry their entries (READDIRPLUS)', async () => {
    if (process.env.CI) expect(existsSync(FUSE3_ADDON), `${FUSE3_ADDON} (npm test builds it)`).toBe(true);
    expect(servedBy(fx.repo.path)).toBe(existsSync(FUSE3_ADDON) ? 3 : 2);
    if (servedBy(fx.repo.path) !== 3) return console.log('libfuse 3 binding not built: READDIRPLUS not checked');
    const before = await requestCounts(fx.repo.path, pid);
    // 3,000 entries: more than one buffer of the kernel's, so the listing comes in parts, asked from offsets.
    const dirPath = join(B, 'many');
    const names = readdirSync(dirPath);
    expect(names).toEqual(Array.from({ length: 3000 }, (_, i) => `f${String(i).padStart(5, '0')}`));
    const stats = names.map((n) => lstatSync(join(dirPath, n)));
    expect(new Set(stats.map((st) => `${st.mode.toString(8)} ${st.size} ${st.nlink} ${st.mtimeMs}`))).toEqual(new Set([`100644 6 1 ${TIME * 1000}`]));
    expect(new Set(stats.map((st) => st.ino)).size).toBe(3000);
    expect(readFileSync(join(dirPath, 'f02999'), 'utf8')).toBe('hello\n');
    const after = await requestCounts(fx.repo.path, pid);
    const delta = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
    // The directory itself is looked up; its 3,000 names come with the listing (libfuse 2: a getattr each).
    expect(delta('getattr')).toBeLessThanOrEqual(2);
    expect(delta('readdirplus')).toBeGreaterThanOrEqual(1);
    // The mount's own directories are listed with names only: refs come and go, so each is looked up.
    const extra = join(fx.repo.path, 'refs', 'heads', 'extra');
    writeFileSync(extra, `${fx.b}\n`);
    try {
      const refsBefore = (await requestCounts(fx.repo.path, pid)).getattr ?? 0;
      expect(readdirSync(join(mnt, 'refs')).sort()).toEqual(['extra', 'main', 'pkg']);
      expect(readlinkSync(join(mnt, 'refs', 'extra'))).toBe(`../commits/${fx.b}`);
      expect(((await requestCounts(fx.repo.path, pid)).getattr ?? 0) - refsBefore).toBeGreaterThanOrEqual(1);
    } finally {
      rmSync(extra);
    }
  });

  it('through libfuse 3, remembers absent names inside a commit as long as present ones, and elsewhere for a second', async () => {
    if (servedBy(fx.repo.path) !== 3) return console.log('libfuse 3 binding not built: per-answer timeouts not checked');
    const absent = async (paths: string[]) => {
      const before = await requestCounts(fx.repo.path, pid);
      for (const p of paths) expect(existsSync(p)).toBe(false);
      const after = await requestCounts(fx.repo.path, pid);
      return (after['getattr-enoent'] ?? 0) - (before['getattr-enoent'] ?? 0);
    };
    const inCommit = join(A, 'etc', 'never-there');
    const inRefs = join(mnt, 'refs', 'never-there');
    expect(await absent([inCommit, inRefs])).toBe(2);
    // Past the one second an absent name elsewhere is kept: the ref is asked for again, the commit's name is not.
    await new Promise((r) => setTimeout(r, 1300));
    expect(await absent([inCommit, inRefs])).toBe(1);
    expect(await absent([inCommit])).toBe(0);
  });

  it('shows a ref that moves at once, though the kernel keeps symlink targets', () => {
    const refFile = join(fx.repo.path, 'refs', 'heads', 'main');
    const link = join(mnt, 'refs', 'main');
    const move = (id: string) => {
      writeFileSync(`${refFile}.new`, `${id}\n`);
      renameSync(`${refFile}.new`, refFile);
    };
    try {
      for (let round = 0; round < 3; round++) {
        expect(readlinkSync(link)).toBe(`../commits/${fx.a}`);
        expect(readFileSync(join(link, 'etc', 'greet'), 'utf8')).toBe('hello from A\n');
        move(fx.b);
        // Same name, same inode, a target of the same length: only the daemon can tell the kernel.
        expect(readlinkSync(link)).toBe(`../commits/${fx.b}`);
        expect(readFileSync(join(link, 'etc', 'greet'), 'utf8')).toBe('hello from B\n');
        move(fx.a);
      }
    } finally {
      move(fx.a);
    }
    // Symlinks inside a commit are read once, then kept by the kernel.
    expect(readlinkSync(join(A, 'bin', 'sh'))).toBe('bash');
  });

  it('a ref moved while several readers look it up at once shows its new target to all of them', async () => {
    if (servedBy(fx.repo.path) !== 3) return console.log('libfuse 3 binding not built: symlink invalidation not checked');
    const refFile = join(fx.repo.path, 'refs', 'heads', 'main');
    const link = join(mnt, 'refs', 'main');
    const move = (id: string) => {
      writeFileSync(`${refFile}.new`, `${id}\n`);
      renameSync(`${refFile}.new`, refFile);
    };
    // Readers in threads of their own, released together on each round: the first lookup after a move
    // starts the invalidation, the others come while it is under way and must wait for it.
    const READERS = 4;
    const ROUNDS = 60;
    const sync = new Int32Array(new SharedArrayBuffer(4 * (2 + READERS)));
    const code = `
      const { workerData: { sync, link, index } } = require('node:worker_threads');
      const { readlinkSync } = require('node:fs');
      const { parentPort } = require('node:worker_threads');
      for (let round = 1; ; round++) {
        while (Atomics.load(sync, 0) < round) Atomics.wait(sync, 0, round - 1, 50);
        if (Atomics.load(sync, 1) === 1) break;
        parentPort.postMessage(readlinkSync(link));
        Atomics.add(sync, 2 + index, 1);
      }`;
    const { Worker } = await import('node:worker_threads');
    const seen: string[][] = [];
    const workers = Array.from({ length: READERS }, (_, index) => {
      const w = new Worker(code, { eval: true, workerData: { sync, link, index } });
      w.on('message', (t: string) => (seen[seen.length - 1] ??= []).push(t));
      return w;
    });
    try {
      readlinkSync(link);
      for (let round = 1; round <= ROUNDS; round++) {
        const to = round % 2 === 1 ? fx.b : fx.a;
        move(to);
        seen.push([]);
        Atomics.store(sync, 0, round);
        Atomics.notify(sync, 0);
        await until(() => Array.from({ length: READERS }, (_, i) => Atomics.load(sync, 2 + i)).every((n) => n === round) && seen[round - 1]!.length === READERS, 5000);
        expect(seen[round - 1], `round ${round}`).toEqual(Array(READERS).fill(`../commits/${to}`));
      }
    } finally {
      Atomics.store(sync, 1, 1);
      Atomics.store(sync, 0, ROUNDS + 1);
      Atomics.notify(sync, 0);
      await Promise.all(workers.map((w) => w.terminate()));
      move(fx.a);
    }
  });

  it('refuses writes with EROFS', () => {
    for (const [cmd, args] of [
      ['touch', [join(A, 'new')]],
      ['mkdir', [join(A, 'd')]],
      ['rm', ['-f', join(A, 'etc', 'greet')]],
      ['chmod', ['777', join(A, 'etc', 'greet')]],
      ['sh', ['-c', `echo x >> ${join(A, 'etc', 'greet')}`]],
      ['ln', ['-s', 'x', join(mnt, 'refs', 'new')]],
    ] as const) {
      const r = spawnSync(cmd, args, { encoding: 'utf8' });
      expect(r.status, cmd).not.toBe(0);
      expect(r.stderr, cmd).toMatch(/Read-only file system/);
    }
  });

  it('gives EIO for one broken file or tree and keeps serving', () => {
    rmSync(fx.repo.store.pathOf(fx.blobs.gone));
    const cat = spawnSync('cat', [join(A, 'gone')], { encoding: 'utf8' });
    expect(cat.status).not.toBe(0);
    expect(cat.stderr).toMatch(/Input\/output error/);
    expect(spawnSync('ls', [join(A, 'bad')], { encoding: 'utf8' }).stderr).toMatch(/Input\/output error/);
    expect(spawnSync('ls', [join(A, 'evil')], { encoding: 'utf8' }).stderr).toMatch(/Input\/output error/);
    expect(spawnSync('cat', [join(A, 'liar')], { encoding: 'utf8' }).stderr).toMatch(/Input\/output error/);
    expect(readFileSync(join(A, 'etc', 'greet'), 'utf8')).toBe('hello from A\n');
    expect(alive(pid)).toBe(true);
    expect(readFileSync(join(fx.repo.path, 'mount.log'), 'utf8')).toMatch(/read \/commits\/[0-9a-f]{64}\/gone/);
  });

  it('keeps file pages cached across opens (content is immutable)', () => {
    const before = 'read once, then served from the page cache\n';
    const after = 'READ ONCE, THEN SERVED FROM THE PAGE CACHE\n';
    expect(readFileSync(join(A, 'cached'), 'utf8')).toBe(before);
    // Overwrite the object file in place (same inode, same size): any read the
    // daemon serves from now on sees a file that no longer hashes to its id.
    const object = fx.repo.store.pathOf(fx.blobs.cached);
    const ino = statSync(object).ino;
    writeFileSync(object, after, { flag: 'r+' });
    expect(statSync(object).ino).toBe(ino);
    // The same blob under commit B is another inode of the view, never read: the
    // daemon is asked, re-hashes the changed file and refuses it.
    const fromDaemon = spawnSync('cat', [join(B, 'cached')], { encoding: 'utf8' });
    expect(fromDaemon.stdout).toBe('');
    expect(fromDaemon.stderr).toMatch(/Input\/output error/);
    expect(readFileSync(join(fx.repo.path, 'mount.log'), 'utf8')).toContain(`object ${fx.blobs.cached} is corrupt`);
    // A new open of A's file is served from the pages the kernel kept.
    expect(spawnSync('cat', [join(A, 'cached')], { encoding: 'utf8' }).stdout).toBe(before);
  });

  it('lets a process that holds a file open across a switch keep reading the old content', async () => {
    const current = join(dir, 'current');
    symlinkSync(A, current);
    // Reads the first half, waits for a line on stdin, reads the rest, then opens the path again.
    const script = `
      const fs = require('fs'); const path = process.argv[1];
      const fd = fs.openSync(path + '/bin/bash', 'r'); const size = fs.fstatSync(fd).size;
      const first = Buffer.alloc(size >> 1); fs.readSync(fd, first, 0, first.length, 0);
      process.stdout.write('half\\n');
      process.stdin.once('data', () => {
        const rest = Buffer.alloc(size - first.length); fs.readSync(fd, rest, 0, rest.length, first.length);
        const again = fs.readFileSync(path + '/bin/bash');
        const h = (b) => require('crypto').createHash('sha256').update(b).digest('hex');
        process.stdout.write(h(Buffer.concat([first, rest])) + ' ' + h(again) + '\\n');
        process.exit(0);
      });`;
    const child = spawn(process.execPath, ['-e', script, current], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    expect(await until(() => out.includes('half'), 10_000)).toBe(true);
    // The switch: a new symlink renamed over the old one.
    symlinkSync(B, `${current}.new`);
    renameSync(`${current}.new`, current);
    expect(readFileSync(join(current, 'etc', 'greet'), 'utf8')).toBe('hello from B\n');
    child.stdin.write('go\n');
    await new Promise((r) => child.on('exit', r));
    const [held, reopened] = out.split('\n')[1]!.split(' ');
    expect(held).toBe(hashBytes(fx.bigA));
    expect(reopened).toBe(hashBytes(fx.bigB));
  });

  it('refuses a second mount on the same point, and of the same repository', async () => {
    const again = await trove(['--repo', fx.repo.path, 'mount', mnt]);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/already mounted/);
    const other = await trove(['--repo', fx.repo.path, 'mount', join(dir, 'mnt2')]);
    expect(other.code).toBe(4);
    expect(other.stderr).toMatch(/already mounted at/);
  });
});

describe.skipIf(skipFuse())('FUSE mount through libfuse 2 (real)', () => {
  it('serves the same view through fuse-native with --libfuse 2, and refuses a version it does not know', async () => {
    const dir = tmpdir('trove-fuse-2');
    const fx = await buildFixture(dir);
    await fx.repo.close();
    const mnt = join(dir, 'mnt');
    const bad = await trove(['--repo', fx.repo.path, 'mount', mnt, '--libfuse', '4']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--libfuse must be 2 or 3, not 4/);
    const r = await trove(['--repo', fx.repo.path, 'mount', mnt, '--libfuse', '2']);
    expect(r.code, r.stderr).toBe(0);
    try {
      expect(servedBy(fx.repo.path)).toBe(2);
      const A = join(mnt, 'commits', fx.a);
      expect(readFileSync(join(A, 'etc', 'greet'), 'utf8')).toBe('hello from A\n');
      expect(readdirSync(join(A, 'many'))).toHaveLength(3000);
      expect(lstatSync(join(A, 'etc', 'secret')).mode).toBe(0o100600);
      expect(readlinkSync(join(A, 'bin', 'sh'))).toBe('bash');
    } finally {
      expect((await trove(['--repo', fx.repo.path, 'umount', mnt])).code).toBe(0);
    }
  });
});

describe.skipIf(skipFuse())('FUSE mount lifecycle (real)', () => {
  let repo: string;
  let mnt: string;
  let id: string;
  let src: string;

  beforeAll(async () => {
    const dir = tmpdir('trove-fuse-l');
    repo = join(dir, 'repo');
    mnt = join(dir, 'mnt');
    src = join(dir, 'src');
    expect((await trove(['--repo', repo, 'init'])).code).toBe(0);
    mkdirSync(join(src, 'usr', 'bin'), { recursive: true });
    mkdirSync(join(src, 'etc', 'empty'), { recursive: true });
    writeFileSync(join(src, 'etc', 'os-release'), 'ID=trove\n');
    writeFileSync(join(src, 'usr', 'bin', 'tool'), randomBytes(300_000), { mode: 0o755 });
    symlinkSync('usr/bin', join(src, 'bin'));
    symlinkSync('/etc/os-release', join(src, 'usr', 'os-release'));
    const r = await trove(['--repo', repo, 'commit', src, '--ref', 'main', '-m', 'tree']);
    expect(r.code, r.stderr).toBe(0);
    id = readFileSync(join(repo, 'refs', 'heads', 'main'), 'utf8').trim();
  });

  it('shows a commit exactly as trove checkout materialises it', async () => {
    await mountRepo(repo, mnt);
    const co = join(repo, '..', 'co');
    expect((await trove(['--repo', repo, 'checkout', '--copy', id, co])).code).toBe(0);
    expectSameTree(co, join(mnt, 'commits', id));
    expectSameTree(src, join(mnt, 'commits', id));
    expect(realpathSync(join(mnt, 'refs', 'main'))).toBe(join(mnt, 'commits', id));
  });

  it('unmounts: the record is cleared and the daemon exits', async () => {
    const pid = (JSON.parse(readFileSync(join(repo, 'mount.json'), 'utf8')) as { pid: number }).pid;
    const r = await trove(['--repo', repo, 'umount', mnt]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/unmounted/);
    expect(mountpoints().has(mnt)).toBe(false);
    expect(() => statSync(join(repo, 'mount.json'))).toThrow(/ENOENT/);
    expect(await until(() => !alive(pid))).toBe(true);
    expect((await trove(['--repo', repo, 'umount', mnt])).code).toBe(3);
  });

  it('survives a SIGKILLed daemon: umount cleans the dead mount, and mounting again works', async () => {
    let pid = await mountRepo(repo, mnt);
    process.kill(pid, 'SIGKILL');
    expect(await until(() => !alive(pid))).toBe(true);
    // The kernel aborts the connection when the daemon's last /dev/fuse fd is
    // released, which may lag its exit: a request caught in between gets
    // ECONNABORTED. From then on, every request gets ENOTCONN.
    const fails = () => {
      try {
        statSync(join(mnt, 'commits'));
        return false;
      } catch {
        return true;
      }
    };
    expect(await until(fails)).toBe(true);
    expect(() => statSync(join(mnt, 'commits'))).toThrow(/ENOTCONN/);
    const r = await trove(['--repo', repo, 'umount', mnt]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/daemon had died/);
    expect(mountpoints().has(mnt)).toBe(false);

    // And straight after a crash, without umount: mount cleans up by itself.
    pid = await mountRepo(repo, mnt);
    process.kill(pid, 'SIGKILL');
    expect(await until(() => !alive(pid))).toBe(true);
    const again = await trove(['--repo', repo, 'mount', mnt]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/cleaned a stale mount/);
    expect(readFileSync(join(mnt, 'refs', 'main', 'etc', 'os-release'), 'utf8')).toBe('ID=trove\n');
    expect((await trove(['--repo', repo, 'umount', mnt])).code).toBe(0);
  });

  it('detaches a busy mount lazily; its daemon serves the remaining users, then exits', async () => {
    const pid = await mountRepo(repo, mnt);
    // A process with its working directory inside the view keeps it busy.
    const sleeper = spawn('sleep', ['60'], { cwd: join(mnt, 'commits', id, 'etc') });
    await until(() => alive(sleeper.pid!));
    const r = await trove(['--repo', repo, 'umount', mnt]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/busy: detached it lazily/);
    expect(mountpoints().has(mnt)).toBe(false);
    expect(() => statSync(join(repo, 'mount.json'))).toThrow(/ENOENT/);
    // The point is free for a new mount at once.
    const again = await mountRepo(repo, mnt);
    expect(again).not.toBe(pid);
    expect(readFileSync(join(mnt, 'refs', 'main', 'etc', 'os-release'), 'utf8')).toBe('ID=trove\n');
    // Another mount made as soon as the last user has left takes the lowest free connection
    // number, which is likely the detached mount's: its daemon must still see that its own
    // connection has ended (by the fusectl directory's inode, not the number) and exit.
    const other = join(repo, '..', 'other-repo');
    const otherMnt = join(repo, '..', 'other-mnt');
    expect((await trove(['--repo', other, 'init'])).code).toBe(0);
    sleeper.kill();
    await until(() => !alive(sleeper.pid!));
    await mountRepo(other, otherMnt);
    try {
      expect(await until(() => !alive(pid), 10_000)).toBe(true);
      expect(alive(again)).toBe(true);
      expect(readFileSync(join(mnt, 'refs', 'main', 'etc', 'os-release'), 'utf8')).toBe('ID=trove\n');
      expect((await trove(['--repo', repo, 'umount', mnt])).code).toBe(0);
    } finally {
      await trove(['--repo', other, 'umount', otherMnt]);
    }
  });

  it('a later mount at the same point, given the detached mount\'s connection number, is not taken for it', async () => {
    const pid = await mountRepo(repo, mnt);
    const sleeper = spawn('sleep', ['60'], { cwd: join(mnt, 'commits', id, 'etc') });
    await until(() => alive(sleeper.pid!));
    const r = await trove(['--repo', repo, 'umount', mnt]);
    expect(r.stdout).toMatch(/busy: detached it lazily/);
    const other = join(repo, '..', 'same-point-repo');
    expect((await trove(['--repo', other, 'init'])).code).toBe(0);
    sleeper.kill();
    await until(() => !alive(sleeper.pid!));
    // Mounted as soon as the last user left: the kernel's lowest free number is likely the old one's.
    const otherPid = await mountRepo(other, mnt);
    try {
      // The old daemon sees that the mount there is not its connection, and exits without touching it.
      expect(await until(() => !alive(pid), 10_000)).toBe(true);
      expect(alive(otherPid)).toBe(true);
      expect(mountpoints().has(mnt)).toBe(true);
      expect(readdirSync(join(mnt, 'commits'))).toEqual([]);
    } finally {
      expect((await trove(['--repo', other, 'umount', mnt])).code).toBe(0);
    }
  });

  it('a `trove mount` process starts its daemon ahead, which serves and logs to mount.log; a refused mount leaves none behind', async () => {
    // Only with the libfuse 3 binding (always in CI): the daemon started ahead moves its output to the log through it.
    if (process.env.CI) expect(existsSync(FUSE3_ADDON), `${FUSE3_ADDON} (npm test builds it)`).toBe(true);
    if (!existsSync(FUSE3_ADDON)) return console.log('libfuse 3 binding not built: trove mount starts its daemon after its checks');
    // Each run's processes carry a mark in their environment, which the daemon inherits.
    const mark = `trove-prewarm-${process.pid}-${Date.now()}`;
    const marked = () =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return readFileSync(`/proc/${p}/environ`, 'latin1').split('\0').includes(`TROVE_TEST_MARK=${mark}`);
          } catch {
            return false; // Gone meanwhile.
          }
        })
        .map(Number);
    // NODE_EXTRA_CA_CERTS set, as on machines that add a CA bundle: the daemon starts without it (its parse
    // costs a Node start 40 ms) and gets the file under TROVE_EXTRA_CA_CERTS (src/util/extra-ca.ts).
    const caFile = join(repo, '..', 'extra-ca.pem');
    writeFileSync(caFile, rootCertificates[0]!);
    const run = (args: string[]) =>
      spawnSync(process.execPath, [TROVE_BIN, '--repo', repo, ...args], { encoding: 'utf8', env: { ...process.env, TROVE_TEST_MARK: mark, NODE_EXTRA_CA_CERTS: caFile } });

    // Refused by the command's own check (the mount point is a file): the daemon it started leaves with it.
    const notADir = join(repo, '..', 'not-a-dir');
    writeFileSync(notADir, '');
    const refused = run(['mount', notADir]);
    expect(refused.status, refused.stderr).not.toBe(0);
    expect(await until(() => marked().length === 0, 5_000), `left running: ${marked().join(' ')}`).toBe(true);
    expect(mountpoints().has(notADir)).toBe(false);

    const r = run(['mount', mnt, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const pid = (JSON.parse(r.stdout) as { pid: number }).pid;
    try {
      // The daemon is the one started ahead, it serves, and its output went to the repository's log.
      expect(readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')).toContain('--prewarm');
      const env = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      expect(env).toContain(`TROVE_EXTRA_CA_CERTS=${caFile}`);
      expect(env.filter((v) => v.startsWith('NODE_EXTRA_CA_CERTS='))).toEqual([]);
      expect(marked()).toContain(pid); // with its watchdog
      // The watchdog at the lowest CPU priority, in its own session's group too (autogroup), so that
      // its Node start does not take a core from the mount's first requests; the daemon as it was.
      const watchdogs = marked().filter((p) => readFileSync(`/proc/${p}/cmdline`, 'latin1').includes('watchdog-main.js'));
      expect(watchdogs).toHaveLength(1);
      expect(getPriority(watchdogs[0]!)).toBe(19);
      expect(getPriority(pid)).toBe(0);
      if (existsSync(`/proc/${pid}/autogroup`)) expect(readFileSync(`/proc/${watchdogs[0]}/autogroup`, 'latin1')).toMatch(/ nice 19\n$/);
      expect(readFileSync(join(mnt, 'refs', 'main', 'etc', 'os-release'), 'utf8')).toBe('ID=trove\n');
      expect(readFileSync(join(repo, 'mount.log'), 'utf8')).toContain(`serving ${repo} at ${mnt} (pid ${pid};`);
    } finally {
      expect((await trove(['--repo', repo, 'umount', mnt])).code).toBe(0);
    }
    expect(await until(() => marked().length === 0, 10_000), `left running: ${marked().join(' ')}`).toBe(true);
  });

  it('runs in the foreground until signalled, then unmounts and clears the record', async () => {
    // A real process: `mount --foreground` serves until a signal ends it, and exits from its signal handler.
    const child = spawn(process.execPath, [TROVE_BIN, '--repo', repo, 'mount', mnt, '--foreground'], { stdio: 'pipe' });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    expect(await until(() => /serving/.test(err), 10_000), err).toBe(true);
    expect(readFileSync(join(mnt, 'refs', 'main', 'etc', 'os-release'), 'utf8')).toBe('ID=trove\n');
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
    expect(mountpoints().has(mnt)).toBe(false);
    expect(() => statSync(join(repo, 'mount.json'))).toThrow(/ENOENT/);
  });
});

/** The libfuse the mount of `repo` serves through, from the last `serving` line of its log. */
function servedBy(repo: string): number {
  const lines = readFileSync(join(repo, 'mount.log'), 'utf8').split('\n').filter((l) => l.includes(' serving '));
  return Number(/; libfuse (\d);/.exec(lines[lines.length - 1] ?? '')?.[1]);
}

/** The daemon's request counts (SIGUSR2 writes them to the log). */
/** The daemon's `stats:` line, written to its log on SIGUSR2. */
async function statsLine(repo: string, pid: number): Promise<string> {
  const logFile = join(repo, 'mount.log');
  const lines = () => readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes(' stats: '));
  const seen = lines().length;
  process.kill(pid, 'SIGUSR2');
  expect(await until(() => lines().length > seen)).toBe(true);
  return lines().at(-1)!;
}

async function requestCounts(repo: string, pid: number): Promise<Record<string, number>> {
  const logFile = join(repo, 'mount.log');
  const lines = () => readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes(' requests: '));
  const seen = lines().length;
  process.kill(pid, 'SIGUSR2');
  expect(await until(() => lines().length > seen)).toBe(true);
  const all = lines();
  return JSON.parse(all[all.length - 1]!.split(' requests: ')[1]!) as Record<string, number>;
}
