import { chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashBytes } from '../src/util/hash.js';
import { trove } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';

/** A repository with ref `main`: a 0644 file, a 0600 file (a variant in a hard-link checkout) and a symlink. */
async function setup() {
  const dir = tmpdir('trove-checkout');
  const repo = join(dir, 'repo');
  const src = join(dir, 'src');
  mkdirSync(join(src, 'etc'), { recursive: true });
  writeFileSync(join(src, 'etc', 'plain'), 'plain\n');
  writeFileSync(join(src, 'etc', 'secret'), 'secret\n');
  chmodSync(join(src, 'etc', 'secret'), 0o600);
  symlinkSync('../etc/plain', join(src, 'etc', 'link'));
  expect((await trove(['init', '--repo', repo])).code).toBe(0);
  expect((await trove(['commit', src, '-r', 'main', '--repo', repo])).code).toBe(0);
  const objectOf = (content: string) => {
    const id = hashBytes(Buffer.from(content));
    return join(repo, 'objects', id.slice(0, 2), id.slice(2));
  };
  return { dir, repo, objectOf };
}

/** Overwrites an object file with other bytes of the same length, as bit rot would. */
function rot(path: string) {
  const bytes = readFileSync(path);
  chmodSync(path, 0o644);
  writeFileSync(path, Buffer.from(bytes.map((b) => b ^ 1)));
}

