import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { newHasher, type ObjectId } from '../util/hash.js';
import { copyHashedSync } from '../util/hash-file.js';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';

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
const { openSync, writeSync, closeSync } = require('node:fs');
const state = new Int32Array(workerData.state);
const port = workerData.port;
let fd;
port.on('message', (m) => {
  try {
    if (Atomics.load(state, 1) !== 0) return;
    if (m.kind === 'chunk') {
      if (m.first) fd = openSync(m.path, 'wx', m.mode);
      const bytes = new Uint8Array(m.buf, 0, m.n);
      for (let off = 0; off < m.n; ) off += writeSync(fd, bytes, off, m.n - off);
      return;
    }
    if (m.kind === 'end') {
      const f = fd;
      fd = undefined;
      if (f !== undefined) closeSync(f);
      return;
    }
    const bytes = new Uint8Array(m.buf);
    let start = 0;
    for (let i = 0; i < m.modes.length; i++) {
      const fd = openSync(m.paths[i], 'w', m.modes[i]);
      try {
        for (let off = start; off < m.ends[i]; ) off += writeSync(fd, bytes, off, m.ends[i] - off);
      } finally {
        closeSync(fd);
      }
      start = m.ends[i];
    }
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
    port.postMessage({ message: err.message, code: err.code, errno: err.errno, syscall: err.syscall, path: err.path });
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

/** Files per batch, and bytes; batches (or chunks) in flight before the caller waits. */
const BATCH_FILES = 64;
const BATCH_BYTES = 2 << 20;
const IN_FLIGHT = 8;

export class StagedFileWriter {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  /** [0]: batches written; [1]: 1 once a write failed (its error waits on the port); [2]: 1 once the thread runs. */
  private readonly state = new Int32Array(new SharedArrayBuffer(12));
  private sent = 0;
  /** The batch being filled: its bytes (copied in as files come), and per file the path, mode and end offset. */
  private buf = new Uint8Array(0);
  private at = 0;
  private paths: string[] = [];
  private modes: number[] = [];
  private ends: number[] = [];
  private failure: Error | undefined;
  /** Files this thread wrote, and the second one. */
  readonly counts = { here: 0, there: 0 };

  /** Throws when the thread cannot be made: the caller writes alone. `script`: another only in tests. */
  constructor(script = SCRIPT) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(script, { eval: true, workerData: { state: this.state.buffer, port: port2 }, transferList: [port2] });
    // A thread that cannot start says so by an 'error' event: its files are then written by the caller (see write).
    this.worker.on('error', () => undefined);
    // A transaction dropped without commit or abort must not keep the process alive.
    this.worker.unref();
    this.port.unref();
  }

  /** Writes `bytes` to a new (or truncated) file at `path` with `mode`, here or in the thread. */
  write(path: string, bytes: Uint8Array, mode: number): void {
    this.check();
    if (Atomics.load(this.state, 2) !== 1) {
      writeFileSync(path, bytes, { mode, flag: 'w' });
      this.counts.here++;
      return;
    }
    if (this.at + bytes.length > this.buf.length) {
      this.send();
      this.buf = new Uint8Array(Math.max(BATCH_BYTES, bytes.length));
    }
    this.buf.set(bytes, this.at);
    this.at += bytes.length;
    this.paths.push(path);
    this.modes.push(mode);
    this.ends.push(this.at);
    this.counts.there++;
    if (this.paths.length >= BATCH_FILES) this.send();
  }

  /**
   * Copies file `src` to a new file `dest` with `mode`, hashing it: this
   * thread reads and hashes chunk by chunk, the other writes, and this one
   * returns once `dest` is whole (the caller renames or removes it next).
   */
  copyHashed(src: string, dest: string, mode: number): { id: ObjectId; size: number } {
    this.check();
    if (Atomics.load(this.state, 2) !== 1) return copyHashedSync(src, dest, mode);
    this.send();
    const h = newHasher();
    let size = 0;
    const fin = openSync(src, 'r');
    try {
      for (let first = true; ; first = false) {
        const buf = new ArrayBuffer(CHUNK);
        const n = readSync(fin, new Uint8Array(buf), 0, CHUNK, null);
        if (n === 0 && !first) break;
        h.update(new Uint8Array(buf, 0, n));
        size += n;
        this.port.postMessage({ kind: 'chunk', path: dest, mode, first, buf, n }, [buf]);
        this.sent++;
        this.waitFor(this.sent - IN_FLIGHT);
        if (n === 0) break;
      }
    } finally {
      closeSync(fin);
      this.port.postMessage({ kind: 'end' });
      this.sent++;
    }
    this.counts.there++;
    this.flush();
    return { id: h.digest('hex'), size };
  }

  /** Waits until every file given is written; throws the thread's first error. */
  flush(): void {
    this.send();
    this.waitFor(this.sent);
    this.check();
  }

  /** Stops the thread (after `flush`, or to drop what is left). */
  async close(): Promise<void> {
    this.port.close();
    await this.worker.terminate();
  }

  /** Sends the batch being filled, then waits while more than IN_FLIGHT batches are unwritten. */
  private send(): void {
    if (this.paths.length === 0) return;
    const buf = this.buf.buffer as ArrayBuffer;
    this.port.postMessage({ paths: this.paths, modes: Int32Array.from(this.modes), ends: Float64Array.from(this.ends), buf }, [buf]);
    this.sent++;
    this.buf = new Uint8Array(0);
    this.at = 0;
    this.paths = [];
    this.modes = [];
    this.ends = [];
    this.waitFor(this.sent - IN_FLIGHT);
  }

  /** Blocks until at least `n` batches are written (the thread runs: it was when they were sent). */
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
    const m = receiveMessageOnPort(this.port)?.message as (Record<string, unknown> & { message: string }) | undefined;
    const { message, ...fields } = m ?? { message: "the transaction's file writer failed" };
    this.failure = Object.assign(new Error(message), fields);
    throw this.failure;
  }
}
