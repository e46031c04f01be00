// Hostile archives: what trove stores is what GNU tar lists (PAX owners,
// global headers, long names, hard links) or the archive is refused (exit 6);
// decompression bombs are capped and streamed with bounded memory; package
// names a shell or an option parser would misread are refused.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_TREE_DEPTH, MAX_TREE_PATH } from '../src/util/limits.js';
import { runTrove, trove, troveOk } from './helpers/cli.js';
import { getDebs } from './helpers/debs.js';
import { objectIds } from './helpers/objects.js';
import { arArchive, type CraftItem, type CraftMember, craftTar, prng, zstdZeros } from './helpers/tar-craft.js';
import { sh, tmpdir } from './helpers/tmp.js';

interface Listed {
  kind: 'file' | 'dir' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  target?: string;
}

/** Permission string of `ls -l` / `tar -tv` (`rwsr-xr-x`) to a mode. */
function parseMode(p: string): number {
  let m = 0;
  const bit = (i: number, v: number) => (p[i] !== '-' && p[i] !== 'S' && p[i] !== 'T' ? v : 0);
  m |= bit(0, 0o400) | bit(1, 0o200) | bit(3, 0o40) | bit(4, 0o20) | bit(6, 0o4) | bit(7, 0o2);
  m |= bit(2, 0o100) | bit(5, 0o10) | bit(8, 0o1);
  if (p[2] === 's' || p[2] === 'S') m |= 0o4000;
  if (p[5] === 's' || p[5] === 'S') m |= 0o2000;
  if (p[8] === 't' || p[8] === 'T') m |= 0o1000;
  return m;
}

const norm = (p: string) => p.replace(/^(\.\/)+/, '').replace(/\/+$/, '');

/**
 * What GNU tar says the archive holds, from `tar -tv --numeric-owner`, as
 * extraction leaves it: a later member replaces an earlier one of the same
 * path; a hard link is a file with its target's content.
 */
function gnuListing(listing: string): Map<string, Listed> {
  const out = new Map<string, Listed>();
  for (const line of listing.split('\n')) {
    if (line === '') continue;
    const m = /^([-dlh])([rwxsStT-]{9}) (\d+)\/(\d+)\s+(\d+) \S+ \S+ (.*)$/.exec(line);
    if (!m) throw new Error(`unexpected tar -tv line: ${line}`);
    const [, t, perm, uid, gid, size, rest] = m;
    const base = { mode: parseMode(perm!), uid: Number(uid), gid: Number(gid) };
    if (t === 'l') {
      const [name, target] = rest!.split(' -> ');
      out.set(norm(name!), { kind: 'symlink', ...base, target });
    } else if (t === 'h') {
      const [name, target] = rest!.split(' link to ');
      out.set(norm(name!), { kind: 'file', ...base, size: out.get(norm(target!))!.size });
    } else if (t === 'd') {
      if (norm(rest!) !== '') out.set(norm(rest!), { kind: 'dir', ...base });
    } else out.set(norm(rest!), { kind: 'file', ...base, size: Number(size) });
  }
  return out;
}

interface LsRow {
  path: string;
  kind: 'file' | 'dir' | 'symlink';
  /** Octal, as `--json` prints every mode (`"4755"`). */
  mode: string;
  uid: number;
  gid: number;
  size: number;
  target?: string;
}

/** Commits `archive` and compares what trove stored with what GNU tar lists. */
async function expectSameAsGnuTar(repo: string, archive: string, ref: string, listing?: string): Promise<void> {
  const expected = gnuListing(listing ?? sh('tar', ['-tv', '--numeric-owner', '-f', archive]));
  const r = await trove(['--repo', repo, 'commit', archive, '--ref', ref, '--no-update-summary']);
  expect(r.stderr, `${archive}`).toBe('');
  expect(r.code).toBe(0);
  const rows = JSON.parse(await troveOk(repo, 'ls', ref, '-R', '--json')) as LsRow[];
  const got = new Map(rows.map((row) => [row.path, row]));
  for (const [path, want] of expected) {
    const row = got.get(path);
    expect(row, `${archive}: ${path} is missing`).toBeDefined();
    expect(row!.mode, `${archive}: ${path}`).toMatch(/^[0-7]{4,}$/);
    const have: Listed = { kind: row!.kind, mode: parseInt(row!.mode, 8), uid: row!.uid, gid: row!.gid };
    if (want.kind === 'file') have.size = row!.size;
    if (want.kind === 'symlink') have.target = row!.target;
    expect(have, `${archive}: ${path}`).toEqual(want);
  }
  // Anything else trove has is a parent directory the archive left implicit.
  for (const row of rows) if (!expected.has(row.path)) expect(row.kind, `${archive}: ${row.path} is not in the tar listing`).toBe('dir');
}

