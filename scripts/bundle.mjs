#!/usr/bin/env node
// Bundles the built CLI (dist/cli/bin.js) and the FUSE daemon (dist/fuse/main.js)
// into dist/bundle/ with esbuild: the entry, the short commands and the CLI
// behind commander as one CommonJS file each (a command's own code, and its
// heavy dependencies such as undici and tar-stream, is still run only when
// that command runs: a dynamic import becomes a function that initialises
// its modules on first call); the daemon and its watchdog as ES modules with
// shared chunks. Native addons stay external and are loaded from node_modules.
//
// Run after tsc (scripts/ensure.mjs and test/global-setup.ts do); `--if-stale`
// skips the work when the bundle is newer than every file under dist/.
import { build } from 'esbuild';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const out = join(dist, 'bundle');
/** The entry (bin/trove.js loads it), built last: its time says when the whole bundle was made. */
const STAMP = join(out, 'trove.cjs');

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

/** What every build shares. */
const BASE = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  logLevel: 'warning',
  legalComments: 'none',
};

/** The ES module build: the commands behind commander, and the FUSE daemon. */
const ESM = {
  ...BASE,
  splitting: true,
  format: 'esm',
  // CommonJS dependencies (commander, undici) call require() for
  // Node's built-ins, which an ES module does not have.
  banner: { js: "import { createRequire as __troveRequire } from 'node:module'; const require = __troveRequire(import.meta.url);" },
};

/**
 * The CommonJS builds: one file each, no chunks. `import.meta.url` (which
 * trove's modules use to find package.json and to load native addons) is
 * the file's own URL, as in an ES module.
 */
const CJS = {
  ...BASE,
  format: 'cjs',
  define: { 'import.meta.url': '__troveModuleUrl' },
  // "use strict" first: esbuild's own comes after the banner, where it is no longer a directive,
  // and the modules were written (and ran, as ES modules) as strict code.
  banner: { js: "'use strict';\nconst __troveModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
};

/**
 * The direct commands' file leaves the network out: `status --remote-check`,
 * the one direct command line that needs it, goes to the CLI behind
 * commander (its option is `viaCommander`, src/cli/direct.ts). The modules
 * src/remote/published-status.ts imports for it stay imports of tsc's
 * output under dist/remote/, and undici a require from node_modules, so the
 * file still works on its own if they are ever reached; bundled, they would
 * be two fifths of the file every `switch` reads and compiles.
 */
const networkApart = {
  name: 'network-apart',
  setup(b) {
    b.onResolve({ filter: /^undici(\/|$)/ }, (a) => ({ path: a.path, external: true }));
    b.onResolve({ filter: /^\.\/(config|transport|pull)\.js$/ }, (a) =>
      a.importer.endsWith(join('remote', 'published-status.js')) ? { path: `../remote/${a.path.slice(2)}`, external: true } : undefined,
    );
  },
};

/**
 * node:fs/promises as a module of wrappers that load it on their first call,
 * for the direct commands' file: most of trove's modules import it at their
 * top, a switch to an existing checkout calls none of it, and loading it
 * (with the readline and watcher modules it brings) is about 0.9 ms of a
 * 12 ms command. Every function it exports is wrapped (the names are read
 * from the running Node at build time); `constants` is node:fs's.
 */
const lazyFsPromises = {
  name: 'lazy-fs-promises',
  setup(b) {
    b.onResolve({ filter: /^(node:)?fs\/promises$/ }, (a) =>
      // The wrappers' own require is of the real module.
      a.namespace === 'lazy-fs-promises' ? { path: 'node:fs/promises', external: true } : { path: 'lazy-fs-promises', namespace: 'lazy-fs-promises' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-fs-promises' }, async () => {
      const real = await import('node:fs/promises');
      const names = Object.keys(real).filter((k) => typeof real[k] === 'function');
      return {
        loader: 'js',
        contents:
          "const load = () => require('node:fs/promises');\n" +
          names.map((n) => `export const ${n} = (...args) => load().${n}(...args);`).join('\n') +
          "\nexport const constants = require('node:fs').constants;\n",
      };
    });
  },
};

/**
 * The V8 code cache of a CommonJS file of the bundle (src/cli/code-cache.ts),
 * made by a child Node with no flags: V8 accepts a cache only under the
 * flags it was made with, and this script may run under others (a test
 * runner's).
 */
function writeCodeCache(file) {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const script = `import(${JSON.stringify(pathToFileURL(join(dist, 'cli', 'code-cache.js')).href)}).then((m) => m.writeCodeCache(${JSON.stringify(file)}))`;
  const r = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`writing the code cache of ${file} failed: ${r.stderr || r.error?.message}`);
}

