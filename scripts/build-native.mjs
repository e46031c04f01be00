#!/usr/bin/env node
// Builds trove's binding of libfuse 3 (native/fuse3.c) into
// build/native/fuse3.node, when it is missing or older than its source.
//
// One C file against Node-API and libfuse 3 needs no build system: the C
// compiler is called directly, with the Node-API headers of the
// node-api-headers package (else those beside the running node, as node-gyp's
// --nodedir would use them) and pkg-config's flags for fuse3. node-gyp would
// download Node's headers from the internet instead.
//
//   node scripts/build-native.mjs            build if stale; exit 1 with the reason when it cannot
//   node scripts/build-native.mjs --if-can   the same, but exit 0 (the view then serves through libfuse 2)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'fuse3.c');
const out = join(root, 'build', 'native', 'fuse3.node');
const optional = process.argv.includes('--if-can');

function fail(reason) {
  process.stderr.write(`[build-native] ${reason}\n`);
  process.stderr.write(`[build-native] ${optional ? 'the FUSE view will serve through libfuse 2 (fuse-native)' : 'not built'}\n`);
  process.exit(optional ? 0 : 1);
}

if (existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs) process.exit(0);

const include = [join(root, 'node_modules', 'node-api-headers', 'include'), join(dirname(dirname(process.execPath)), 'include', 'node')].find((dir) =>
  existsSync(join(dir, 'node_api.h')),
);
if (!include) fail('no Node-API headers: run npm ci (node-api-headers), or install the Node.js package that ships include/node');
const pc = spawnSync('pkg-config', ['--cflags', '--libs', 'fuse3'], { encoding: 'utf8' });
if (pc.error || pc.status !== 0) fail('pkg-config cannot find fuse3 (Debian: apt-get install libfuse3-dev pkg-config)');
const flags = pc.stdout.trim().split(/\s+/).filter(Boolean);
mkdirSync(dirname(out), { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
const args = ['-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', '-DNODE_GYP_MODULE_NAME=trove_fuse3', `-I${include}`, source, '-o', tmp, ...flags];
const cc = spawnSync(process.env.CC ?? 'gcc', args, { stdio: 'inherit' });
if (cc.error || cc.status !== 0) fail(`the C compiler failed (${cc.error?.message ?? `exit ${cc.status}`}): ${process.env.CC ?? 'gcc'} ${args.join(' ')}`);
renameSync(tmp, out);
process.stderr.write(`[build-native] built ${out}\n`);
