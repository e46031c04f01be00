import { constants } from 'node:fs';
import type { BlobReader } from './blobs.js';
import { ERR, errnoOf, FsError } from './errno.js';
import type { Node, Stat, TroveView } from './view.js';

/** statfs(2) as fuse-native takes it. */
export interface StatfsInfo {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  favail: number;
  fsid: number;
  flag: number;
  namemax: number;
}

type Done = (errno: number) => void;
type Refuse = (...args: unknown[]) => void;

/**
 * The FUSE operations in fuse-native's shape: `cb(0, value)` on success,
 * `cb(-errno)` on failure, `read` answers `cb(bytesRead)`. Nothing here knows
 * fuse-native, so tests call these directly.
 */
export interface FuseHandlers {
  init(cb: Done): void;
  getattr(path: string, cb: (errno: number, stat?: Stat) => void): void;
  readdir(path: string, cb: (errno: number, names?: string[], stats?: Pick<Stat, 'ino' | 'mode'>[]) => void): void;
  /**
   * A listing with every entry's attributes, for READDIRPLUS (libfuse 3):
   * the kernel then knows each name without a lookup. `plus` is false when
   * the stats are only `ino` and `mode` (the mount's own directories, whose
   * names come and go: the kernel should ask for those one by one).
   */
  readdirplus(path: string, cb: (errno: number, names?: string[], stats?: (Stat | Pick<Stat, 'ino' | 'mode'>)[], plus?: boolean) => void): void;
  readlink(path: string, cb: (errno: number, target?: string) => void): void;
  open(path: string, flags: number, cb: (errno: number, fd?: number) => void): void;
  read(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: (bytesOrErrno: number) => void): void;
  statfs(path: string, cb: (errno: number, info?: StatfsInfo) => void): void;
  getxattr(path: string, name: string, position: number, cb: (errno: number, value?: Buffer) => void): void;
  listxattr(path: string, cb: (errno: number, names?: string[]) => void): void;
  write: Refuse;
  create: Refuse;
  unlink: Refuse;
  rename: Refuse;
  link: Refuse;
  symlink: Refuse;
  mkdir: Refuse;
  rmdir: Refuse;
  chmod: Refuse;
  chown: Refuse;
  truncate: Refuse;
  ftruncate: Refuse;
  utimens: Refuse;
  mknod: Refuse;
  setxattr: Refuse;
  removexattr: Refuse;
}

/** Options of the handlers; defaults as documented on each field. */
export interface HandlerOptions {
  /**
   * Answer a successful open(2) of a file with ENOSYS (default false). The
   * kernel then opens files itself from then on ("zero-message open"), keeps
   * their page cache across opens and sends no release; reads still come with
   * the path. Only the mount sets this.
   */
  zeroMessageOpen?: boolean;
  /** Where EIO and other unexpected failures are reported (default: nowhere). */
  log?: (message: string) => void;
}

const WRITE_FLAGS = constants.O_WRONLY | constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC | constants.O_APPEND;

