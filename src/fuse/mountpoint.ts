import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { answers, fusectlIno, mountTable } from '../system/mounts.js';

/** What is at a mount point: nothing mounted, a live mount, or a FUSE mount whose daemon died. */
export type MountState = { state: 'none' } | { state: 'live'; fstype: string } | { state: 'stale'; fstype: string };

const FUSECTL = '/sys/fs/fuse/connections';

/**
 * The kernel's FUSE control filesystem, mounted when it is not (as root):
 * its `<minor>/waiting` counts a connection's pending requests, and writing
 * to `<minor>/abort` fails them and every later one with ENOTCONN. Undefined
 * when it is not there and cannot be mounted.
 */
export function fusectl(): string | undefined {
  if (mountTable().get(FUSECTL)?.fstype === 'fusectl') return FUSECTL;
  if (process.getuid?.() !== 0 || !existsSync(FUSECTL)) return undefined;
  const r = spawnSync('mount', ['-t', 'fusectl', 'fusectl', FUSECTL], { encoding: 'utf8' });
  return r.status === 0 ? FUSECTL : undefined;
}

/** Requests of the FUSE connection `dev` (`major:minor`) waiting for an answer, or undefined when fusectl cannot tell. */
export function pendingRequests(dev: string): number | undefined {
  const base = fusectl();
  const minor = dev.split(':')[1];
  if (!base || !minor) return undefined;
  try {
    const n = Number(readFileSync(join(base, minor, 'waiting'), 'utf8').trim());
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Aborts the FUSE connection `dev` through fusectl: every request waiting
 * on it, and every later one, fails with ENOTCONN (ECONNABORTED for one in
 * flight) instead of waiting for its daemon. Null when done, else why not.
 */
export function abortConnection(dev: string): string | null {
  const base = fusectl();
  const minor = dev.split(':')[1];
  if (!base) return 'fusectl is not mounted at /sys/fs/fuse/connections and cannot be (not root)';
  if (!minor) return `no connection number in ${dev}`;
  try {
    writeFileSync(join(base, minor, 'abort'), '1');
    return null;
  } catch (err) {
    return `${join(base, minor, 'abort')}: ${(err as Error).message}`;
  }
}

/**
 * The kernel's control directory of a FUSE connection (`fusectl`, mounted by
 * systemd on most systems): it exists while the connection lives, also after
 * a lazy unmount until the last user leaves. Undefined when fusectl is absent.
 */
export function fuseConnection(dev: string, ctl?: number): string | undefined {
  const minor = dev.split(':')[1];
  if (!minor) return undefined;
  const path = join(FUSECTL, minor);
  if (ctl === undefined) return existsSync(path) ? path : undefined;
  return connectionIno(dev) === ctl ? path : undefined;
}

/** fusectlIno (src/system/mounts.ts), with fusectl mounted first when it is not (as root). */
export function connectionIno(dev: string): number | undefined {
  return fusectl() ? fusectlIno(dev) : undefined;
}

/**
 * The state of an absolute mount point. A dead FUSE daemon shows as ENOTCONN
 * on a listing (`answers`; a stat may be served from the kernel's cache).
 */
export async function mountState(mountpoint: string): Promise<MountState> {
  const fstype = mountTable().get(mountpoint)?.fstype;
  const why = await answers(mountpoint);
  if (why === 'ENOTCONN' || why === 'ECONNABORTED') return { state: 'stale', fstype: fstype ?? 'fuse' };
  return fstype === undefined ? { state: 'none' } : { state: 'live', fstype };
}

/** Unmounts with fusermount (`-z`: lazily, detaching it now and freeing it when the last user leaves). */
export function fusermount(mountpoint: string, lazy: boolean): { ok: boolean; message: string } {
  const flags = lazy ? '-uz' : '-u';
  let last = '';
  for (const [cmd, args] of [
    ['fusermount', [flags, mountpoint]],
    ['fusermount3', [flags, mountpoint]],
    ['umount', lazy ? ['-l', mountpoint] : [mountpoint]],
  ] as const) {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') continue;
    if (r.status === 0) return { ok: true, message: '' };
    last = (r.stderr || r.error?.message || `${cmd} failed`).trim();
    break;
  }
  return { ok: false, message: last };
}
