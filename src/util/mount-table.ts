import { readFileSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { childProcess } from './child.js';
import { ioError } from './errors.js';

/*
 * The mount table of this mount namespace, and the read-only bind mounts
 * that protect hard-link checkouts (docs/reliability.md, "Nothing activated
 * is writable into the store"). Node has no mount(2), so binds and unmounts
 * run util-linux's mount and umount.
 */

/** One line of `/proc/self/mountinfo`. */
export interface MountEntry {
  fstype: string;
  /** `major:minor` of the mounted filesystem; for FUSE the minor is the connection number. */
  dev: string;
  /** The per-mount options (field 6): `ro` or `rw` first. */
  readOnly: boolean;
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
    if (fields.length < 6 || dash < 0) continue;
    out.set(unescapeMount(fields[4]!), { fstype: fields[dash + 1] ?? '', dev: fields[2] ?? '', readOnly: fields[5]!.split(',').includes('ro') });
  }
  return out;
}

/** mountinfo writes space, tab, newline and backslash as octal escapes. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** `path` with symlinks resolved, as the mount table names it (itself when it does not exist). */
function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** True when `path` is a read-only mount point. */
export function isReadOnlyMount(path: string): boolean {
  return mountTable().get(real(path))?.readOnly === true;
}

/**
 * Filesystems whose calls are answered by the local kernel from a local
 * device or memory: a call there cannot wait on another process (as on a
 * FUSE mount whose daemon hangs) or on the network.
 */
const LOCAL_FSTYPES = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'tmpfs', 'overlay', 'f2fs', 'zfs', 'bcachefs', 'jfs', 'reiserfs', 'vfat', 'exfat']);

/**
 * Where `path` lives, from one read of the mount table: whether it is itself
 * a read-only mount point, and whether the mount it is on (the deepest mount
 * point at or above it) is a local filesystem (LOCAL_FSTYPES).
 */
export function mountOf(path: string): { readOnlyPoint: boolean; local: boolean } {
  const table = mountTable();
  const at = real(path);
  let point = at;
  let entry = table.get(point);
  while (!entry && point !== '/') {
    point = dirname(point);
    entry = table.get(point);
  }
  return { readOnlyPoint: point === at && entry?.readOnly === true, local: entry !== undefined && LOCAL_FSTYPES.has(entry.fstype) };
}

/** Mount points at or below `dir`, deepest first: the order to unmount them in. */
export function mountsUnder(path: string): string[] {
  const dir = real(path);
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return [...mountTable().keys()].filter((p) => p === dir || p.startsWith(prefix)).sort((a, b) => b.length - a.length);
}

function run(args: string[], what: string, path: string): void {
  const r = childProcess().spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : r.stderr.trim().split('\n').at(-1) || `exit ${r.status}`;
    throw ioError(`cannot ${what} ${path}: ${why}`, { path });
  }
}

/**
 * Mounts `src` read-only at `dst` (a bind mount: the same files, through a
 * mount that refuses every write, chmod, rename and unlink with EROFS, even
 * to root). Needs CAP_SYS_ADMIN. Checked in the mount table afterwards: a
 * bind that came out writable is remounted read-only, or undone.
 */
export function bindReadOnly(src: string, dst: string): void {
  run(['mount', '--bind', '-o', 'ro', src, dst], 'bind-mount read-only at', dst);
  if (isReadOnlyMount(dst)) return;
  try {
    run(['mount', '-o', 'remount,bind,ro', dst], 'remount read-only', dst);
  } catch (err) {
    unmount(dst, { lazy: true });
    throw err;
  }
  if (!isReadOnlyMount(dst)) {
    unmount(dst, { lazy: true });
    throw ioError(`cannot make the bind mount at ${dst} read-only`, { path: dst });
  }
}

/**
 * Unmounts `path`. `lazy` detaches it at once even while processes use it
 * (they keep what they have open): for checkouts no link points at any more.
 */
export function unmount(path: string, opts: { lazy?: boolean } = {}): void {
  run(['umount', ...(opts.lazy ? ['--lazy'] : []), path], 'unmount', path);
}