/** The operations of a read-only view: translate op → view/blob read → errno, nothing else. */
export function getBaseHandlers(view: TroveView, blobs: BlobReader, opts: HandlerOptions = {}): FuseHandlers {
  const fail = (op: string, path: string, err: unknown): number => {
    const errno = errnoOf(err);
    if (err instanceof FsError && err.reported) return errno;
    if (errno === ERR.EIO || errno === ERR.EOVERFLOW || !(err instanceof FsError)) {
      const message = (err as Error)?.message ?? String(err);
      opts.log?.(`${op} ${message.startsWith(`${path}: `) ? message : `${path}: ${message}`}`);
    }
    return errno;
  };
  const refuse: Refuse = (...args) => (args[args.length - 1] as Done)(ERR.EROFS);
  let space: { at: number; info: StatfsInfo } | undefined;

  /** The `.` and `..` entries of the directory `node` at `path`. */
  const dots = async (path: string, node: Node): Promise<Pick<Stat, 'ino' | 'mode'>[]> => {
    const cut = path.lastIndexOf('/');
    const parent = path === '/' ? node : await view.lookup(cut <= 0 ? '/' : path.slice(0, cut));
    return [
      { ino: node.ino, mode: 0o040755 },
      { ino: parent.ino, mode: 0o040755 },
    ];
  };

  const readdir: FuseHandlers['readdir'] = (path, cb) => {
    (async () => {
      const node = await view.lookup(path);
      const list = await view.list(node);
      const names = ['.', '..'];
      const stats = await dots(path, node);
      for (const d of list) {
        names.push(d.name);
        stats.push({ ino: d.ino, mode: d.mode });
      }
      cb(0, names, stats);
    })().catch((err: unknown) => cb(fail('readdir', path, err)));
  };

  return {
    init(cb) {
      cb(0);
    },

    getattr(path, cb) {
      view
        .lookup(path)
        .then((node) => view.stat(node))
        .then(
          (st) => cb(0, st),
          (err: unknown) => cb(fail('getattr', path, err)),
        );
    },

    readdir,

    readdirplus(path, cb) {
      (async () => {
        const node = await view.lookup(path);
        // A subdirectory whose tree cannot be read has no stat to give: the listing then goes without
        // attributes, and only that entry fails when it is looked up.
        const listed = await view.listStats(node).catch(() => undefined);
        if (!listed) return readdir(path, (errno, names, stats) => cb(errno, names, stats, false));
        cb(0, ['.', '..', ...listed.names], [...(await dots(path, node)), ...listed.stats], true);
      })().catch((err: unknown) => cb(fail('readdirplus', path, err)));
    },

    readlink(path, cb) {
      view.lookup(path).then(
        (node) => cb(node.kind === 'symlink' ? 0 : ERR.EINVAL, node.kind === 'symlink' ? node.target : undefined),
        (err: unknown) => cb(fail('readlink', path, err)),
      );
    },

    open(path, flags, cb) {
      view.lookup(path).then(
        (node) => {
          if (flags & WRITE_FLAGS) return cb(ERR.EROFS);
          if (node.kind === 'dir') return cb(ERR.EISDIR);
          cb(opts.zeroMessageOpen ? ERR.ENOSYS : 0, 0);
        },
        (err: unknown) => cb(fail('open', path, err)),
      );
    },

    read(path, _fd, buf, len, pos, cb) {
      view
        .lookup(path)
        .then((node) => {
          if (node.kind !== 'file') return ERR.EISDIR;
          return blobs.read(node.blob, node.size, buf, len, pos, path, (node.perm & 0o111) !== 0);
        })
        .then(cb, (err: unknown) => cb(fail('read', path, err)));
    },

    statfs(path, cb) {
      // df polls this; the numbers are only a summary, so a second-old answer will do.
      if (space && Date.now() - space.at < 1000) return cb(0, space.info);
      view.space().then(
        (s) => {
          const info: StatfsInfo = {
            bsize: s.bsize,
            frsize: s.bsize,
            blocks: s.blocks,
            bfree: 0,
            bavail: 0,
            files: s.files,
            ffree: 0,
            favail: 0,
            fsid: 0,
            flag: 1, // ST_RDONLY
            namemax: 255,
          };
          space = { at: Date.now(), info };
          cb(0, info);
        },
        (err: unknown) => cb(fail('statfs', path, err)),
      );
    },

    getxattr(path, name, _position, cb) {
      view.lookup(path).then(
        (node) => {
          const x = node.xattrs.find((a) => a.name === name);
          if (!x) return cb(ERR.ENODATA);
          cb(0, Buffer.from(x.value.buffer, x.value.byteOffset, x.value.byteLength));
        },
        (err: unknown) => cb(fail('getxattr', path, err)),
      );
    },

    listxattr(path, cb) {
      view.lookup(path).then(
        (node) => cb(0, node.xattrs.map((x) => x.name)),
        (err: unknown) => cb(fail('listxattr', path, err)),
      );
    },

    write: refuse,
    create: refuse,
    unlink: refuse,
    rename: refuse,
    link: refuse,
    symlink: refuse,
    mkdir: refuse,
    rmdir: refuse,
    chmod: refuse,
    chown: refuse,
    truncate: refuse,
    ftruncate: refuse,
    utimens: refuse,
    mknod: refuse,
    setxattr: refuse,
    removexattr: refuse,
  };
}
