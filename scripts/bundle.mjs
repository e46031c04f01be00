#!/usr/bin/env node
// Bundles the built CLI (dist/cli/bin.js) and the FUSE daemon (dist/fuse/main.js)
// into dist/bundle/ with esbuild: one ES module per entry point plus shared
// chunks, so that a command loads a handful of files instead of ~150 modules,
// and a command's own code (and its heavy dependencies: undici, tar-stream)
// is still loaded only when that command runs (dynamic imports
// become chunks). Native addons stay external and are loaded from node_modules.
//
// Run after tsc (scripts/ensure.mjs and test/global-setup.ts do); `--if-stale`
// skips the work when the bundle is newer than every file under dist/.
import { build } from 'esbuild';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const out = join(dist, 'bundle');
const STAMP = join(out, 'trove.js');

/** Packages with native code, or that load files relative to themselves: never bundled. */
const EXTERNAL = ['fuse-native', 'lzma-native', 'fs-ext', 'fs-xattr', 'classic-level', 'level'];

/** The newest modification time of a file under `dir`, leaving out `skip`. */
function newest(dir, skip) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (path === skip) continue;
    t = Math.max(t, e.isDirectory() ? newest(path, skip) : statSync(path).mtimeMs);
  }
  return t;
}

/** What both builds share. */
const COMMON = {
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  // CommonJS dependencies (commander, undici) call require() for
  // Node's built-ins, which an ES module does not have.
  banner: { js: "import { createRequire as __troveRequire } from 'node:module'; const require = __troveRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'none',
};

/**
 * The CLI's entry imports src/cli/direct-main.ts, the short commands' own
 * module, which is built apart (see below): in the CLI's bundle that import
 * stays an import of the file the other build writes.
 */
const directApart = {
  name: 'direct-apart',
  setup(b) {
    b.onResolve({ filter: /^\.\/direct-main\.js$/ }, () => ({ path: './direct/direct-main.js', external: true }));
  },
};

export async function bundle({ ifStale = false } = {}) {
  if (ifStale && existsSync(STAMP) && statSync(STAMP).mtimeMs >= newest(dist, out)) return false;
  rmSync(out, { recursive: true, force: true });
  // `switch`, `rollback` and `status` (src/cli/direct-main.ts) with everything they load at
  // once in one file, dist/bundle/direct/direct-main.js: in the CLI's bundle the same code is
  // spread over two dozen chunks shared with other commands, and each costs a module load.
  // What they load later (a checkout to make, the network for --remote-check) is chunks beside it.
  await build({ ...COMMON, entryPoints: { 'direct-main': join(dist, 'cli', 'direct-main.js') }, outdir: join(out, 'direct') });
  await build({
    ...COMMON,
    // `[name].js` in one folder: the daemon entry is dist/bundle/main.js and its
    // watchdog's dist/bundle/watchdog-main.js, beside the chunks that start them
    // (src/fuse/daemon.ts and src/fuse/watchdog.ts look for them there).
    entryPoints: {
      trove: join(dist, 'cli', 'bin.js'),
      main: join(dist, 'fuse', 'main.js'),
      'watchdog-main': join(dist, 'fuse', 'watchdog-main.js'),
    },
    outdir: out,
    plugins: [directApart],
  });
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundle({ ifStale: process.argv.includes('--if-stale') });
}
