import { AsyncLocalStorage } from 'node:async_hooks';
import { fstatSync, writeSync } from 'node:fs';
import { isErrno } from './errors.js';

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
/** Marks a writer on the process's own standard output or error. */
const PROCESS_FD = Symbol.for('trove.io.processFd');

/** Whether descriptor `fd` is open on a character device (true when that cannot be told: the stream is asked then). */
function isCharacterDevice(fd: number): boolean {
  try {
    return fstatSync(fd).isCharacterDevice();
  } catch {
    return true;
  }
}

/**
 * Standard output or error written with blocking write(2) calls on its
 * descriptor, not through `process.stdout`/`process.stderr`: making those
 * streams loads node:net and node:stream for a pipe or a terminal, about
 * 3 ms of a short command's 15 (docs/benchmarks.md, "Start-up of short
 * commands"). Node writes to pipes and terminals synchronously on Linux
 * anyway, so what a reader sees is the same. The stream is made only when
 * asked whether the descriptor is a terminal, or when a write finds the
 * descriptor non-blocking (EAGAIN: another process set O_NONBLOCK on it);
 * from then on every write goes through the stream, in order. A closed pipe
 * (EPIPE, or ECONNRESET on a socket pair) on standard output ends the process quietly, as coreutils do,
 * through the stream too; on standard error the message is dropped.
 */
export class FdWriter implements Writer {
  private viaStream = false;
  private made = false;
  /** The descriptor, under a key every bundle's copy of this module shares (see withIo). */
  readonly [PROCESS_FD]: 1 | 2;
  constructor(private readonly fd: 1 | 2) {
    this[PROCESS_FD] = fd;
  }

  private stream(): NodeJS.WriteStream {
    if (this.fd === 2) return process.stderr;
    if (!this.made) {
      this.made = true;
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (readerGone(err)) process.exit(0);
        throw err;
      });
    }
    return process.stdout;
  }

  get isTTY(): boolean {
    // Only a character device can be a terminal: a pipe, file or socket is answered without
    // making the stream (a meter asks of every long command's standard error).
    if (!this.viaStream && !isCharacterDevice(this.fd)) return false;
    return this.stream().isTTY === true;
  }

  get columns(): number | undefined {
    return this.stream().columns;
  }

  hasColors(): boolean {
    const s = this.stream();
    return typeof s.hasColors === 'function' && s.hasColors();
  }

  write(chunk: string | Uint8Array, callback?: (err?: Error | null) => void): boolean {
    if (!this.viaStream) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      let done = 0;
      try {
        while (done < bytes.length) done += writeSync(this.fd, bytes, done);
        if (callback) process.nextTick(callback);
        return true;
      } catch (err) {
        if (readerGone(err)) {
          if (this.fd === 1) process.exit(0);
          if (callback) process.nextTick(callback);
          return true;
        }
        if (!isErrno(err, 'EAGAIN')) throw err;
        this.viaStream = true;
        chunk = bytes.subarray(done);
      }
    }
    return this.stream().write(chunk, callback);
  }
}

/**
 * The reader of a descriptor went away: EPIPE on a pipe, ECONNRESET on a
 * socket pair (what a Node parent's `stdio: 'pipe'` is) whose reader closed
 * with bytes still unread.
 */
function readerGone(err: unknown): boolean {
  return isErrno(err, 'EPIPE') || isErrno(err, 'ECONNRESET');
}

let own: Io | undefined;

/**
 * The process's own standard output and error (as FdWriters) and
 * environment: one object for the process, so that what a run keys by its
 * io (its verbosity) is found again by io() when the run has no storage of
 * its own (see withIo).
 */
export function processIo(): Io {
  if (own?.env !== process.env) own = { stdout: own?.stdout ?? new FdWriter(1), stderr: own?.stderr ?? new FdWriter(2), env: process.env };
  return own;
}

/**
 * Runs `fn` with `io` as the output of everything it does, including its
 * asynchronous work. The process's own io, outside any run, is what io()
 * answers anyway: then `fn` runs as it is, since a first run of an
 * AsyncLocalStorage turns on V8's promise hooks for the rest of the process,
 * a cost on every promise (16 ms of a small commit's 650 went to them).
 */
export function withIo<T>(io: Io, fn: () => Promise<T>): Promise<T> {
  // Asked by fd, not by object: each bundle of the CLI has its own copy of this module.
  const fdOf = (w: Writer) => (w as Partial<Record<typeof PROCESS_FD, number>>)[PROCESS_FD];
  const own = fdOf(io.stdout) === 1 && fdOf(io.stderr) === 2 && io.env === process.env;
  if (own && current.getStore() === undefined) return fn();
  return current.run(io, fn);
}

/** The io of the command running now; the process's own outside a run. */
export function io(): Io {
  return current.getStore() ?? processIo();
}
