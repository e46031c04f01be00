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
 * Bytes reach the worker through a pool of memory both threads see (one
 * SharedArrayBuffer of POOL_SLOTS slots of SLOT bytes), never as buffers of
 * their own: small objects are copied into a slot as they are written and
 * go in batches, a large one's chunks fill slots one after the other. A
 * slot is reused once the worker says it wrote it, and a sender waits while
 * every slot is taken, so what waits to be written is bounded by the pool,
 * and neither thread's heap fills with buffers between collections.
 *
 * Each `write` resolves once its object is in place, so a caller that
 * installs a tree only after its children still does. A failed write (no
 * space, a read-only store) fails its own batch and every later one; the
 * temp file of a failed object is removed. A thread that dies is no failed
 * write: what it did not answer, and everything after, is written in the
 * caller's thread, from the slots it was given.
 */
export const WRITER_SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, writeSync, closeSync, renameSync, mkdirSync, rmSync } = require('node:fs');
const { dirname } = require('node:path');
const pool = new Uint8Array(workerData.pool);
const SLOT = workerData.slot;
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
    const end = m.slot * SLOT + m.len;
    try {
      if (s.error === undefined) for (let off = m.slot * SLOT; off < end; ) off += writeSync(s.fd, pool, off, end - off);
    } catch (err) {
      s.error = err;
    }
    return parentPort.postMessage({ kind: 'chunk', slot: m.slot });
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
  const { seq, slot, paths, modes, ends } = m;
  if (failed) return parentPort.postMessage({ kind: 'batch', seq });
  const base = slot * SLOT;
  let start = base;
  for (let i = 0; i < modes.length; i++) {
    const tmp = paths[2 * i], dest = paths[2 * i + 1];
    const end = base + ends[i];
    try {
      const fd = openSync(tmp, 'wx', modes[i]);
      try {
        for (let off = start; off < end; ) off += writeSync(fd, pool, off, end - off);
      } finally {
        closeSync(fd);
      }
      place(tmp, dest);
    } catch (err) {
      failed = true;
      rmSync(tmp, { force: true });
      return parentPort.postMessage({ kind: 'batch', seq, error: errorOf(err) });
    }
    start = end;
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
  /** The caller's bytes until they are copied into a slot, then the slot's view of them. */
  bytes: Uint8Array;
  mode: number;
  done: () => void;
  fail: (err: Error) => void;
}

/** A large object written by the worker as its bytes arrive (ObjectWriteWorker.stream). */
export interface ObjectStream {
  /** Sends the next bytes; a promise while they wait for a free slot (wait for it before the next). */
  push(chunk: Uint8Array): Promise<void> | undefined;
  /** Closes the temp file and renames it into place as object `id`; rejects with the first error writing it. */
  finish(id: ObjectId): Promise<void>;
  /** Closes and removes the temp file. */
  abort(): Promise<void>;
}

/**
 * The pool: 64 slots of 256 KiB (16 MiB). A pull streams up to 16 large
 * objects at once by default, each filling a slot of its own, which leaves
 * most for the batches; a stream waiting for bytes sends the slot it has
 * not filled when a sender waits for one, so more streams (`--jobs`) cannot
 * hold every slot. An object written whole that is larger than a slot (few:
 * 217 of the bench corpus's 24,000 files are between 256 KiB and 1 MiB) is
 * sent as a stream.
 */
export const SLOT = 256 << 10;
export const POOL_SLOTS = 64;
export const POOL_BYTES = SLOT * POOL_SLOTS;

/** Objects per batch at most: a batch is sent when its slot is full, it has this many, or the event loop turns. */
const BATCH_OBJECTS = 128;

/** A batch being filled: its slot, the bytes used, its objects. */
interface Batch {
  slot: number;
  used: number;
  items: Pending[];
}

/** Called with a free slot, or with undefined once the thread is gone. */
type SlotWaiter = (slot: number | undefined) => void;

