// Entry point of the detached mount daemon: `node dist/fuse/main.js REPO MNT [--cache-mb=N] [--poll-ms=N] [--watchdog-ms=N] [--fetch-timeout-ms=N] [--trace-ms=N] [--suid] [--libfuse=2|3] [--no-readdirplus]`.
// Started by `trove mount` after it has validated the repository; see daemon.ts.
import { runDaemon, storeAt } from './daemon.js';
import { DEFAULT_POLL_MS } from './native.js';
import { DEFAULT_WATCHDOG_MS } from './watchdog.js';


const [repoPath, mountpoint, ...flags] = process.argv.slice(2);
if (!repoPath || !mountpoint) {
  process.stderr.write('usage: main.js REPO MOUNTPOINT [--cache-mb=N] [--poll-ms=N] [--watchdog-ms=N] [--fetch-timeout-ms=N] [--trace-ms=N] [--suid] [--libfuse=2|3] [--no-readdirplus]\n');
  process.exit(2);
}
const flag = (name: string, dflt: number) => Number(flags.find((f) => f.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt);
const given = (name: string): number | undefined => (flags.some((f) => f.startsWith(`--${name}=`)) ? flag(name, 0) : undefined);
runDaemon(storeAt(repoPath), mountpoint, {
  cacheMb: flag('cache-mb', 64),
  pollMs: flag('poll-ms', DEFAULT_POLL_MS),
  watchdogMs: flag('watchdog-ms', DEFAULT_WATCHDOG_MS),
  // Unset: the defaults of lazy-fetch.ts and trace.ts.
  fetchTimeoutMs: given('fetch-timeout-ms'),
  traceMs: given('trace-ms'),
  suid: flags.includes('--suid'),
  libfuse: given('libfuse') as 2 | 3 | undefined,
  readdirplus: !flags.includes('--no-readdirplus'),
}).catch(() => process.exit(1));
