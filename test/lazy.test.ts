// Lazy installs (install --lazy): commits and trees only, files fetched by the FUSE view on
// their first read (src/fuse/lazy-fetch.ts), access traces (src/fuse/trace.ts) and
// `trove fetch` completing partial commits (src/remote/complete.ts). Everything real: a
// server repository served by nginx, a mounted view per client, files read by child
// processes (`cat`) so that a read the view never answers cannot hang the test itself.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTrove, TROVE_BIN, trove, troveOk } from './helpers/cli.js';
import { alive, mountpoints, skipFuse, until } from './helpers/fuse.js';
import { accepting, type Nginx, objectRequests, startNginx } from './helpers/nginx.js';
import { reachable } from './helpers/objects.js';
import { tmpdir } from './helpers/tmp.js';

const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
const objPath = (repo: string, id: string) => join(repo, 'objects', id.slice(0, 2), id.slice(2));
const stored = (repo: string, id: string) => existsSync(objPath(repo, id));
/** A file fetched for a read is stored right after the read is answered from its verified bytes. */
const storedSoon = (repo: string, ...ids: string[]) => until(() => ids.every((id) => stored(repo, id)));

/** A file of a package: its path inside the package, bytes and mode. */
interface PkgFile {
  path: string;
  bytes: Buffer;
  mode: number;
}

const file = (path: string, bytes: Buffer | string, mode = 0o644): PkgFile => ({ path, bytes: Buffer.from(bytes), mode });

// lz: a small file, a file over 1 MiB (streamed by the view into a temp file) and a script.
const SMALL = file('usr/share/lz/small', 'a small file of lz\n');
const BIG = file('usr/share/lz/big', randomBytes((3 << 19) + 123));
const SCRIPT = file('usr/bin/lzhello', '#!/bin/sh\necho hello from a lazily installed script\n', 0o755);
const LZ = [SMALL, BIG, SCRIPT];
// many: files of several sizes (some streamed), read all at once while gc runs.
const MANY = [64 << 10, 200 << 10, 700 << 10, (1 << 20) + 200_000, (1 << 20) + 300_000, 30 << 10, 500 << 10, (1 << 20) + 100_000].map((n, i) =>
  file(`usr/share/many/f${i}`, randomBytes(n)),
);
// tr: six small files, for the access trace and the order of trove fetch.
const TR = [0, 1, 2, 3, 4, 5].map((i) => file(`usr/share/tr/t${i}`, `trace file ${i}\n`.repeat(i + 1)));

const total = (files: PkgFile[]) => files.reduce((n, f) => n + f.bytes.length, 0);

/** What a child process did: exit code or signal, stdout bytes, stderr text. */
interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: Buffer;
  err: string;
}

/** Runs `cmd ARGS` as a child process; SIGKILLed after `limitMs` (a read the view never answers). */
function run(cmd: string, args: string[], limitMs = 20_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out: Buffer.concat(out), err });
    });
  });
}

/** `cat PATH`: a read of a file through the view by another process. */
const cat = (path: string, limitMs?: number) => run('cat', [path], limitMs);

function expectBytes(r: Ran, want: Buffer): void {
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  expect(r.out.length).toBe(want.length);
  expect(sha256(r.out)).toBe(sha256(want));
}

/** The read returned (was not killed) and failed with EIO. */
function expectEio(r: Ran): void {
  expect(r.signal).toBeNull();
  expect(r.code).not.toBe(0);
  expect(r.err).toMatch(/Input\/output error/);
  expect(r.out.length).toBe(0);
}

/** Every name in `<repo>/partial/` (none when the directory is missing). */
function partialRecords(repo: string): string[] {
  const dir = join(repo, 'partial');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** Names in `<repo>/tmp/` of temp files of downloads (`pull-<pid>-…`, see installStream). */
const downloads = (repo: string) => readdirSync(join(repo, 'tmp')).filter((n) => n.startsWith('pull-'));

/** Every file under `dir` by path, with its content: what a refused command must leave alone. */
function stateOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out[relative(dir, path)] = sha256(readFileSync(path));
  }
  return out;
}

/** A line of `<repo>/mount.log` saying that the read of `fusePath` failed because blob `id` could not be fetched. */
function fetchFailureLogged(repo: string, fusePath: string, id: string): boolean {
  const log = existsSync(join(repo, 'mount.log')) ? readFileSync(join(repo, 'mount.log'), 'utf8') : '';
  const want = `read ${fusePath}: `;
  return log.split('\n').some((l) => l.includes(want) && l.includes(`object ${id} could not be fetched (origin: `));
}

interface FsckJson {
  ok: boolean;
  problems: unknown[];
  notFetched: { objects: number; bytes: number; commits: string[] };
}

interface StatusJson {
  notFetched: { objects: number; bytes: number; remotes: string[] } | null;
}

interface InstallJson {
  fetched: { objects: number; bytes: number };
  lazy?: { objects: number; bytes: number };
  packages: { label: string; commit: string }[];
  install: { commit: string; generation: number; activated: { target: string; via: string } | null } | null;
}

interface FetchJson {
  completed: { commit: string; remote: string | null; objects: number; bytes: number }[];
  remaining: string[];
  fetched: { objects: number; bytes: number };
}