export class ObjectWriteWorker {
  private readonly worker: Worker;
  private readonly pool = new SharedArrayBuffer(POOL_BYTES);
  private readonly free: number[] = Array.from({ length: POOL_SLOTS }, (_, i) => POOL_SLOTS - 1 - i);
  private readonly slotWaiters: SlotWaiter[] = [];
  /** Writes waiting for room in a batch. */
  private waiting: Pending[] = [];
  private batch: Batch | undefined;
  /** Set while the batches wait for a free slot. */
  private blocked = false;
  private scheduled = false;
  private seq = 0;
  private readonly inFlight = new Map<number, Batch>();
  private streams = 0;
  /** Streams closed and not yet answered, by id, with their temp files. */
  private readonly openStreams = new Map<number, { tmp: string; done: () => void; fail: (err: Error) => void }>();
  /** Resolved when no write waits for room any longer (close waits for it). */
  private drained: (() => void) | undefined;
  /** The first write that failed (its error), after which every write fails. */
  private failure: Error | undefined;
  /** Set once the thread is gone without being asked to stop: writes are then made in this thread. */
  private gone = false;
  /** Streams holding a slot they have not filled yet: each sends it, filled so far, when asked (a sender waits for a slot). */
  private readonly partial = new Set<() => void>();
  private closing: Promise<void> | undefined;
  private readonly ended: Promise<void>;

