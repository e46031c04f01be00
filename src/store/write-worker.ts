import { rmSync, writeFileSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { workerThreads } from '../util/child.js';
import type { ObjectId } from '../util/hash.js';
import { ERROR_OF_SOURCE, errorFromThread, type ThreadError } from '../util/thread-error.js';

/**
 * A second thread that writes verified objects into a disk store: for each,
 * a temp file (created exclusively, with the object's mode), its bytes, and
 * the rename into `objects/`, making the shard directory when it is missing.
 * A pull spends as much of its thread on these system calls as on HTTP and
 * hashing together; with them beside it, the two run on two cores
 * (docs/design-notes.md, "Pulled objects written by a second thread").
 *
 * Objects go in batches: their bytes copied into one buffer that is moved,
 * not copied, to the worker. Each `write` resolves once its object is in
 * place, so a caller that installs a tree only after its children still
 * does. A failed write (no space, a read-only store) fails its own batch and
 * every later one; the temp file of a failed object is removed. A thread
 * that dies is no failed write: what it did not answer, and everything
 * after, is written in the caller's thread.
 */
export const WRITER_SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, writeSync, closeSync, renameSync, mkdirSync, rmSync } = require('node:fs');
const { dirname } = require('node:path');
const written = new Int32Array(workerData.written);
${ERROR_OF_SOURCE}
const place = (tmp, dest) => {
  try {
    renameSync(tmp, dest);
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
    mkdirSync(dirname(dest), { recursive: true });
    renameSync(tmp, dest);
  }
};
const streams = new Map();
let failed = false;
parentPort.on('message', (m) => {
  if (m === null) return parentPort.postMessage({ kind: 'end' });
  if (m.kind === 'open') {
    const s = { tmp: m.tmp, fd: undefined, error: undefined };
    try {
      s.fd = openSync(m.tmp, 'wx', m.mode);
    } catch (err) {
      s.error = err;
    }
    return streams.set(m.sid, s);
  }
  if (m.kind === 'chunk') {
    const s = streams.get(m.sid);
    const bytes = new Uint8Array(m.buf);
    try {
      if (s.error === undefined) for (let off = 0; off < bytes.length; ) off += writeSync(s.fd, bytes, off);
    } catch (err) {
      s.error = err;
    }
    // In KiB: the stream's sender waits while too much is sent and not yet written.
    Atomics.add(written, 0, Math.ceil(bytes.length / 1024));
    return Atomics.notify(written, 0);
  }
  if (m.kind === 'close') {
    const s = streams.get(m.sid);
    streams.delete(m.sid);
    try {
      if (s.fd !== undefined) closeSync(s.fd);
      if (s.error === undefined && m.dest !== null) place(s.tmp, m.dest);
    } catch (err) {
      s.error ??= err;
    }
    if (s.error !== undefined || m.dest === null) rmSync(s.tmp, { force: true });
    return parentPort.postMessage({ kind: 'stream', sid: m.sid, error: s.error && errorOf(s.error) });
  }
  const { seq, paths, modes, ends, buf } = m;
  if (failed) return parentPort.postMessage({ kind: 'batch', seq });
  const bytes = new Uint8Array(buf);
  let start = 0;
  for (let i = 0; i < modes.length; i++) {
    const tmp = paths[2 * i], dest = paths[2 * i + 1];
    try {
      const fd = openSync(tmp, 'wx', modes[i]);
      try {
        for (let off = start; off < ends[i]; ) off += writeSync(fd, bytes, off, ends[i] - off);
      } finally {
        closeSync(fd);
      }
      place(tmp, dest);
    } catch (err) {
      failed = true;
      rmSync(tmp, { force: true });
      return parentPort.postMessage({ kind: 'batch', seq, error: errorOf(err) });
    }
    start = ends[i];
  }
  parentPort.postMessage({ kind: 'batch', seq });
});
`;

/** What the writer needs of a disk store. */
export interface WritableObjects {
  tempPath(tag?: string): string;
  pathOf(id: ObjectId): string;
  /** Counts objects about to be added (DiskStore's added log), before they are. */
  noteAdded(n: number): void;
  /** Renames a complete object file into place (DiskStore.placeSync): the writes made in the caller's thread. */
  placeSync(tmpPath: string, id: ObjectId): void;
}

interface Pending {
  id: ObjectId;
  tmp: string;
  dest: string;
  bytes: Uint8Array;
  mode: number;
  done: () => void;
  fail: (err: Error) => void;
}

/** A large object written by the worker as its bytes arrive (ObjectWriteWorker.stream). */
export interface ObjectStream {
  /** Sends the next bytes; a promise when too many sent bytes wait to be written (wait for it before the next). */
  push(chunk: Uint8Array): Promise<void> | undefined;
  /** Closes the temp file and renames it into place as object `id`; rejects with the first error writing it. */
  finish(id: ObjectId): Promise<void>;
  /** Closes and removes the temp file. */
  abort(): Promise<void>;
}

/** Atomics.waitAsync, in Node since 16; ES2024 in TypeScript's libraries, which the build does not take whole for one function. */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, ms: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

/** KiB of stream chunks that may wait for the worker before a sender waits too. */
const STREAM_BACKLOG_KIB = 16 << 10;

/** Objects per batch, and bytes: a batch is sent when either is reached, or when the event loop turns. */
const BATCH_OBJECTS = 128;
const BATCH_BYTES = 4 << 20;

export class ObjectWriteWorker {
  private readonly worker: Worker;
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private scheduled = false;
  private seq = 0;
  private readonly inFlight = new Map<number, Pending[]>();
  /** KiB of stream chunks the worker wrote (it counts them up), and KiB sent: the difference is waiting in memory. */
  private readonly written = new Int32Array(new SharedArrayBuffer(4));
  private sentKiB = 0;
  private streams = 0;
  private readonly openStreams = new Map<number, { done: () => void; fail: (err: Error) => void }>();
  /** The first write that failed (its error), after which every write fails. */
  private failure: Error | undefined;
  /** Set once the thread is gone without being asked to stop: writes are then made in this thread. */
  private gone = false;
  private readonly ended: Promise<void>;

  /** Throws when the thread cannot be made: the caller writes in its own thread. `script`: another only in tests. */
  constructor(
    private readonly store: WritableObjects,
    script = WRITER_SCRIPT,
  ) {
    this.worker = new (workerThreads().Worker)(script, { eval: true, workerData: { written: this.written.buffer } });
    this.ended = new Promise<void>((resolve) => {
      let settled = false;
      const settle = (lost: boolean): void => {
        if (settled) return;
        settled = true;
        if (lost) this.takeOver();
        resolve();
      };
      this.worker.on('message', (m: { kind: 'batch' | 'stream'; seq: number; sid: number; error?: ThreadError } | { kind: 'end' }) => {
        if (m.kind === 'end') return settle(false);
        if (m.kind === 'stream') {
          const s = this.openStreams.get(m.sid);
          this.openStreams.delete(m.sid);
          if (m.error) s?.fail(errorFromThread(m.error));
          else s?.done();
          return;
        }
        const batch = this.inFlight.get(m.seq) ?? [];
        this.inFlight.delete(m.seq);
        if (m.error) this.failure ??= errorFromThread(m.error);
        for (const p of batch) {
          if (this.failure) p.fail(this.failure);
          else p.done();
        }
      });
      // A thread that dies (no memory to start it, say) is not a failed write: what it did not answer is written here.
      this.worker.on('error', () => settle(true));
      this.worker.on('exit', () => settle(true));
    });
  }

  /** Writes object `id` (bytes already verified against it) with `mode`; resolves once it is in the store. */
  write(id: ObjectId, bytes: Uint8Array, mode: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((done, fail) => {
      const p: Pending = { id, tmp: this.store.tempPath('pull'), dest: this.store.pathOf(id), bytes, mode, done, fail };
      if (this.gone) {
        this.store.noteAdded(1);
        return this.writeHere(p);
      }
      this.queue.push(p);
      this.queuedBytes += bytes.length;
      if (this.queue.length >= BATCH_OBJECTS || this.queuedBytes >= BATCH_BYTES) this.send();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.send();
        });
      }
    });
  }

  private send(): void {
    if (this.queue.length === 0 || this.gone) return;
    const batch = this.queue;
    this.queue = [];
    const buf = new ArrayBuffer(this.queuedBytes);
    this.queuedBytes = 0;
    const view = new Uint8Array(buf);
    const paths: string[] = [];
    const modes = new Int32Array(batch.length);
    const ends = new Float64Array(batch.length);
    let at = 0;
    batch.forEach((p, i) => {
      view.set(p.bytes, at);
      at += p.bytes.length;
      ends[i] = at;
      modes[i] = p.mode;
      paths.push(p.tmp, p.dest);
    });
    // Counted before they are added, as a rename in this thread is.
    this.store.noteAdded(batch.length);
    const seq = this.seq++;
    this.inFlight.set(seq, batch);
    this.worker.postMessage({ seq, paths, modes, ends, buf }, [buf]);
  }

  /**
   * A large object whose bytes the worker writes as they arrive, to temp
   * file `tmp` with `mode`; undefined once the thread is gone (the caller
   * then writes it itself). The caller hashes and checks the bytes, and
   * ends the stream with `finish` (the object goes into place) or `abort`.
   */
  stream(tmp: string, mode: number): ObjectStream | undefined {
    if (this.gone) return undefined;
    const sid = this.streams++;
    this.worker.postMessage({ kind: 'open', sid, tmp, mode });
    const end = (dest: string | null): Promise<void> => {
      if (this.gone) return Promise.reject(new Error(`the object writer stopped before ${tmp} was written`));
      if (dest !== null) this.store.noteAdded(1);
      return new Promise<void>((done, fail) => {
        this.openStreams.set(sid, { done, fail });
        this.worker.postMessage({ kind: 'close', sid, dest });
      });
    };
    return {
      push: (chunk) => {
        if (this.gone) throw new Error(`the object writer stopped before ${tmp} was written`);
        const buf = new ArrayBuffer(chunk.length);
        new Uint8Array(buf).set(chunk);
        this.sentKiB += Math.ceil(chunk.length / 1024);
        this.worker.postMessage({ kind: 'chunk', sid, buf }, [buf]);
        return this.sentKiB - Atomics.load(this.written, 0) > STREAM_BACKLOG_KIB ? this.drain() : undefined;
      },
      finish: (id) => end(this.store.pathOf(id)),
      abort: () => end(null),
    };
  }

  /** Waits until at most STREAM_BACKLOG_KIB of stream chunks are sent and not yet written. */
  private async drain(): Promise<void> {
    for (;;) {
      const now = Atomics.load(this.written, 0);
      if (this.gone || this.sentKiB - now <= STREAM_BACKLOG_KIB) return;
      const w = waitAsync(this.written, 0, now, 1000);
      if (w.async) await w.value;
    }
  }

  /** The thread is gone: every write it did not answer, and every later one, is made in this thread. */
  private takeOver(): void {
    this.gone = true;
    // A stream's chunks went with the thread: that object fails, to be fetched again.
    for (const s of this.openStreams.values()) s.fail(new Error('the object writer stopped before a large object was written'));
    this.openStreams.clear();
    const left = [...[...this.inFlight.values()].flat(), ...this.queue.splice(0)];
    this.inFlight.clear();
    this.queuedBytes = 0;
    for (const p of left) this.writeHere({ ...p, tmp: this.store.tempPath('pull') });
  }

  /** One write, as the thread makes it, in this thread. */
  private writeHere(p: Pending): void {
    if (this.failure) return p.fail(this.failure);
    try {
      writeFileSync(p.tmp, p.bytes, { mode: p.mode, flag: 'wx' });
      this.store.placeSync(p.tmp, p.id);
      p.done();
    } catch (err) {
      rmSync(p.tmp, { force: true });
      this.failure ??= err as Error;
      p.fail(this.failure);
    }
  }

  /** Waits for every write sent, then stops the thread. */
  async close(): Promise<void> {
    this.send();
    if (!this.gone) this.worker.postMessage(null);
    await this.ended;
    await this.worker.terminate();
  }
}
