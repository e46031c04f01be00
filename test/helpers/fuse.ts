import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { trove } from './cli.js';

/** Why real FUSE mounts cannot run here, or null when they can. */
export function fuseUnavailable(): string | null {
  if (!existsSync('/dev/fuse')) return '/dev/fuse is missing';
  try {
    accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/fuse is not accessible to this user';
  }
  if (process.getuid?.() !== 0 && spawnSync('fusermount', ['-V']).status !== 0) return 'not root and no fusermount';
  return null;
}

/**
 * True when the real-mount tests must be skipped: only outside CI, and only
 * when FUSE is unavailable (the reason is printed). In CI they always run.
 */
export function skipFuse(): boolean {
  const why = fuseUnavailable();
  if (!why) return false;
  if (process.env.CI) return false;
  console.log(`skipping real FUSE mounts: ${why}`);
  return true;
}

const mounted: { repo: string; mnt: string }[] = [];

afterAll(async () => {
  for (const m of mounted.splice(0)) {
    if (mountpoints().has(m.mnt)) await trove(['--repo', m.repo, 'umount', m.mnt]);
  }
});

/** Mount points in this namespace. */
export function mountpoints(): Set<string> {
  return new Set(
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((p): p is string => !!p),
  );
}

/** `trove mount` (a detached daemon); unmounted when the test file ends. Returns the daemon's pid. */
export async function mountRepo(repo: string, mnt: string): Promise<number> {
  const r = await trove(['--repo', repo, 'mount', mnt]);
  if (r.code !== 0) throw new Error(`trove mount failed (${r.code}): ${r.stderr}`);
  mounted.push({ repo, mnt });
  return (JSON.parse(readFileSync(join(repo, 'mount.json'), 'utf8')) as { pid: number }).pid;
}

/** Whether a process exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/ Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ''));
  } catch {
    return false;
  }
}

/** Waits until `fn` holds, up to `ms`. */
export async function until(fn: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return fn();
}
