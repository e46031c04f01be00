import { spawn } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatHeartbeat, HEARTBEAT_FILE, monotonicMs, processAlive, processState, readHeartbeat } from '../system/mounts.js';
import { abortConnection, connectionIno, pendingRequests } from './mountpoint.js';
import { lowestPriority } from '../util/process.js';

/*
 * The kernel gives FUSE requests no timeout: a daemon that is stopped
 * (SIGSTOP), spins in a loop or deadlocks leaves every reader of its mount
 * blocked for good. The daemon therefore beats (mount.heartbeat, see
 * system/mounts.ts) from its event loop, the thread that answers every
 * request, and a separate small process, the watchdog, reads the beats. When
 * none came for the limit while requests wait, it aborts the FUSE connection
 * (fusectl), so the readers get ENOTCONN, and kills the daemon. docs/fuse.md,
 * "Watchdog".
 */

/** Default limit of `trove mount --watchdog-ms`. */
export const DEFAULT_WATCHDOG_MS = 10_000;

/** ms between beats, and between the watchdog's looks: a fifth of the limit, within 50..1000. */
export function beatInterval(watchdogMs: number): number {
  return watchdogMs > 0 ? Math.min(1000, Math.max(50, Math.round(watchdogMs / 5))) : 1000;
}

/** The daemon's side: writes `<repo>/mount.heartbeat` in place. */
export class HeartbeatWriter {
  readonly interval: number;
  private readonly fd: number;
  private dev: string | undefined;
  private ctl: number | undefined;
  private last = -Infinity;
  private closed = false;

  constructor(
    private readonly repoPath: string,
    private readonly watchdogMs: number,
  ) {
    this.interval = beatInterval(watchdogMs);
    this.fd = openSync(join(repoPath, HEARTBEAT_FILE), 'w', 0o644);
    this.beat(true);
  }

  /** Records that the daemon runs now; writes at most twice an interval unless `force`. */
  beat(force = false): void {
    const now = monotonicMs();
    if (this.closed || (!force && now - this.last < this.interval / 2)) return;
    this.last = now;
    const line = formatHeartbeat({ pid: process.pid, beat: now, interval: this.interval, watchdog: this.watchdogMs, ...(this.dev ? { dev: this.dev } : {}), ...(this.ctl !== undefined ? { ctl: this.ctl } : {}) });
    writeSync(this.fd, line, 0, 'utf8');
  }

  /** The mount's device, once mounted: the watchdog needs it to find the connection. */
  mounted(dev: string, ctl?: number): void {
    this.dev = dev;
    this.ctl = ctl;
    this.beat(true);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
    const hb = readHeartbeat(this.repoPath);
    if (hb?.pid === process.pid) rmSync(join(this.repoPath, HEARTBEAT_FILE), { force: true });
  }
}

const HERE = fileURLToPath(import.meta.url);
const WATCHDOG_MAIN = HERE.endsWith('.ts') ? join(dirname(HERE), '..', '..', 'dist', 'bundle', 'watchdog-main.js') : join(dirname(HERE), 'watchdog-main.js');

/**
 * Starts the watchdog of this process's mount: detached (a stop of the
 * daemon's process group does not stop it), working in `/` (never in the
 * mount), logging where this process logs. Call it before mounting, so it
 * holds no descriptor of the FUSE device.
 */
export function startWatchdog(repoPath: string, started: number | undefined, mountpoint: string, watchdogMs: number): number | undefined {
  const child = spawn(process.execPath, [WATCHDOG_MAIN, repoPath, String(process.pid), String(started ?? 0), mountpoint, String(watchdogMs)], {
    detached: true,
    cwd: '/',
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('error', () => {});
  child.unref();
  // The lowest CPU priority: its Node start (about 70 ms of CPU) would otherwise take a core from the
  // daemon and the command while the mount's first requests are answered. Once started it reads a few
  // small files a second, which the lowest share of a busy CPU still gives it; it fires only after the
  // daemon missed its beats for a whole --watchdog-ms (10 s by default).
  lowestPriority(child.pid);
  return child.pid;
}

/** What the watchdog watches. */
export interface WatchdogTarget {
  repoPath: string;
  pid: number;
  /** The daemon's start time (clock ticks since boot), 0 when unknown. */
  started: number;
  mountpoint: string;
  watchdogMs: number;
  log(line: string): void;
}

const STATES: Record<string, string> = {
  T: 'stopped',
  t: 'stopped by a debugger',
  D: 'stuck in uninterruptible I/O',
  R: 'running: busy in a loop',
  S: 'sleeping: deadlocked',
};

/**
 * One look of the watchdog. Returns 'gone' when the daemon has exited,
 * 'fired' when it was aborted and killed, else 'ok'. A daemon whose beats
 * stopped is left alone while no request waits on its mount (a stopped idle
 * daemon may be continued), unless fusectl cannot tell.
 */
export function watchOnce(t: WatchdogTarget, since: number): 'ok' | 'gone' | 'fired' {
  const started = t.started > 0 ? t.started : undefined;
  if (!processAlive(t.pid, started)) return 'gone';
  const hb = readHeartbeat(t.repoPath);
  const now = monotonicMs();
  // Beats of another daemon (a later mount of the repository) are not ours.
  const beat = hb?.pid === t.pid ? hb.beat : since;
  const age = now - beat;
  if (age <= t.watchdogMs) return 'ok';
  const dev = hb?.pid === t.pid ? hb.dev : undefined;
  // Not mounted yet: `trove mount` kills a daemon that does not answer in time.
  if (!dev) return 'ok';
  // Its connection has ended and the number may be another mount's now: nothing of ours to abort.
  const ctl = hb?.ctl;
  if (ctl !== undefined && connectionIno(dev) !== ctl) return 'ok';
  const waiting = pendingRequests(dev);
  if (waiting === 0) return 'ok';
  const state = processState(t.pid) ?? '?';
  const abort = abortConnection(dev);
  const kill = processAlive(t.pid, started);
  const reqs = waiting === undefined ? 'requests may be waiting' : `${waiting} request${waiting === 1 ? '' : 's'} waiting`;
  // Logged before the kill, so that whoever sees the daemon gone finds the reason in the log.
  t.log(
    `watchdog: the daemon (pid ${t.pid}, ${STATES[state] ?? `state ${state}`}) has not answered for ${(age / 1000).toFixed(1)} s ` +
      `(limit ${t.watchdogMs} ms) with ${reqs} on ${t.mountpoint}; ` +
      (abort === null ? `aborted its FUSE connection ${dev} (readers get ENOTCONN)` : `could not abort its FUSE connection (${abort})`) +
      `${kill ? ' and kills it (SIGKILL)' : ''}; the mount is left dead, as after a crash: trove mount ${t.mountpoint} cleans it and serves again`,
  );
  if (kill) {
    try {
      process.kill(t.pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  return 'fired';
}

/** The watchdog's loop: looks every beat interval until the daemon exits or it fires. */
export async function runWatchdog(t: WatchdogTarget): Promise<void> {
  const since = monotonicMs();
  const every = beatInterval(t.watchdogMs);
  for (;;) {
    if (watchOnce(t, since) !== 'ok') return;
    await new Promise((r) => setTimeout(r, every));
  }
}
