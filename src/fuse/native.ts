// The one file that touches fuse-native (libfuse 2, high-level API).
import { access, constants } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { ioError, isErrno, type TroveError } from '../util/errors.js';
import { ERR } from './errno.js';
import type { FuseHandlers } from './handlers.js';

type Signal = (res: number, ...rest: unknown[]) => void;

interface FuseInstance {
  ops: FuseHandlers;
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
}

interface FuseClass {
  new (mnt: string, ops: FuseHandlers, opts: Record<string, unknown>): FuseInstance;
  prototype: FuseInstance;
}

type TroveFuseClass = new (mnt: string, ops: FuseHandlers, optionString: string) => FuseInstance;
let troveFuse: TroveFuseClass | undefined;

/**
 * The class below, made on first use: fuse-native (and libfuse through it)
 * is loaded by the process that mounts, not by every process that imports
 * this module (`trove mount` itself only starts the daemon: about 5 ms).
 */
function troveFuseClass(): TroveFuseClass {
  return (troveFuse ??= makeTroveFuse(createRequire(import.meta.url)('fuse-native') as FuseClass));
}

/** Mount options; defaults as documented on each field. */
export interface NativeMountOptions {
  /** Seconds the kernel trusts a name (default 86400: names inside a commit never change). */
  entryTimeout?: number;
  /** Seconds the kernel trusts attributes (default 86400). */
  attrTimeout?: number;
  /** Seconds the kernel remembers that a name is absent (default 1: refs and commits appear). */
  negativeTimeout?: number;
  /** Let every user in, with the kernel checking modes (default true; needs root or user_allow_other). */
  allowOther?: boolean;
  /** Honour setuid and setgid bits (default false: mounted nosuid). */
  suid?: boolean;
  /** libfuse's debug log on stderr (default false). */
  debug?: boolean;
  /**
   * Keep polling for the next request this many ms after each one instead of
   * sleeping (default DEFAULT_POLL_MS; 0 turns it off). Every request crosses from a libfuse
   * thread to the JavaScript thread and back; waking a sleeping thread is most
   * of that cost (measured here: a metadata walk takes half the time with it).
   * The price is one busy core while requests keep coming, none when idle.
   */
  pollMs?: number;
}

/**
 * ms the daemon keeps polling after a request (NativeMountOptions.pollMs):
 * long enough to catch the next request of a burst (a walk, a path search),
 * short enough that a daemon answering now and then does not keep a core
 * busy that the programs reading the view need (docs/benchmarks.md, "The
 * view under a real workload").
 */
export const DEFAULT_POLL_MS = 0.2;

/** A live FUSE mount. */
export interface NativeMount {
  readonly mountpoint: string;
  /** Unmounts (lazily if busy) and stops serving. */
  unmount(): Promise<void>;
}

/** libfuse option string (`-o...`): read-only, our inode numbers, long kernel caching. */
export function fuseOptions(opts: NativeMountOptions = {}): string {
  const o = [
    'ro',
    'use_ino',
    'kernel_cache',
    'default_permissions',
    `entry_timeout=${opts.entryTimeout ?? 86400}`,
    `attr_timeout=${opts.attrTimeout ?? 86400}`,
    `negative_timeout=${opts.negativeTimeout ?? 1}`,
    'fsname=trove',
    'subtype=trove',
  ];
  if (opts.allowOther ?? true) o.push('allow_other');
  if (opts.suid) o.push('suid');
  if (opts.debug) o.push('debug');
  return `-o${o.join(',')}`;
}

/**
 * fuse-native with our options and exact xattr buffer handling: its own
 * getxattr/listxattr report sizes larger than the caller's buffer, which
 * libfuse would then copy past.
 */
