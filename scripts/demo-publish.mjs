// Demo section "Published generations", called by scripts/demo.mjs: a build
// server publishes the generations of a profile; a client follows it with
// `trove upgrade`, rolls back, and bisects the server's builds, pulling only
// the candidates it tests.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serve } from './demo-remote.mjs';

/** `trove(args)` runs the CLI (later `--repo` options win); `dir` is the demo's scratch directory. */
export async function demoPublish(trove, dir, opts = {}) {
  const server = join(dir, 'build-server');
  const client = join(dir, 'follower');
  const link = join(dir, 'follower-ro');
  const say = (text) => process.stdout.write(`\n== ${text} ==\n`);
  const at = (repo) => (args) => trove(['--repo', repo, ...args]);
  const srv = at(server);
  const cli = at(client);

  say('Published generations: a build server publishes profile "system"; a client follows it');
  await srv(['init']);
  // Eight builds of one package; build 6 breaks /etc/app.conf.
  const src = join(dir, 'app-src');
  await mkdir(join(src, 'etc'), { recursive: true });
  const build = async (n) => {
    await writeFile(join(src, 'etc', 'app.conf'), n >= 6 ? `build ${n}\nbroken\n` : `build ${n}\n`);
    await srv(['pkg', 'add', src, '--name', 'app', '--arch', 'all', '--version', `1.${n}`, '--no-update-summary']);
    await srv(['gen', 'build', 'app', '--no-update-summary']);
  };
  for (let n = 1; n <= 3; n++) await build(n);
  await srv(['gen', 'publish']);
  const http = await serve(opts.bin, server);
  process.stdout.write(`(trove serve: ${http.url})\n`);
  try {
    await cli(['init']);
    await cli(['remote', 'add', 'origin', http.url]);
    await cli(['upgrade', '--link', link, '--no-progress']);
    for (let n = 4; n <= 8; n++) await build(n);
    await srv(['summary']);

    say('upgrade: only the newest published generation, only the objects this machine lacks');
    await cli(['upgrade', '--dry-run']);
    await cli(['upgrade', '--no-progress']);
    await cli(['status']);

    say('rollback: back to the generation before, local and upgraded alike');
    await cli(['rollback']);
    await cli(['gen', 'list']);

    say('bisect the server\'s builds: each candidate is pulled only when it is tested');
    await cli(['bisect', 'start', '--remote', 'origin', '--good', '1', '--bad', '8', '--link', join(dir, 'bisect-ro')]);
    await cli(['bisect', 'run', '--', 'sh', '-c', `! grep -q broken ${join(dir, 'bisect-ro')}/etc/app.conf`]);
    await cli(['bisect', 'reset']);
  } finally {
    http.stop();
  }
}
