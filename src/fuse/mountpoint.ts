import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { isErrno } from '../util/errors.js';

/** What is at a mount point: nothing mounted, a live mount, or a FUSE mount whose daemon died. */
export type MountState = { state: 'none' } | { state: 'live'; fstype: string } | { state: 'stale'; fstype: string };

/** One line of `/proc/self/mountinfo`. */
export interface MountEntry {
  fstype: string;
  /** `major:minor` of the mounted filesystem; for FUSE the minor is the connection number. */
  dev: string;
}

/** Mount points of this mount namespace (`/proc/self/mountinfo`); the last mount on a point wins. */
export function mountTable(): Map<string, MountEntry> {
  const out = new Map<string, MountEntry>();
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (fields.length < 5 || dash < 0) continue;
    out.set(unescapeMount(fields[4]!), { fstype: fields[dash + 1] ?? '', dev: fields[2] ?? '' });
  }
  return out;
}

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

/** mountinfo writes space, tab, newline and backslash as octal escapes. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The state of an absolute mount point. A dead FUSE daemon shows as ENOTCONN on stat. */
export async function mountState(mountpoint: string): Promise<MountState> {
  const fstype = mountTable().get(mountpoint)?.fstype;
  try {
    await stat(mountpoint);
  } catch (err) {
    if (isErrno(err, 'ENOTCONN') || isErrno(err, 'ECONNABORTED')) return { state: 'stale', fstype: fstype ?? 'fuse' };
    if (fstype === undefined) return { state: 'none' };
  }
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