const MODES = [0o644, 0o755, 0o4755, 0o2755, 0o6755, 0o1777, 0o600, 0o777, 0o4711, 0o640];
const SEGMENTS = ['a', 'b', 'c', 'bin', 'x'.repeat(110), 'y'.repeat(60)];

/** A random archive GNU tar and trove must agree on (no keyword trove refuses). */
function randomArchive(seed: number): Buffer {
  const rnd = prng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const kinds = new Map<string, 'dir' | 'file' | 'symlink'>();
  const files = new Map<string, { path: string; member: CraftMember }>();
  const items: CraftItem[] = [];
  const id = () => (rnd() < 0.3 ? Math.floor(rnd() * 4_000_000_000) : Math.floor(rnd() * 70_000));
  if (rnd() < 0.4) items.push({ global: [['uid', String(id())], ['gid', String(id())], ['comment', 'made by a fuzzer']] });
  const n = 3 + Math.floor(rnd() * 14);
  for (let i = 0; i < n; i++) {
    if (rnd() < 0.1) items.push({ global: rnd() < 0.5 ? [['uid', String(id())]] : [['gid', String(id())], ['mtime', '1.5']] });
    const depth = 1 + Math.floor(rnd() * 3);
    const parts = Array.from({ length: depth }, () => pick(SEGMENTS));
    const path = parts.join('/');
    // Parents must be (or become) directories; a path keeps one kind.
    if (parts.slice(0, -1).some((_, j) => (kinds.get(parts.slice(0, j + 1).join('/')) ?? 'dir') !== 'dir')) continue;
    const existing = kinds.get(path);
    const r = rnd();
    let kind: 'dir' | 'file' | 'symlink' | 'link' = r < 0.25 ? 'dir' : r < 0.6 ? 'file' : r < 0.8 ? 'symlink' : 'link';
    if (kind === 'link' && files.size === 0) kind = 'file';
    const stored = kind === 'link' ? 'file' : kind;
    if (existing && existing !== stored) continue;
    if (!existing && [...kinds.keys()].some((k) => k.startsWith(`${path}/`)) && stored !== 'dir') continue;
    const pax: [string, string][] = [];
    const name = Buffer.byteLength(path) > 100 || rnd() < 0.2 ? `./${path}` : path;
    if (Buffer.byteLength(name) > 100 || rnd() < 0.15) pax.push(['path', name]);
    let member: CraftMember = { name, type: '0', mode: pick(MODES), uid: Math.floor(rnd() * 2000), gid: Math.floor(rnd() * 2000) };
    if (rnd() < 0.5) pax.push(['uid', String(id())]);
    if (rnd() < 0.5) pax.push(['gid', String(id())]);
    if (rnd() < 0.3) pax.push(['uname', `nosuchuser${Math.floor(rnd() * 100)}`]);
    if (rnd() < 0.2) member.gname = 'nosuchgroup';
    if (rnd() < 0.2) pax.push(['mtime', '1700000000.25'], ['atime', '1700000001']);
    if (kind === 'dir') member = { ...member, type: rnd() < 0.5 ? '5' : '5', name: rnd() < 0.5 ? `${name}/` : name };
    else if (kind === 'file') member = { ...member, type: rnd() < 0.2 ? '\0' : '0', content: Buffer.alloc(Math.floor(rnd() * 3000), String(i)) };
    else if (kind === 'symlink') member = { ...member, type: '2', linkname: pick(['../a', '/etc/passwd', 'b', 'x/../../y']) };
    else {
      const t = pick([...files.values()]);
      // A hard link shares its target's inode: the same mode and owner (trove refuses a link that claims others).
      member = { ...t.member, name, type: '1', linkname: t.member.name, content: undefined, pax: undefined, uname: t.member.uname, gname: t.member.gname };
      pax.length = 0;
      for (const [k, v] of t.member.pax ?? []) if (k === 'uid' || k === 'gid' || k === 'uname') pax.push([k, String(v)]);
      if (Buffer.byteLength(name) > 100) pax.push(['path', name]);
      if (Buffer.byteLength(t.member.name) > 100) pax.push(['linkpath', t.member.name]);
      // Globals in force now may differ from those at the target: pin the target's effective owner.
      pax.push(['uid', String(effectiveOwner(items, t.member, 'uid'))], ['gid', String(effectiveOwner(items, t.member, 'gid'))]);
    }
    member.pax = pax;
    items.push(member);
    kinds.set(path, stored);
    if (kind === 'file' || kind === 'link') files.set(path, { path, member });
  }
  return craftTar(items);
}

