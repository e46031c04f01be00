import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { newHasher, type ObjectId } from '../util/hash.js';
import { copyHashedSync } from '../util/hash-file.js';
import { ERROR_OF_SOURCE, errorFromThread, type ThreadError } from '../util/thread-error.js';
import type { MessagePort, Worker } from 'node:worker_threads';
import { workerThreads } from '../util/child.js';
import { publishedMode } from './types.js';

/**
 * A second thread that writes a transaction's staged content files, for
 * imports that run without yielding (a commit of a directory is one
 * synchronous walk): the walk reads and hashes, this thread creates and
 * writes (docs/design-notes.md, "Commits on two cores").
 *
 * Everything here is blocking, for a caller that never yields. Files go in
 * batches: their bytes are copied into one buffer as they come, and the
 * buffer is moved to the thread.
 * Until the thread says it runs, files are written by the caller, so a
 * thread that cannot start loses nothing and stalls nothing. Once it runs,
 * the caller waits (Atomics.wait) only when eight batches are in flight,
 * and `flush` waits for all of them. The thread's first error is raised by
 * the next call after it, with the error's code and path; what was staged
 * is then the transaction's to drop.
 */
const SCRIPT = `
const { workerData } = require('node:worker_threads');
const { openSync, writeSync, closeSync, renameSync, unlinkSync, statSync, chmodSync } = require('node:fs');
${ERROR_OF_SOURCE}
const state = new Int32Array(workerData.state);
const ring = new Uint8Array(workerData.ring);
const port = workerData.port;
const writeAll = (fd, start, end) => {
  for (let off = start; off < end; ) off += writeSync(fd, ring, off, end - off);
};
let fd;
port.on('message', (m) => {
  try {
    if (Atomics.load(state, 1) !== 0) return;
    if (m.kind === 'chunk') {
      if (m.first) fd = openSync(m.path, 'wx', m.mode);
      return writeAll(fd, m.start, m.end);
    }
    if (m.kind === 'end') {
      const f = fd;
      fd = undefined;
      if (f !== undefined) closeSync(f);
      return;
    }
    if (m.kind === 'rename') return renameSync(m.from, m.to);
    if (m.kind === 'unlink') return unlinkSync(m.path);
    if (m.kind === 'publish') {
      const mode = statSync(m.path).mode;
      if ((mode & 0o004) === 0) chmodSync(m.path, mode & 0o100 ? m.exec : m.plain);
      return;
    }
    for (let i = 0; i < m.modes.length; i++) {
      const f = openSync(m.paths[i], 'w', m.modes[i]);
      try {
        writeAll(f, m.starts[i], m.ends[i]);
      } finally {
        closeSync(f);
      }
    }
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
    port.postMessage(errorOf(err));
    Atomics.store(state, 1, 1);
  } finally {
    // Every batch is counted, written or not, so the caller's wait always ends.
    Atomics.add(state, 0, 1);
    Atomics.notify(state, 0);
  }
});
Atomics.store(state, 2, 1);
`;

/** Bytes per chunk of a copied file. */
const CHUNK = 1 << 20;

/**
 * The ring both threads share: file bytes are copied into it (a chunk of a
 * large file is read straight into it) and written out of it, so memory is
 * this much whatever the size of the import. Files per batch, and bytes: a
 * batch holds at most this much, so that a file up to 8 MiB (the largest
 * the import reads whole), plus the end of the ring it skips, always fits.
 */
const RING = 16 << 20;
const BATCH_FILES = 64;
const BATCH_BYTES = 2 << 20;

export class StagedFileWriter {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  /** [0]: messages handled; [1]: 1 once a write failed (its error waits on the port); [2]: 1 once the thread runs. */
  private readonly state = new Int32Array(new SharedArrayBuffer(12));
  private readonly ring = new Uint8Array(new SharedArrayBuffer(RING));
  /** Messages sent. */
  private sent = 0;
  /** Next free offset in the ring, and ring bytes held by messages sent and not yet handled (and by the batch being filled). */
  private pos = 0;
  private used = 0;
  private readonly held: { seq: number; bytes: number }[] = [];
  /** The last reservation: where the ring's free space started before it, and the bytes it took. */
  private last = { pos: 0, bytes: 0 };
  /** The batch being filled: per file the path, mode and ring range, and the ring bytes it holds. */
  private paths: string[] = [];
  private modes: number[] = [];
  private starts: number[] = [];
  private ends: number[] = [];
  private batchBytes = 0;
  private failure: Error | undefined;
  /** The ring bytes `lend` gave out, until a `write` of them takes them or the next call gives them back. */
  private lent: { at: number; n: number } | undefined;
  /** Files this thread wrote, and the second one. */
  readonly counts = { here: 0, there: 0 };

