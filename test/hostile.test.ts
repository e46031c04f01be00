import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tarStream from 'tar-stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeCommit } from '../src/format/codec.js';
import { trove as schema } from '../src/format/generated/trove.js';
import type { ObjectId } from '../src/util/hash.js';
import { commitSource } from '../src/repo/commit.js';
import { Repo } from '../src/repo/repo.js';
import { getDebs } from './helpers/debs.js';
import { snapshot } from './helpers/fstree.js';
import { paxRecord, paxTar } from './helpers/pax.js';
import { trove } from './helpers/cli.js';
import { sh, tmpdir } from './helpers/tmp.js';

interface Member {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  content?: string;
  linkname?: string;
  mode?: number;
}

/** A tar archive with exactly these members, whatever their names (tar-stream writes them verbatim). */
async function tarBytes(members: Member[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => chunks.push(c as Buffer));
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const m of members) {
    const type = m.type ?? 'file';
    const header = { name: m.name, type, linkname: m.linkname, mode: m.mode ?? (type === 'directory' ? 0o755 : 0o644), uid: 0, gid: 0, mtime: new Date(0) };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (type === 'file') pack.entry(header, m.content ?? '', cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A .deb made the way dpkg-deb makes one: `ar rc` of debian-binary, control.tar.xz, data.tar.xz. */
async function debWith(dir: string, data: Member[]): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'debian-binary'), '2.0\n');
  const control = 'Package: evil\nVersion: 1.0\nArchitecture: amd64\nMaintainer: nobody\nDescription: hostile\n';
  writeFileSync(join(dir, 'control.tar'), await tarBytes([{ name: './', type: 'directory' }, { name: './control', content: control }]));
  writeFileSync(join(dir, 'data.tar'), await tarBytes(data));
  sh('xz', ['-f', join(dir, 'control.tar'), join(dir, 'data.tar')]);
  const deb = join(dir, 'evil.deb');
  sh('ar', ['rc', deb, 'debian-binary', 'control.tar.xz', 'data.tar.xz'], { cwd: dir });
  return deb;
}

/** The repository's files and their contents, minus the derived index and scratch space. */
const repoState = (repo: string) => snapshot(repo, (rel) => rel === 'index' || rel === 'tmp');

/** A fresh repository with one good commit on `main`. */
async function goodRepo(): Promise<string> {
  const root = tmpdir('trove-hostile');
  const repo = join(root, 'repo');
  expect((await trove(['init', '--repo', repo])).code).toBe(0);
  const src = join(root, 'good');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'file'), 'good content\n');
  writeFileSync(join(src, 'sub', 'deeper'), 'deeper content\n');
  const r = await trove(['commit', src, '--repo', repo, '-r', 'main', '-m', 'good']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return repo;
}

/**
 * Imports `source` through the API and the CLI; both must refuse it with
 * `code` / `exit`, and the repository must be byte-for-byte what it was.
 */
async function expectRefused(repo: string, source: string, code: string, exit: number, message: RegExp): Promise<void> {
  const before = repoState(repo);
  const r = await Repo.open(repo);
  try {
    await expect(commitSource(r, source, { ref: 'evil' })).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
  } finally {
    await r.close();
  }
  const cli = await trove(['commit', source, '--repo', repo, '-r', 'evil']);
  expect(cli.code).toBe(exit);
  expect(cli.stderr).toMatch(/^trove: /);
  expect(cli.stderr).toMatch(message);
  expect(cli.stdout).toBe('');
  expect(repoState(repo)).toEqual(before);
  expect(existsSync(join(repo, 'refs', 'heads', 'evil'))).toBe(false);
  const fsck = await trove(['fsck', '--repo', repo]);
  expect({ code: fsck.code, stderr: fsck.stderr }).toEqual({ code: 0, stderr: '' });
}

// Every hostile archive starts with an innocent file, so a half-done import would leave its blob behind.
const INNOCENT: Member = { name: 'innocent', content: `innocent ${Math.random()}\n` };