/**
 * Refuses a bundle file with a byte outside ASCII. esbuild escapes such
 * characters in strings, but not in the comments it keeps; one is enough
 * for Node to decode the whole file into a two-byte string, twice the
 * memory of a one-byte one: about 7 ms more to load cli-main.cjs (1.6 MB)
 * where a page fault costs 12 µs.
 */
function assertAscii(dir) {
  for (const name of readdirSync(dir)) {
    if (!/\.(c?js)$/.test(name)) continue;
    const bytes = readFileSync(join(dir, name));
    const at = bytes.findIndex((b) => b > 0x7f);
    if (at >= 0) {
      const line = bytes.subarray(0, at).toString('latin1').split('\n').length;
      throw new Error(`${join(dir, name)}:${line} has a character outside ASCII (in a comment esbuild kept?): make it ASCII in its source`);
    }
  }
}

export async function bundle({ ifStale = false } = {}) {
  if (ifStale && existsSync(STAMP) && statSync(STAMP).mtimeMs >= newest(dist, out)) return false;
  rmSync(out, { recursive: true, force: true });
  // `switch`, `rollback` and `status` (src/cli/direct-main.ts) with everything they may load
  // in one CommonJS file, dist/bundle/direct-main.cjs, loaded with require: in the CLI's
  // bundle the same code is spread over two dozen ES module chunks shared with other
  // commands, and resolving, reading and linking each costs more than compiling one file.
  await build({ ...CJS, entryPoints: [join(dist, 'cli', 'direct-main.js')], outfile: join(out, 'direct-main.cjs'), plugins: [networkApart, lazyFsPromises] });
  // `checkout` and `commit` the same way, each in a file of its own (src/cli/direct-checkout.ts,
  // direct-commit.ts) so that its code is not read and compiled by every `switch`.
  for (const name of ['checkout', 'commit']) {
    await build({ ...CJS, entryPoints: [join(dist, 'cli', `direct-${name}.js`)], outfile: join(out, `direct-${name}.cjs`), plugins: [networkApart] });
  }
  // The CLI behind commander, dist/bundle/cli-main.cjs, which the entry requires: as ES module
  // chunks, resolving and linking them cost more than compiling one file (docs/design-notes.md,
  // "The CLI as one CommonJS file").
  await build({ ...CJS, entryPoints: [join(dist, 'cli', 'main.js')], outfile: join(out, 'cli-main.cjs') });
  writeCodeCache(join(out, 'cli-main.cjs'));
  await build({
    ...ESM,
    // `[name].js` in one folder: the daemon entry is dist/bundle/main.js and its
    // watchdog's dist/bundle/watchdog-main.js, beside the chunks that start them
    // (src/fuse/daemon.ts and src/fuse/watchdog.ts look for them there; the CLI
    // starts the daemon from cli-main.cjs, in the same folder).
    entryPoints: {
      main: join(dist, 'fuse', 'main.js'),
      'watchdog-main': join(dist, 'fuse', 'watchdog-main.js'),
    },
    outdir: out,
  });
  // The entry (src/cli/bin.ts) as CommonJS, dist/bundle/trove.cjs: a CommonJS
  // entry spares `trove --version` Node's ES module loader (about 4 ms).
  await build({ ...CJS, entryPoints: [join(dist, 'cli', 'bin.js')], outfile: STAMP });
  assertAscii(out);
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundle({ ifStale: process.argv.includes('--if-stale') });
}
