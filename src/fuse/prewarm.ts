import type { ChildProcess } from 'node:child_process';
import { childProcess } from '../util/child.js';
import { deferExtraCaCerts } from '../util/extra-ca.js';

/**
 * The mount daemon started ahead (`main.js --prewarm`), as `trove mount`'s
 * first step: Node's start and the daemon's loading (about 80 ms) then run
 * beside the command's own start, its checks of the repository and of the
 * mount point, instead of after them. The command hands it its arguments
 * once its checks pass (startDaemon); a command that fails first just exits,
 * and so does the daemon (its IPC channel closes). See docs/fuse.md,
 * "Mounting" (mount ready).
 *
 * The CLI's entry (bin.ts) and the mount command are separate bundles, so
 * the child is kept on globalThis, not in a variable of this module.
 */
const KEY = Symbol.for('trove.mount.prewarmed');

interface Prewarmed {
  child: ChildProcess;
  /** Resolves true once the daemon listens for its arguments, false if it exits first. */
  listening: Promise<boolean>;
}

const holder = globalThis as { [KEY]?: Prewarmed };

/**
 * The environment of the daemon: tree prefetches run in libuv's pool, more
 * than its default 4 threads in flight; NODE_EXTRA_CA_CERTS is handed on
 * to be read only if the daemon makes a TLS connection (util/extra-ca.ts).
 */
export function daemonEnv(): NodeJS.ProcessEnv {
  return deferExtraCaCerts({ UV_THREADPOOL_SIZE: '16', ...process.env });
}

/** Starts daemon entry `main` with --prewarm, detached, not holding this process open. */
export function prewarmDaemon(main: string): void {
  let child: ChildProcess;
  try {
    child = childProcess().spawn(process.execPath, ['--expose-gc', main, '--prewarm'], { detached: true, stdio: ['ignore', 'ignore', 'ignore', 'ipc'], env: daemonEnv() });
  } catch {
    return; // The command starts its daemon the usual way.
  }
  const listening = new Promise<boolean>((resolve) => {
    child.once('message', (m: { prewarmed?: boolean }) => resolve(m?.prewarmed === true));
    child.once('exit', () => resolve(false));
    child.once('error', () => resolve(false));
  });
  child.unref();
  child.channel?.unref();
  holder[KEY] = { child, listening };
}

/** The daemon started ahead, taken once; undefined when none was, or it is gone. */
export function takePrewarmed(): Prewarmed | undefined {
  const p = holder[KEY];
  delete holder[KEY];
  return p && p.child.exitCode === null && p.child.connected ? p : undefined;
}