/** The uid or gid GNU tar gives `m`: its own PAX record, else the global one in force where it stands, else its ustar field. */
function effectiveOwner(items: CraftItem[], m: CraftMember, key: 'uid' | 'gid'): number {
  const own = m.pax?.find(([k]) => k === key);
  if (own) return Number(own[1]);
  let global: string | undefined;
  for (const it of items) {
    if (it === m) break;
    if ('global' in it) global = it.global.find(([k]) => k === key)?.[1] as string | undefined;
  }
  return global !== undefined ? Number(global) : m[key];
}

describe('what trove stores is what GNU tar lists', () => {
  const base = tmpdir('trove-sec-tar');
  const repo = join(base, 'repo');

  beforeAll(async () => {
    await troveOk(repo, 'init');
  });

  it('on 80 random archives: PAX and global owners, long names, setuid modes, hard links, duplicates', async () => {
    const seen = { global: 0, bigUid: 0, setuid: 0, longName: 0, hardLink: 0, duplicate: 0 };
    for (let seed = 1; seed <= 80; seed++) {
      const archive = join(base, `fuzz-${seed}.tar`);
      const bytes = randomArchive(seed);
      writeFileSync(archive, bytes);
      const listing = sh('tar', ['-tv', '--numeric-owner', '-f', archive]);
      await expectSameAsGnuTar(repo, archive, `fuzz/${seed}`, listing);
      // The generator really makes what the test claims to cover.
      if (bytes.includes(Buffer.from('GlobalHead.'))) seen.global++;
      const lines = listing.trimEnd().split('\n');
      if (lines.some((l) => /^\S+ (\d+)\/(\d+)/.exec(l)!.slice(1).some((n) => Number(n) > 0o7777777))) seen.bigUid++;
      if (lines.some((l) => /^.{3}[sS]/.test(l))) seen.setuid++;
      if (lines.some((l) => l.length > 200)) seen.longName++;
      if (lines.some((l) => l.startsWith('h'))) seen.hardLink++;
      const names = lines.map((l) => norm(l.split(/ \d\d:\d\d /)[1]!.split(/ -> | link to /)[0]!));
      if (new Set(names).size < names.length) seen.duplicate++;
    }
    for (const [what, n] of Object.entries(seen)) expect(n, what).toBeGreaterThan(3);
  }, 120_000);

  it('on archives GNU tar makes: --owner/--group, global headers (--pax-option), long names, hard links, compressed', async () => {
    const src = join(base, 'src');
    mkdirSync(join(src, 'x'.repeat(120), 'deeper'), { recursive: true });
    writeFileSync(join(src, 'x'.repeat(120), 'deeper', `${'f'.repeat(140)}`), 'long\n', { mode: 0o4755 });
    writeFileSync(join(src, 'plain'), 'plain\n');
    sh('ln', [join(src, 'plain'), join(src, 'hard')]);
    sh('ln', ['-s', '../plain', join(src, 'x'.repeat(120), 'rel')]);
    sh('chmod', ['4755', join(src, 'x'.repeat(120), 'deeper', 'f'.repeat(140))]);
    const variants: [string, string[]][] = [
      ['owner.tar', ['--format=pax', '--owner=3000000', '--group=3000001', '--numeric-owner']],
      ['global.tar', ['--format=pax', '--pax-option=uid=4000000,gid=77', '--numeric-owner']],
      ['named.tar', ['--format=pax', '--owner=nosuchuser:1234', '--group=nosuchgroup:4321']],
      ['gz.tar.gz', ['--format=pax', '--owner=0', '--group=0', '--numeric-owner', '-z']],
      ['xz.tar.xz', ['--format=pax', '--owner=5', '--group=6', '--numeric-owner', '-J']],
      ['zst.tar.zst', ['--format=pax', '--owner=7', '--group=8', '--numeric-owner', '--zstd']],
      // GNU format: long names as 'L'/'K' members, owners past the octal range in base-256.
      ['gnu.tar', ['--format=gnu', '--owner=3000000', '--group=2097152', '--numeric-owner']],
      ['oldgnu.tar', ['--format=oldgnu', '--owner=12', '--group=13', '--numeric-owner']],
    ];
    for (const [name, opts] of variants) {
      const archive = join(base, name);
      sh('tar', [...opts, '-cf', archive, '-C', src, '.']);
      await expectSameAsGnuTar(repo, archive, `gnu/${name}`);
    }
  });

  it('on real packages: the data.tar of each .deb as dpkg-deb and GNU tar list it', async () => {
    for (const deb of getDebs(['hello', 'perl-base', 'tzdata', 'coreutils'])) {
      const listing = spawnSync('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -tv --numeric-owner', 'sh', deb], { encoding: 'utf8', maxBuffer: 64 << 20 });
      expect(listing.status).toBe(0);
      await expectSameAsGnuTar(repo, deb, `deb/${readdirSync(join(deb, '..')).length}/${deb.split('/').pop()!.split('_')[0]}`, listing.stdout);
    }
  }, 120_000);
});

