// Private files (docs/security.md, "Private files"): content committed from a
// file other users may not read stays unreadable to them by every path trove
// offers: the object file, `trove cat`, `trove serve`, copy and hard-link
// checkouts, activations, the FUSE view, precompressed copies, delta packs and
// a pull. Each check is made on a public file laid out the same way too, which
// must be readable, so the test fails when a path is closed to everyone.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trove, troveOk, TROVE_BIN } from './helpers/cli.js';
import { mountpoints, mountRepo, skipFuse } from './helpers/fuse.js';
import { sh, tmpdir } from './helpers/tmp.js';

const isRoot = process.getuid?.() === 0;

/** What `nobody` gets reading `path` with cat(1): its exit status and output. */
function nobodyCat(path: string): { code: number; out: string } {
  const r = spawnSync('runuser', ['-u', 'nobody', '--', 'cat', path], { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { code: r.status ?? 128, out: r.stdout };
}

/** The trove CLI run as `nobody`, a real process. */
function nobodyTrove(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, TROVE_BIN, ...args], { cwd: '/', encoding: 'utf8', env: { ...process.env, TROVE_REPO: undefined } });
  if (r.error) throw r.error;
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

interface Case {
  path: string;
  mode: number;
  /** Mode of the directory the file is in, when not the root (made 0755 otherwise). */
  dirMode?: number;
  private: boolean;
}

/** Private by their own mode or by a directory others cannot enter; public ones laid out the same way. */
const CASES: Case[] = [
  { path: 's600', mode: 0o600, private: true },
  { path: 's640', mode: 0o640, private: true },
  { path: 's700', mode: 0o700, private: true },
  { path: 's000', mode: 0o000, private: true },
  { path: 'closed/inner', mode: 0o644, dirMode: 0o700, private: true },
  { path: 'closed/exe', mode: 0o755, dirMode: 0o700, private: true },
  { path: 'nox/inner', mode: 0o644, dirMode: 0o754, private: true },
  { path: 'p644', mode: 0o644, private: false },
  { path: 'p755', mode: 0o755, private: false },
  { path: 'p604', mode: 0o604, private: false },
  { path: 'open/inner', mode: 0o644, dirMode: 0o755, private: false },
  { path: 'open/exe', mode: 0o755, dirMode: 0o711, private: false },
];

describe.runIf(isRoot)('private files: a user without rights reads them by no path; public ones by every path', () => {
  const base = tmpdir('trove-private');
  const src = join(base, 'src');
  const repo = join(base, 'repo');
  const salt = randomBytes(8).toString('hex');
  // Long and repetitive enough that `summary --gzip-objects` writes a `.gz` of each.
  const content = (c: Case) => `${c.private ? 'SECRET' : 'public'} ${c.path} ${salt}\n`.repeat(20);
  const objectOf = (c: Case) => {
    const id = sha(content(c));
    return join(repo, 'objects', id.slice(0, 2), id.slice(2));
  };
  const secrets = CASES.filter((c) => c.private).map(content);
  const cli = (...args: string[]) => troveOk(repo, ...args);
  let commit = '';

  /** Expects `nobody` to read each case at `root/<path>` exactly when it is public. */
  function expectOnlyPublic(root: string): void {
    for (const c of CASES) {
      const r = nobodyCat(join(root, c.path));
      if (c.private) expect({ path: c.path, code: r.code === 0 ? 0 : 'refused', out: r.out }).toEqual({ path: c.path, code: 'refused', out: '' });
      else expect({ path: c.path, code: r.code, out: r.out }).toEqual({ path: c.path, code: 0, out: content(c) });
    }
  }

  beforeAll(async () => {
    chmodSync(base, 0o755);
    mkdirSync(src, { mode: 0o755 });
    chmodSync(src, 0o755);
    for (const c of CASES) {
      const dir = c.path.includes('/') ? join(src, c.path.split('/')[0]!) : src;
      if (!existsSync(dir)) mkdirSync(dir);
      writeFileSync(join(src, c.path), content(c));
      chmodSync(join(src, c.path), c.mode);
    }
    for (const c of CASES) if (c.dirMode !== undefined) chmodSync(join(src, c.path.split('/')[0]!), c.dirMode);
    await cli('init');
    commit = JSON.parse(await cli('commit', src, '-r', 'main', '--json')).commit as string;
    await cli('pkg', 'add', src, '--name', 'sec', '--arch', 'amd64', '--version', '1');
    await cli('gen', 'build', 'sec');
  });

  it('object files: private content is 0600 (0700 when executable), readable by the owner only; public content 0644/0755', () => {
    for (const c of CASES) {
      const mode = statSync(objectOf(c)).mode & 0o777;
      const exe = (c.mode & 0o100) !== 0;
      expect({ path: c.path, mode: mode.toString(8) }).toEqual({ path: c.path, mode: (c.private ? (exe ? 0o700 : 0o600) : exe ? 0o755 : 0o644).toString(8) });
    }
    expectOnlyPublic(src); // the source itself, as the kernel enforces it
    for (const c of CASES) {
      const r = nobodyCat(objectOf(c));
      expect({ path: c.path, out: r.out }).toEqual({ path: c.path, out: c.private ? '' : content(c) });
    }
  });

  it('trove cat: refused in one line (exit 1) for private content, the content for public', () => {
    for (const c of CASES) {
      const r = nobodyTrove(['--repo', repo, 'cat', `main:${c.path}`]);
      if (c.private) {
        expect(r.code).toBe(1);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(new RegExp(`^trove: cannot read main:${c.path}: its content is private .*readable by the repository's owner only; run as that user \\(or root\\)\\n$`));
      } else expect({ path: c.path, code: r.code, out: r.stdout }).toEqual({ path: c.path, code: 0, out: content(c) });
    }
  });

  it('copy and hard-link checkouts made by root: the kernel keeps private files from nobody, and no private inode is readable by others', async () => {
    const copy = join(base, 'co-copy');
    const links = join(base, 'co-links');
    await cli('checkout', 'main', copy);
    await cli('checkout', '--hardlink', 'main', links);
    expectOnlyPublic(copy);
    expectOnlyPublic(links);
    for (const c of CASES) {
      const st = statSync(join(links, c.path));
      expect({ path: c.path, mode: (st.mode & 0o7777).toString(8) }).toEqual({ path: c.path, mode: c.mode.toString(8) });
      // A private file's inode: the object itself only when its mode is the committed one; never readable by others
      // unless its directory keeps them out.
      if (c.private && c.dirMode === undefined) expect(st.mode & 0o004).toBe(0);
      if (st.ino === statSync(objectOf(c)).ino) expect(st.mode & 0o777).toBe(statSync(objectOf(c)).mode & 0o777);
    }
    // Variants (the 0640 file, the 0644 file in a closed directory) are reached through the checkout, never through variants/.
    expect(statSync(join(repo, 'variants')).mode & 0o777).toBe(0o700);
    expect(nobodyTrove(['--repo', repo, 'ls', 'main']).code).toBe(0);
    expect(spawnSync('runuser', ['-u', 'nobody', '--', 'ls', join(repo, 'variants')]).status).not.toBe(0);
  });

  it('an activation (a read-only bind mount of a hard-link tree) shows nobody the public files only', async () => {
    const link = join(base, 'ro');
    await cli('switch', '1', '--link', link);
    expectOnlyPublic(join(link, 'sec-amd64-1-1'));
  });

  it('nothing in the repository that nobody can read holds private content: objects, .gz copies, variants, checkouts, delta packs, tmp', async () => {
    await cli('summary', '--gzip-objects');
    await cli('delta', '--from-empty', 'main');
    const gzOf = (c: Case) => `${objectOf(c)}.gz`;
    // Each secret is long enough to be compressed: the `.gz` exists and is as private as its object.
    for (const c of CASES) {
      expect(existsSync(gzOf(c))).toBe(true);
      expect({ path: c.path, private: (statSync(gzOf(c)).mode & 0o077) === 0 }).toEqual({ path: c.path, private: c.private });
    }
    const readable = spawnSync('runuser', ['-u', 'nobody', '--', 'find', repo, base + '/ro/', '-type', 'f', '-readable', '-print0'], { encoding: 'utf8' })
      .stdout.split('\0')
      .filter((p) => p !== '');
    expect(readable.length).toBeGreaterThan(10);
    const leaks: string[] = [];
    for (const path of readable) {
      let bytes = readFileSync(path);
      if (path.endsWith('.gz')) bytes = gunzipSync(bytes);
      const text = bytes.toString('latin1');
      if (secrets.some((s) => text.includes(s))) leaks.push(path);
    }
    expect(leaks).toEqual([]);
    // The delta pack carries private objects: it is private too (xz or gzip, so its bytes were not searched above).
    const deltas = readdirSync(join(repo, 'deltas'));
    expect(deltas.length).toBe(1);
    expect(statSync(join(repo, 'deltas', deltas[0]!)).mode & 0o077).toBe(0);
  });

  describe('trove serve', () => {
    const servers: ReturnType<typeof spawn>[] = [];
    afterAll(() => {
      for (const s of servers) s.kill('SIGTERM');
    });

    /** Starts `trove serve --port 0` as root (it could read everything) and returns its URL. */
    async function serve(...extra: string[]): Promise<string> {
      const child = spawn(process.execPath, [TROVE_BIN, '--repo', repo, 'serve', '--port', '0', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
      servers.push(child);
      return new Promise((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = / at (http:\/\/\S+)\n/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
      });
    }

    it('refuses private objects (403), their .gz and the delta pack that carries them; serves public ones; --include-private serves all', async () => {
      const url = await serve();
      const idOf = (c: Case) => sha(content(c));
      const get = (u: string, gzip = false) => fetch(u, { headers: gzip ? { 'accept-encoding': 'gzip' } : {} });
      for (const c of CASES) {
        const path = `objects/${idOf(c).slice(0, 2)}/${idOf(c).slice(2)}`;
        for (const gzip of [false, true]) {
          const res = await get(url + path, gzip);
          const body = await res.text();
          if (c.private) expect({ path: c.path, gzip, status: res.status, secret: body.includes(content(c)) }).toEqual({ path: c.path, gzip, status: 403, secret: false });
          else expect({ path: c.path, gzip, status: res.status, body }).toEqual({ path: c.path, gzip, status: 200, body: content(c) });
        }
      }
      const delta = readdirSync(join(repo, 'deltas'))[0]!;
      expect((await get(`${url}deltas/${delta}`)).status).toBe(403);
      expect((await get(`${url}summary`)).status).toBe(200);

      const trusted = await serve('--include-private');
      for (const c of CASES) {
        const res = await get(`${trusted}objects/${idOf(c).slice(0, 2)}/${idOf(c).slice(2)}`);
        expect({ path: c.path, status: res.status, body: await res.text() }).toEqual({ path: c.path, status: 200, body: content(c) });
      }
      expect((await get(`${trusted}deltas/${delta}`)).status).toBe(200);
    });

    it('a pull of a commit with private files fails clearly from a public server; from --include-private it lands with the files private', async () => {
      await cli('summary');
      const url = await serve();
      const client = join(base, 'client');
      await troveOk(client, 'init');
      await troveOk(client, 'remote', 'add', 'origin', url);
      // Loose objects only: the delta pack is refused as well, and the pull falls back to objects.
      const r = await trove(['--repo', client, 'pull', 'origin', 'main', '--no-progress']);
      expect(r.code).toBe(1);
      // The error is the last line (a notice that the delta pack was refused may come first).
      expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^trove: .*forbidden \(HTTP 403\).*trove serve --include-private\)$/);
      expect(existsSync(join(client, 'refs', 'remotes', 'origin', 'main'))).toBe(false);

      const trusted = await serve('--include-private');
      await troveOk(client, 'remote', 'remove', 'origin');
      await troveOk(client, 'remote', 'add', 'origin', trusted);
      await troveOk(client, 'pull', 'origin', 'main', '--no-progress');
      for (const c of CASES) {
        const id = sha(content(c));
        const mode = statSync(join(client, 'objects', id.slice(0, 2), id.slice(2))).mode;
        expect({ path: c.path, private: (mode & 0o077) === 0 }).toEqual({ path: c.path, private: c.private });
      }
      expect(JSON.parse((await troveOk(client, 'fsck', '--json'))).problems).toEqual([]);
    });
  });

  it.skipIf(skipFuse())('the FUSE view (mounted by root, allow_other) lets nobody read the public files only', async () => {
    const mnt = join(base, 'mnt');
    mkdirSync(mnt);
    await mountRepo(repo, mnt);
    try {
      expectOnlyPublic(join(mnt, 'commits', commit));
    } finally {
      if (mountpoints().has(mnt)) await troveOk(repo, 'umount', mnt);
    }
  });

  it('a tar archive whose directory member comes after the files it closes: those files are private', async () => {
    const tarball = join(base, 'late-dir.tar');
    // closed/inner before closed/ itself, and the root last.
    sh('tar', ['-C', src, '--no-recursion', '-cf', tarball, './p644', './closed/inner', './closed', '.']);
    const tarRepo = join(base, 'tar-repo');
    await troveOk(tarRepo, 'init');
    await troveOk(tarRepo, 'commit', tarball, '-r', 'main');
    const modeIn = (c: Case) => {
      const id = sha(content(c));
      return statSync(join(tarRepo, 'objects', id.slice(0, 2), id.slice(2))).mode & 0o777;
    };
    expect(modeIn(CASES.find((c) => c.path === 'closed/inner')!)).toBe(0o600);
    expect(modeIn(CASES.find((c) => c.path === 'p644')!)).toBe(0o644);
    const r = nobodyTrove(['--repo', tarRepo, 'cat', 'main:closed/inner']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  });

  it('the same content committed private, then public: the object becomes public, a hard-link checkout of the private file keeps its inode and mode', async () => {
    const same = `same content ${salt}\n`;
    const id = sha(same);
    const object = join(repo, 'objects', id.slice(0, 2), id.slice(2));
    const a = join(base, 'same-a');
    mkdirSync(a);
    chmodSync(a, 0o755);
    writeFileSync(join(a, 'f'), same, { mode: 0o600 });
    await cli('commit', a, '-r', 'same-private');
    expect(statSync(object).mode & 0o777).toBe(0o600);
    const co = join(base, 'same-co');
    await cli('checkout', '--hardlink', 'same-private', co);
    expect(statSync(join(co, 'f')).ino).toBe(statSync(object).ino);
    expect(nobodyCat(object).out).toBe('');

    const b = join(base, 'same-b');
    mkdirSync(b);
    chmodSync(b, 0o755);
    writeFileSync(join(b, 'g'), same, { mode: 0o644 });
    await cli('commit', b, '-r', 'same-public');
    expect(statSync(object).mode & 0o777).toBe(0o644);
    expect(nobodyCat(object).out).toBe(same);
    // The checkout's file is no longer the object's inode, and kept 0600.
    expect(statSync(join(co, 'f')).ino).not.toBe(statSync(object).ino);
    expect(statSync(join(co, 'f')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(co, 'f'), 'utf8')).toBe(same);

    // Public first, then private: the content is public already and stays so.
    const other = `public first ${salt}\n`;
    const oid = sha(other);
    writeFileSync(join(b, 'g'), other, { mode: 0o644 });
    await cli('commit', b, '-r', 'first-public');
    writeFileSync(join(a, 'f'), other, { mode: 0o600 });
    await cli('commit', a, '-r', 'then-private');
    expect(statSync(join(repo, 'objects', oid.slice(0, 2), oid.slice(2))).mode & 0o777).toBe(0o644);
    expect(JSON.parse(await cli('fsck', '--json')).problems).toEqual([]);
  });

  it('objects written before private objects existed (0644): fsck reports them, fsck --repair makes them and their .gz private', async () => {
    const c = CASES.find((x) => x.path === 's640')!;
    const c2 = CASES.find((x) => x.path === 'closed/inner')!;
    chmodSync(objectOf(c), 0o644);
    chmodSync(objectOf(c2), 0o644);
    if (existsSync(`${objectOf(c)}.gz`)) chmodSync(`${objectOf(c)}.gz`, 0o644);
    // As an older trove did: a hard-link checkout links the 0644 object itself for the 0644 file in the closed directory.
    const old = join(base, 'co-old');
    await cli('checkout', '--hardlink', 'main', old);
    const linked = lstatSync(objectOf(c2)).ino;
    expect(statSync(join(old, c2.path)).ino).toBe(linked);
    const r = await trove(['--repo', repo, 'fsck']);
    expect(r.code).toBe(5);
    const flagged = r.stdout.split('\n').filter((l) => l.startsWith('readable-private: blob '));
    expect(flagged.map((l) => l.split(' ')[2]).sort()).toEqual([sha(content(c)), sha(content(c2))].sort());
    expect(nobodyCat(objectOf(c)).out).toBe(content(c));

    const fixed = await troveOk(repo, 'fsck', '--repair');
    expect(fixed).toContain(`made private: blob ${sha(content(c))}`);
    expect(fixed).toContain(`made private: blob ${sha(content(c2))}`);
    expect(statSync(objectOf(c)).mode & 0o777).toBe(0o600);
    expect(statSync(objectOf(c2)).mode & 0o777).toBe(0o600);
    if (existsSync(`${objectOf(c)}.gz`)) expect(statSync(`${objectOf(c)}.gz`).mode & 0o777).toBe(0o600);
    // The linked object got a new inode: the checkout's file keeps its committed 0644 (behind its 0700 directory).
    expect(lstatSync(objectOf(c2)).ino).not.toBe(linked);
    expect(statSync(join(old, c2.path)).mode & 0o777).toBe(0o644);
    expect(readFileSync(join(old, c2.path), 'utf8')).toBe(content(c2));
    for (const x of [c, c2]) expect(nobodyCat(objectOf(x)).out).toBe('');
    expect(JSON.parse(await cli('fsck', '--json')).problems).toEqual([]);
  });
});
