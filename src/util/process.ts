import { readFileSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The fields of `/proc/<pid>/stat` after the command name (field 3, the state, first), or undefined. */
function procStat(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)\s*/s, '').split(' ');
  } catch {
    return undefined;
  }
}

/** When process `pid` started, in clock ticks since boot, or undefined when there is no such process (or no /proc). */
export function processStartTime(pid: number): number | undefined {
  const t = Number(procStat(pid)?.[19]);
  return Number.isFinite(t) ? t : undefined;
}

/**
 * The scheduler state of process `pid` (`/proc/<pid>/stat` field 3): `R`
 * running, `S` sleeping, `D` in uninterruptible I/O, `T` stopped by a
 * signal, `t` stopped by a debugger, `Z` a zombie; undefined when there is
 * no such process (or no /proc).
 */
export function processState(pid: number): string | undefined {
  return procStat(pid)?.[0];
}

/** A process that has exited but was not yet reaped by its parent. */
export function isZombie(pid: number): boolean {
  return procStat(pid)?.[0] === 'Z';
}

/**
 * Whether process `pid` runs (one of another user counts; a zombie does not)
 * and, when `started` is given and /proc can tell, is the very process that
 * started then rather than a later one that reuses its pid.
 */
export function processAlive(pid: number, started?: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (isZombie(pid)) return false;
  if (started === undefined) return true;
  const now = processStartTime(pid);
  return now === undefined || now === started;
}

/**
 * Puts process `pid` at the lowest CPU priority: nice 19, and the same for
 * its session's scheduling group (`/proc/<pid>/autogroup`). Where the kernel
 * groups tasks by session (autogroup, on by default in most distributions),
 * it shares the CPU between sessions first and a task's own nice counts
 * only inside its session; a detached child (`setsid`) is a session of its
 * own, so its nice alone would leave it competing with the user's programs
 * as an equal. Best effort: a process already gone, or one this user may
 * not lower, keeps its priority.
 */
export function lowestPriority(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    setPriority(pid, 19);
    writeFileSync(`/proc/${pid}/autogroup`, '19');
  } catch {
    // Gone already, not ours to change, or no autogroup in this kernel: its nice is what it gets.
  }
}
