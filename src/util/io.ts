import { AsyncLocalStorage } from 'node:async_hooks';

/** Where a command writes: a process stream, or anything with the same `write`. */
export interface Writer {
  write(chunk: string | Uint8Array, callback?: (err?: Error | null) => void): boolean;
  /** A terminal: progress bars and help widths follow it. */
  readonly isTTY?: boolean;
  /** Its width in columns, when it is a terminal. */
  readonly columns?: number;
  /** Whether the terminal shows colours. */
  hasColors?(): boolean;
}

/** The outside world of one CLI run: its output streams and environment. */
export interface Io {
  stdout: Writer;
  stderr: Writer;
  env: NodeJS.ProcessEnv;
}

const current = new AsyncLocalStorage<Io>();

/** The process's own streams and environment. */
export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** Runs `fn` with `io` as the output of everything it does, including its asynchronous work. */
export function withIo<T>(io: Io, fn: () => Promise<T>): Promise<T> {
  return current.run(io, fn);
}

/** The io of the command running now; the process's own outside a run. */
export function io(): Io {
  return current.getStore() ?? processIo();
}