  /** Throws when the thread cannot be made: the caller writes alone. `script`: another only in tests. */
  constructor(script = SCRIPT) {
    const { port1, port2 } = new (workerThreads().MessageChannel)();
    this.port = port1;
    this.worker = new (workerThreads().Worker)(script, { eval: true, workerData: { state: this.state.buffer, ring: this.ring.buffer, port: port2 }, transferList: [port2] });
    // A thread that cannot start says so by an 'error' event: its files are then written by the caller (see write).
    this.worker.on('error', () => undefined);
    // A transaction dropped without commit or abort must not keep the process alive.
    this.worker.unref();
    this.port.unref();
  }

  /**
   * Room in the ring for a file of `n` bytes that the caller reads there:
   * a `write` of those bytes that follows (the whole room or its start)
   * takes them where they are, without a copy. Any other call first gives
   * the room back. Undefined when the thread does not run or `n` is more
   * than `write` puts in the ring: the caller reads elsewhere.
   */
  lend(n: number): Uint8Array | undefined {
    this.giveBack();
    this.check();
    if (!this.running() || n > RING / 2) return undefined;
    if (this.batchBytes + n > BATCH_BYTES) this.send();
    const at = this.reserve(n);
    this.lent = { at, n };
    return this.ring.subarray(at, at + n);
  }

  /** Gives back the room `lend` gave out and no `write` took (it is the last reservation). */
  private giveBack(): void {
    if (!this.lent) return;
    this.lent = undefined;
    this.unreserve();
  }

  /** Writes `bytes` to a new (or truncated) file at `path` with `mode`, here or in the thread. */
  write(path: string, bytes: Uint8Array, mode: number): void {
    const lent = this.lent;
    if (lent && bytes.buffer === this.ring.buffer && bytes.byteOffset === lent.at && bytes.length <= lent.n) {
      // Read into the room `lend` gave: its reservation is this file's, in the batch being filled.
      this.lent = undefined;
      this.check();
      this.add(path, mode, lent.at, lent.at + bytes.length);
      return;
    }
    this.giveBack();
    this.check();
    if (!this.running() || bytes.length > RING / 2) {
      writeFileSync(path, bytes, { mode, flag: 'w' });
      this.counts.here++;
      return;
    }
    if (this.batchBytes + bytes.length > BATCH_BYTES) this.send();
    const at = this.reserve(bytes.length);
    this.ring.set(bytes, at);
    this.add(path, mode, at, at + bytes.length);
  }

  /** Adds a file whose bytes are in the ring at [start, end) to the batch being filled. */
  private add(path: string, mode: number, start: number, end: number): void {
    this.paths.push(path);
    this.modes.push(mode);
    this.starts.push(start);
    this.ends.push(end);
    this.counts.there++;
    if (this.paths.length >= BATCH_FILES) this.send();
  }

  /**
   * Copies file `src` to a new file `dest` with `mode`, hashing it: this
   * thread reads each chunk into the ring and hashes it there, the other
   * writes it. Returns when the last chunk is sent, not written: the caller
   * then renames or removes `dest` through `rename` or `unlink`, which the
   * thread does after the last chunk (once the thread does not run, the
   * copy is made here, and `dest` is whole on return).
   */
  copyHashed(src: string, dest: string, mode: number): { id: ObjectId; size: number } {
    this.giveBack();
    this.check();
    if (!this.running()) return copyHashedSync(src, dest, mode);
    this.send();
    const h = newHasher();
    let size = 0;
    const fin = openSync(src, 'r');
    try {
      for (let first = true; ; first = false) {
        const at = this.reserve(CHUNK);
        const n = readSync(fin, this.ring, at, CHUNK, null);
        if (n === 0 && !first) {
          this.unreserve();
          break;
        }
        h.update(this.ring.subarray(at, at + n));
        size += n;
        this.post({ kind: 'chunk', path: dest, mode, first, start: at, end: at + n });
        if (n === 0) break;
      }
    } finally {
      closeSync(fin);
      this.post({ kind: 'end' });
    }
    this.counts.there++;
    return { id: h.digest('hex'), size };
  }

