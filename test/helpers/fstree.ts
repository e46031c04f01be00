import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

/**
 * `find`'s view of a directory: one line per path with type, mode (incl.
 * set-id bits), uid, gid, size (files and symlinks; '-' for dirs, whose size
 * depends on the filesystem) and symlink target. Sorted, root included as ".".
 */
export function statListing(dir: string): string[] {
  const r = spawnSync('find', [dir, '-printf', '%y %m %U %G %s %l\\t%P\\0'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`find ${dir} failed: ${r.stderr}`);
  return r.stdout
    .split('\0')
    .filter((l) => l !== '')
    .map((l) => {
      const [meta, path] = l.split('\t') as [string, string];
      const f = meta.split(' ');
      if (f[0] === 'd') f[4] = '-';
      return `${path || '.'} ${f.join(' ')}`;
    })
    .sort();
}

/** Asserts that `diff -r` (symlinks compared as links, never followed) finds no difference. */
export function expectSameContent(a: string, b: string): void {
  const r = spawnSync('diff', ['-r', '--no-dereference', a, b], { encoding: 'utf8', maxBuffer: 64 << 20 });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
}

/** Asserts that two directories hold the same paths with the same content and metadata. */
export function expectSameTree(a: string, b: string): void {
  expectSameContent(a, b);
  expect(statListing(b)).toEqual(statListing(a));
}

/**
 * Every regular file, symlink and directory under `dir` with a hash of its
 * content or target: a snapshot to prove that nothing changed.
 */
export function snapshot(dir: string, ignore: (rel: string) => boolean = () => false): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (abs: string, rel: string) => {
    for (const name of readdirSync(abs).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (ignore(r)) continue;
      const p = join(abs, name);
      const st = lstatSync(p);
      const meta = `${(st.mode & 0o170000).toString(8)} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isDirectory()) {
        out.set(r, `${meta} dir`);
        walk(p, r);
      } else if (st.isSymbolicLink()) out.set(r, `${meta} -> ${readlinkSync(p)}`);
      else if (st.isFile()) out.set(r, `${meta} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
      else out.set(r, `${meta} special`);
    }
  };
  walk(dir, '');
  return out;
}
