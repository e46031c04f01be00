// Entry point of the mount daemon's watchdog: `node dist/fuse/watchdog-main.js REPO PID STARTED MOUNTPOINT WATCHDOG_MS`.
// Started by the daemon (src/fuse/daemon.ts) before it mounts; see watchdog.ts.
import { runWatchdog } from './watchdog.js';

const [repoPath, pid, started, mountpoint, ms] = process.argv.slice(2);
if (!repoPath || !pid || !started || !mountpoint || !ms || !(Number(ms) > 0)) {
  process.stderr.write('usage: watchdog-main.js REPO PID STARTED MOUNTPOINT WATCHDOG_MS\n');
  process.exit(2);
}
runWatchdog({
  repoPath,
  pid: Number(pid),
  started: Number(started),
  mountpoint,
  watchdogMs: Number(ms),
  log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
}).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${new Date().toISOString()} watchdog: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