describe('archives trove cannot store as GNU tar would extract them are refused (exit 6), storing nothing', () => {
  const base = tmpdir('trove-sec-refuse');
  const repo = join(base, 'repo');
  beforeAll(async () => {
    await troveOk(repo, 'init');
  });

  const file = (name: string, extra: Partial<CraftMember> = {}): CraftMember => ({ name, type: '0', mode: 0o4755, uid: 0, gid: 0, content: Buffer.from('x\n'), ...extra });
  const cases: [string, CraftItem[], RegExp][] = [
    ['a PAX uid under a user name this system gives another id', [file('su', { pax: [['uid', '3000000'], ['uname', 'root']] })], /user name "root", which is uid 0 here/],
    ['a ustar user name that contradicts a global uid', [{ global: [['uid', '3000000']] }, file('su', { uname: 'root' })], /user name "root"/],
    ['a group name that contradicts the gid', [file('sg', { gid: 4242, gname: 'root' })], /group name "root"/],
    ['a global header setting the path of every member', [{ global: [['path', 'evil']] }, file('a'), file('b')], /global PAX header sets "path"/],
    ['a global header setting linkpath', [{ global: [['linkpath', 'x']] }, file('a')], /sets "linkpath"/],
    ['a global header setting size', [{ global: [['size', '0']] }, file('a')], /sets "size"/],
    ['a GNU sparse file', [file('sparse', { pax: [['GNU.sparse.major', '1'], ['GNU.sparse.minor', '0'], ['GNU.sparse.name', 'sparse'], ['GNU.sparse.realsize', '1000000']] })], /GNU\.sparse/],
    ['a multi-volume part', [file('vol', { pax: [['GNU.volume.offset', '10']] })], /GNU\.volume/],
    ['POSIX ACLs', [file('acl', { pax: [['SCHILY.acl.access', 'user::rwx,user:1000:rwx,group::r-x,mask::rwx,other::r-x']] })], /SCHILY\.acl/],
    ['libarchive xattrs', [file('lx', { pax: [['LIBARCHIVE.xattr.security.capability', 'AAAA']] })], /LIBARCHIVE/],
    ['an unknown keyword', [file('u', { pax: [['FOO.bar', '1']] })], /FOO\.bar/],
    ['binary (non-UTF-8) names', [file('b', { pax: [['hdrcharset', 'BINARY']] })], /hdrcharset/],
    ['a uid that is not a number', [file('n', { pax: [['uid', '12abc']] })], /invalid uid/],
    ['a negative gid', [file('n', { pax: [['gid', '-1']] })], /invalid gid/],
    ['uid (uid_t)-1', [file('n', { pax: [['uid', '4294967295']] })], /invalid uid/],
    ['a size that is not a number', [file('n', { pax: [['size', '2x']] })], /invalid size/],
    ['a hard link that claims setuid over a plain file', [file('plain', { mode: 0o644 }), { name: 'su', type: '1', mode: 0o4755, uid: 0, gid: 0, linkname: 'plain' }], /claims 4755 0:0, but "plain", the file it shares, is 0644 0:0/],
    ['a hard link that claims another owner', [file('plain'), { name: 'h', type: '1', mode: 0o4755, uid: 0, gid: 0, linkname: 'plain', pax: [['uid', '5']] }], /claims 4755 5:0/],
    ['a regular file with a directory name', [file('dir/')], /with a directory's name/],
    ['two PAX headers for one member', [{ name: 'x', type: '0', mode: 0o644, uid: 0, gid: 0, pax: [['uid', '1']] }], /./],
  ];
  // The last case is made below by hand: two `x` headers in a row.

  it.each(cases.slice(0, -1))('%s', async (_what, items, message) => {
    const archive = join(base, `${_what.replace(/\W+/g, '-')}.tar`);
    writeFileSync(archive, craftTar(items));
    const before = objectIds(repo);
    const r = await trove(['--repo', repo, 'commit', archive, '--ref', 'evil', '--no-update-summary']);
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toMatch(/^trove: [^\n]+\n$/);
    expect(r.stderr).toMatch(message);
    expect(objectIds(repo)).toEqual(before);
    expect((await trove(['--repo', repo, 'log', 'evil'])).code).toBe(3);
  });

  it('sparse files as GNU tar writes them, in PAX and in GNU format, are refused and nothing is stored', async () => {
    const dir = join(base, 'sparse-src');
    mkdirSync(dir);
    sh('truncate', ['-s', '64M', join(dir, 'holes')]);
    writeFileSync(join(dir, 'plain'), 'plain\n');
    for (const [format, exit, message] of [
      ['pax', 6, /GNU\.sparse/],
      ['gnu', 7, /has an unsupported type \(one trove does not know, such as a GNU sparse file\)/],
    ] as const) {
      const archive = join(base, `sparse-${format}.tar`);
      sh('tar', [`--format=${format}`, '--sparse', '-cf', archive, '-C', dir, '.']);
      const before = objectIds(repo);
      const r = await trove(['--repo', repo, 'commit', archive, '--ref', 'sparse', '--no-update-summary']);
      expect(r.code, r.stderr).toBe(exit);
      expect(r.stderr).toMatch(message);
      expect(objectIds(repo)).toEqual(before);
    }
  });

  it('two PAX headers in a row for one member', async () => {
    const one = craftTar([{ name: 'x', type: '0', mode: 0o644, uid: 0, gid: 0, pax: [['uid', '1']] }]);
    const archive = join(base, 'two-pax.tar');
    // Repeat the first header block pair (x header and its body) once more before the member.
    writeFileSync(archive, Buffer.concat([one.subarray(0, 1024), one]));
    const r = await trove(['--repo', repo, 'commit', archive, '--ref', 'evil', '--no-update-summary']);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/two PAX headers in a row/);
  });

  it('archives 5,000 and 10,000 levels deep, and a path over the limit, are refused quickly (no stack overflow)', async () => {
    for (const depth of [MAX_TREE_DEPTH + 1, 5000, 10000]) {
      const path = Array<string>(depth).fill('d').join('/');
      const archive = join(base, `deep-${depth}.tar`);
      writeFileSync(archive, craftTar([{ name: 'deep', type: '5', mode: 0o755, uid: 0, gid: 0, pax: [['path', `${path}/`]] }, file(`f`, { pax: [['path', `${path}/f`]] })]));
      const r = await trove(['--repo', repo, 'commit', archive, '--ref', 'deep', '--no-update-summary']);
      expect(r.code, r.stderr).toBe(6);
      expect(r.stderr).toMatch(/deeper than 256 levels/);
    }
    const long = Array<string>(20).fill('n'.repeat(200)).join('/');
    expect(Buffer.byteLength(long)).toBeGreaterThan(MAX_TREE_PATH);
    const archive = join(base, 'long.tar');
    writeFileSync(archive, craftTar([file('f', { pax: [['path', long]] })]));
    const r = await trove(['--repo', repo, 'commit', archive, '--ref', 'long', '--no-update-summary']);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/a path longer than 3072 bytes/);
  });
});