const TAR_CASES: [string, Member[], RegExp][] = [
  ['a member named ../x', [INNOCENT, { name: '../x', content: 'escaped' }], /\.\./],
  ['a member named a/../../x', [INNOCENT, { name: 'a/', type: 'directory' }, { name: 'a/../../x', content: 'escaped' }], /\.\./],
  ['a member named ./../x', [INNOCENT, { name: './../x', content: 'escaped' }], /\.\./],
  ['an absolute member /etc/x', [INNOCENT, { name: '/etc/x', content: 'escaped' }], /absolute/],
  ['a member written through a symlink to /etc', [INNOCENT, { name: 'link', type: 'symlink', linkname: '/etc' }, { name: 'link/passwd', content: 'root::0:0::/:/bin/sh\n' }], /symlink/],
  ['a member written through a symlink to ..', [INNOCENT, { name: 'link', type: 'symlink', linkname: '..' }, { name: 'link/x', content: 'escaped' }], /symlink/],
  ['a directory member below a symlink', [INNOCENT, { name: 'link', type: 'symlink', linkname: '/tmp' }, { name: 'link/d/', type: 'directory' }], /symlink/],
  ['a hard link to a path outside the archive', [INNOCENT, { name: 'h', type: 'link', linkname: '../../etc/shadow' }], /\.\.|hard link/],
  ['a hard link to an absolute path', [INNOCENT, { name: 'h', type: 'link', linkname: '/etc/shadow' }], /absolute|hard link/],
  ['a hard link to a missing member', [INNOCENT, { name: 'h', type: 'link', linkname: 'missing' }], /hard link/],
  ['a hard link to a later member', [INNOCENT, { name: 'h', type: 'link', linkname: 'later' }, { name: 'later', content: 'x' }], /hard link/],
  ['a hard link to a directory', [INNOCENT, { name: 'd/', type: 'directory' }, { name: 'h', type: 'link', linkname: 'd' }], /hard link/],
  ['a file member replacing a directory', [INNOCENT, { name: 'd/', type: 'directory' }, { name: 'd/f', content: 'x' }, { name: 'd', content: 'x' }], /replaces a directory/],
  ['a member below a file', [INNOCENT, { name: 'f', content: 'x' }, { name: 'f/g', content: 'y' }], /directory/],
  ['a symlink with an empty target', [INNOCENT, { name: 'l', type: 'symlink', linkname: '' }], /empty target/],
];

