// The one file that touches libfuse: through trove's own binding of
// libfuse 3's low-level API (native/fuse3.c) when it is built, else through
// fuse-native (libfuse 2's high-level, path-based API). The handlers are
// path-based either way.
import { access, constants } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { ioError, isErrno, type TroveError, unsupported } from '../util/errors.js';
import { addonPath, loadAddon } from '../util/native-addon.js';
import { ERR } from './errno.js';
import type { FuseHandlers } from './handlers.js';
import type { Stat } from './view.js';

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
  /**
   * Which libfuse to serve through (default 3 when trove's binding of it is
   * built, else 2). Only libfuse 3 gives the kernel whole listings with
   * attributes (READDIRPLUS).
   */
  libfuse?: 2 | 3;
  /** With libfuse 3: answer listings of commits with every entry's attributes (default true). */
  readdirplus?: boolean;
  /**
   * With libfuse 3: directories below this path prefix never change, so the
   * kernel may cache their listings (default none; the view passes
   * `/commits/`: a commit's trees are immutable, the commits/ listing is not).
   */
  immutablePrefix?: string;
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
  /** The libfuse it is served through. */
  readonly libfuse: 2 | 3;
  /** Unmounts (lazily if busy) and stops serving. */
  unmount(): Promise<void>;
}

/**
 * libfuse option string (`-o...`): read-only, our inode numbers, long kernel
 * caching. Through libfuse 3's low-level API (native/fuse3.c) the inode
 * numbers are the view's own and each answer carries its timeouts, so only
 * the mount's options remain.
 */