describe('decompression bombs', () => {
  const base = tmpdir('trove-sec-bomb');
  const repo = join(base, 'repo');
  const preload = join(base, 'maxrss.cjs');

  beforeAll(async () => {
    await troveOk(repo, 'init');
    writeFileSync(preload, "process.on('exit', () => require('fs').writeSync(2, `maxrss-kb ${process.resourceUsage().maxRSS}\\n`));\n");
  });

  /** Runs the CLI as a process; its exit code, its message and its peak RSS in MB. */
  function run(args: string[], env: NodeJS.ProcessEnv = {}): { code: number; message: string; rssMb: number } {
    const r = runTrove(['--repo', repo, ...args], { env: { NODE_OPTIONS: `--require ${preload}`, ...env } });
    const m = /maxrss-kb (\d+)/.exec(r.stderr);
    return { code: r.code, message: r.stderr.replace(/maxrss-kb \d+\n/, ''), rssMb: Number(m?.[1] ?? NaN) / 1024 };
  }

  /** A .tar.zst of one member of `size` zero bytes: about 4 bytes of zstd per 128 KiB. */
  function zeroTarZst(name: string, size: number): Buffer {
    const header = craftTar([{ name, type: '0', mode: 0o644, uid: 0, gid: 0 }]).subarray(0, 512);
    // Patch the size into the header and fix its checksum.
    const h = Buffer.from(header);
    h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
    h.write('        ', 148);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    return zstdZeros(h, size + ((512 - (size % 512)) % 512) + 1024);
  }

  it('a 4 GiB .tar.zst bomb of a few hundred KB stops at the configured cap, in bounded memory, storing nothing', async () => {
    const bomb = join(base, 'bomb.tar.zst');
    writeFileSync(bomb, zeroTarZst('zeros', 4 * 2 ** 30));
    expect(readdirSync(base).length).toBeGreaterThan(0);
    const before = objectIds(repo);
    const r = run(['commit', bomb, '--ref', 'bomb', '--no-update-summary'], { TROVE_MAX_IMPORT_BYTES: '96M' });
    expect(r.code, r.message).toBe(6);
    expect(r.message).toMatch(/^trove: archive is larger than 100663296 bytes once decompressed \(TROVE_MAX_IMPORT_BYTES\)\n$/);
    expect(r.rssMb).toBeLessThan(300);
    expect(objectIds(repo)).toEqual(before);
    expect(readdirSync(join(repo, 'tmp')).filter((n) => !n.startsWith('.'))).toEqual([]);
  });

  it('a zstd frame that asks for a huge window is refused before any of it is decoded', () => {
    const tiny = zeroTarZst('zeros', 2 ** 20);
    for (const wd of [0xf8, 0x90]) {
      // Window descriptor: 2^(10 + exponent) bytes; 0xf8 is 2 GiB, 0x90 256 MiB (zstd's own limit is 128 MiB).
      const frame = Buffer.from(tiny);
      frame[5] = wd;
      const file = join(base, `window-${wd}.tar.zst`);
      writeFileSync(file, frame);
      const r = run(['commit', file, '--ref', 'window', '--no-update-summary']);
      expect(r.code, r.message).toBe(6);
      expect(r.message).toMatch(/^trove: zstd stream: a frame needs a \d+-byte window, more than 134217728\n$/);
      expect(r.rssMb).toBeLessThan(300);
    }
  });

  it('a bad TROVE_MAX_IMPORT_BYTES is a usage error', () => {
    const r = run(['commit', join(base, 'bomb.tar.zst'), '--ref', 'bomb', '--no-update-summary'], { TROVE_MAX_IMPORT_BYTES: 'lots' });
    expect(r.code).toBe(2);
    expect(r.message).toMatch(/TROVE_MAX_IMPORT_BYTES must be a byte count/);
  });

  it('a .deb whose control member is a bomb is refused in bounded memory; so is one whose data member passes the cap', () => {
    const data = zeroTarZst('usr/zeros', 2 ** 20);
    const cases: [string, Buffer, Buffer, RegExp, NodeJS.ProcessEnv][] = [
      ['control-file', zeroTarZst('control', 2 ** 30), data, /control file is larger than 4194304 bytes/, {}],
      ['control-tar', zeroTarZst('postinst', 2 ** 30), data, /control archive is larger than 33554432 bytes once decompressed/, {}],
      ['data-tar', ctrlTarZst(), zeroTarZst('usr/zeros', 2 ** 31), /archive is larger than 67108864 bytes/, { TROVE_MAX_IMPORT_BYTES: '64M' }],
    ];
    for (const [name, control, dataTar, message, env] of cases) {
      const deb = join(base, `${name}.deb`);
      writeFileSync(deb, arArchive([['debian-binary', Buffer.from('2.0\n')], ['control.tar.zst', control], ['data.tar.zst', dataTar]]));
      const before = objectIds(repo);
      const r = run(['pkg', 'add', deb, '--no-progress', '--no-update-summary'], env);
      expect(r.code, `${name}: ${r.message}`).toBe(6);
      expect(r.message).toMatch(message);
      expect(r.rssMb).toBeLessThan(300);
      expect(objectIds(repo)).toEqual(before);
    }
  });
});