describe('checkout', () => {
  it('links symlinks to one shared symlink per target and owner, never to what they point at', async () => {
    const { dir, repo } = await setup();
    for (const n of [1, 2]) {
      const r = await trove(['checkout', '--hardlink', 'main', join(dir, `out${n}`), '--repo', repo]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    const a = lstatSync(join(dir, 'out1', 'etc', 'link'));
    const b = lstatSync(join(dir, 'out2', 'etc', 'link'));
    expect(a.isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'out1', 'etc', 'link'))).toBe('../etc/plain');
    expect(a.ino).toBe(b.ino);
    expect(a.nlink).toBe(3); // the variant under <repo>/variants and the two checkouts
    expect(a.ino).not.toBe(statSync(join(dir, 'out1', 'etc', 'plain')).ino);
    expect(readFileSync(join(dir, 'out2', 'etc', 'link'), 'utf8')).toBe('plain\n');
  });

  it('refuses to copy an object whose bytes rotted, and leaves no destination behind', async () => {
    const { dir, repo, objectOf } = await setup();
    rot(objectOf('plain\n'));
    const dest = join(dir, 'copy');
    const r = await trove(['checkout', '--copy', 'main', dest, '--repo', repo]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/is corrupt: its bytes hash to/);
    expect(existsSync(dest)).toBe(false);
  });

  it('refuses to make a variant from a rotted object', async () => {
    const { dir, repo, objectOf } = await setup();
    rot(objectOf('secret\n'));
    const dest = join(dir, 'links');
    const r = await trove(['checkout', '--hardlink', 'main', dest, '--repo', repo]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/is corrupt/);
    expect(existsSync(dest)).toBe(false);
    const variants = join(repo, 'variants');
    const files = existsSync(variants) ? (readdirSync(variants, { recursive: true }) as string[]).filter((p) => lstatSync(join(variants, p)).isFile()) : [];
    expect(files).toEqual([]);
  });

  it('gives clear errors for destinations it cannot make', async () => {
    const { dir, repo } = await setup();
    const under = await trove(['checkout', 'main', join(dir, 'src', 'etc', 'plain', 'x'), '--repo', repo]);
    expect(under.code).toBe(2);
    expect(under.stderr).toMatch(/a parent is not a directory/);
    const proc = await trove(['checkout', 'main', '/proc/trove-no-such-dir', '--repo', repo]);
    expect(proc.code).toBe(1);
    expect(proc.stderr).toMatch(/cannot create checkout destination \/proc\/trove-no-such-dir/);
    const full = await trove(['checkout', 'main', join(dir, 'src'), '--repo', repo]);
    expect(full.code).toBe(4);
  });

  it('makes missing parents of the destination like mkdir -p', async () => {
    const { dir, repo } = await setup();
    const dest = join(dir, 'a', 'b', 'c');
    expect((await trove(['checkout', 'main', dest, '--repo', repo])).code).toBe(0);
    expect(statSync(join(dir, 'a', 'b')).mode & 0o777).toBe(0o777 & ~process.umask());
    expect(readFileSync(join(dest, 'etc', 'plain'), 'utf8')).toBe('plain\n');
  });

  it('follows symlinked parents of the destination, not a symlink at the destination itself', async () => {
    const { dir, repo } = await setup();
    mkdirSync(join(dir, 'real'));
    symlinkSync('real', join(dir, 'lnk'));
    expect((await trove(['checkout', 'main', join(dir, 'lnk', 'a', 'b'), '--repo', repo])).code).toBe(0);
    expect(readFileSync(join(dir, 'real', 'a', 'b', 'etc', 'plain'), 'utf8')).toBe('plain\n');
    mkdirSync(join(dir, 'empty'));
    symlinkSync('empty', join(dir, 'to-empty'));
    expect((await trove(['checkout', 'main', join(dir, 'to-empty'), '--repo', repo])).code).toBe(4);
  });

  it.runIf(process.getuid?.() === 0)('as root, replaces a shared symlink whose owner is not the entry\'s (made by a checkout without root)', async () => {
    const { dir, repo } = await setup();
    const h = hashBytes(Buffer.from('../etc/plain'));
    const planted = join(repo, 'variants', 'symlink-0-0', h.slice(0, 2), h.slice(2));
    mkdirSync(join(planted, '..'), { recursive: true });
    symlinkSync('../etc/plain', planted);
    lchownSync(planted, 65534, 65534);
    expect((await trove(['checkout', '--hardlink', 'main', join(dir, 'out'), '--repo', repo])).code).toBe(0);
    const st = lstatSync(join(dir, 'out', 'etc', 'link'));
    expect([st.uid, st.gid]).toEqual([0, 0]);
    expect(lstatSync(planted).uid).toBe(0);
  });

  it.runIf(process.getuid?.() === 0)(
    'as root, below set-group-ID directories: symlinks and their shared copies keep the group of the entry, not the directory\'s',
    async () => {
      const dir = tmpdir('trove-checkout-sgid');
      const src = join(dir, 'src');
      // More files than a checkout links in its own thread, so the link thread makes shared copies too.
      for (let d = 0; d < 8; d++) {
        mkdirSync(join(src, `d${d}`), { recursive: true });
        for (let f = 0; f < 100; f++) writeFileSync(join(src, `d${d}`, `f${f}`), `${d} ${f}\n`);
        for (let l = 0; l < 20; l++) symlinkSync(`f${(l * 7) % 100}-${d}`, join(src, `d${d}`, `l${l}`));
      }
      // The repository and the destinations below a set-group-ID directory of group 1000: what is made there takes group 1000.
      const shared = join(dir, 'shared');
      mkdirSync(shared);
      chownSync(shared, 0, 1000);
      chmodSync(shared, 0o2775);
      const repo = join(shared, 'repo');
      expect((await trove(['init', '--repo', repo])).code).toBe(0);
      expect((await trove(['commit', src, '-r', 'main', '--repo', repo])).code).toBe(0);
      for (const how of ['--hardlink', '--copy']) {
        const out = join(shared, `out${how}`);
        const r = await trove(['checkout', how, 'main', out, '--repo', repo]);
        expect(r.code, r.stderr).toBe(0);
        for (let d = 0; d < 8; d++) {
          for (let l = 0; l < 20; l++) {
            const st = lstatSync(join(out, `d${d}`, `l${l}`));
            expect([st.isSymbolicLink(), st.uid, st.gid], `${how} d${d}/l${l}`).toEqual([true, 0, 0]);
          }
        }
      }
      const copies = join(repo, 'variants', 'symlink-0-0');
      for (const shard of readdirSync(copies)) for (const name of readdirSync(join(copies, shard))) expect(lstatSync(join(copies, shard, name)).gid).toBe(0);
    },
  );
});