export function fuseOptions(opts: NativeMountOptions = {}, libfuse: 2 | 3 = 2): string {
  const o = [
    'ro',
    'default_permissions',
    ...(libfuse === 2
      ? [
          'use_ino',
          'kernel_cache',
          `entry_timeout=${opts.entryTimeout ?? 86400}`,
          `attr_timeout=${opts.attrTimeout ?? 86400}`,
          `negative_timeout=${opts.negativeTimeout ?? 1}`,
        ]
      : []),
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

/**
 * A function to call on each request: it restarts the polling window (see
 * NativeMountOptions.pollMs). Undefined when `pollMs` is 0.
 */
function poller(pollMs: number): (() => void) | undefined {
  if (!(pollMs > 0)) return undefined;
  let last = 0;
  let spinning = false;
  // setImmediate keeps libuv polling with a zero timeout: the request's wake-up is then seen at once.
  const spin = () => {
    if (performance.now() - last < pollMs) setImmediate(spin);
    else spinning = false;
  };
  return () => {
    last = performance.now();
    if (!spinning) {
      spinning = true;
      setImmediate(spin);
    }
  };
}

/** `handlers`, each of which restarts the polling window (see NativeMountOptions.pollMs). */
export function polling(handlers: FuseHandlers, pollMs: number): FuseHandlers {
  const kick = poller(pollMs);
  if (!kick) return handlers;
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(handlers) as [string, (...args: unknown[]) => void][]) {
    out[name] = (...args: unknown[]) => {
      kick();
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

/**
 * One past the highest inode number a mount through `libfuse` can pass: 2^53
 * through trove's libfuse 3 binding (64-bit numbers, as many as JavaScript
 * counts exactly), 2^32 through fuse-native. Each directory entered takes a
 * block of numbers the size of its listing, so a commit that names one huge
 * directory from many places could use up 2^32.
 */
export function inodeLimit(libfuse?: 2 | 3): number {
  return libfuse !== 2 && fuse3Binding() ? 2 ** 53 : 2 ** 32;
}

/** Mounts `handlers` at `mountpoint` (an existing directory); resolves once the kernel has initialised the connection. */
export function mountFuse(mountpoint: string, handlers: FuseHandlers, opts: NativeMountOptions = {}): Promise<NativeMount> {
  if (opts.libfuse !== 2) {
    const binding = fuse3Binding();
    if (binding) return mountFuse3(binding, mountpoint, handlers, opts);
    if (opts.libfuse === 3) {
      return Promise.reject(
        unsupported(`trove's libfuse 3 binding is not built (${FUSE3_ADDON}): run \`npm run build:native\` (it needs a C compiler and libfuse3-dev)`),
      );
    }
  }
  const TroveFuse = troveFuseClass();
  const fuse = new TroveFuse(mountpoint, polling(handlers, opts.pollMs ?? DEFAULT_POLL_MS), fuseOptions(opts));
  return new Promise((resolve, reject) => {
    fuse.mount((err) => {
      if (err) return void mountFailure(mountpoint, err).then(reject, reject);
      resolve({
        mountpoint,
        libfuse: 2,
        unmount: () => new Promise<void>((res, rej) => fuse.unmount((e) => (e ? rej(e) : res()))),
      });
    });
  });
}

// ---- libfuse 3, through native/fuse3.c ----

/** Where `npm run build:native` puts the binding. */
export const FUSE3_ADDON = addonPath('fuse3');

type Dispatch = (op: number, id: number, ino: number, a?: unknown, b?: unknown, c?: unknown) => void;

interface Fuse3Binding {
  mount(mountpoint: string, args: string[], dispatch: Dispatch, readdirplus: boolean): object;
  unmount(handle: object): void;
  /**
   * Answers request `id`: a negative result is an errno. For a listing (names, stats, plus, from: the
   * index of the part's first entry), returns how many entries the kernel took; for a lookup, 0 or the
   * -errno of a reply the kernel did not take.
   */
  reply(id: number, result: number, ...values: unknown[]): number | undefined;
  /** Makes the kernel drop what it keeps of inode `ino`'s content (a symlink's target), off this thread; then `done`. */
  invalidate(ino: number, done: (result: number) => void): void;
  /** Makes `path`, opened for appending, this process's stdout and stderr; 0 or a negative errno. */
  redirectOutput(path: string): number;
}

/** The binding, or null when it is not built (or cannot load: a libfuse3 missing, say). */
function fuse3Binding(): Fuse3Binding | null {
  return loadAddon<Fuse3Binding>('fuse3');
}

/**
 * Sends this process's stdout and stderr, libfuse's and Node's writes alike,
 * to `path` (appended): a daemon started before its repository was known
 * (main.ts, --prewarm). 0, a negative errno, or undefined without the binding.
 */
export function redirectOutput(path: string): number | undefined {
  return fuse3Binding()?.redirectOutput(path);
}

/** The operations' numbers in native/fuse3.c. */
const OP = {
  INIT: 0,
  LOOKUP: 1,
  FORGET: 2,
  GETATTR: 3,
  READLINK: 4,
  OPENDIR: 5,
  READDIR: 6,
  OPEN: 7,
  READ: 8,
  STATFS: 9,
  GETXATTR: 10,
  LISTXATTR: 11,
  RELEASEDIR: 12,
} as const;

/** Numbers per entry in packStats: the stat's eleven, then the seconds the kernel may keep the name and the attributes. */
const STAT_FIELDS = 13;

/** Seconds the kernel may keep a name, its attributes, and an absent name. */
interface Timeouts {
  entry: number;
  attr: number;
}

/** Stats as the binding reads them: STAT_FIELDS numbers per entry, in native/fuse3.c's order. */
function packStats(stats: readonly (Stat | Pick<Stat, 'ino' | 'mode'>)[], t: Timeouts = { entry: 0, attr: 0 }): Float64Array {
  const out = new Float64Array(stats.length * STAT_FIELDS);
  let o = 0;
  for (const s of stats) {
    const f = s as Partial<Stat>;
    out[o] = s.ino;
    out[o + 1] = s.mode;
    out[o + 2] = f.nlink ?? 1;
    out[o + 3] = f.uid ?? 0;
    out[o + 4] = f.gid ?? 0;
    out[o + 5] = f.size ?? 0;
    out[o + 6] = f.blocks ?? 0;
    out[o + 7] = f.blksize ?? 4096;
    out[o + 8] = f.atime ?? 0;
    out[o + 9] = f.mtime ?? 0;
    out[o + 10] = f.ctime ?? 0;
    out[o + 11] = t.entry;
    out[o + 12] = t.attr;
    o += STAT_FIELDS;
  }
  return out;
}

interface Listing {
  names: string[];
  /** packStats of the entries. */
  stats: Float64Array;
  plus: boolean;
}

/** Entries of the listings kept, at most (about 100 bytes each with their names). */
const KEPT_ENTRIES = 100_000;

/** Listings by path, the least recently answered dropped first once they hold more than KEPT_ENTRIES entries. */
class Listings {
  private readonly byKey = new Map<string, Listing>();
  private entries = 0;

  get(key: string): Listing | undefined {
    const l = this.byKey.get(key);
    if (l) {
      this.byKey.delete(key);
      this.byKey.set(key, l);
    }
    return l;
  }

  keep(key: string, l: Listing): void {
    this.drop(key);
    this.byKey.set(key, l);
    this.entries += l.names.length;
    for (const oldest of this.byKey.keys()) {
      if (this.entries <= KEPT_ENTRIES || oldest === key) break;
      this.drop(oldest);
    }
  }

  private drop(key: string): void {
    const l = this.byKey.get(key);
    if (!l) return;
    this.byKey.delete(key);
    this.entries -= l.names.length;
  }
}

/**
 * The path of each inode number the kernel holds, with how many times it was
 * handed out (the kernel's lookup count): the low-level API names files by
 * number, the handlers by path. A number leaves when the kernel forgets it.
 */
class Inodes {
  private readonly byIno = new Map<number, { path: string; n: number }>();

  path(ino: number): string | undefined {
    return ino === 1 ? '/' : this.byIno.get(ino)?.path;
  }

  remember(ino: number, path: string): void {
    if (ino === 1) return;
    const e = this.byIno.get(ino);
    if (e) {
      e.n++;
      e.path = path;
    } else this.byIno.set(ino, { path, n: 1 });
  }

  forget(ino: number, n: number): void {
    const e = this.byIno.get(ino);
    if (e && (e.n -= n) <= 0) {
      this.byIno.delete(ino);
      this.targets.delete(ino);
    }
  }

  /** Targets of the symlinks outside commits (refs, profiles) as the kernel last saw them. */
  readonly targets = new Map<number, string>();
}

/**
 * The binding's one entry point, turned into calls of `h` (fuse-native's
 * shape, which the handlers keep). Directories below `immutablePrefix` never
 * change: the kernel may keep their listings and the names found absent in
 * them, and the daemon keeps their listings too.
 */
function dispatcher(binding: Fuse3Binding, h: FuseHandlers, opts: NativeMountOptions, onInit: () => void): Dispatch {
  const listings = new Listings();
  const inodes = new Inodes();
  const prefix = opts.immutablePrefix ?? '';
  const immutable = (path: string) => prefix !== '' && path.length > prefix.length && path.startsWith(prefix);
  const kept: Timeouts = { entry: opts.entryTimeout ?? 86400, attr: opts.attrTimeout ?? 86400 };
  // A ref or profile moves under the same name and inode: the kernel asks for it on every use (a lookup
  // instead of the readlink it asked for before the kernel kept symlink targets), and when its target
  // has moved the daemon makes the kernel drop the target it keeps.
  const moving: Timeouts = { entry: 0, attr: 0 };
  // The directories that group refs and profiles (refs/pkg/...) come and go: kept as briefly as absent names.
  const absent = opts.negativeTimeout ?? 1;
  const brief: Timeouts = { entry: absent, attr: absent };
  const pointer = (path: string, mode: number) => (mode & constants.S_IFMT) === constants.S_IFLNK && !immutable(path);
  // The top-level directories never go, but their link counts change with what they hold (`commits/`: one
  // per commit known): their names are kept, their attributes briefly.
  const top: Timeouts = { entry: kept.entry, attr: brief.attr };
  const timeouts = (path: string, st: Stat) =>
    immutable(path) ? kept : path.lastIndexOf('/') === 0 ? top : pointer(path, st.mode) ? moving : brief;
  // Lookups of a symlink whose invalidation is under way, answered when it is done (`again`: the target
  // moved once more meanwhile, so the kernel may have kept the one in between: it drops that too). A
  // lookup answered before the kernel has dropped the old target would be followed to it.
  const invalidating = new Map<number, { answers: (() => void)[]; again: boolean }>();
  const release = (ino: number): void => {
    const w = invalidating.get(ino);
    invalidating.delete(ino);
    for (const answer of w?.answers ?? []) answer();
  };
  const invalidate = (ino: number): void => {
    try {
      binding.invalidate(ino, () => {
        const w = invalidating.get(ino);
        if (w?.again) {
          w.again = false;
          return invalidate(ino);
        }
        release(ino);
      });
    } catch {
      // Not queued (no memory): the lookups waiting are answered as they are, none left behind.
      release(ino);
    }
  };
  /** Records the target the kernel is about to see; when it moved, the kernel drops the one it kept, then `then`. */
  const seen = (ino: number, target: string, then: () => void) => {
    const last = inodes.targets.get(ino);
    inodes.targets.set(ino, target);
    const moved = last !== undefined && last !== target;
    const w = invalidating.get(ino);
    if (w) {
      w.answers.push(then);
      w.again ||= moved;
    } else if (moved) {
      invalidating.set(ino, { answers: [then], again: false });
      invalidate(ino);
    } else then();
  };
  const absentFor = (dir: string) => (immutable(dir) ? kept.entry : absent);
  const child = (dir: string, name: string) => (dir === '/' ? `/${name}` : `${dir}/${name}`);
  const xattrNames = (names: string[]) => Buffer.from(names.map((n) => `${n}\0`).join(''));
  const reply = binding.reply.bind(binding);

  // The listing of each open of a directory that changes (refs/, profiles/, commits/), by the handle its
  // open was given: the parts one reader asks for all come from the listing it started with.
  const opened = new Map<number, Listing | undefined>();
  let nextHandle = 1;

  return (op, id, ino, a, b, c) => {
    // A callback that throws answers EIO (a second answer to a request does nothing): no reader is left waiting.
    const safe =
      <A extends unknown[]>(fn: (...args: A) => void) =>
      (...args: A) => {
        try {
          fn(...args);
        } catch {
          reply(id, ERR.EIO);
        }
      };
    try {
      if (op === OP.INIT) return onInit();
      if (op === OP.FORGET) return inodes.forget(ino, a as number);
      if (op === OP.RELEASEDIR) {
        opened.delete(a as number);
        return reply(id, 0);
      }
      const path = inodes.path(ino);
      if (path === undefined) return reply(id, ERR.ENOENT);
      switch (op) {
        case OP.LOOKUP: {
          const p = child(path, a as string);
          return h.getattr(
            p,
            safe((e, st) => {
              if (e === ERR.ENOENT) return reply(id, e, absentFor(path));
              if (e || !st) return reply(id, e || ERR.EIO);
              const answer = safe(() => {
                inodes.remember(st.ino, p);
                // A reply the kernel did not take (an interrupted lookup) gave it no lookup to count.
                if ((reply(id, 0, packStats([st], timeouts(p, st))) ?? 0) < 0) inodes.forget(st.ino, 1);
              });
              if (!pointer(p, st.mode)) return answer();
              h.readlink(p, safe((le, target) => (!le && target !== undefined ? seen(st.ino, target, answer) : answer())));
            }),
          );
        }
        case OP.GETATTR:
          return h.getattr(path, safe((e, st) => (e || !st ? reply(id, e || ERR.EIO) : reply(id, 0, packStats([st], timeouts(path, st))))));
        case OP.READLINK:
          return h.readlink(
            path,
            safe((e, target) => {
              if (e || target === undefined) return reply(id, e || ERR.EIO);
              if (!immutable(path)) inodes.targets.set(ino, target);
              reply(id, 0, target);
            }),
          );
        case OP.OPENDIR: {
          if (immutable(path)) return reply(id, 1);
          const handle = nextHandle++;
          opened.set(handle, undefined);
          return reply(id, 0, handle);
        }
        case OP.READDIR: {
          // A listing comes in parts of what fits the kernel's buffer, each asked from an offset (the
          // index of its first entry). The entries of a listing with attributes count as lookups.
          const off = a as number;
          const key = `${b ? '+' : ''}${path}`;
          const send = (l: Listing) => {
            // The whole listing and where this part starts: the binding reads only what fits.
            const sent = reply(id, 0, l.names, l.stats, l.plus, off) ?? 0;
            if (!b || !l.plus) return;
            for (let i = off; i < off + sent; i++) {
              const name = l.names[i]!;
              if (name !== '.' && name !== '..') inodes.remember(l.stats[i * STAT_FIELDS]!, child(path, name));
            }
          };
          const handle = (c as number | undefined) ?? 0;
          const mine = handle > 0 && opened.has(handle);
          // Immutable: the daemon's kept listing, any part. Changing: this open's own, past its first part.
          const have = immutable(path) ? listings.get(key) : off > 0 && mine ? opened.get(handle) : undefined;
          if (have) return send(have);
          const answer = safe((e: number, names?: string[], stats?: (Stat | Pick<Stat, 'ino' | 'mode'>)[], plus?: boolean) => {
            if (e || !names || !stats) return reply(id, e || ERR.EIO);
            const l: Listing = { names, stats: packStats(stats, kept), plus: plus ?? false };
            if (immutable(path)) listings.keep(key, l);
            else if (mine) opened.set(handle, l);
            send(l);
          });
          return b ? h.readdirplus(path, answer) : h.readdir(path, answer);
        }
        case OP.OPEN:
          return h.open(path, a as number, safe((e) => reply(id, e)));
        case OP.READ: {
          const buf = a as Buffer;
          return h.read(path, 0, buf, buf.length, b as number, safe((n) => reply(id, n)));
        }
        case OP.STATFS:
          return h.statfs(
            path,
            safe((e, s) =>
              e || !s
                ? reply(id, e || ERR.EIO)
                : reply(id, 0, Float64Array.of(s.bsize, s.frsize, s.blocks, s.bfree, s.bavail, s.files, s.ffree, s.favail, s.fsid, s.flag, s.namemax)),
            ),
          );
        case OP.GETXATTR:
          return h.getxattr(path, a as string, 0, safe((e, value) => (e || !value ? reply(id, e || ERR.ENODATA) : reply(id, 0, value))));
        case OP.LISTXATTR:
          return h.listxattr(path, safe((e, names) => (e ? reply(id, e) : reply(id, 0, xattrNames(names ?? [])))));
        default:
          return reply(id, ERR.ENOSYS);
      }
    } catch {
      reply(id, ERR.EIO);
    }
  };
}

function mountFuse3(binding: Fuse3Binding, mountpoint: string, handlers: FuseHandlers, opts: NativeMountOptions): Promise<NativeMount> {
  return new Promise((resolve, reject) => {
    let handle: object | undefined;
    const ready = () =>
      resolve({
        mountpoint,
        libfuse: 3,
        unmount: async () => {
          if (handle) binding.unmount(handle);
        },
      });
    // Every request restarts the polling window, those answered from kept listings too.
    const kick = poller(opts.pollMs ?? DEFAULT_POLL_MS);
    const serve = dispatcher(binding, handlers, opts, ready);
    const dispatch: Dispatch = kick
      ? (op, id, ino, a, b, c) => {
          kick();
          serve(op, id, ino, a, b, c);
        }
      : serve;
    try {
      handle = binding.mount(mountpoint, ['trove', fuseOptions(opts, 3)], dispatch, opts.readdirplus ?? true);
    } catch (err) {
      void mountFailure(mountpoint, err as Error).then(reject, reject);
    }
  });
}
