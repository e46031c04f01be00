import { close, closeSync, fstat, fstatSync, open, openSync, read, readSync, type Stats } from 'node:fs';
import { newHasher, type ObjectId } from '../util/hash.js';
import { eio, FsError } from './errno.js';
import { isErrno } from '../util/errors.js';
import { Lru } from './lru.js';
import type { ObjectFiles } from '../store/types.js';

/** An open object file, shared by every read of the same blob. */
interface OpenBlob {
  fd: number;
  /** Reads in flight; the fd is closed only when the cache has let go and this is 0. */
  busy: number;
  evicted: boolean;
  /** The file's identity when its bytes were hashed (see {@link fileKey}). */
  verified: string;
  /** A blob just fetched, not stored yet: its verified bytes (fd is then -1). */
  bytes?: Uint8Array;
}

/** Reads of the verification hash, in bytes per call. */
const HASH_CHUNK = 1 << 20;

/** The buffer of blocking hash reads: one for the process (they never overlap), not 1 MiB per file. */
let syncHashBuffer: Buffer | undefined;

/**
 * What identifies the content of an object file: device, inode, size and
 * change time. Any write to the file, or a file put in its place, changes it.
 */
function fileKey(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.ctimeMs}`;
}

/** Options of the blob reader; defaults as documented on each field. */
export interface BlobReaderInit {
  /** The file holding a blob. */
  pathOf: ObjectFiles['pathOf'];
  /** Object files kept open between reads (default 256). */
  maxOpen?: number;
  /**
   * Open, stat and read object files with blocking calls on the serving
   * thread (default true). Each call through libuv's thread pool costs two
   * thread wake-ups, more than a page-cache read itself; the price is that a
   * read from a cold disk holds up other requests meanwhile.
   */
  sync?: boolean;
  /** Verdicts on object files remembered (default 100,000; each a short string). */
  maxVerdicts?: number;
  /**
   * Called after each MiB hashed (default: nothing). Hashing a large file
   * with blocking reads holds the serving thread for seconds; the daemon
   * beats its heartbeat here, so its watchdog sees work, not a hang.
   */
  progress?: () => void;
  /**
   * Brings a blob the store lacks (default: none, a missing blob is EIO): the
   * view's fetcher of partial commits (LazyFetcher). Reads of the blob wait
   * for it; the file is then opened and verified as any other. It may resolve
   * to the blob's bytes, verified against its id, before they are stored:
   * the reads waiting are answered from them, and later reads open the file
   * (or, while it is not there yet, are given the same bytes again).
   */
  fetchMissing?: (id: ObjectId, size: number, executable: boolean) => Promise<Uint8Array | undefined | void>;
  /** Whether a missing blob may be fetched now (default: whenever `fetchMissing` is given); else it is EIO at once. */
  mayFetch?: () => boolean;
  /** Called with each blob opened for the first time since its file left the cache, and the path read. */
  onOpen?: (id: ObjectId, path: string, size: number) => void;
}

/** Counters of the work the reader did, for tests and the daemon's status line. */
export interface BlobReaderStats {
  /** Object files hashed (a verdict not yet known for that file). */
  hashed: number;
  /** Bytes hashed. */
  hashedBytes: number;
  /** Object files refused because their bytes do not match their id. */
  corrupt: number;
}

/**
 * Reads file content straight from the object files, at any offset, with no
 * copy in between: `fs.read` fills the buffer FUSE hands us. No byte of a
 * blob is served before the whole object file has been hashed and found to
 * match its id; the verdict is remembered per file (device, inode, size,
 * ctime), so a file is hashed once however often it is opened, and again
 * when anything writes to it. Every read checks that the file is still the
 * one verified (one fstat). A mismatch, a missing file, a size other than
 * the tree's or a short read is EIO.
 */
export class BlobReader {
  private readonly open: Lru<ObjectId, OpenBlob>;
  private readonly opening = new Map<ObjectId, Promise<OpenBlob>>();
  /** Verdicts by {@link fileKey}: true when the file's bytes hash to the blob's id. */
  private readonly verdicts: Lru<string, boolean>;
  readonly stats: BlobReaderStats = { hashed: 0, hashedBytes: 0, corrupt: 0 };

  private readonly sync: boolean;

  constructor(private readonly init: BlobReaderInit) {
    this.sync = init.sync ?? true;
    this.verdicts = new Lru({ maxCost: init.maxVerdicts ?? 100_000 });
    this.open = new Lru({
      maxCost: init.maxOpen ?? 256,
      onEvict: (b) => {
        b.evicted = true;
        if (b.busy === 0) this.closeFd(b.fd);
      },
    });
  }

  /** Fills `buf[0..len)` from byte `pos` of a blob of `size` bytes; resolves to the count (0 at the end). */
  async read(blob: ObjectId, size: number, buf: Buffer, len: number, pos: number, what: string, executable = false): Promise<number> {
    if (pos >= size || len <= 0) return 0;
    const want = Math.min(len, size - pos, buf.length);
    let b = await this.get(blob, size, what, executable);
    if (!(await this.unchanged(b, blob, size, what))) {
      // Written to since it was verified: let go of it and judge it afresh.
      this.open.delete(blob);
      b.evicted = true;
      if (b.busy === 0) this.closeFd(b.fd);
      b = await this.get(blob, size, what);
    }
    if (b.bytes) {
      buf.set(b.bytes.subarray(pos, pos + want));
      return want;
    }
    b.busy++;
    try {
      let done = 0;
      while (done < want) {
        const n = this.sync ? readSync(b.fd, buf, done, want - done, pos + done) : await readAt(b.fd, buf, done, want - done, pos + done);
        if (n === 0) throw eio(what, new Error(`object ${blob} is shorter than ${size} bytes`));
        done += n;
      }
      return done;
    } catch (err) {
      throw err instanceof FsError ? err : eio(what, err);
    } finally {
      b.busy--;
      if (b.busy === 0 && b.evicted) this.closeFd(b.fd);
    }
  }

  /**
   * Closes an object file the reader let go of: blocking with blocking reads
   * (a read-only file closes in microseconds, where a call through the pool
   * costs the serving thread a completion callback), else through the pool.
   */
  private closeFd(fd: number): void {
    if (!this.sync) return close(fd, () => {});
    try {
      closeSync(fd);
    } catch {
      // Nothing of it is needed any more.
    }
  }

  private get(blob: ObjectId, size: number, what: string, executable = false): Promise<OpenBlob> {
    const hit = this.open.get(blob);
    if (hit) return Promise.resolve(hit);
    let p = this.opening.get(blob);
    if (p) return p;
    this.init.onOpen?.(blob, what, size);
    if (this.sync) {
      try {
        return Promise.resolve(this.openBlobSync(blob, size, what));
      } catch (err) {
        if (!(err instanceof Missing)) return Promise.reject(err);
        p = this.fetchThenOpen(blob, size, what, executable);
      }
    } else {
      p = this.openBlob(blob, size, what).catch((err: unknown) => (err instanceof Missing ? this.fetchThenOpen(blob, size, what, executable) : Promise.reject(err)));
    }
    p = p.finally(() => this.opening.delete(blob));
    this.opening.set(blob, p);
    return p;
  }

  /** A blob that is not stored (Missing): fetched, then opened, by either kind of read. */
  private fetchThenOpen(blob: ObjectId, size: number, what: string, executable: boolean): Promise<OpenBlob> {
    return this.init.fetchMissing!(blob, size, executable).then(
      (bytes) => {
        if (!bytes) return this.sync ? this.openBlobSync(blob, size, what, true) : this.openBlob(blob, size, what, true);
        if (bytes.length !== size) throw eio(what, wrongSize(blob, bytes.length, size));
        return { fd: -1, busy: 0, evicted: false, verified: '', bytes };
      },
      (err: unknown) => {
        throw eio(what, err);
      },
    );
  }

  private canFetch(): boolean {
    return this.init.fetchMissing !== undefined && (this.init.mayFetch?.() ?? true);
  }

  /**
   * Opens and verifies a blob's file; Missing when it is not stored and the
   * view may fetch it. `fetched`: the fetcher has just stored the file from
   * bytes it hashed and found to match, so its verdict is taken without
   * reading it back.
   */
  private async openBlob(blob: ObjectId, size: number, what: string, fetched = false): Promise<OpenBlob> {
    let fd: number;
    try {
      fd = await new Promise<number>((res, rej) => open(this.init.pathOf(blob), 'r', (err, f) => (err ? rej(err) : res(f))));
    } catch (err) {
      // Not stored: fetched when the view has a fetcher for it (see get).
      if (!fetched && this.canFetch() && isErrno(err, 'ENOENT')) throw new Missing();
      throw eio(what, err);
    }
    try {
      const st = await new Promise<Stats>((res, rej) => fstat(fd, (err, s) => (err ? rej(err) : res(s))));
      if (st.size !== size) throw wrongSize(blob, st.size, size);
      const key = fileKey(st);
      const known = this.verdicts.get(key);
      if (known === false) throw new KnownCorrupt(blob);
      if (known === undefined && fetched) this.verdicts.set(key, true);
      else if (known === undefined && !this.judge(key, blob, await hashFd(fd, st.size, this.init.progress))) throw corruptObject(blob);
      const b: OpenBlob = { fd, busy: 0, evicted: false, verified: key };
      this.open.set(blob, b);
      return b;
    } catch (err) {
      close(fd, () => {});
      throw eio(what, err, err instanceof KnownCorrupt);
    }
  }

  /** openBlob with blocking calls. */
  private openBlobSync(blob: ObjectId, size: number, what: string, fetched = false): OpenBlob {
    let fd: number;
    try {
      fd = openSync(this.init.pathOf(blob), 'r');
    } catch (err) {
      if (!fetched && this.canFetch() && isErrno(err, 'ENOENT')) throw new Missing();
      throw eio(what, err);
    }
    try {
      const st = fstatSync(fd);
      if (st.size !== size) throw wrongSize(blob, st.size, size);
      const key = fileKey(st);
      const known = this.verdicts.get(key);
      if (known === false) throw new KnownCorrupt(blob);
      if (known === undefined && fetched) this.verdicts.set(key, true);
      else if (known === undefined && !this.judge(key, blob, hashFdSync(fd, this.init.progress))) throw corruptObject(blob);
      const b: OpenBlob = { fd, busy: 0, evicted: false, verified: key };
      this.open.set(blob, b);
      return b;
    } catch (err) {
      closeSync(fd);
      throw eio(what, err, err instanceof KnownCorrupt);
    }
  }

  /** Records the verdict on the file `key` whose bytes hashed to `got` (of `bytes` bytes). */
  private judge(key: string, blob: ObjectId, got: { id: ObjectId; bytes: number }): boolean {
    this.stats.hashed++;
    this.stats.hashedBytes += got.bytes;
    const ok = got.id === blob;
    if (!ok) this.stats.corrupt++;
    this.verdicts.set(key, ok);
    return ok;
  }

  /** True while the open file is still the one whose bytes were verified. */
  private async unchanged(b: OpenBlob, blob: ObjectId, size: number, what: string): Promise<boolean> {
    if (b.bytes) return true;
    try {
      const st = this.sync ? fstatSync(b.fd) : await new Promise<Stats>((res, rej) => fstat(b.fd, (err, s) => (err ? rej(err) : res(s))));
      return fileKey(st) === b.verified;
    } catch (err) {
      throw eio(what, err);
    }
  }

  /** Closes every cached file (in-flight reads finish first). */
  close(): void {
    this.open.clear();
  }
}

/** The error for an object file whose bytes do not hash to its id. */
function corruptObject(blob: ObjectId): Error {
  return new Error(`object ${blob} is corrupt: its bytes do not hash to its id, so none is served (trove fsck lists what uses it)`);
}

/** The error for a blob of `bytes` bytes where its tree says `size`. */
function wrongSize(blob: ObjectId, bytes: number, size: number): Error {
  return new Error(`object ${blob} has ${bytes} bytes, the tree says ${size}`);
}

/** A blob not in the store, which the reader's fetcher may bring. */
class Missing extends Error {}

/** An object file already found corrupt: refused again without another line in the log. */
class KnownCorrupt extends Error {
  constructor(blob: ObjectId) {
    super(corruptObject(blob).message);
  }
}

/** SHA-256 of a whole open file, with blocking reads. */
function hashFdSync(fd: number, progress?: () => void): { id: ObjectId; bytes: number } {
  const h = newHasher();
  const buf = (syncHashBuffer ??= Buffer.allocUnsafe(HASH_CHUNK));
  let pos = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, HASH_CHUNK, pos);
    if (n === 0) break;
    h.update(buf.subarray(0, n));
    pos += n;
    progress?.();
  }
  return { id: h.digest('hex'), bytes: pos };
}

/** SHA-256 of a whole open file, through the thread pool. */
async function hashFd(fd: number, size: number, progress?: () => void): Promise<{ id: ObjectId; bytes: number }> {
  const h = newHasher();
  // Reads may overlap here, so each has its own buffer: no larger than the file (plus one byte to see its end).
  const buf = Buffer.allocUnsafe(Math.min(HASH_CHUNK, size + 1));
  let pos = 0;
  for (;;) {
    const n = await readAt(fd, buf, 0, buf.length, pos);
    if (n === 0) break;
    h.update(buf.subarray(0, n));
    pos += n;
    progress?.();
  }
  return { id: h.digest('hex'), bytes: pos };
}

function readAt(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  return new Promise((res, rej) => read(fd, buf, off, len, pos, (err, n) => (err ? rej(err) : res(n))));
}
