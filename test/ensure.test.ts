import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/tmp.js';

/** `[package, file]` pairs of one job in scripts/ensure.mjs. */
function debianList(job: string): [string, string][] {
  const text = readFileSync(join(ROOT, 'scripts', 'ensure.mjs'), 'utf8');
  const block = new RegExp(`'${job}': \\[([\\s\\S]*?)\\n  \\],`).exec(text)?.[1];
  if (block === undefined) throw new Error(`no ${job} list in scripts/ensure.mjs`);
  return [...block.matchAll(/\['([^']+)', '([^']+)'\]/g)].map((m) => [m[1]!, m[2]!]);
}

/** Every program the test files run by name: `sh('ar', ...)`, `spawnSync('git', ...)` and the like. */
function programsRunByTests(): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8');
        for (const m of text.matchAll(/\b(?:sh|spawnSync|spawn|execFileSync|execFile)\(\s*'([a-z0-9][a-z0-9_.+-]*)'/g)) found.set(m[1]!, path);
      }
    }
  };
  walk(join(ROOT, 'test'));
  return found;
}

// Programs whose file is not the one ensure.mjs checks for their package.
const COREUTILS = ['cat', 'chmod', 'chown', 'chroot', 'cp', 'dd', 'ln', 'ls', 'mkdir', 'mkfifo', 'rm', 'sha256sum', 'sleep', 'stat', 'sync', 'touch', 'truncate'];
const PROVIDER: Record<string, string> = {
  fusermount: 'fuse3',
  flock: 'util-linux',
  runuser: 'util-linux',
  unshare: 'util-linux',
  umount: 'mount',
  'dpkg-query': 'dpkg',
  'apt-cache': 'apt',
  ...Object.fromEntries(COREUTILS.map((c) => [c, 'coreutils'])),
};

describe('scripts/ensure.mjs --test', () => {
  it('installs every program the tests run', () => {
    const list = debianList('--test');
    const files = new Set(list.map(([, f]) => basename(f)));
    const packages = new Set(list.map(([p]) => p));
    const programs = programsRunByTests();
    // The scan itself works: these are run by the hostile, import and remote tests.
    for (const p of ['ar', 'dpkg-deb', 'git', 'xz', 'tar', 'nginx']) expect(programs.has(p), p).toBe(true);
    const uncovered = [...programs].filter(([p]) => !files.has(p) && !packages.has(PROVIDER[p] ?? '')).map(([p, where]) => `${p} (${where})`);
    expect(uncovered).toEqual([]);
  });
});