/** A control.tar.zst with a valid control file. */
function ctrlTarZst(): Buffer {
  const control = Buffer.from('Package: bomb\nVersion: 1.0\nArchitecture: all\nMaintainer: x <x@example.org>\nDescription: a bomb\n');
  const tar = craftTar([{ name: './control', type: '0', mode: 0o644, uid: 0, gid: 0, content: control }]);
  return spawnSync('zstd', ['-q', '-c'], { input: tar }).stdout;
}

describe('package names a shell or an option parser would misread are refused', () => {
  const base = tmpdir('trove-sec-names');
  const repo = join(base, 'repo');
  const src = join(base, 'src');
  beforeAll(async () => {
    await troveOk(repo, 'init');
    mkdirSync(src);
    writeFileSync(join(src, 'f'), 'x\n');
  });

  const bad: [string, string][] = [
    ['--name', '-rf'],
    ['--name', '--help'],
    ['--name', 'a;rm'],
    ['--name', '$(id)'],
    ['--name', 'a b'],
    ['--name', '*'],
    ['--name', 'a|b'],
    ['--name', 'Foo'],
    ['--name', "a'b"],
    ['--name', 'a\nb'],
    ['--arch', '-x'],
    ['--arch', 'amd64;id'],
    ['--arch', 'amd_64'],
    ['--version', '-1'],
    ['--version', '1;id'],
    ['--version', '1 2'],
    ['--version', '$(id)'],
  ];

  it.each(bad)('%s %j', async (opt, value) => {
    const args: Record<string, string> = { '--name': 'tool', '--arch': 'all', '--version': '1.0', [opt]: value };
    const r = await trove(['--repo', repo, 'pkg', 'add', src, ...Object.entries(args).flat(), '--no-progress', '--no-update-summary']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^trove: invalid package (name|arch|version) /);
    expect(JSON.parse(await troveOk(repo, 'pkg', 'list', '--json'))).toEqual([]);
  });

  it('a .deb whose Package is -rf is refused too', async () => {
    const control = Buffer.from('Package: -rf\nVersion: 1.0\nArchitecture: all\nDescription: x\n');
    const deb = join(base, 'rf.deb');
    const ctrl = craftTar([{ name: './control', type: '0', mode: 0o644, uid: 0, gid: 0, content: control }]);
    const data = craftTar([{ name: './f', type: '0', mode: 0o644, uid: 0, gid: 0, content: Buffer.from('x\n') }]);
    writeFileSync(deb, arArchive([['debian-binary', Buffer.from('2.0\n')], ['control.tar', ctrl], ['data.tar', data]]));
    const r = await trove(['--repo', repo, 'pkg', 'add', deb, '--no-progress', '--no-update-summary']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid package name "-rf"/);
  });

  it('names Debian allows still work', async () => {
    await troveOk(repo, 'pkg', 'add', src, '--name', 'lib.foo+bar-2', '--arch', 'amd64', '--version', '1:2.3~rc1+dfsg-1', '--no-progress', '--no-update-summary');
    expect(JSON.parse(await troveOk(repo, 'pkg', 'list', '--json'))).toHaveLength(1);
  });
});