  /** Throws when the thread cannot be made: the caller writes in its own thread. `script`: another only in tests. */
  constructor(
    private readonly store: WritableObjects,
    script = WRITER_SCRIPT,
  ) {
    this.worker = new (workerThreads().Worker)(script, { eval: true, workerData: { pool: this.pool, slot: SLOT } });
    this.ended = new Promise<void>((resolve) => {
      let settled = false;
      const settle = (lost: boolean): void => {
        if (settled) return;
        settled = true;
        if (lost) this.takeOver();
        resolve();
      };
      type Message = { kind: 'batch'; seq: number; error?: ThreadError } | { kind: 'stream'; sid: number; error?: ThreadError } | { kind: 'chunk'; slot: number } | { kind: 'end' };
      this.worker.on('message', (m: Message) => {
        if (m.kind === 'end') return settle(false);
        if (m.kind === 'chunk') return this.release(m.slot);
        if (m.kind === 'stream') {
          const s = this.openStreams.get(m.sid);
          this.openStreams.delete(m.sid);
          if (m.error) s?.fail(errorFromThread(m.error));
          else s?.done();
          return;
        }
        const batch = this.inFlight.get(m.seq);
        if (!batch) return;
        this.inFlight.delete(m.seq);
        if (m.error) this.failure ??= errorFromThread(m.error);
        this.release(batch.slot);
        for (const p of batch.items) {
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
    // After close() began, a write is made here: the thread may be told to stop before it is sent.
    const here = this.gone || this.closing !== undefined;
    if (bytes.length > SLOT && !here) return this.writeStreamed(id, bytes, mode);
    return new Promise<void>((done, fail) => {
      const p: Pending = { id, tmp: this.store.tempPath('pull'), dest: this.store.pathOf(id), bytes, mode, done, fail };
      if (here) {
        this.store.noteAdded(1);
        return this.writeHere(p);
      }
      this.waiting.push(p);
      this.fill();
    });
  }

  /** An object larger than a slot, written as a stream of slots; in this thread if the thread is gone before it is written. */
  private async writeStreamed(id: ObjectId, bytes: Uint8Array, mode: number): Promise<void> {
    const tmp = this.store.tempPath('pull');
    let counted = false;
    const s = this.openStream(tmp, mode, () => (counted = true));
    if (s) {
      try {
        await s.push(bytes);
        await s.finish(id);
        return;
      } catch (err) {
        // A failed write fails every later one, as a failed batch does.
        if (!this.gone) throw (this.failure ??= err as Error);
      }
    }
    if (!counted) return this.write(id, bytes, mode);
    // Counted as added when its stream was closed: written here without counting it again.
    return new Promise<void>((done, fail) => this.writeHere({ id, tmp: this.store.tempPath('pull'), dest: this.store.pathOf(id), bytes, mode, done, fail }));
  }

  /** A free slot now, or undefined (then `wait` is called with one when it frees). */
  private take(wait: SlotWaiter): number | undefined {
    const slot = this.free.pop();
    if (slot === undefined) {
      this.slotWaiters.push(wait);
      // A stream waiting for bytes from the network may hold a slot it has not filled: it sends what it has.
      for (const flush of this.partial) {
        flush();
        break;
      }
    }
    return slot;
  }

  /** A slot the worker is done with goes to the first sender waiting for one. */
  private release(slot: number): void {
    const next = this.slotWaiters.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }

  /** Copies the writes waiting into batches, sending each batch that is full, while slots are free. */
  private fill(): void {
    if (this.blocked || this.gone) return;
    let i = 0;
    for (; i < this.waiting.length; i++) {
      const p = this.waiting[i]!;
      let b = this.batch;
      if (b && (b.used + p.bytes.length > SLOT || b.items.length >= BATCH_OBJECTS)) {
        this.send();
        b = undefined;
      }
      if (!b) {
        const slot = this.take((s) => {
          this.blocked = false;
          if (s === undefined) return;
          this.batch = { slot: s, used: 0, items: [] };
          this.fill();
        });
        if (slot === undefined) {
          this.blocked = true;
          break;
        }
        b = this.batch = { slot, used: 0, items: [] };
      }
      const view = new Uint8Array(this.pool, b.slot * SLOT + b.used, p.bytes.length);
      view.set(p.bytes);
      // The caller's buffer is let go: what a dead thread leaves is written from the slot.
      p.bytes = view;
      b.used += view.length;
      b.items.push(p);
    }
    this.waiting = i === this.waiting.length ? [] : this.waiting.slice(i);
    if (this.waiting.length === 0 && this.drained) {
      this.drained();
      this.drained = undefined;
    }
    if (this.batch && this.batch.items.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.send();
      });
    }
  }

  /** Sends the batch being filled. */
  private send(): void {
    const b = this.batch;
    if (!b || b.items.length === 0 || this.gone) return;
    this.batch = undefined;
    const paths: string[] = [];
    const modes = new Int32Array(b.items.length);
    const ends = new Float64Array(b.items.length);
    let at = 0;
    b.items.forEach((p, i) => {
      at += p.bytes.length;
      ends[i] = at;
      modes[i] = p.mode;
      paths.push(p.tmp, p.dest);
    });
    // Counted before they are added, as a rename in this thread is.
    this.store.noteAdded(b.items.length);
    const seq = this.seq++;
    this.inFlight.set(seq, b);
    this.worker.postMessage({ seq, slot: b.slot, paths, modes, ends });
  }

  /**
   * A large object whose bytes the worker writes as they arrive, to temp
   * file `tmp` with `mode`; undefined once the thread is gone (the caller
   * then writes it itself). The caller hashes and checks the bytes, and
   * ends the stream with `finish` (the object goes into place) or `abort`.
   */
  stream(tmp: string, mode: number): ObjectStream | undefined {
    return this.openStream(tmp, mode);
  }

  /** stream(), and `counted` called when the object is counted as added (its stream closed to go into place). */
  private openStream(tmp: string, mode: number, counted?: () => void): ObjectStream | undefined {
    if (this.gone || this.closing !== undefined) return undefined;
    const sid = this.streams++;
    this.worker.postMessage({ kind: 'open', sid, tmp, mode });
    const stopped = () => new Error(`the object writer stopped before ${tmp} was written`);
    /** The slot being filled, and the bytes used in it. */
    let slot: number | undefined;
    let used = 0;
    /** Bytes pushed and not yet copied into a slot. */
    const held: Uint8Array[] = [];
    let waiting: { promise: Promise<void>; resolve: () => void } | undefined;
    let closed = false;
    const sendSlot = (): void => {
      this.partial.delete(sendSlot);
      if (slot === undefined) return;
      if (used > 0 && !this.gone) this.worker.postMessage({ kind: 'chunk', sid, slot, len: used });
      else if (!this.gone) this.release(slot);
      slot = undefined;
      used = 0;
    };
    /** Copies what is held into slots; false when it waits for a free one. */
    const copy = (): boolean => {
      while (held.length > 0) {
        if (slot === undefined) {
          slot = this.take(onSlot);
          if (slot === undefined) return false;
        }
        const c = held[0]!;
        const n = Math.min(c.length, SLOT - used);
        new Uint8Array(this.pool, slot * SLOT + used, n).set(n === c.length ? c : c.subarray(0, n));
        used += n;
        if (n === c.length) held.shift();
        else held[0] = c.subarray(n);
        if (used === SLOT) sendSlot();
      }
      if (slot !== undefined) this.partial.add(sendSlot);
      return true;
    };
    const onSlot: SlotWaiter = (s) => {
      if (s !== undefined && (closed || this.gone)) this.release(s);
      else if (s !== undefined) slot = s;
      if (s === undefined || closed || copy()) {
        const w = waiting;
        waiting = undefined;
        w?.resolve();
      }
    };
    const end = async (dest: string | null): Promise<void> => {
      if (dest === null) {
        // Aborted: what waits for a slot is dropped, and so is the slot being filled.
        const i = this.slotWaiters.indexOf(onSlot);
        if (i >= 0) this.slotWaiters.splice(i, 1);
        held.length = 0;
        used = 0;
        waiting?.resolve();
        waiting = undefined;
      } else if (waiting) {
        await waiting.promise;
      }
      closed = true;
      sendSlot();
      if (this.gone) {
        // The thread may have made the temp file.
        rmSync(tmp, { force: true });
        throw stopped();
      }
      if (dest !== null) {
        this.store.noteAdded(1);
        counted?.();
      }
      return new Promise<void>((done, fail) => {
        this.openStreams.set(sid, { tmp, done, fail });
        this.worker.postMessage({ kind: 'close', sid, dest });
      });
    };
    return {
      push: (chunk) => {
        if (this.gone || closed) throw stopped();
        held.push(chunk);
        if (waiting) return waiting.promise;
        if (copy()) return undefined;
        let resolve!: () => void;
        const promise = new Promise<void>((r) => (resolve = r));
        waiting = { promise, resolve };
        return promise;
      },
      finish: (id) => end(this.store.pathOf(id)),
      abort: () => end(null),
    };
  }

  /** The thread is gone: every write it did not answer, and every later one, is made in this thread. */
  private takeOver(): void {
    this.gone = true;
    // A stream's chunks went with the thread: that object fails, to be fetched again, and its temp file goes.
    for (const s of this.openStreams.values()) {
      rmSync(s.tmp, { force: true });
      s.fail(new Error('the object writer stopped before a large object was written'));
    }
    this.openStreams.clear();
    for (const w of this.slotWaiters.splice(0)) w(undefined);
    // Slots are not reused from here on: the writes in them are made from them.
    // Those sent were counted as added, and may have left a temp file; the others were not counted yet.
    const sent = [...this.inFlight.values()].flatMap((b) => b.items);
    const unsent = [...(this.batch?.items ?? []), ...this.waiting];
    this.inFlight.clear();
    this.batch = undefined;
    this.waiting = [];
    this.drained?.();
    this.drained = undefined;
    for (const p of sent) rmSync(p.tmp, { force: true });
    this.store.noteAdded(unsent.length);
    for (const p of [...sent, ...unsent]) this.writeHere({ ...p, tmp: this.store.tempPath('pull') });
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

  /** Waits for every write sent, then stops the thread; writes made after it began are made in this thread. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.waiting.length > 0 && !this.gone) await new Promise<void>((resolve) => (this.drained = resolve));
      this.send();
      if (!this.gone) this.worker.postMessage(null);
      await this.ended;
      await this.worker.terminate();
    })();
    return this.closing;
  }
}