async function fsck(repo: string): Promise<FsckJson> {
  const r = await trove(['--repo', repo, 'fsck', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as FsckJson;
}

async function statusOf(repo: string): Promise<StatusJson> {
  return JSON.parse(await troveOk(repo, 'status', '--json')) as StatusJson;
}

/** The command line of a process (that of a test nginx names its config: root, port and access log). */
const cmdlineOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);

/** Whether process `pid` holds an exclusive flock on `path` (from /proc/locks; a waiter's line starts with `->`). */
function holdsFlock(pid: number, path: string): boolean {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return false;
  return readFileSync('/proc/locks', 'utf8')
    .split('\n')
    .some((l) => {
      const f = l.trim().split(/\s+/);
      return f[1] === 'FLOCK' && f[3] === 'WRITE' && Number(f[4]) === pid && f[5]?.split(':')[2] === String(st.ino);
    });
}

describe.skipIf(skipFuse())('lazy installs: files fetched by the view on first read, trove fetch completes them', () => {
  const base = tmpdir('trove-lazy');
  const server = join(base, 'server');
  /** Package commits on the server, by name. */
  const pkgCommit: Record<string, string> = {};
  let main: Nginx;
  /**
   * A server that sends 512 KiB/s per connection after the first 512 KiB (nginx lets the first
   * second's worth go at once): downloads of the larger files take long enough to overlap.
   */
  let slow: Nginx;
  const views: { repo: string; mnt: string }[] = [];
  /** nginx processes started again by a test (on the port of one it stopped). */
  const restarted: ChildProcess[] = [];

  beforeAll(async () => {
    await troveOk(server, 'init');
    for (const [name, files] of [
      ['lz', LZ],
      ['many', MANY],
      ['tr', TR],
    ] as const) {
      const dir = join(base, 'src', name);
      for (const f of files) {
        mkdirSync(join(dir, f.path, '..'), { recursive: true });
        writeFileSync(join(dir, f.path), f.bytes);
        chmodSync(join(dir, f.path), f.mode);
      }
      const added = JSON.parse(await troveOk(server, 'pkg', 'add', dir, '--name', name, '--arch', 'all', '--version', '1.0', '--json')) as { commit: string };
      pkgCommit[name] = added.commit;
    }
    await troveOk(server, 'summary');
    main = await startNginx(server);
    slow = await startNginx(server, { rate: '512k' });
  });

  afterAll(async () => {
    for (const v of views.splice(0)) if (mountpoints().has(v.mnt)) await trove(['--repo', v.repo, 'umount', '--force', v.mnt]);
    for (const p of restarted.splice(0)) p.kill('SIGKILL');
    await main?.stop();
    await slow?.stop();
  });

  /** A new client repository with `origin` at `url`. */
  async function newClient(tag: string, url: string): Promise<{ repo: string; mnt: string; link: string; dir: string }> {
    const dir = tmpdir(`trove-lazy-${tag}`);
    const repo = join(dir, 'repo');
    await troveOk(repo, 'init');
    await troveOk(repo, 'remote', 'add', 'origin', url);
    return { repo, mnt: join(dir, 'mnt'), link: join(dir, 'ro'), dir };
  }

  /** `trove mount MNT FLAGS`; unmounted (--force) when the file ends. */
  async function mountView(repo: string, mnt: string, ...flags: string[]): Promise<void> {
    const r = await trove(['--repo', repo, 'mount', mnt, ...flags]);
    expect(r.code, r.stderr).toBe(0);
    views.push({ repo, mnt });
    expect(mountpoints().has(mnt)).toBe(true);
  }

  /** `install NAMES --lazy --link LINK --json`; the generation it activated. */
  async function lazyInstall(repo: string, link: string, ...names: string[]): Promise<InstallJson & { gen: string }> {
    const r = await trove(['--repo', repo, 'install', ...names, '--lazy', '--link', link, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as InstallJson;
    expect(out.install?.activated?.via).toBe('mount');
    return { ...out, gen: out.install!.commit };
  }

  /** A client with a mounted view and `names` installed lazily from `url`. */
  async function lazyClient(tag: string, url: string, names: string[], mountFlags: string[] = []) {
    const c = await newClient(tag, url);
    await mountView(c.repo, c.mnt, ...mountFlags);
    const installed = await lazyInstall(c.repo, c.link, ...names);
    return { ...c, gen: installed.gen };
  }

  /** Starts nginx again with the command line of one that was stopped: same root, port, config and access log. */
  async function startAgain(argv: string[], port: number): Promise<void> {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    restarted.push(p);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !(await accepting(port))) await new Promise((r) => setTimeout(r, 25));
    expect(await accepting(port), `nginx did not start again on port ${port}`).toBe(true);
  }

  /** The commits and trees (not the blobs) under a package commit of the server, with their sizes, and its blobs. */
  async function serverObjects(commit: string): Promise<{ metas: Map<string, number>; blobs: Set<string> }> {
    const { metas, files } = await reachable(server, [commit]);
    return { metas, blobs: new Set(files.keys()) };
  }

  // Client of cases 1 and 2.
  let a: { repo: string; mnt: string; link: string; gen: string };

  it('install --lazy needs a view; with one it fetches commits and trees only and records the commits as partial', async () => {
    const c = await newClient('a', main.url);
    // Without a mounted view: refused, and nothing fetched or recorded.
    const before = stateOf(c.repo);
    main.clearLog();
    const refused = await trove(['--repo', c.repo, 'install', 'lz', '--lazy', '--link', c.link, '--json']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('no view of this repository is mounted');
    expect(existsSync(join(c.repo, 'partial'))).toBe(false);
    expect(stateOf(c.repo)).toEqual(before);
    expect(objectRequests(main)).toEqual([]);
    expect(existsSync(c.link)).toBe(false);

    await mountView(c.repo, c.mnt);
    main.clearLog();
    const r = await lazyInstall(c.repo, c.link, 'lz');
    a = { ...c, gen: r.gen };
    const { metas, blobs } = await serverObjects(pkgCommit.lz!);
    expect(blobs).toEqual(new Set(LZ.map((f) => sha256(f.bytes))));
    // Over the wire: the summary, the package index, and the package's trees pack (its commit and trees); no object one by one.
    expect(main.accessLog().map((l) => l.path).filter((p) => !p.startsWith('/packages/') || !/^[0-9a-f]{64}$/.test(p.slice('/packages/'.length)))).toEqual([
      '/summary',
      `/packages/${pkgCommit.lz!}.trees`,
    ]);
    expect(objectRequests(main)).toEqual([]);
    expect(r.fetched).toEqual({ objects: metas.size, bytes: [...metas.values()].reduce((x, y) => x + y, 0) });
    expect(r.lazy).toEqual({ objects: LZ.length, bytes: total(LZ) });
    for (const f of LZ) expect(stored(c.repo, sha256(f.bytes))).toBe(false);
    // The package commit and the generation built from it are partial, expected from origin.
    expect(partialRecords(c.repo)).toEqual([pkgCommit.lz!, r.gen].sort());
    for (const id of partialRecords(c.repo)) {
      expect(JSON.parse(readFileSync(join(c.repo, 'partial', id), 'utf8'))).toMatchObject({ remotes: ['origin'], time: expect.any(Number) });
    }
    // Activated through the view: names and sizes are there before any file is.
    expect(readlinkSync(c.link)).toBe(join(c.mnt, 'commits', r.gen));
    expect(readdirSync(join(c.link, 'usr/share/lz')).sort()).toEqual(['big', 'small']);
    expect(statSync(join(c.link, BIG.path)).size).toBe(BIG.bytes.length);
    expect(objectRequests(main).filter((id) => blobs.has(id))).toEqual([]);
    expect((await statusOf(c.repo)).notFetched).toEqual({ objects: LZ.length, bytes: total(LZ), remotes: ['origin'] });
    const report = await fsck(c.repo);
    expect(report.problems).toEqual([]);
    expect(report.notFetched.objects).toBe(LZ.length);
    expect(report.notFetched.bytes).toBe(total(LZ));
    expect([...report.notFetched.commits].sort()).toEqual([pkgCommit.lz!, r.gen].sort());
  });

  it('a read through the link fetches the file once, verified, and stores it', async () => {
    main.clearLog();
    expectBytes(await cat(join(a.link, SMALL.path)), SMALL.bytes);
    expect(await storedSoon(a.repo, sha256(SMALL.bytes))).toBe(true);
    let nf = (await fsck(a.repo)).notFetched;
    expect([nf.objects, nf.bytes]).toEqual([LZ.length - 1, total(LZ) - SMALL.bytes.length]);
    expectBytes(await cat(join(a.link, BIG.path)), BIG.bytes);
    const ran = await run(join(a.link, SCRIPT.path), []);
    expect(ran.err).toBe('');
    expect(ran.code).toBe(0);
    expect(ran.out.toString()).toBe('hello from a lazily installed script\n');
    // Read again: served from the store, no new request.
    for (const f of LZ) expectBytes(await cat(join(a.link, f.path)), f.bytes);
    expect(objectRequests(main).sort()).toEqual(LZ.map((f) => sha256(f.bytes)).sort());
    for (const f of LZ) {
      expect(stored(a.repo, sha256(f.bytes))).toBe(true);
      expect(sha256(readFileSync(objPath(a.repo, sha256(f.bytes))))).toBe(sha256(f.bytes));
    }
    nf = (await fsck(a.repo)).notFetched;
    expect([nf.objects, nf.bytes]).toEqual([0, 0]);
    expect((await statusOf(a.repo)).notFetched).toEqual({ objects: 0, bytes: 0, remotes: ['origin'] });
    expect(downloads(a.repo)).toEqual([]);
    // Its daemon can collect the socket buffers of a large download as it goes (youngCollected in lazy-fetch.ts).
    expect(cmdlineOf((JSON.parse(readFileSync(join(a.repo, 'mount.json'), 'utf8')) as { pid: number }).pid)).toContain('--expose-gc');
  });

  it('a view served in the foreground (mount --foreground) fetches files on read too', async () => {
    const c = await newClient('fg', main.url);
    const fg = spawn(process.execPath, [TROVE_BIN, '--repo', c.repo, 'mount', c.mnt, '--foreground'], { stdio: 'ignore' });
    try {
      // Serving once mounted and recorded (mount.json is written right after the mount).
      expect(await until(() => mountpoints().has(c.mnt) && existsSync(join(c.repo, 'mount.json')), 10_000), 'the foreground view never mounted').toBe(true);
      const installed = await lazyInstall(c.repo, c.link, 'lz');
      expect(stored(c.repo, sha256(SMALL.bytes))).toBe(false);
      expectBytes(await cat(join(c.mnt, 'commits', installed.gen, SMALL.path)), SMALL.bytes);
      expect(await storedSoon(c.repo, sha256(SMALL.bytes))).toBe(true);
    } finally {
      fg.kill('SIGTERM');
      await until(() => !mountpoints().has(c.mnt), 10_000);
      if (mountpoints().has(c.mnt)) await trove(['--repo', c.repo, 'umount', '--force', c.mnt]);
    }
  });

  it('two readers of one file not fetched yet share one download', async () => {
    const b = await lazyClient('b', slow.url, ['lz']);
    const id = sha256(BIG.bytes);
    slow.clearLog();
    // The 1.5 MiB file takes about 2 s: the second reader starts long before the download ends.
    const [r1, r2] = await Promise.all([cat(join(b.link, BIG.path)), cat(join(b.link, BIG.path))]);
    expectBytes(r1, BIG.bytes);
    expectBytes(r2, BIG.bytes);
    expect(objectRequests(slow).filter((x) => x === id)).toEqual([id]);
    expect(await storedSoon(b.repo, id)).toBe(true);
  });

  it('wrong bytes from the server: EIO, nothing stored, a line in mount.log; the read works once the server is right', async () => {
    const c = await lazyClient('c', main.url, ['lz']);
    const victims = [SMALL, BIG];
    const originals = victims.map((f) => readFileSync(objPath(server, sha256(f.bytes))));
    try {
      // Same length, other bytes: the small one fetched whole, the big one streamed.
      for (const [i, f] of victims.entries()) {
        const evil = Buffer.from(originals[i]!);
        evil[evil.length >> 1]! ^= 0xff;
        writeFileSync(objPath(server, sha256(f.bytes)), evil);
      }
      for (const f of victims) {
        const id = sha256(f.bytes);
        expectEio(await cat(join(c.link, f.path)));
        expect(stored(c.repo, id)).toBe(false);
        expect(await until(() => fetchFailureLogged(c.repo, `/commits/${c.gen}/${f.path}`, id))).toBe(true);
        expect(readFileSync(join(c.repo, 'mount.log'), 'utf8')).toContain(`wrong bytes for object ${id}`);
      }
      expect(downloads(c.repo)).toEqual([]);
      expect((await fsck(c.repo)).notFetched.objects).toBe(LZ.length);
    } finally {
      for (const [i, f] of victims.entries()) writeFileSync(objPath(server, sha256(f.bytes)), originals[i]!);
    }
    // Nothing about the failure was kept: the next read fetches again.
    for (const f of victims) {
      expectBytes(await cat(join(c.link, f.path)), f.bytes);
      expect(await storedSoon(c.repo, sha256(f.bytes))).toBe(true);
    }
  });

  it('a server that stops answering or dies: EIO within --fetch-timeout-ms, the view still answers, reads work once it is back', async () => {
    const dying = await startNginx(server);
    const argv = cmdlineOf(dying.pid);
    expect(argv).toContain('-c');
    const d = await lazyClient('d', dying.url, ['lz'], ['--fetch-timeout-ms', '2000']);
    const smallId = sha256(SMALL.bytes);
    const bigId = sha256(BIG.bytes);
    try {
      // Stopped: connections are accepted, nothing is answered. The read fails after about 2 s; the
      // limit of 15 s is below the default timeout (20 s), so a view that ignored the flag fails here.
      process.kill(dying.pid, 'SIGSTOP');
      expectEio(await cat(join(d.link, SMALL.path), 15_000));
      expect(stored(d.repo, smallId)).toBe(false);
      expect(await until(() => fetchFailureLogged(d.repo, `/commits/${d.gen}/${SMALL.path}`, smallId))).toBe(true);
      // Meanwhile the view answers everything that needs no file.
      const ls = spawnSync('ls', [join(d.link, 'usr/share/lz')], { encoding: 'utf8', timeout: 10_000 });
      expect(ls.status).toBe(0);
      expect(ls.stdout).toBe('big\nsmall\n');
      expect(statSync(join(d.link, BIG.path)).size).toBe(BIG.bytes.length);
      // Gone: connections refused.
      await dying.stop();
      expectEio(await cat(join(d.link, BIG.path), 15_000));
      expect(stored(d.repo, bigId)).toBe(false);
      expect(await until(() => fetchFailureLogged(d.repo, `/commits/${d.gen}/${BIG.path}`, bigId))).toBe(true);
      expect(downloads(d.repo)).toEqual([]);
      expect(alive((JSON.parse(readFileSync(join(d.repo, 'mount.json'), 'utf8')) as { pid: number }).pid)).toBe(true);
      // trove fetch cannot complete anything either: exit 1 (E_IO), the commits stay partial, nothing is stored.
      const f = await trove(['--repo', d.repo, 'fetch', '--wait', '--retries', '0', '--timeout', '1000', '--json']);
      expect(f.code).toBe(1);
      expect((JSON.parse(f.stdout) as { remaining: string[] }).remaining).toEqual(expect.arrayContaining([d.gen]));
      expect(f.stderr).toContain('still partial');
      expect(existsSync(join(d.repo, 'partial', d.gen))).toBe(true);
      expect(stored(d.repo, bigId)).toBe(false);
    } finally {
      // Whatever happened, the server is not left stopped.
      await dying.stop();
    }
    // Back on the same port: the same reads work.
    await startAgain(argv, dying.port);
    expectBytes(await cat(join(d.link, SMALL.path)), SMALL.bytes);
    expectBytes(await cat(join(d.link, BIG.path)), BIG.bytes);
    expect(await storedSoon(d.repo, smallId, bigId)).toBe(true);
  });

  it('a view stopped while a read waits for its download: the read fails at once, the daemon exits', async () => {
    const stalled = await startNginx(server);
    const e = await lazyClient('stop', stalled.url, ['lz'], ['--fetch-timeout-ms', '10000']);
    const pid = (JSON.parse(readFileSync(join(e.repo, 'mount.json'), 'utf8')) as { pid: number }).pid;
    try {
      process.kill(stalled.pid, 'SIGSTOP');
      const reading = cat(join(e.link, SMALL.path), 15_000);
      // The read is under way (its download waits on the stopped server) well before this.
      await new Promise((r) => setTimeout(r, 500));
      const stopped = Date.now();
      process.kill(pid, 'SIGTERM');
      // Ended with the connection at the unmount (the kernel reads the page again after its readahead
      // failed, and finds the connection gone), not when the fetch gives up 10 s later.
      const r = await reading;
      expect(r.signal).toBeNull();
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(/Transport endpoint is not connected|Input\/output error|Software caused connection abort/);
      expect(Date.now() - stopped).toBeLessThan(8000);
      expect(await until(() => !alive(pid), 15_000), 'the daemon did not exit').toBe(true);
      expect(stored(e.repo, sha256(SMALL.bytes))).toBe(false);
    } finally {
      await stalled.stop();
    }
  });

  it('a server killed in the middle of a large file leaves nothing stored under its id', async () => {
    // 512 KiB/s after the first 512 KiB: the 1.5 MiB file takes about 2 s, and the server is killed as soon as its
    // first bytes are written.
    const cut = await startNginx(server, { rate: '512k' });
    try {
      const e = await lazyClient('e', cut.url, ['lz']);
      const id = sha256(BIG.bytes);
      const reading = cat(join(e.link, BIG.path));
      const started = await until(() => downloads(e.repo).some((n) => (statSync(join(e.repo, 'tmp', n), { throwIfNoEntry: false })?.size ?? 0) > 0), 10_000);
      expect(started, 'the download into tmp/ never started').toBe(true);
      await cut.stop();
      expectEio(await reading);
      expect(stored(e.repo, id)).toBe(false);
      expect(downloads(e.repo)).toEqual([]);
      expect(await until(() => fetchFailureLogged(e.repo, `/commits/${e.gen}/${BIG.path}`, id))).toBe(true);
      const report = await fsck(e.repo);
      expect(report.problems).toEqual([]);
      expect(report.notFetched.objects).toBe(LZ.length);
    } finally {
      await cut.stop();
    }
  });

  it('gc running while files are fetched: every read gets its bytes and gc deletes none of them', async () => {
    const f = await lazyClient('f', slow.url, ['many']);
    const ids = MANY.map((x) => sha256(x.bytes));
    for (const id of ids) expect(stored(f.repo, id)).toBe(false);
    // The files over 512 KiB take 1–2 s each from the slow server: gc rounds run while they arrive
    // (gc holds the repository lock exclusive, the view installs under it shared).
    let pending = MANY.length;
    const reads = MANY.map((x) => cat(join(f.link, x.path), 60_000).finally(() => pending--));
    let rounds = 0;
    while (pending > 0 || rounds < 3) {
      const r = await trove(['--repo', f.repo, 'gc', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { deleted: { blobs: number } }).deleted.blobs).toBe(0);
      rounds++;
    }
    const results = await Promise.all(reads);
    for (const [i, x] of MANY.entries()) expectBytes(results[i]!, x.bytes);
    for (const id of ids) expect(stored(f.repo, id)).toBe(true);
    const r = await trove(['--repo', f.repo, 'gc', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { deleted: { objects: number } }).deleted.objects).toBe(0);
    for (const id of ids) expect(sha256(readFileSync(objPath(f.repo, id)))).toBe(id);
    const report = await fsck(f.repo);
    expect(report.problems).toEqual([]);
    expect(report.notFetched.objects).toBe(0);
    expect(downloads(f.repo)).toEqual([]);
  });

  it('fetch --background completes the partial commits; then switch, rollback and checkout need no network', async () => {
    // 512 KiB/s after the first 512 KiB: the background fetch holds its lock long enough to be seen holding it.
    const bg = await startNginx(server, { rate: '512k' });
    try {
      const g = await lazyClient('g', bg.url, ['lz']);
      const gen1 = g.gen;
      const gen2 = (await lazyInstall(g.repo, g.link, 'tr')).gen;
      expect(partialRecords(g.repo)).toEqual([pkgCommit.lz!, pkgCommit.tr!, gen1, gen2].sort());
      // Partial: no checkout of it, and the view cannot go while the active link points into it.
      const co = join(g.dir, 'co');
      const refused = await trove(['--repo', g.repo, 'checkout', gen2, co]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('is partial');
      const um = await trove(['--repo', g.repo, 'umount', g.mnt]);
      expect(um.code).not.toBe(0);
      expect(um.stderr).toContain('is partial');
      expect(mountpoints().has(g.mnt)).toBe(true);
      expect(readlinkSync(g.link)).toBe(join(g.mnt, 'commits', gen2));
      expect(readdirSync(join(g.link, 'usr/share/tr')).length).toBe(TR.length);

      const started = runTrove(['--repo', g.repo, 'fetch', '--background', '--json', '--pipelining', '3', '--jobs', '2']);
      expect(started.code, started.stderr).toBe(0);
      const info = (JSON.parse(started.stdout) as { background: { pid: number; log: string; partial: number } }).background;
      expect(info).toMatchObject({ log: join(g.repo, 'fetch.log'), partial: 4 });
      expect(info.pid).toBeGreaterThan(0);
      expect(await until(() => holdsFlock(info.pid, join(g.repo, 'locks', 'fetch')), 10_000), 'the background fetch never took its lock').toBe(true);
      // Detached at the lowest priority: what the view fetches on read, and the programs reading, go first.
      expect(getPriority(info.pid)).toBe(19);
      // Its session's scheduling group too, where the kernel has them: detached, it is a session of its own,
      // and its own nice would count only inside it.
      if (existsSync(`/proc/${info.pid}/autogroup`)) expect(readFileSync(`/proc/${info.pid}/autogroup`, 'utf8')).toMatch(/ nice 19\n$/);
      // With the network settings given to the command that started it.
      const argv = cmdlineOf(info.pid);
      for (const [flag, value] of [['--pipelining', '3'], ['--jobs', '2'], ['--retries', '5']]) expect(argv[argv.indexOf(flag!) + 1], flag).toBe(value);
      // --wait waits for it: by then everything has arrived, and nothing is left for this one.
      const waited = await trove(['--repo', g.repo, 'fetch', '--wait', '--json']);
      expect(waited.code, waited.stderr).toBe(0);
      const w = JSON.parse(waited.stdout) as FetchJson;
      expect(w).toMatchObject({ completed: [], remaining: [], fetched: { objects: 0, bytes: 0 } });
      expect(await until(() => !alive(info.pid), 10_000)).toBe(true);
      expect(readFileSync(info.log, 'utf8')).toMatch(new RegExp(`^fetched ${LZ.length + TR.length} files .*nothing left to fetch$`, 'm'));
      for (const x of [...LZ, ...TR]) expect(stored(g.repo, sha256(x.bytes))).toBe(true);
      expect(partialRecords(g.repo)).toEqual([]);
      expect((await statusOf(g.repo)).notFetched).toBeNull();
      const report = await fsck(g.repo);
      expect(report.problems).toEqual([]);
      expect(report.notFetched).toEqual({ objects: 0, bytes: 0, commits: [] });

      // The network is gone: activations of the complete generations work.
      await bg.stop();
      const back = await trove(['--repo', g.repo, 'rollback', '--json']);
      expect(back.code, back.stderr).toBe(0);
      expect(readlinkSync(g.link)).toBe(join(g.mnt, 'commits', gen1));
      expectBytes(await cat(join(g.link, BIG.path)), BIG.bytes);
      expect(existsSync(join(g.link, 'usr/share/tr'))).toBe(false);
      const again = await trove(['--repo', g.repo, 'switch', '2', '--json']);
      expect(again.code, again.stderr).toBe(0);
      expect(readlinkSync(g.link)).toBe(join(g.mnt, 'commits', gen2));
      for (const x of TR) expectBytes(await cat(join(g.link, x.path)), x.bytes);
      // A checkout of the commit is allowed now, with every file.
      const made = await trove(['--repo', g.repo, 'checkout', gen2, co]);
      expect(made.code, made.stderr).toBe(0);
      for (const x of [...LZ, ...TR]) expect(sha256(readFileSync(join(co, x.path)))).toBe(sha256(x.bytes));
      expect(statSync(join(co, SCRIPT.path)).mode & 0o111).not.toBe(0);
      // And the view may go: the link is re-pointed at a checkout.
      const off = await trove(['--repo', g.repo, 'umount', g.mnt]);
      expect(off.code, off.stderr).toBe(0);
      expect(mountpoints().has(g.mnt)).toBe(false);
      expect(sha256(readFileSync(join(g.link, BIG.path)))).toBe(sha256(BIG.bytes));
    } finally {
      await bg.stop();
    }
  });

  it('an install that is not lazy completes the lazily installed packages it keeps, and builds a complete generation', async () => {
    const q = await lazyClient('q', main.url, ['lz']);
    expect(partialRecords(q.repo)).toContain(pkgCommit.lz);
    const r = await trove(['--repo', q.repo, 'install', 'tr', '--no-deps', '--link', q.link, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const gen = (JSON.parse(r.stdout) as InstallJson).install!.commit;
    expect(partialRecords(q.repo)).not.toContain(pkgCommit.lz);
    expect(partialRecords(q.repo)).not.toContain(gen);
    for (const f of [...LZ, ...TR]) expect(stored(q.repo, sha256(f.bytes))).toBe(true);
    // The lazy generation before lacks nothing now either: its record went, and a plain switch takes it.
    expect(partialRecords(q.repo)).toEqual([]);
    await troveOk(q.repo, 'switch', q.gen.slice(0, 12), '--link', q.link);
    // Complete: a plain switch to it needs no --lazy.
    await troveOk(q.repo, 'switch', gen.slice(0, 12), '--link', q.link);
  });

  it('a trace makes the view fetch the files it names as soon as the commit is first read, before any file is', async () => {
    const c = await newClient('p', main.url);
    await mountView(c.repo, c.mnt);
    // A trace recorded for another generation that holds the same files (blob ids and sizes).
    mkdirSync(join(c.repo, 'traces'), { recursive: true });
    const line = (i: number) => `${sha256(TR[i]!.bytes)} ${TR[i]!.bytes.length}`;
    writeFileSync(join(c.repo, 'traces', 'f'.repeat(64)), `${line(2)}\n${line(5)}\n`);
    main.clearLog();
    const installed = await lazyInstall(c.repo, c.link, 'tr');
    // The install's activation reads the generation's commit through the view (its check of the link's
    // target): that starts the prefetch of t2 and t5, before any file is read. t3 is neither traced nor read.
    expect(await until(() => stored(c.repo, sha256(TR[2]!.bytes)) && stored(c.repo, sha256(TR[5]!.bytes))), 'the traced files never arrived').toBe(true);
    expect(stored(c.repo, sha256(TR[3]!.bytes))).toBe(false);
    expect(stored(c.repo, sha256(TR[0]!.bytes))).toBe(false);
    expectBytes(await cat(join(c.link, TR[0]!.path)), TR[0]!.bytes);
    // Read now, they come from the store: each was requested once.
    expectBytes(await cat(join(c.link, TR[2]!.path)), TR[2]!.bytes);
    const asked = objectRequests(main);
    for (const i of [2, 5, 0]) expect(asked.filter((x) => x === sha256(TR[i]!.bytes)).length).toBe(1);
    expect(asked).not.toContain(sha256(TR[3]!.bytes));
    expect(installed.gen).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a trace that appears after the commit was first read is taken up at the first file read under it', async () => {
    const c = await newClient('p2', main.url);
    await mountView(c.repo, c.mnt);
    const installed = await lazyInstall(c.repo, c.link, 'tr');
    // The install's activation read the commit when it had no trace: nothing was fetched ahead.
    const line = (i: number) => `${sha256(TR[i]!.bytes)} ${TR[i]!.bytes.length}`;
    mkdirSync(join(c.repo, 'traces'), { recursive: true });
    writeFileSync(join(c.repo, 'traces', 'e'.repeat(64)), `${line(2)}\n${line(5)}\n`);
    expect(stored(c.repo, sha256(TR[2]!.bytes)) || stored(c.repo, sha256(TR[5]!.bytes))).toBe(false);
    expectBytes(await cat(join(c.link, TR[0]!.path)), TR[0]!.bytes);
    expect(await until(() => stored(c.repo, sha256(TR[2]!.bytes)) && stored(c.repo, sha256(TR[5]!.bytes))), 'the traced files never arrived').toBe(true);
    expect(stored(c.repo, sha256(TR[3]!.bytes))).toBe(false);
    expect(installed.gen).toMatch(/^[0-9a-f]{64}$/);
  });

  it('the view traces the files read first; trove fetch brings those first', async () => {
    const trn = await startNginx(server);
    const argv = cmdlineOf(trn.pid);
    const h = await lazyClient('h', trn.url, ['tr']);
    const id = (i: number) => sha256(TR[i]!.bytes);
    try {
      // Read in this order: t4 and t1 arrive; then the server is gone (a machine booted offline), and
      // reads of t3 and t0 fail, but they were read too.
      expectBytes(await cat(join(h.link, TR[4]!.path)), TR[4]!.bytes);
      expectBytes(await cat(join(h.link, TR[1]!.path)), TR[1]!.bytes);
      await trn.stop();
      expectEio(await cat(join(h.link, TR[3]!.path)));
      expectEio(await cat(join(h.link, TR[0]!.path)));
      // Read again: listed once, at its first read.
      expectBytes(await cat(join(h.link, TR[4]!.path)), TR[4]!.bytes);
      expect(existsSync(join(h.repo, 'traces', h.gen))).toBe(false);
      // The daemon writes the trace when it stops.
      const off = await trove(['--repo', h.repo, 'umount', '--force', h.mnt]);
      expect(off.code, off.stderr).toBe(0);
      const trace = join(h.repo, 'traces', h.gen);
      expect(await until(() => existsSync(trace))).toBe(true);
      // One line per file: its blob and size.
      expect(readFileSync(trace, 'utf8')).toBe([4, 1, 3, 0].map((i) => `${id(i)} ${TR[i]!.bytes.length}`).join('\n') + '\n');
    } finally {
      await trn.stop();
    }
    // Back on the same port: fetch, one request at a time, brings the traced files first, in the trace's order.
    await startAgain(argv, trn.port);
    trn.clearLog();
    const r = await trove(['--repo', h.repo, 'fetch', '--wait', '--jobs', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as FetchJson;
    expect(out.remaining).toEqual([]);
    expect(out.fetched.objects).toBe(4);
    const asked = objectRequests(trn);
    expect(asked).toHaveLength(4);
    expect(asked.slice(0, 2)).toEqual([id(3), id(0)]);
    expect(asked.slice(2).sort()).toEqual([id(2), id(5)].sort());
    expect(partialRecords(h.repo)).toEqual([]);
    for (const i of [0, 1, 2, 3, 4, 5]) expect(stored(h.repo, id(i))).toBe(true);
  });
});

describe.skipIf(skipFuse())('lazy upgrades, switches and bisects of published generations', () => {
  const base = tmpdir('trove-lazy-gen');
  const server = join(base, 'server');
  /** One file per build, the only one that changes: `build N`, and `broken` from build 3 on. */
  const APP = 'etc/app.conf';
  const appOf = (n: number) => `build ${n}\n${n >= 3 ? 'broken\n' : ''}`;
  const DATA = file('usr/share/app/data', randomBytes(200 << 10));
  let nginx: Nginx;
  const views: { repo: string; mnt: string }[] = [];

  beforeAll(async () => {
    await troveOk(server, 'init');
    for (let n = 1; n <= 4; n++) {
      const dir = join(base, `src-${n}`);
      mkdirSync(join(dir, 'etc'), { recursive: true });
      mkdirSync(join(dir, 'usr/share/app'), { recursive: true });
      writeFileSync(join(dir, APP), appOf(n));
      writeFileSync(join(dir, DATA.path), DATA.bytes);
      await troveOk(server, 'pkg', 'add', dir, '--name', 'app', '--arch', 'all', '--version', `${n}.0`, '--no-update-summary');
      await troveOk(server, 'gen', 'build', 'app', '--no-update-summary');
    }
    await troveOk(server, 'gen', 'publish');
    nginx = await startNginx(server);
  });

  afterAll(async () => {
    for (const v of views.splice(0)) if (mountpoints().has(v.mnt)) await trove(['--repo', v.repo, 'umount', '--force', v.mnt]);
    await nginx?.stop();
  });

  async function client(tag: string): Promise<{ repo: string; mnt: string; link: string }> {
    const dir = tmpdir(`trove-lazy-gen-${tag}`);
    const c = { repo: join(dir, 'repo'), mnt: join(dir, 'mnt'), link: join(dir, 'ro') };
    await troveOk(c.repo, 'init');
    await troveOk(c.repo, 'remote', 'add', 'origin', nginx.url);
    await troveOk(c.repo, 'mount', c.mnt);
    views.push({ repo: c.repo, mnt: c.mnt });
    return c;
  }

  /** Blob requests nginx logged for the server's objects since it was last cleared. */
  const blobRequests = (ids: string[]) => objectRequests(nginx).filter((id) => ids.includes(id));

  it('upgrade --lazy activates the newest published generation through the view; a plain switch to a partial one is refused', async () => {
    const c = await client('up');
    nginx.clearLog();
    const up = JSON.parse(await troveOk(c.repo, 'upgrade', '--lazy', '--link', c.link, '--json')) as {
      state: string;
      generation: number;
      published: { generation: number; commit: string };
      lazy: { objects: number; bytes: number };
      activated: { via: string };
    };
    expect(up.state).toBe('upgraded');
    expect(up.published.generation).toBe(4);
    expect(up.activated.via).toBe('mount');
    expect(up.lazy.objects).toBe(2);
    expect(partialRecords(c.repo)).toEqual([up.published.commit]);
    // Nothing of the files came over the wire; a read brings exactly the file read.
    const data = sha256(DATA.bytes);
    const app4 = sha256(appOf(4));
    expect(blobRequests([data, app4])).toEqual([]);
    expectBytes(await cat(join(c.link, APP)), Buffer.from(appOf(4)));
    expect(blobRequests([data, app4]).length).toBe(1);
    expect(stored(c.repo, data)).toBe(false);
    const lazyOf = async () =>
      (JSON.parse(await troveOk(c.repo, 'gen', 'list', '--json')) as { generation: number; lazy: boolean }[]).find((g) => g.generation === up.generation)!.lazy;
    expect(await lazyOf()).toBe(true);
    // Generation 1 here is the partial one: switching back to it needs --lazy, or its files.
    await troveOk(c.repo, 'switch', '--lazy', String(up.generation), '--link', c.link);
    const plain = await trove(['--repo', c.repo, 'switch', String(up.generation), '--link', c.link]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('is partial');
    // A plain upgrade of the same generation completes it instead of calling it up to date with files missing.
    await troveOk(c.repo, 'upgrade', '--link', c.link);
    expect(partialRecords(c.repo)).toEqual([]);
    expect(stored(c.repo, data)).toBe(true);
    expect(await lazyOf()).toBe(false);
    await troveOk(c.repo, 'switch', String(up.generation), '--link', c.link);
  });

  it('bisect start --remote --lazy pulls each candidate without its files and finds the first bad build', async () => {
    const c = await client('bisect');
    nginx.clearLog();
    await troveOk(c.repo, 'bisect', 'start', '--remote', 'origin', '--good', '1', '--bad', '4', '--lazy', '--link', c.link);
    const out = await troveOk(c.repo, 'bisect', 'run', '--', 'sh', '-c', `! grep -q broken ${join(c.link, APP)}`);
    expect(out).toContain('first bad generation: remote origin generation 3');
    // The test read etc/app.conf of each candidate, never the data file: its blob never came.
    const data = sha256(DATA.bytes);
    expect(blobRequests([data])).toEqual([]);
    expect(stored(c.repo, data)).toBe(false);
    expect(partialRecords(c.repo).length).toBeGreaterThan(0);
    await troveOk(c.repo, 'bisect', 'reset');
  });

  it("a server's trace of a generation travels with it: a lazy upgrade fetches it, and the view fetches those files first", async () => {
    // The server runs something in its own view of generation 4, which records what it read.
    const smnt = join(base, 'server-mnt');
    await troveOk(server, 'mount', smnt);
    views.push({ repo: server, mnt: smnt });
    const gen4 = (await troveOk(server, 'gen', 'show', '4', '--json')).match(/"commit": "([0-9a-f]{64})"/)![1]!;
    expectBytes(await cat(join(smnt, 'commits', gen4, DATA.path)), DATA.bytes);
    await troveOk(server, 'umount', smnt);
    const trace = readFileSync(join(server, 'traces', gen4));
    expect(trace.toString()).toBe(`${sha256(DATA.bytes)} ${DATA.bytes.length}\n`);
    // The summary names it, by SHA-256 and size.
    await troveOk(server, 'summary');
    const summary = JSON.parse(readFileSync(join(server, 'summary'), 'utf8')) as { generations: Record<string, { commit: string; trace?: { sha256: string; size: number } }[]> };
    expect(summary.generations.system!.find((g) => g.commit === gen4)!.trace).toEqual({ sha256: sha256(trace), size: trace.length });
    // A client upgrading lazily gets the trace; the first read under the generation (not of the data
    // file) makes its view fetch the traced data file.
    const c = await client('trace');
    await troveOk(c.repo, 'upgrade', '--lazy', '--link', c.link);
    expect(readFileSync(join(c.repo, 'traces', gen4)).equals(trace)).toBe(true);
    expect(stored(c.repo, sha256(DATA.bytes))).toBe(false);
    expectBytes(await cat(join(c.link, APP)), Buffer.from(appOf(4)));
    expect(await until(() => stored(c.repo, sha256(DATA.bytes))), 'the traced file never arrived').toBe(true);
    // A summary naming a trace the server does not hold (or holds changed) costs a notice, not the upgrade.
    writeFileSync(join(server, 'traces', gen4), 'changed\n');
    const d = await client('badtrace');
    const up = await trove(['--repo', d.repo, 'upgrade', '--lazy', '--link', d.link]);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toContain('not the trace the summary names');
    expect(existsSync(join(d.repo, 'traces', gen4))).toBe(false);
  });
});
