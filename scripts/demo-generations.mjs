// Demo part: packages, generations, atomic switch and rollback, bisect of a
// deliberately broken generation, then prune and gc. Called by scripts/demo.mjs
// with `trove(args)` (runs the CLI on the demo repository, resolves to stdout)
// and the demo's scratch directory.
import { chmod, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

function section(title) {
  process.stdout.write(`\n== ${title} ==\n`);
}

/** Writes a package source tree: path -> content (executable when the path is under bin/). */
async function makeTree(root, files) {
  for (const [path, content] of Object.entries(files)) {
    const file = join(root, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
    if (path.startsWith('bin/')) await chmod(file, 0o755);
  }
  return root;
}

/** Builds generations from small packages, switches, rolls back and bisects; returns the first bad commit. */
export async function demoGenerations(trove, dir) {
  const src = join(dir, 'generations-src');
  const link = join(dir, 'ro');

  section('Packages: each one a commit on pkg/<name>/<arch> with typed metadata');
  const base = await makeTree(join(src, 'base-1'), {
    'etc/os-release': 'NAME="Trove Demo OS"\n',
    'bin/greet': '#!/bin/sh\necho "hello from generation $(cat "$(dirname "$0")/../share/greeting")"\n',
    'share/greeting': 'one\n',
  });
  const tools = await makeTree(join(src, 'tools-1'), { 'bin/check': '#!/bin/sh\n# exits 0 while greet works\n"$(dirname "$0")/greet" >/dev/null\n' });
  const motd = await makeTree(join(src, 'motd-1'), { 'share/greeting': 'motd\n', 'etc/motd': 'Welcome.\n' });
  await trove(['pkg', 'add', base, '--name', 'base', '--arch', 'amd64', '--version', '1.0']);
  await trove(['pkg', 'add', tools, '--name', 'tools', '--arch', 'amd64', '--version', '1.0', '--depends', 'base']);
  await trove(['pkg', 'add', motd, '--name', 'motd', '--arch', 'all', '--version', '0.1']);
  await trove(['pkg', 'add', base, '--name', 'base', '--arch', 'amd64', '--version', '1.0']);
  await trove(['pkg', 'list']);

  section('Generation 1: one directory per package plus their union; activation is one symlink swap');
  await trove(['gen', 'build', 'base', 'tools']);
  await trove(['switch', '1', '--link', link]);
  process.stdout.write(`${link} -> ${await readlink(link)}\n`);
  process.stdout.write(`ls ${link}: ${(await readdir(link)).join('  ')}\n`);

  section('Generation 2: install a package; a conflict is resolved by priority and reported');
  await trove(['install', 'motd=10']);
  process.stdout.write(`share/greeting now says: ${await readFile(join(link, 'share', 'greeting'), 'utf8')}`);

  section('Generations 3 and 4: a new base revision (broken greet), then a harmless motd update');
  const broken = await makeTree(join(src, 'base-2'), {
    'etc/os-release': 'NAME="Trove Demo OS"\n',
    'bin/greet': '#!/bin/sh\necho "greet: oops" >&2\nexit 3\n',
    'share/greeting': 'one\n',
  });
  await trove(['pkg', 'add', broken, '--name', 'base', '--arch', 'amd64', '--version', '1.1']);
  await trove(['install', 'base']);
  const motd2 = await makeTree(join(src, 'motd-2'), { 'share/greeting': 'motd\n', 'etc/motd': 'Welcome back.\n' });
  await trove(['pkg', 'add', motd2, '--name', 'motd', '--arch', 'all', '--version', '0.2']);
  await trove(['install', 'motd=10']);
  await trove(['gen', 'list']);
  await trove(['gen', 'diff', '2', '4']);
  await trove(['status']);

  section('Rollback: the link swaps back to the previous generation');
  await trove(['rollback']);
  await trove(['rollback', '--to', '4']);

  section('Bisect: which generation broke bin/check? Every step activates the candidate at the link');
  await trove(['bisect', 'start', '--good', '1']);
  const out = await trove(['bisect', 'run', '--', 'sh', join(link, 'bin', 'check')]);
  const firstBad = /first bad commit: ([0-9a-f]{64})/.exec(out)?.[1];
  if (!firstBad) throw new Error('bisect found no first bad commit');
  await trove(['bisect', 'reset']);

  section('Prune old generations, then gc (under the exclusive lock)');
  await trove(['gen', 'prune', '--keep', '2']);
  await trove(['gc', '--dry-run']);
  await trove(['gc']);
  await trove(['fsck']);
  return firstBad;
}
