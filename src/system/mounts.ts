import { opendir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { processAlive } from '../util/process.js';

export { isZombie, processAlive, processStartTime } from '../util/process.js';
import { mountTable } from '../util/mount-table.js';

export { type MountEntry, mountTable } from '../util/mount-table.js';

/** The record of a running FUSE view of this repository: `<repo>/mount.json`. */
export interface MountRecord {
  /** Absolute mount point; commits are at `<mountpoint>/commits/<id>`. */
  mountpoint: string;
  pid: number;
  /**
   * When the daemon process started (`/proc/<pid>/stat` field 22, clock ticks
   * since boot): with the pid it names one process, so a pid reused by another
   * process after the daemon died is not taken for the daemon. Absent in
   * records written before it was added.
   */
  started?: number;
  /** `major:minor` of the daemon's mount (the FUSE connection); absent in older records. */
  dev?: string;
}

const FILE = 'mount.json';

/** The record in `<repo>/mount.json` as written, live or not (undefined when absent or unreadable). */
export async function readMountRecord(repoPath: string): Promise<MountRecord | undefined> {
  try {
    const rec = JSON.parse(await readFile(join(repoPath, FILE), 'utf8')) as MountRecord;
    return typeof rec?.mountpoint === 'string' && typeof rec.pid === 'number' ? rec : undefined;
  } catch (err) {
    if (isErrno(err, 'ENOENT') || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** Why a mount record is not a live view, or null when it is one. */
export async function mountProblem(rec: MountRecord): Promise<string | null> {
  if (!processAlive(rec.pid, rec.started)) return `its daemon (pid ${rec.pid}) is gone`;
  const entry = mountTable().get(rec.mountpoint);
  if (!entry) return `nothing is mounted at ${rec.mountpoint}`;
  if (!entry.fstype.startsWith('fuse')) return `${rec.mountpoint} is a ${entry.fstype} mount, not a trove view`;
  if (rec.dev !== undefined && entry.dev !== rec.dev) return `the mount at ${rec.mountpoint} is not the daemon's own`;
  const why = await answers(rec.mountpoint);
  return why === null ? null : `the mount at ${rec.mountpoint} does not answer (${why})`;
}

/**
 * Null when the directory at `path` answers a listing (its first entry is
 * read), else the error code. A listing always reaches a FUSE daemon, where
 * `stat` may not: the kernel answers it from cached attributes for a day
 * (`attr_timeout`), also after the daemon died. A dead daemon's mount
 * answers ENOTCONN (ECONNABORTED while the kernel catches up); a path that
 * is a file, not a directory, answers.
 */
export async function answers(path: string): Promise<string | null> {
  try {
    const dir = await opendir(path);
    try {
      await dir.read();
    } finally {
      await dir.close().catch(() => undefined);
    }
    return null;
  } catch (err) {
    if (isErrno(err, 'ENOTDIR')) return null;
    return (err as NodeJS.ErrnoException).code ?? 'error';
  }
}

/**
 * The live mount of the repository, or undefined. Live means both: the
 * recorded daemon process runs (the same process: pid and start time), and
 * the mount table has a FUSE mount at the recorded mount point (the
 * daemon's own, when the record says which) that answers. A record that
 * fails either test is stale and counts as no mount; it is left in place
 * (`trove mount` and `trove umount` clean it), since a daemon starting now
 * may be about to replace it.
 */
export async function readMount(repoPath: string): Promise<MountRecord | undefined> {
  const rec = await readMountRecord(repoPath);
  if (!rec) return undefined;
  return (await mountProblem(rec)) === null ? rec : undefined;
}

export async function writeMount(repoPath: string, rec: MountRecord): Promise<void> {
  await writeFileAtomic(join(repoPath, FILE), `${JSON.stringify(rec)}\n`, { tmpDir: join(repoPath, 'tmp'), tag: 'mount' });
}

export async function clearMount(repoPath: string): Promise<void> {
  await rm(join(repoPath, FILE), { force: true });
}
