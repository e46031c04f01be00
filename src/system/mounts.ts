import { type Dir, opendir, opendirSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { processAlive, processState } from '../util/process.js';

export { isZombie, processAlive, processStartTime, processState } from '../util/process.js';
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
  /** The inode of that connection's fusectl directory (see Heartbeat.ctl); absent in older records. */
  ctl?: number;
}

/**
 * The inode of connection `dev`'s fusectl directory, when fusectl is mounted
 * at /sys/fs/fuse/connections (src/fuse/mountpoint.ts `connectionIno` mounts
 * it first): each connection's directory gets a new inode, so it tells a
 * connection from a later one the kernel gave the same number.
 */
export function fusectlIno(dev: string): number | undefined {
  const minor = dev.split(':')[1];
  if (!minor) return undefined;
  try {
    return statSync(join('/sys/fs/fuse/connections', minor)).ino;
  } catch {
    return undefined;
  }
}

const FILE = 'mount.json';

/** The record in `<repo>/mount.json` as written, live or not (undefined when absent or unreadable). */
export async function readMountRecord(repoPath: string): Promise<MountRecord | undefined> {
  try {
    const rec = JSON.parse(readFileSync(join(repoPath, FILE), 'utf8')) as MountRecord;
    return typeof rec?.mountpoint === 'string' && typeof rec.pid === 'number' ? rec : undefined;
  } catch (err) {
    if (isErrno(err, 'ENOENT') || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/**
 * The daemon's heartbeat: `<repo>/mount.heartbeat`, one line the daemon
 * rewrites in place from its event loop (and from long work it does on it)
 * every `interval` ms: `trove-heartbeat pid=P beat=MS interval=MS watchdog=MS dev=MAJ:MIN`.
 * `beat` is CLOCK_MONOTONIC in ms (`process.hrtime`), the same clock in
 * every process, so any reader can tell how long ago the daemon last ran.
 * The watchdog (src/fuse/watchdog.ts) and the commands that would otherwise
 * probe the mount read it.
 */
export interface Heartbeat {
  pid: number;
  /** CLOCK_MONOTONIC ms of the last beat. */
  beat: number;
  /** ms between beats. */
  interval: number;
  /** The watchdog's limit in ms (0: no watchdog). */
  watchdog: number;
  /** `major:minor` of the mount, once mounted. */
  dev?: string;
  /**
   * The inode of the connection's fusectl directory, once mounted: the
   * kernel gives a new connection the lowest free number, so the number
   * alone may name a later mount's connection once this one has ended.
   */
  ctl?: number;
}

export const HEARTBEAT_FILE = 'mount.heartbeat';

/** CLOCK_MONOTONIC in ms: shared by every process, unaffected by changes of the wall clock. */
export const monotonicMs = (): number => Number(process.hrtime.bigint() / 1_000_000n);

/** The heartbeat line, padded to a fixed length so that a rewrite in place leaves nothing of the previous one. */
export function formatHeartbeat(h: Heartbeat): string {
  return `trove-heartbeat pid=${h.pid} beat=${h.beat} interval=${h.interval} watchdog=${h.watchdog}${h.dev ? ` dev=${h.dev}` : ''}${h.ctl !== undefined ? ` ctl=${h.ctl}` : ''}`.padEnd(127) + '\n';
}

export function parseHeartbeat(text: string): Heartbeat | undefined {
  const m = /^trove-heartbeat pid=(\d+) beat=(\d+) interval=(\d+) watchdog=(\d+)(?: dev=(\d+:\d+))?(?: ctl=(\d+))? *\n/.exec(text);
  if (!m) return undefined;
  return { pid: Number(m[1]), beat: Number(m[2]), interval: Number(m[3]), watchdog: Number(m[4]), ...(m[5] ? { dev: m[5] } : {}), ...(m[6] ? { ctl: Number(m[6]) } : {}) };
}

/** The heartbeat of the repository's daemon, or undefined (none, unreadable, or torn). */
export function readHeartbeat(repoPath: string): Heartbeat | undefined {
  try {
    return parseHeartbeat(readFileSync(join(repoPath, HEARTBEAT_FILE), 'utf8'));
  } catch {
    return undefined;
  }
}

/** How long without a beat counts as not answering when there is no watchdog to say (ms). */
const NO_WATCHDOG_LIMIT_MS = 10_000;

/**
 * Why the live daemon of `rec` cannot answer now, without asking it (a
 * request to a daemon that does not answer blocks the asker, maybe forever):
 * it is stopped (SIGSTOP, a debugger), or its heartbeat (when `repoPath` is
 * given) is older than its watchdog's limit (10 s without one): busy in a
 * loop, deadlocked, or stuck in I/O. Null when it may answer, or is gone.
 */
export function daemonUnresponsive(repoPath: string | undefined, rec: Pick<MountRecord, 'pid' | 'started'>): string | null {
  if (!processAlive(rec.pid, rec.started)) return null;
  const state = processState(rec.pid);
  if (state === 'T') return `its daemon (pid ${rec.pid}) is stopped`;
  if (state === 't') return `its daemon (pid ${rec.pid}) is stopped by a debugger`;
  const hb = repoPath === undefined ? undefined : readHeartbeat(repoPath);
  if (!hb || hb.pid !== rec.pid) return null;
  const age = monotonicMs() - hb.beat;
  const limit = hb.watchdog > 0 ? hb.watchdog : NO_WATCHDOG_LIMIT_MS;
  if (age <= limit) return null;
  return `its daemon (pid ${rec.pid}) has not run its event loop for ${(age / 1000).toFixed(1)} s (${state === 'D' ? 'stuck in I/O' : 'busy or deadlocked'})`;
}

/**
 * Why a mount record is not a live view, or null when it is one. With the
 * repository's path, a daemon that cannot answer (see daemonUnresponsive)
 * is a problem found without sending it a request.
 */
export async function mountProblem(rec: MountRecord, repoPath?: string): Promise<string | null> {
  if (!processAlive(rec.pid, rec.started)) return `its daemon (pid ${rec.pid}) is gone`;
  const hung = daemonUnresponsive(repoPath, rec);
  if (hung) return hung;
  const entry = mountTable().get(rec.mountpoint);
  if (!entry) return `nothing is mounted at ${rec.mountpoint}`;
  if (!entry.fstype.startsWith('fuse')) return `${rec.mountpoint} is a ${entry.fstype} mount, not a trove view`;
  if (rec.dev !== undefined && entry.dev !== rec.dev) return `the mount at ${rec.mountpoint} is not the daemon's own`;
  // The same number, but another connection (a later mount the kernel gave the freed number).
  const ino = rec.ctl === undefined ? undefined : fusectlIno(entry.dev);
  if (ino !== undefined && ino !== rec.ctl) return `the mount at ${rec.mountpoint} is not the daemon's own`;
  const why = await answers(rec.mountpoint);
  return why === null ? null : `the mount at ${rec.mountpoint} does not answer (${why})`;
}

function closeQuietly(dir: Dir): void {
  try {
    dir.closeSync();
  } catch {
    // Nothing was listed through it that a failed close could undo.
  }
}

/**
 * Null when the directory at `path` answers a listing (its first entry is
 * read), else the error code. A listing always reaches a FUSE daemon, where
 * `stat` may not: the kernel answers it from cached attributes for a day
 * (`attr_timeout`), also after the daemon died. A dead daemon's mount
 * answers ENOTCONN (ECONNABORTED while the kernel catches up); a path that
 * is a file, not a directory, answers. `blocking` lists it in this thread,
 * for a path on a local filesystem (util/mount-table.ts `mountOf`), where
 * no daemon can hang the call: it saves starting the thread pool.
 */
export async function answers(path: string, opts: { blocking?: boolean } = {}): Promise<string | null> {
  try {
    if (opts.blocking) {
      const dir = opendirSync(path);
      try {
        dir.readSync();
      } finally {
        closeQuietly(dir);
      }
      return null;
    }
    // Through the thread pool (a hung FUSE mount must not block the process), with
    // node:fs's callback opendir: status never loads node:fs/promises for it.
    const dir = await new Promise<Dir>((done, fail) => opendir(path, (err, d) => (err ? fail(err) : done(d))));
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
  return (await mountProblem(rec, repoPath)) === null ? rec : undefined;
}

export async function writeMount(repoPath: string, rec: MountRecord): Promise<void> {
  await writeFileAtomic(join(repoPath, FILE), `${JSON.stringify(rec)}\n`, { tmpDir: join(repoPath, 'tmp'), tag: 'mount' });
}

export async function clearMount(repoPath: string): Promise<void> {
  await rm(join(repoPath, FILE), { force: true });
}
