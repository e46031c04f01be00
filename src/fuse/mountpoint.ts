import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { answers, mountTable } from '../system/mounts.js';

/** What is at a mount point: nothing mounted, a live mount, or a FUSE mount whose daemon died. */
export type MountState = { state: 'none' } | { state: 'live'; fstype: string } | { state: 'stale'; fstype: string };

/**
 * The kernel's control directory of a FUSE connection (`fusectl`, mounted by
 * systemd on most systems): it exists while the connection lives, also after
 * a lazy unmount until the last user leaves. Undefined when fusectl is absent.
 */
export function fuseConnection(dev: string): string | undefined {
  const minor = dev.split(':')[1];
  const base = '/sys/fs/fuse/connections';
  if (!minor || !existsSync(join(base, minor))) return undefined;
  return join(base, minor);
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
