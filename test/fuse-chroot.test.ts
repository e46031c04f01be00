import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { getDebs } from './helpers/debs.js';
import { mountRepo, skipFuse } from './helpers/fuse.js';
import { trove } from './helpers/cli.js';
import { sh, tmpdir } from './helpers/tmp.js';

/** bash, coreutils and everything they load at run time (Debian 12). */
const PACKAGES = ['libc6', 'bash', 'coreutils', 'libtinfo6', 'libselinux1', 'libpcre2-8-0', 'libacl1', 'libattr1', 'libgmp10', 'libssl3', 'libcap2'];

/** Real programs: directory listings, arithmetic, sorting, and every binary read in full. */
const SCRIPT = [
  'ls /usr/bin | head',
  '/bin/ls -la --time-style=+ /usr/lib /usr/lib/x86_64-linux-gnu /bin/bash /usr/bin/sort',
  'echo $((6*7))',
  'printf "pear\\napple\\nfig\\n" | /usr/bin/sort',
  '/usr/bin/sort -r /usr/share/doc/bash/copyright | /usr/bin/head -5',
  '/usr/bin/sha256sum /usr/bin/* /bin/* | /usr/bin/sha256sum',
  '/usr/bin/wc -c /lib/x86_64-linux-gnu/libc.so.6',
  '/usr/bin/factor 1234567 && /usr/bin/expr 6 \\* 7',
  '/usr/bin/stat -c "%A %h %s %n" /usr/bin/env /lib64/ld-linux-x86-64.so.2',
  'cd /usr/share && pwd && echo *',
].join('; ');

function inChroot(root: string): string {
  const r = spawnSync('chroot', [root, '/bin/bash', '-c', SCRIPT], { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' } });
  expect(r.stderr, `chroot ${root}`).toBe('');
  expect(r.status, `chroot ${root}`).toBe(0);
  return r.stdout;
}

/**
 * Directory sizes and block totals are the filesystem's own (4096 on ext4, 0
 * on the view), and so is the column width they cause; all else must match.
 */
function normalise(out: string): string {
  return out
    .split('\n')
    .map((l) => {
      if (/^total \d+$/.test(l)) return 'total';
      const f = l.split(/\s+/);
      if (/^d[rwxst-]{9}$/.test(f[0] ?? '') && f.length > 5) f[4] = '-';
      return f.join(' ');
    })
    .join('\n');
}

const skip = skipFuse() || (!process.env.CI && process.getuid?.() !== 0 && (console.log('skipping chroot: not root'), true));

describe.skipIf(skip)('programs run from the FUSE view', () => {
  let repo: string;
  let mnt: string;
  let id: string;
  let checkout: string;

  beforeAll(async () => {
    const dir = tmpdir('trove-fuse-chroot');
    const root = join(dir, 'root');
    mkdirSync(root);
    for (const deb of getDebs(PACKAGES)) sh('dpkg-deb', ['-x', deb, root]);
    // Debian 12 packages ship /bin and /lib themselves; a usrmerged set would need these links.
    for (const [link, target] of [['bin', 'usr/bin'], ['lib', 'usr/lib'], ['lib64', 'usr/lib64']] as const) {
      if (!existsSync(join(root, link))) symlinkSync(target, join(root, link));
    }
    repo = join(dir, 'repo');
    mnt = join(dir, 'mnt');
    checkout = join(dir, 'checkout');
    expect((await trove(['--repo', repo, 'init'])).code).toBe(0);
    const c = await trove(['--repo', repo, 'commit', root, '--ref', 'os/base', '-m', 'bash and coreutils']);
    expect(c.code, c.stderr).toBe(0);
    id = readFileSync(join(repo, 'refs', 'heads', 'os', 'base'), 'utf8').trim();
    const co = await trove(['--repo', repo, 'checkout', '--copy', id, checkout]);
    expect(co.code, co.stderr).toBe(0);
    await mountRepo(repo, mnt);
  });

  it('runs bash and coreutils chrooted into a commit, with the same output as in a checkout', () => {
    const fromView = inChroot(join(mnt, 'commits', id));
    const fromCheckout = inChroot(checkout);
    expect(fromView).toContain('\n42\n');
    expect(fromView).toContain('apple\nfig\npear\n');
    expect(fromView).toContain('1234567: 127 9721');
    expect(fromView).toMatch(/-rwxr-xr-x 1 0 0 \d+ +\/bin\/bash/);
    expect(normalise(fromView)).toBe(normalise(fromCheckout));
  });

  it('runs them through a ref symlink too', () => {
    const r = spawnSync('chroot', [join(mnt, 'refs', 'os', 'base'), '/bin/bash', '-c', 'echo $BASH_VERSION; /bin/cat /usr/share/doc/coreutils/copyright | /usr/bin/wc -l'], {
      encoding: 'utf8',
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^5\.\d+\.\d+.*\n\d+\n$/);
  });
});
