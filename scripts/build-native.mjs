#!/usr/bin/env node
// Builds trove's native parts into build/native/, each when it is missing or
// older than its source:
//   fuse3.node   the binding of libfuse 3 for the view (native/fuse3.c)
//   linker.node  the link threads of hard-link checkouts (native/linker.c)
//   dirscan.node calls on many files at once: a commit's scan of its tree and lstat of a
//                directory's entries, the view's read-ahead and batched tree reads (native/dirscan.c)
//
// One C file against Node-API (and libfuse 3) needs no build system: the C
// compiler is called directly, with the Node-API headers of the
// node-api-headers package (else those beside the running node, as node-gyp's
// --nodedir would use them) and pkg-config's flags for fuse3. node-gyp would
// download Node's headers from the internet instead.
//
//   node scripts/build-native.mjs            build what is stale; exit 1 with the reason when one cannot be
//   node scripts/build-native.mjs --if-can   the same, but exit 0 (trove then does without: see each target's fallback)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const optional = process.argv.includes('--if-can');

const TARGETS = [
  { name: 'fuse3', pkg: 'fuse3', debian: 'libfuse3-dev pkg-config', fallback: 'the FUSE view will serve through libfuse 2 (fuse-native)' },
  { name: 'linker', fallback: 'hard-link checkouts will link in a worker thread' },
  { name: 'dirscan', fallback: 'commits will list and lstat each directory from JavaScript as they walk it, and the view will read no files ahead and trees one by one' },
];

let failed = false;
for (const t of TARGETS) {
  const error = build(t);
  if (error) {
    process.stderr.write(`[build-native] ${t.name}: ${error}\n`);
    process.stderr.write(`[build-native] ${optional ? t.fallback : `${t.name} not built`}\n`);
    failed = true;
  }
}
process.exit(failed && !optional ? 1 : 0);

/** Builds target `t` when stale; the reason it could not, or undefined. */
function build(t) {
  const source = join(root, 'native', `${t.name}.c`);
  const out = join(root, 'build', 'native', `${t.name}.node`);
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs) return undefined;
  const include = [join(root, 'node_modules', 'node-api-headers', 'include'), join(dirname(dirname(process.execPath)), 'include', 'node')].find((dir) =>
    existsSync(join(dir, 'node_api.h')),
  );
  if (!include) return 'no Node-API headers: run npm ci (node-api-headers), or install the Node.js package that ships include/node';
  let flags = [];
  if (t.pkg) {
    const pc = spawnSync('pkg-config', ['--cflags', '--libs', t.pkg], { encoding: 'utf8' });
    if (pc.error || pc.status !== 0) return `pkg-config cannot find ${t.pkg} (Debian: apt-get install ${t.debian})`;
    flags = pc.stdout.trim().split(/\s+/).filter(Boolean);
  }
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const cc = process.env.CC ?? 'gcc';
  const args = ['-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', '-pthread', `-DNODE_GYP_MODULE_NAME=trove_${t.name}`, `-I${include}`, source, '-o', tmp, ...flags];
  const run = spawnSync(cc, args, { stdio: 'inherit' });
  if (run.error || run.status !== 0) return `the C compiler failed (${run.error?.message ?? `exit ${run.status}`}): ${cc} ${args.join(' ')}`;
  renameSync(tmp, out);
  process.stderr.write(`[build-native] built ${out}\n`);
  return undefined;
}
