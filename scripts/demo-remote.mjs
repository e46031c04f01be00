// Demo section "Remotes", called by scripts/demo.mjs: serves the demo
// repository with `trove serve`, pulls it into a second repository, makes an
// update and shows that the update pulls only the objects that changed, then
// the next update as the delta pack the summary wrote by itself.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Starts `trove serve` on a free loopback port; resolves its URL and a stop function. */
export function serve(bin, repo) {
  const proc = spawn(process.execPath, [bin, '--repo', repo, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (c) => {
      out += c;
      const m = /at (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1], stop: () => proc.kill('SIGTERM') });
    });
    proc.once('exit', (code) => reject(new Error(`trove serve exited with ${code}`)));
  });
}

/**
 * `trove(args)` runs the CLI on the demo repository and resolves its stdout;
 * `dir` is the demo's scratch directory.
 */
export async function demoRemote(trove, dir, opts = {}) {
  const repo = opts.repo ?? join(dir, 'repo');
  const bin = opts.bin ?? join(ROOT, 'bin', 'trove.js');
  const mirror = join(dir, 'laptop');
  const say = (text) => process.stdout.write(`\n== ${text} ==\n`);
  const on = (args) => trove(['--repo', mirror, ...args]);

  say('Remotes: serve the repository as static files, pull only what changed');
  await trove(['summary']);
  const server = await serve(bin, repo);
  process.stdout.write(`(trove serve: ${server.url})\n`);
  try {
    await on(['init']);
    await on(['remote', 'add', 'demo', server.url]);
    await on(['pull', 'demo', 'os/demo']);
    await on(['fsck']);

    say('An update on the server: object by object, the pull fetches only the changed file and the trees above it');
    const work = join(dir, 'tree');
    if (!existsSync(work)) await mkdir(join(work, 'etc'), { recursive: true });
    await writeFile(join(work, 'etc', 'motd'), 'Welcome to Trove Demo OS 3\n');
    await trove(['commit', work, '--ref', 'os/demo', '-m', 'Demo OS 3: a message of the day']);
    await on(['pull', 'demo', 'os/demo', '--no-deltas']);
    await on(['diff', 'remotes/demo/os/demo~1', 'remotes/demo/os/demo']);

    say('Deltas: the summary writes a pack for each ref that moved, so the next update is one request');
    await writeFile(join(work, 'etc', 'motd'), 'Welcome to Trove Demo OS 4\n');
    await trove(['commit', work, '--ref', 'os/demo', '-m', 'Demo OS 4', '--no-update-summary']);
    await trove(['summary']);
    await on(['pull', 'demo', 'os/demo']);
    await on(['fsck']);
  } finally {
    server.stop();
  }
}