function makeTroveFuse(Fuse: FuseClass): TroveFuseClass {
  return class TroveFuse extends (Fuse as unknown as new (mnt: string, ops: FuseHandlers, opts: Record<string, unknown>) => FuseInstance) {
    constructor(
      mnt: string,
      ops: FuseHandlers,
      private readonly optionString: string,
    ) {
      // No per-request timeout: it would answer the kernel while fs.read may
      // still be filling libfuse's buffer. Every handler always calls back.
      super(mnt, ops, { timeout: false });
    }

    _fuseOptions(): string {
      return this.optionString;
    }

    _op_getxattr(signal: Signal, path: string, name: string, valueBuf: Buffer, position: number): void {
      this.ops.getxattr(path, name, position, (err, value) => {
        if (err) return signal(err, valueBuf.buffer);
        if (!value) return signal(ERR.ENODATA, valueBuf.buffer);
        if (valueBuf.length === 0) return signal(value.length, valueBuf.buffer);
        if (value.length > valueBuf.length) return signal(ERR.ERANGE, valueBuf.buffer);
        value.copy(valueBuf);
        signal(value.length, valueBuf.buffer);
      });
    }

    _op_listxattr(signal: Signal, path: string, listBuf: Buffer): void {
      this.ops.listxattr(path, (err, names) => {
        if (err) return signal(err, listBuf.buffer);
        const bytes = Buffer.concat((names ?? []).map((n) => Buffer.from(`${n}\0`)));
        if (listBuf.length === 0) return signal(bytes.length, listBuf.buffer);
        if (bytes.length > listBuf.length) return signal(ERR.ERANGE, listBuf.buffer);
        bytes.copy(listBuf);
        signal(bytes.length, listBuf.buffer);
      });
    }
  };
}

/** `handlers`, each of which restarts the polling window (see NativeMountOptions.pollMs). */
export function polling(handlers: FuseHandlers, pollMs: number): FuseHandlers {
  if (!(pollMs > 0)) return handlers;
  let last = 0;
  let spinning = false;
  // setImmediate keeps libuv polling with a zero timeout: the request's wake-up is then seen at once.
  const spin = () => {
    if (performance.now() - last < pollMs) setImmediate(spin);
    else spinning = false;
  };
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(handlers) as [string, (...args: unknown[]) => void][]) {
    out[name] = (...args: unknown[]) => {
      last = performance.now();
      if (!spinning) {
        spinning = true;
        setImmediate(spin);
      }
      fn(...args);
    };
  }
  return out as unknown as FuseHandlers;
}

/**
 * Why a mount failed, in one line: libfuse says only "fuse failed" (its
 * reason goes to stderr), so the usual causes for a user without rights are
 * checked here: /dev/fuse missing or not theirs to open, a mount point they
 * cannot write.
 */
async function mountFailure(mountpoint: string, err: Error): Promise<TroveError> {
  const denied = (e: unknown) => isErrno(e, 'EACCES') || isErrno(e, 'EPERM');
  try {
    await access('/dev/fuse', constants.R_OK | constants.W_OK);
  } catch (e) {
    if (denied(e)) return ioError(`cannot mount ${mountpoint}: no permission to open /dev/fuse (run as root, or give this user read-write access to /dev/fuse)`, { path: '/dev/fuse' }, { cause: err });
    if (isErrno(e, 'ENOENT')) return ioError(`cannot mount ${mountpoint}: there is no /dev/fuse (load the fuse module: modprobe fuse)`, { path: '/dev/fuse' }, { cause: err });
  }
  try {
    await access(mountpoint, constants.W_OK);
  } catch (e) {
    if (denied(e)) return ioError(`cannot mount ${mountpoint}: this user cannot write to the mount point (choose one you own, chown it, or run as root)`, { path: mountpoint }, { cause: err });
  }
  return ioError(`cannot mount ${mountpoint}: ${err.message} (libfuse's reason is in the daemon's log)`, { path: mountpoint }, { cause: err });
}

/** Mounts `handlers` at `mountpoint` (an existing directory); resolves once the kernel has initialised the connection. */
export function mountFuse(mountpoint: string, handlers: FuseHandlers, opts: NativeMountOptions = {}): Promise<NativeMount> {
  const TroveFuse = troveFuseClass();
  const fuse = new TroveFuse(mountpoint, polling(handlers, opts.pollMs ?? DEFAULT_POLL_MS), fuseOptions(opts));
  return new Promise((resolve, reject) => {
    fuse.mount((err) => {
      if (err) return void mountFailure(mountpoint, err).then(reject, reject);
      resolve({
        mountpoint,
        unmount: () => new Promise<void>((res, rej) => fuse.unmount((e) => (e ? rej(e) : res()))),
      });
    });
  });
}
