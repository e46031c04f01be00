#!/usr/bin/env node
// `npm run demo`: a short tour of trove on the embedded demo tree (demo/tree).
// Every step runs the real CLI; the repository lives in a temp directory
// (or in $TROVE_DEMO_DIR when set, kept afterwards).
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile, appendFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'trove.js');
const keep = Boolean(process.env.TROVE_DEMO_DIR);
const dir = process.env.TROVE_DEMO_DIR || (await mkdtemp(join(tmpdir(), 'trove-demo-')));
const repo = join(dir, 'repo');

/** Runs the CLI, echoing the command and its output; returns stdout. */
async function trove(args, { quiet = false } = {}) {
  process.stdout.write(`\n$ trove ${args.join(' ')}\n`);
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, '--repo', repo, ...args], { maxBuffer: 64 << 20 });
    if (!quiet) process.stdout.write(stdout);
    if (stderr) process.stdout.write(stderr);
    return stdout;
  } catch (err) {
    process.stdout.write(err.stdout ?? '');
    process.stderr.write(err.stderr ?? String(err));
    throw new Error(`demo step failed: trove ${args.join(' ')}`);
  }
}

function section(title) {
  process.stdout.write(`\n== ${title} ==\n`);
}

try {
  section('A repository and a first system tree');
  await trove(['init']);
  const work = join(dir, 'tree');
  await cp(join(root, 'demo', 'tree'), work, { recursive: true, verbatimSymlinks: true });
  await new Promise((r) => setTimeout(r, 300)); // let the stat cache trust these files
  await trove(['commit', work, '--ref', 'os/demo', '-m', 'Demo OS 1']);
  await trove(['ls', '-R', 'os/demo']);

  section('A second version: only what changed is read and written');
  await writeFile(join(work, 'etc', 'os-release'), 'NAME="Trove Demo OS"\nVERSION_ID=2\nID=trovedemo\n');
  await appendFile(join(work, 'usr', 'share', 'doc', 'hello', 'README'), 'Now with release notes.\n');
  await writeFile(join(work, 'usr', 'share', 'doc', 'hello', 'NEWS'), 'Version 2: a new os-release.\n');
  await trove(['commit', work, '--ref', 'os/demo', '-m', 'Demo OS 2']);
  await trove(['log', 'os/demo']);
  await trove(['diff', 'os/demo~1', 'os/demo']);
  await trove(['cat', 'os/demo:etc/os-release']);

  section('Checkouts: a hard-link farm and a copy, byte-for-byte the commit');
  await trove(['checkout', 'os/demo', join(dir, 'checkout')]);
  await trove(['checkout', 'os/demo~1', join(dir, 'checkout-v1'), '--copy']);
  // diff exits 0 when identical, 1 with differences, 2 on trouble (or is missing): only 0 passes.
  const same = await run('diff', ['-r', '--no-dereference', work, join(dir, 'checkout')]).then(
    () => undefined,
    (e) => (e.code === 1 ? `differences:\n${e.stdout}` : `diff -r could not compare: ${e.stderr || e.message}`),
  );
  if (same) throw new Error(`the checkout is not the committed tree; ${same}`);
  process.stdout.write('diff -r tree checkout: identical\n');

  section('Integrity');
  await trove(['fsck']);

  for (const [file, fn] of [
    ['demo-generations.mjs', 'demoGenerations'],
    ['demo-remote.mjs', 'demoRemote'],
    ['demo-packages.mjs', 'demoPackages'],
    ['demo-publish.mjs', 'demoPublish'],
    ['demo-fuse.mjs', 'demoFuse'],
    ['demo-lazy.mjs', 'demoLazy'],
  ]) {
    const path = join(root, 'scripts', file);
    if (!existsSync(path)) continue;
    const mod = await import(path);
    await mod[fn]((args, opts) => trove(args, opts), dir, { repo, bin });
  }
  section('Done');
  process.stdout.write(keep ? `the demo repository is at ${repo}\n` : 'all demo steps passed\n');
} finally {
  if (!keep) {
    // Activation checkouts are read-only bind mounts when the demo runs as root.
    const { mountsUnder, unmount } = await import(join(root, 'dist', 'util', 'mount-table.js'));
    for (const m of mountsUnder(dir)) unmount(m, { lazy: true });
    await rm(dir, { recursive: true, force: true });
  }
}