  /** Renames a file `copyHashed` wrote, in the thread, after its last chunk. */
  rename(from: string, to: string): void {
    this.giveBack();
    this.check();
    this.post({ kind: 'rename', from, to });
  }

  /** Removes a file `copyHashed` wrote, in the thread, after its last chunk. */
  unlink(path: string): void {
    this.giveBack();
    this.check();
    this.post({ kind: 'unlink', path });
  }

  /**
   * Makes the file at `path` readable by others if it is not (publishedMode),
   * in the thread, after every write, rename or publish sent before: the
   * caller need not wait for the file to be there.
   */
  publish(path: string): void {
    this.giveBack();
    this.check();
    // The file may be in the batch being filled.
    this.send();
    this.post({ kind: 'publish', path, plain: publishedMode(0), exec: publishedMode(0o100) });
  }

  /** Whether the thread runs (files go to it only then). */
  running(): boolean {
    return Atomics.load(this.state, 2) === 1;
  }

  /**
   * `n` contiguous bytes of the ring for the batch being filled (or the
   * next chunk), skipping the end of the ring when they do not fit there;
   * waits while messages not yet handled hold the space.
   */
  private reserve(n: number): number {
    const wrap = this.pos + n > RING;
    const skip = wrap ? RING - this.pos : 0;
    while (this.used + skip + n > RING) {
      const handled = Atomics.load(this.state, 0);
      while (this.held.length > 0 && this.held[0]!.seq < handled) this.used -= this.held.shift()!.bytes;
      if (this.used + skip + n <= RING) break;
      Atomics.wait(this.state, 0, handled, 1000);
    }
    const at = wrap ? 0 : this.pos;
    this.last = { pos: this.pos, bytes: skip + n };
    this.pos = at + n;
    this.used += skip + n;
    this.batchBytes += skip + n;
    return at;
  }

  /** Gives back the last `reserve`, unused. */
  private unreserve(): void {
    this.pos = this.last.pos;
    this.used -= this.last.bytes;
    this.batchBytes -= this.last.bytes;
    this.last = { pos: this.pos, bytes: 0 };
  }

  /** Sends a message; the ring bytes reserved since the last one are held until the thread has handled it. */
  private post(m: Record<string, unknown>): void {
    this.port.postMessage(m);
    if (this.batchBytes > 0) this.held.push({ seq: this.sent, bytes: this.batchBytes });
    this.batchBytes = 0;
    this.sent++;
  }

  /** Sends the batch being filled. */
  private send(): void {
    if (this.paths.length === 0) return;
    this.post({ paths: this.paths, modes: Int32Array.from(this.modes), starts: Float64Array.from(this.starts), ends: Float64Array.from(this.ends) });
    this.paths = [];
    this.modes = [];
    this.starts = [];
    this.ends = [];
  }

  /** Waits until every file given is written; throws the thread's first error. */
  flush(): void {
    this.giveBack();
    this.send();
    this.waitFor(this.sent);
    this.check();
  }

  /** Stops the thread (after `flush`, or to drop what is left). */
  async close(): Promise<void> {
    this.port.close();
    await this.worker.terminate();
  }

  /** Blocks until the thread has handled at least `n` messages (it runs: it did when they were sent). */
  private waitFor(n: number): void {
    for (;;) {
      const done = Atomics.load(this.state, 0);
      if (done >= n) return;
      Atomics.wait(this.state, 0, done, 1000);
    }
  }

  private check(): void {
    if (this.failure) throw this.failure;
    if (Atomics.load(this.state, 1) === 0) return;
    const m = workerThreads().receiveMessageOnPort(this.port)?.message as ThreadError | undefined;
    this.failure = errorFromThread(m ?? { message: "the transaction's file writer failed" });
    throw this.failure;
  }
}
