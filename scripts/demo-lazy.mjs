// Demo section "Lazy install", called by scripts/demo.mjs after the FUSE part:
// a client with a mounted view installs a package from a server with
// `--lazy` (its commit and trees only), runs it while its files are still on
// the server, reads a file (the view fetches it, verified), then `trove fetch`
// brings the rest. Needs root and /dev/fuse; without them it says so in one
// line and does nothing.
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fuseUnavailable } from './demo-fuse.mjs';
import { serve } from './demo-remote.mjs';

/** `trove(args)` runs the CLI (later `--repo` options win); `dir` is the demo's scratch directory. */
export async function demoLazy(trove, dir, opts = {}) {
  process.stdout.write('\n== Lazy install: run a package before its files have arrived ==\n');
  const why = fuseUnavailable();
  if (why) {
    process.stdout.write(`(skipped: ${why})\n`);
    return;
  }
  const server = join(dir, 'lazy-server');
  const client = join(dir, 'lazy-client');
  const mnt = join(dir, 'lazy-mnt');
  const link = join(dir, 'lazy-ro');
  const srv = (args) => trove(['--repo', server, ...args]);
  const cli = (args) => trove(['--repo', client, ...args]);
  const src = join(dir, 'lazy-src');
  await mkdir(join(src, 'usr', 'bin'), { recursive: true });
  await mkdir(join(src, 'usr', 'share', 'tool'), { recursive: true });
  await writeFile(join(src, 'usr', 'bin', 'tool'), '#!/bin/sh\necho "tool runs: $(cat "$(dirname "$0")/../share/tool/motd")"\n');
  await chmod(join(src, 'usr', 'bin', 'tool'), 0o755);
  await writeFile(join(src, 'usr', 'share', 'tool', 'motd'), 'hello from a file fetched on first read\n');
  // Data the program never reads: it stays on the server until trove fetch.
  const data = randomBytes(4 << 20);
  await writeFile(join(src, 'usr', 'share', 'tool', 'data.bin'), data);
  await srv(['init']);
  await srv(['pkg', 'add', src, '--name', 'tool', '--arch', 'all', '--version', '1.0']);
  await srv(['summary']);
  const http = await serve(opts.bin, server);
  let mounted = false;
  try {
    await cli(['init']);
    await cli(['remote', 'add', 'origin', http.url]);
    await cli(['mount', mnt]);
    mounted = true;
    await cli(['install', 'tool', '--lazy', '--link', link, '--no-progress']);
    await cli(['status']);
    const run = spawnSync(join(link, 'usr', 'bin', 'tool'), { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`the lazily installed tool failed: ${run.stderr}`);
    process.stdout.write(`$ ${link}/usr/bin/tool\n${run.stdout}`);
    await cli(['fsck']);
    await cli(['fetch', '--wait', '--no-progress']);
    await cli(['status']);
    if (!(await readFile(join(link, 'usr', 'share', 'tool', 'data.bin'))).equals(data)) throw new Error('data.bin differs from the server\'s');
    process.stdout.write('data.bin through the view: the server\'s bytes\n');
  } finally {
    if (mounted) await cli(['umount', mnt]);
    http.stop();
  }
}
