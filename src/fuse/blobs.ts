import { close, closeSync, fstat, fstatSync, open, openSync, read, readSync } from 'node:fs';
import type { ObjectId } from '../util/hash.js';
import { eio, FsError } from './errno.js';
import { Lru } from './lru.js';
import type { ObjectFiles } from '../store/types.js';

/** An open object file, shared by every read of the same blob. */
interface OpenBlob {
  fd: number;
  /** Reads in flight; the fd is closed only when the cache has let go and this is 0. */
  busy: number;
  evicted: boolean;
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
}

/**
 * Reads file content straight from the object files, at any offset, with no
 * copy in between: `fs.read` fills the buffer FUSE hands us. Blobs are not
 * re-hashed here (random access cannot be), but an object file whose size is
 * not the size the tree promised is refused with EIO, and so is a short read.
 */
export class BlobReader {
  private readonly open: Lru<ObjectId, OpenBlob>;
  private readonly opening = new Map<ObjectId, Promise<OpenBlob>>();

  private readonly sync: boolean;

  constructor(private readonly init: BlobReaderInit) {
    this.sync = init.sync ?? true;
    this.open = new Lru({
      maxCost: init.maxOpen ?? 256,
      onEvict: (b) => {
        b.evicted = true;
        if (b.busy === 0) close(b.fd, () => {});
      },
    });
  }

  /** Fills `buf[0..len)` from byte `pos` of a blob of `size` bytes; resolves to the count (0 at the end). */
  async read(blob: ObjectId, size: number, buf: Buffer, len: number, pos: number, what: string): Promise<number> {
    if (pos >= size || len <= 0) return 0;
    const want = Math.min(len, size - pos, buf.length);
    const b = await this.get(blob, size, what);
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
      if (b.busy === 0 && b.evicted) close(b.fd, () => {});
    }
  }

  private get(blob: ObjectId, size: number, what: string): Promise<OpenBlob> {
    const hit = this.open.get(blob);
    if (hit) return Promise.resolve(hit);
    let p = this.opening.get(blob);
    if (!p && this.sync) {
      try {
        return Promise.resolve(this.openBlobSync(blob, size, what));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    if (!p) {
      p = this.openBlob(blob, size, what).finally(() => this.opening.delete(blob));
      this.opening.set(blob, p);
    }
    return p;
  }

  private async openBlob(blob: ObjectId, size: number, what: string): Promise<OpenBlob> {
    let fd: number;
    try {
      fd = await new Promise<number>((res, rej) => open(this.init.pathOf(blob), 'r', (err, f) => (err ? rej(err) : res(f))));
    } catch (err) {
      throw eio(what, err);
    }
    const actual = await new Promise<number>((res, rej) => fstat(fd, (err, st) => (err ? rej(err) : res(st.size)))).catch(
      (err: unknown) => {
        close(fd, () => {});
        throw eio(what, err);
      },
    );
    if (actual !== size) {
      close(fd, () => {});
      throw eio(what, new Error(`object ${blob} has ${actual} bytes, the tree says ${size}`));
    }
    const b: OpenBlob = { fd, busy: 0, evicted: false };
    this.open.set(blob, b);
    return b;
  }

  private openBlobSync(blob: ObjectId, size: number, what: string): OpenBlob {
    let fd: number;
    let actual: number;
    try {
      fd = openSync(this.init.pathOf(blob), 'r');
    } catch (err) {
      throw eio(what, err);
    }
    try {
      actual = fstatSync(fd).size;
    } catch (err) {
      closeSync(fd);
      throw eio(what, err);
    }
    if (actual !== size) {
      closeSync(fd);
      throw eio(what, new Error(`object ${blob} has ${actual} bytes, the tree says ${size}`));
    }
    const b: OpenBlob = { fd, busy: 0, evicted: false };
    this.open.set(blob, b);
    return b;
  }

  /** Closes every cached file (in-flight reads finish first). */
  close(): void {
    this.open.clear();
  }
}

function readAt(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  return new Promise((res, rej) => read(fd, buf, off, len, pos, (err, n) => (err ? rej(err) : res(n))));
}
