// Entry point of the detached mount daemon: `node dist/fuse/main.js REPO MNT [--cache-mb=N] [--poll-ms=N] [--watchdog-ms=N] [--fetch-timeout-ms=N] [--trace-ms=N] [--suid] [--libfuse=2|3] [--no-readdirplus]`.
// Started by `trove mount` after it has validated the repository; see daemon.ts.
//
// `main.js --prewarm`: started by `trove mount` as its first step, before it
// has loaded its commands and found the repository (src/cli/bin.ts). It
// loads its code meanwhile, then waits for its arguments over IPC
// (PrewarmOrder), sends its log there, and serves as above; it exits when
// the command goes away without sending them. See docs/fuse.md, "Mounting" (mount ready).
import { getSystemErrorName } from 'node:util';
import { runDaemon, storeAt } from './daemon.js';
import { DEFAULT_POLL_MS, redirectOutput } from './native.js';
import { DEFAULT_WATCHDOG_MS } from './watchdog.js';

/** What `trove mount` sends a daemon started with --prewarm: its arguments, as on the command line above, and its log. */
export interface PrewarmOrder {
  args: string[];
  log: string;
}

/** How long a daemon started with --prewarm waits for its arguments before it leaves. */
const PREWARM_WAIT_MS = 60_000;

function serve(argv: string[]): void {
  const [repoPath, mountpoint, ...flags] = argv;
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
}

if (process.argv[2] === '--prewarm') {
  const leave = () => process.exit(0);
  const giveUp = setTimeout(leave, PREWARM_WAIT_MS);
  process.once('disconnect', leave);
  process.once('message', (message: unknown) => {
    const order = message as PrewarmOrder;
    clearTimeout(giveUp);
    // From here on the command disconnects once the daemon is ready, as from a daemon it spawned.
    process.off('disconnect', leave);
    const redirected = redirectOutput(order.log);
    if (redirected !== 0) {
      const why = redirected === undefined ? 'no libfuse 3 binding' : getSystemErrorName(redirected);
      process.send?.({ error: `the mount daemon cannot write its log ${order.log} (${why})`, code: 'E_IO' });
      process.exit(1);
    }
    serve(order.args);
  });
  // Loaded and listening: the command may send the arguments now (a message sent before would be lost).
  process.send?.({ prewarmed: true });
} else serve(process.argv.slice(2));
