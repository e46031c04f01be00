// Demo section "The FUSE view", called by scripts/demo.mjs after the
// generations part: mounts the demo repository, shows refs and profiles as
// symlinks into MNT/commits/<id>, reads a file of a commit through the mount,
// switches the profile's link into the mount and reads through it, then
// unmounts (always, also when a step fails). Needs root and /dev/fuse; without
// them it says so in one line and does nothing.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** Why this machine cannot mount, or null when it can. */
export function fuseUnavailable() {
  if (process.getuid?.() !== 0) return 'not running as root (the view is mounted with allow_other)';
  try {
    accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/fuse is missing or not accessible';
  }
  return null;
}

function isMounted(mnt) {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === mnt);
}

/** Prints every symlink below `dir` as `path -> target`. */
async function showLinks(mnt, dir) {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isSymbolicLink()) process.stdout.write(`MNT/${relative(mnt, path)} -> ${await readlink(path)}\n`);
    else if (e.isDirectory()) await showLinks(mnt, path);
  }
}

/**
 * `trove(args)` runs the CLI on the demo repository and resolves its stdout;
 * `dir` is the demo's scratch directory (the generations part made `dir/ro`).
 */
export async function demoFuse(trove, dir) {
  const why = fuseUnavailable();
  if (why) {
    process.stdout.write(`\n== The FUSE view: skipped, ${why} ==\n`);
    return;
  }
  process.stdout.write('\n== The FUSE view: every commit read-only at MNT/commits/<id>, nothing unpacked ==\n');
  const mnt = join(dir, 'mnt');
  const { active } = JSON.parse(await trove(['status', '--json'], { quiet: true }));
  const generation = String(active.generation ?? active.commit);
  try {
    await trove(['mount', mnt]);
    process.stdout.write(`ls MNT: ${(await readdir(mnt)).join('  ')}\n`);
    await showLinks(mnt, join(mnt, 'refs'));
    await showLinks(mnt, join(mnt, 'profiles'));

    const id = (await readlink(join(mnt, 'refs', 'os', 'demo'))).split('/').pop();
    process.stdout.write(`\n$ cat MNT/commits/${id}/etc/os-release\n`);
    process.stdout.write(await readFile(join(mnt, 'commits', id, 'etc', 'os-release'), 'utf8'));

    // With a mount recorded, activation points the link into it instead of at a checkout.
    await trove(['switch', generation]);
    process.stdout.write(`cat ${active.link}/share/greeting: ${await readFile(join(active.link, 'share', 'greeting'), 'utf8')}`);
  } finally {
    if (isMounted(mnt)) {
      await trove(['umount', mnt]).catch((err) => {
        process.stderr.write(`${err.message}; detaching ${mnt} lazily\n`);
        spawnSync('fusermount', ['-uz', mnt], { stdio: 'inherit' });
      });
    }
  }
  // Unmounted: the same switch goes back to the hard-link checkout.
  await trove(['switch', generation]);
}