describe('hostile tar archives are refused and leave the repository as it was', () => {
  let repo: string;
  let work: string;
  beforeAll(async () => {
    repo = await goodRepo();
    work = tmpdir('trove-hostile-input');
  });

  it.each(TAR_CASES)('%s', async (label, members, message) => {
    const path = join(work, `${label.replace(/\W+/g, '-')}.tar`);
    writeFileSync(path, await tarBytes(members));
    await expectRefused(repo, path, 'E_UNSAFE_ARCHIVE', 6, message);
  });

  it('a compressed hostile archive is refused the same way', async () => {
    const path = join(work, 'escape.tar');
    writeFileSync(path, await tarBytes([INNOCENT, { name: '../../x', content: 'escaped' }]));
    sh('xz', ['-f', path]);
    await expectRefused(repo, `${path}.xz`, 'E_UNSAFE_ARCHIVE', 6, /\.\./);
  });

  it('a truncated tar', async () => {
    const path = join(work, 'truncated.tar');
    writeFileSync(path, await tarBytes([INNOCENT, { name: 'big', content: 'x'.repeat(100_000) }]));
    truncateSync(path, 512 * 3 + 50_000); // cut inside the data of "big"
    await expectRefused(repo, path, 'E_UNSAFE_ARCHIVE', 6, /truncated|end|not a valid tar/i);
  });

  it('a truncated .tar.xz', async () => {
    const path = join(work, 'truncated-xz.tar');
    writeFileSync(path, await tarBytes([INNOCENT, { name: 'random', content: Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 251)).toString('latin1') }]));
    sh('xz', ['-f', path]);
    const xz = `${path}.xz`;
    truncateSync(xz, Math.floor(readFileSync(xz).length / 2));
    await expectRefused(repo, xz, 'E_UNSAFE_ARCHIVE', 6, /not a valid tar|truncated|end/i);
  });

  it('an empty file', async () => {
    const path = join(work, 'empty.tar');
    writeFileSync(path, '');
    await expectRefused(repo, path, 'E_UNSAFE_ARCHIVE', 6, /empty/);
  });

  it.each([
    ['a record longer than the header', Buffer.concat([paxRecord('SCHILY.xattr.user.a', 'x'), Buffer.from('99 SCHILY.xattr.user.b=y\n')])],
    ['a record without key=value', Buffer.from('12 novalue!\n')],
    ['a length that is not a number', Buffer.from('x1 SCHILY.xattr.user.a=b\n')],
  ])('a PAX header with %s', async (label, pax) => {
    const path = join(work, `pax-${label.replace(/\W+/g, '-')}.tar`);
    writeFileSync(path, Buffer.concat([await tarBytes([INNOCENT]).then((b) => b.subarray(0, b.length - 1024)), paxTar(pax, 'f', 'after the header\n')]));
    await expectRefused(repo, path, 'E_UNSAFE_ARCHIVE', 6, /PAX record/);
  });

  it('a directory holding a name that is not UTF-8', async () => {
    const dir = join(work, 'badname');
    mkdirSync(dir);
    writeFileSync(join(dir, 'fine'), `fine ${Math.random()}\n`);
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/bad-`), Buffer.from([0xff, 0xfe])]), 'x');
    await expectRefused(repo, dir, 'E_BAD_NAME', 6, /UTF-8/);
  });
});

describe('hostile .deb packages', () => {
  let repo: string;
  let work: string;
  beforeAll(async () => {
    repo = await goodRepo();
    work = tmpdir('trove-hostile-deb');
  });

  it('a .deb whose data.tar has a ../ member', async () => {
    const deb = await debWith(join(work, 'dotdot'), [{ name: './', type: 'directory' }, INNOCENT, { name: './usr/../../etc/cron.d/evil', content: '* * * * * root sh\n' }]);
    expect(sh('ar', ['t', deb])).toBe('debian-binary\ncontrol.tar.xz\ndata.tar.xz\n');
    await expectRefused(repo, deb, 'E_UNSAFE_ARCHIVE', 6, /\.\./);
  });

  it('a .deb whose data.tar has a member starting with ../', async () => {
    const deb = await debWith(join(work, 'leading-dotdot'), [{ name: './', type: 'directory' }, INNOCENT, { name: '../etc/cron.d/evil', content: '* * * * * root sh\n' }]);
    await expectRefused(repo, deb, 'E_UNSAFE_ARCHIVE', 6, /\.\./);
  });

  it('a .deb whose data.tar has an absolute member path', async () => {
    const deb = await debWith(join(work, 'absolute'), [{ name: './', type: 'directory' }, INNOCENT, { name: '/etc/cron.d/evil', content: '* * * * * root sh\n' }]);
    await expectRefused(repo, deb, 'E_UNSAFE_ARCHIVE', 6, /absolute/);
  });

  it('a .deb whose data.tar writes through a symlink', async () => {
    const deb = await debWith(join(work, 'symlink'), [
      { name: './', type: 'directory' },
      INNOCENT,
      { name: './usr', type: 'symlink', linkname: '/' },
      { name: './usr/etc/passwd', content: 'evil\n' },
    ]);
    await expectRefused(repo, deb, 'E_UNSAFE_ARCHIVE', 6, /symlink/);
  });

  it('a .deb whose data.tar hard-links outside', async () => {
    const deb = await debWith(join(work, 'hardlink'), [{ name: './', type: 'directory' }, INNOCENT, { name: './shadow', type: 'link', linkname: '/etc/shadow' }]);
    await expectRefused(repo, deb, 'E_UNSAFE_ARCHIVE', 6, /absolute|hard link/);
  });

  it('a truncated real .deb', async () => {
    const [hello] = getDebs(['hello']);
    const path = join(work, 'truncated.deb');
    const bytes = readFileSync(hello!);
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    await expectRefused(repo, path, 'E_UNSAFE_ARCHIVE', 6, /truncated/);
  });

  it('an ar archive that is not a Debian package', async () => {
    const dir = join(work, 'notdeb');
    mkdirSync(dir);
    writeFileSync(join(dir, 'data.tar'), await tarBytes([INNOCENT]));
    sh('ar', ['rc', join(dir, 'x.deb'), 'data.tar'], { cwd: dir });
    await expectRefused(repo, join(dir, 'x.deb'), 'E_UNSAFE_ARCHIVE', 6, /debian-binary|not a Debian package/);
  });
});

describe('a stored tree with invalid names', () => {
  const pb = schema.v1;

  /** Writes a tree whose only entry has `name` (bypassing the encoder's checks) and a commit on `ref`. */
  async function plant(repo: string, name: string, ref: string): Promise<{ tree: ObjectId; commit: ObjectId }> {
    const r = await Repo.open(repo);
    try {
      const blob = await r.store.put(Buffer.from('pwned\n'));
      const inner = pb.Tree.encode({ entries: [{ name: 'pwned', kind: pb.EntryKind.ENTRY_KIND_FILE, id: Buffer.from(blob.id, 'hex'), mode: 0o644, size: 6 }] }).finish();
      const innerId = (await r.store.put(inner)).id;
      const entry =
        name.includes('pwned') || name === ''
          ? { name, kind: pb.EntryKind.ENTRY_KIND_FILE, id: Buffer.from(blob.id, 'hex'), mode: 0o644, size: 6 }
          : { name, kind: pb.EntryKind.ENTRY_KIND_DIR, id: Buffer.from(innerId, 'hex'), mode: 0o755 };
      const tree = (await r.store.put(pb.Tree.encode({ entries: [entry] }).finish())).id;
      const commit = (await r.store.put(encodeCommit({ tree, root: { mode: 0o755, uid: 0, gid: 0, xattrs: [] }, parents: [], subject: 'evil', body: '', timestamp: 1, metadata: [] }))).id;
      await r.refs.write(ref, commit);
      return { tree, commit };
    } finally {
      await r.close();
    }
  }

  it.each([
    ['dot-dot', '..'],
    ['dot', '.'],
    ['a path climbing out', '../../pwned'],
    ['a path with a slash', 'a/b'],
    ['an empty name', ''],
  ])('%s: ls and checkout refuse it, fsck reports it, nothing is written outside', async (_label, name) => {
    const repo = await goodRepo();
    const { tree } = await plant(repo, name, 'bad');
    const before = repoState(repo);

    for (const args of [['ls', 'bad'], ['ls', '-R', 'bad'], ['diff', 'main', 'bad']]) {
      const r = await trove([...args, '--repo', repo]);
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/invalid entry name|not canonically encoded/);
    }

    const outer = tmpdir('trove-hostile-checkout');
    const dest = join(outer, 'a', 'b', 'dest');
    for (const extra of [[], ['--copy']]) {
      const r = await trove(['checkout', ...extra, '--repo', repo, 'bad', dest]);
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/invalid entry name|not canonically encoded/);
      // Nothing anywhere around the destination, and the destination is gone again.
      expect(snapshot(outer)).toEqual(new Map([['a', expect.stringMatching(/ dir$/)], ['a/b', expect.stringMatching(/ dir$/)]]));
    }

    const f = await trove(['fsck', '--json', '--repo', repo]);
    expect(f.code).toBe(5);
    const report = JSON.parse(f.stdout) as { ok: boolean; problems: { id: string; kind?: string; problem: string }[] };
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual(expect.objectContaining({ id: tree, kind: 'tree', problem: 'invalid' }));
    expect(repoState(repo)).toEqual(before);
  });
});

describe('symlinks pointing outside the tree', () => {
  it('are stored and checked out as symlinks and never followed', async () => {
    const repo = await goodRepo();
    const root = tmpdir('trove-symlinks');
    const sentinel = join(root, 'sentinel');
    mkdirSync(join(sentinel, 'inside'), { recursive: true });
    writeFileSync(join(sentinel, 'keep'), 'untouched\n');
    const src = join(root, 'src');
    mkdirSync(join(src, 'deep', 'er'), { recursive: true });
    const targets: Record<string, string> = {
      abs: sentinel,
      'abs-file': join(sentinel, 'keep'),
      etc: '/etc',
      'deep/er/up': '../../../../../../..',
      'deep/up-sentinel': '../../sentinel',
    };
    for (const [p, t] of Object.entries(targets)) symlinkSync(t, join(src, p));
    writeFileSync(join(src, 'deep', 'er', 'file'), 'regular\n');
    expect((await trove(['commit', src, '--repo', repo, '-r', 'links'])).code).toBe(0);
    const sentinelBefore = snapshot(sentinel);

    const ls = await trove(['ls', '-R', '--json', 'links', '--repo', repo]);
    expect(ls.code).toBe(0);
    const rows = JSON.parse(ls.stdout) as { path: string; kind: string; target?: string }[];
    for (const [p, t] of Object.entries(targets)) expect(rows).toContainEqual(expect.objectContaining({ path: p, kind: 'symlink', target: t }));

    // Paths are never resolved through a symlink.
    const through = await trove(['ls', 'links:abs/inside', '--repo', repo]);
    expect(through.code).toBe(3);
    expect((await trove(['cat', 'links:abs-file', '--repo', repo])).code).toBe(2);
    expect((await trove(['cat', 'links:etc/passwd', '--repo', repo])).code).toBe(3);

    for (const extra of [[], ['--copy']]) {
      const dest = join(root, `out${extra.join('')}`);
      const co = await trove(['checkout', ...extra, 'links', dest, '--repo', repo]);
      expect(co.stderr).toBe('');
      expect(co.code).toBe(0);
      for (const [p, t] of Object.entries(targets)) {
        expect(lstatSync(join(dest, p)).isSymbolicLink()).toBe(true);
        expect(readlinkSync(join(dest, p))).toBe(t);
      }
      expect(readFileSync(join(dest, 'deep', 'er', 'file'), 'utf8')).toBe('regular\n');
    }
    expect(snapshot(sentinel)).toEqual(sentinelBefore);
    expect(lstatSync('/etc').isDirectory()).toBe(true);
  });

  it('a symlink in a tar is stored verbatim; only members through it are refused', async () => {
    const repo = await goodRepo();
    const root = tmpdir('trove-symlink-tar');
    const sentinel = join(root, 'sentinel');
    mkdirSync(sentinel);
    const tar = join(root, 'links.tar');
    writeFileSync(tar, await tarBytes([{ name: 'out', type: 'symlink', linkname: sentinel }, { name: 'up', type: 'symlink', linkname: '../../..' }]));
    expect((await trove(['commit', tar, '--repo', repo, '-r', 'tarlinks'])).code).toBe(0);
    const dest = join(root, 'dest');
    expect((await trove(['checkout', 'tarlinks', dest, '--repo', repo])).code).toBe(0);
    expect(readlinkSync(join(dest, 'out'))).toBe(sentinel);
    expect(readlinkSync(join(dest, 'up'))).toBe('../../..');
    expect(snapshot(sentinel).size).toBe(0);
  });
});

describe('objects whose bytes no longer match their name', () => {
  async function idsOf(repo: string) {
    const ls = JSON.parse((await trove(['ls', '-R', '--json', 'main', '--repo', repo])).stdout) as { path: string; id?: string }[];
    const show = JSON.parse((await trove(['show', '--json', 'main', '--repo', repo])).stdout) as { commit: string; tree: string };
    const byPath = new Map(ls.map((r) => [r.path, r.id!]));
    return { blob: byPath.get('file')!, subtree: byPath.get('sub')!, commit: show.commit, root: show.tree };
  }

  const objectPath = (repo: string, id: string) => join(repo, 'objects', id.slice(0, 2), id.slice(2));

  /** Flips one byte of an object file in place, keeping its size. */
  function rot(repo: string, id: string): void {
    const p = objectPath(repo, id);
    const b = readFileSync(p);
    b[b.length - 1] = b[b.length - 1]! ^ 0x01;
    writeFileSync(p, b);
  }

  it('a corrupt blob: fsck reports it (JSON, exit 5) and cat refuses it', async () => {
    const repo = await goodRepo();
    const { blob } = await idsOf(repo);
    expect((await trove(['cat', 'main:file', '--repo', repo])).stdout).toBe('good content\n');
    rot(repo, blob);
    const before = repoState(repo);

    const f = await trove(['fsck', '--json', '--repo', repo]);
    expect(f.code).toBe(5);
    const report = JSON.parse(f.stdout) as { ok: boolean; problems: { id: string; kind?: string; problem: string; where?: string }[] };
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ id: blob, problem: 'corrupt', kind: 'blob', where: expect.stringContaining('file') })]);
    const text = await trove(['fsck', '--repo', repo]);
    expect(text.code).toBe(5);
    expect(text.stdout).toContain(`corrupt: blob ${blob}`);

    const cat = await trove(['cat', 'main:file', '--repo', repo]);
    expect(cat.code).toBe(5);
    expect(cat.stderr).toMatch(/corrupt/);
    expect(cat.stdout).toBe('');
    // Others are still readable.
    expect((await trove(['cat', 'main:sub/deeper', '--repo', repo])).stdout).toBe('deeper content\n');
    const co = await trove(['checkout', '--copy', 'main', join(tmpdir('trove-corrupt'), 'dest'), '--repo', repo]);
    expect(co.code).toBe(5);
    expect(co.stderr).toMatch(/corrupt/);
    expect(repoState(repo)).toEqual(before);
  });

  it('a corrupt tree: ls and fsck refuse it', async () => {
    const repo = await goodRepo();
    const { subtree } = await idsOf(repo);
    rot(repo, subtree);
    const before = repoState(repo);
    const ls = await trove(['ls', 'main:sub', '--repo', repo]);
    expect(ls.code).toBe(5);
    expect(ls.stderr).toMatch(/corrupt/);
    expect((await trove(['cat', 'main:sub/deeper', '--repo', repo])).code).toBe(5);
    expect((await trove(['checkout', 'main', join(tmpdir('trove-corrupt'), 'dest'), '--repo', repo])).code).toBe(5);
    const f = await trove(['fsck', '--json', '--repo', repo]);
    expect(f.code).toBe(5);
    expect((JSON.parse(f.stdout) as { problems: unknown[] }).problems).toContainEqual(expect.objectContaining({ id: subtree, problem: 'corrupt', kind: 'tree' }));
    expect(repoState(repo)).toEqual(before);
  });

  it('a corrupt commit: show, log and ls refuse it', async () => {
    const repo = await goodRepo();
    const { commit } = await idsOf(repo);
    rot(repo, commit);
    const before = repoState(repo);
    for (const args of [['show', 'main'], ['log', 'main'], ['ls', 'main'], ['checkout', 'main', join(tmpdir('trove-corrupt'), 'dest')]]) {
      const r = await trove([...args, '--repo', repo]);
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/corrupt/);
    }
    const f = await trove(['fsck', '--json', '--repo', repo]);
    expect(f.code).toBe(5);
    expect((JSON.parse(f.stdout) as { problems: unknown[] }).problems).toContainEqual(expect.objectContaining({ id: commit, problem: 'corrupt', kind: 'commit' }));
    expect(repoState(repo)).toEqual(before);
  });

  it('an emptied or missing blob: fsck reports it', async () => {
    const repo = await goodRepo();
    const { blob } = await idsOf(repo);
    writeFileSync(objectPath(repo, blob), ''); // as after a crash without fsync
    const emptied = repoState(repo);
    let f = await trove(['fsck', '--json', '--repo', repo]);
    expect(f.code).toBe(5);
    expect((JSON.parse(f.stdout) as { problems: unknown[] }).problems).toContainEqual(expect.objectContaining({ id: blob, problem: 'corrupt' }));
    expect((await trove(['cat', 'main:file', '--repo', repo])).code).toBe(5);
    expect(repoState(repo)).toEqual(emptied);
    rmSync(objectPath(repo, blob));
    const missing = repoState(repo);
    f = await trove(['fsck', '--json', '--repo', repo]);
    expect(f.code).toBe(5);
    expect((JSON.parse(f.stdout) as { problems: unknown[] }).problems).toEqual([expect.objectContaining({ id: blob, problem: 'missing', kind: 'blob' })]);
    expect((await trove(['cat', 'main:file', '--repo', repo])).code).toBe(3);
    // A tree whose blob is gone breaks the store's invariant: checkout calls that corruption.
    const co = await trove(['checkout', 'main', join(tmpdir('trove-missing'), 'dest'), '--repo', repo]);
    expect({ code: co.code, stderr: co.stderr }).toEqual({ code: 5, stderr: expect.stringMatching(/missing/) });
    expect(repoState(repo)).toEqual(missing);
  });
});
