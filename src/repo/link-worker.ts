import { getSystemErrorMap, getSystemErrorName } from 'node:util';
import type { Worker } from 'node:worker_threads';
import { workerThreads } from '../util/child.js';
import { loadAddon } from '../util/native-addon.js';
import { ERROR_OF_SOURCE, errorFromThread, type ThreadError } from '../util/thread-error.js';

/**
 * The second core of a large hard-link checkout. The checkout's thread
 * decodes trees, makes directories and decides every path; this worker
 * makes the links, the `lstat` of each object before it, and nothing else.
 * A link and a stat are system calls of about 20 µs each that do not
 * depend on each other across directories, so they run beside the tree
 * walk instead of after it (docs/design-notes.md, "Hard-link checkouts on
 * two cores").
 *
 * The worker links an object only when its lstat fits the entry exactly
 * (a regular file, the entry's mode and, as root, its owner), as the
 * checkout's own test does. Anything else comes back undone: an object
 * that does not fit (a variant is needed), is missing, or has no link to
 * spare (EMLINK). The checkout then does those itself, in its own thread,
 * with its usual errors. Any other failure stops the worker and fails the
 * checkout with that error; the worker raises a flag in shared memory at
 * once, so the checkout stops its walk at its next file instead of at the
 * end.
 */
const SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const { lstatSync, linkSync } = require('node:fs');
${ERROR_OF_SOURCE}
const isRoot = workerData.isRoot;
const state = new Int32Array(workerData.state);
Atomics.store(state, 2, 1);
parentPort.on('message', (m) => {
  if (m === null) return parentPort.postMessage({ kind: 'end' });
  if (Atomics.load(state, 1) !== 0) return;
  const { ids, paths, meta } = m;
  const undone = { ids: [], paths: [], meta: [] };
  let linked = 0;
  for (let i = 0; i < ids.length; i++) {
    const obj = paths[2 * i];
    const st = lstatSync(obj, { throwIfNoEntry: false });
    let ok = st !== undefined && st.isFile() && (st.mode & 0o7777) === meta[3 * i] && (!isRoot || (st.uid === meta[3 * i + 1] >>> 0 && st.gid === meta[3 * i + 2] >>> 0));
    if (ok) {
      try {
        linkSync(obj, paths[2 * i + 1]);
        linked++;
      } catch (err) {
        if (err.code !== 'EMLINK') {
          Atomics.store(state, 1, 1);
          return parentPort.postMessage({ kind: 'error', error: errorOf(err) });
        }
        ok = false;
      }
    }
    if (!ok) {
      undone.ids.push(ids[i]);
      undone.paths.push(obj, paths[2 * i + 1]);
      undone.meta.push(meta[3 * i], meta[3 * i + 1], meta[3 * i + 2]);
    }
  }
  parentPort.postMessage({ kind: 'batch', linked, undone });
  Atomics.add(state, 0, 1);
});
`;

/** Files per message: large enough that a message costs little against its links, small enough that the worker starts early. */
const BATCH = 256;

/**
 * A file to link: object `id` at `object`, to be named `dest`, with the
 * entry's mode and owner. Or, for a linker that links symlinks, a symlink
 * with `target` (and mode S_IFLNK), linked from its shared copy `object`.
 */
export interface LinkJob {
  id: string;
  object: string;
  dest: string;
  mode: number;
  uid: number;
  gid: number;
  target?: string;
}

/** The mode of a symlink's job. */
export const SYMLINK_JOB = 0o120000;

/** Thrown by `add` once the worker failed; `finish` then gives the worker's own error. */
export class LinkWorkerFailed extends Error {
  constructor() {
    super("the checkout's link worker failed");
  }
}

interface Batch {
  ids: string[];
  paths: string[];
  meta: number[] | Int32Array;
}

/**
 * The second core of a large hard-link checkout: native threads
 * (NativeLinker, native/linker.c) when trove's addon is built, else a worker
 * thread (LinkWorker). Both link what fits, give back what does not, and
 * fail with the first other link error.
 */
export interface Linker {
  /** Whether it links symlinks too (LinkJob.target). */
  readonly symlinks: boolean;
  /**
   * Whether enough batches wait (two for the worker, NATIVE_BUSY for native
   * threads) that the caller links the file itself. Throws LinkWorkerFailed
   * once a link failed.
   */
  busy(): boolean;
  add(job: LinkJob): void;
  /** Waits for every link sent; the number linked and the jobs left to the caller. Throws the first failure. */
  finish(): Promise<{ linked: number; undone: LinkJob[] }>;
  /** The link error, once busy() threw LinkWorkerFailed; the threads stopped. */
  failed(): Promise<Error>;
  /** Stops, links in flight or not (the checkout failed and removes what it made). */
  stop(): Promise<void>;
}

/**
 * The linker of a checkout: `native` (the default when built) or `worker`.
 * Throws when no thread can be made (a limit on threads or memory): the
 * caller links alone.
 */
export function startLinker(isRoot: boolean, kind: 'native' | 'worker' = 'native'): Linker {
  const binding = kind === 'native' ? loadAddon<LinkerBinding>('linker') : null;
  return binding ? new NativeLinker(binding, isRoot) : new LinkWorker(isRoot);
}

/** Whether startLinker(…, kind) gives native threads (the addon is built and loads). */
export function linksNatively(kind: 'native' | 'worker' = 'native'): boolean {
  return kind === 'native' && loadAddon<LinkerBinding>('linker') !== null;
}

export class LinkWorker implements Linker {
  readonly symlinks = false;
  private readonly worker: Worker;
  /**
   * [0]: batches the worker finished; [1]: 1 once it failed; [2]: 1 once it
   * runs. Written by the worker, read by the checkout's thread while it
   * never yields (so before any event of the worker reaches it).
   */
  private readonly state = new Int32Array(new SharedArrayBuffer(12));
  private queue: LinkJob[] = [];
  private batches = 0;
  /** Batches the worker answered, counted here as its answers arrive (in order). */
  private answered = 0;
  private linked = 0;
  private readonly undone: LinkJob[] = [];
  /** Batches sent and not yet answered: given back whole when the worker never started. */
  private readonly unanswered = new Map<number, LinkJob[]>();
  private failure: Error | undefined;
  private settled = false;
  private readonly ended: Promise<void>;

  /**
   * Throws when the thread cannot be made (a limit on threads, memory): the
   * caller links alone. `script` is the worker's code, another only in
   * tests (a worker that dies before it runs).
   */
  constructor(isRoot: boolean, script = SCRIPT) {
    this.worker = new (workerThreads().Worker)(script, { eval: true, workerData: { isRoot, state: this.state.buffer } });
    this.ended = new Promise<void>((done) => {
      const settle = (failure?: Error) => {
        if (this.settled) return;
        this.settled = true;
        if (failure && !this.running()) {
          // The thread never ran a line (no resources to start it): nothing was linked, everything sent is undone.
          for (const jobs of this.unanswered.values()) this.undone.push(...jobs);
          this.unanswered.clear();
        } else this.failure = failure;
        done();
      };
      this.worker.on('message', (m: { kind: 'batch'; linked: number; undone: Batch } | { kind: 'end' } | { kind: 'error'; error: ThreadError }) => {
        if (m.kind === 'batch') {
          this.unanswered.delete(this.answered++);
          this.linked += m.linked;
          const u = m.undone;
          u.ids.forEach((id, i) => {
            // Owners travel as int32: >>> 0 gives back those from 2^31 up (a tree's uid and gid are uint32).
            this.undone.push({ id, object: u.paths[2 * i]!, dest: u.paths[2 * i + 1]!, mode: u.meta[3 * i]!, uid: u.meta[3 * i + 1]! >>> 0, gid: u.meta[3 * i + 2]! >>> 0 });
          });
        } else if (m.kind === 'end') {
          settle();
        } else {
          // The link's own error, as the checkout's thread would have thrown it.
          settle(errorFromThread(m.error));
        }
      });
      this.worker.on('error', (err) => settle(err));
      this.worker.on('exit', () => settle(new Error("the checkout's link worker stopped before it was done")));
    });
  }

  private running(): boolean {
    return Atomics.load(this.state, 2) === 1;
  }

  /**
   * Whether two batches or more wait for the worker: the caller then links
   * the file itself, so that neither thread waits for the other at the end.
   * Throws LinkWorkerFailed once the worker failed.
   */
  busy(): boolean {
    if (Atomics.load(this.state, 1) !== 0) throw new LinkWorkerFailed();
    return this.batches - Atomics.load(this.state, 0) >= 2;
  }

  add(job: LinkJob): void {
    this.queue.push(job);
    if (this.queue.length >= BATCH) this.send();
  }

  private send(): void {
    if (this.queue.length === 0) return;
    const ids: string[] = [];
    const paths: string[] = [];
    const meta = new Int32Array(this.queue.length * 3);
    this.queue.forEach((j, i) => {
      ids.push(j.id);
      paths.push(j.object, j.dest);
      meta[3 * i] = j.mode;
      meta[3 * i + 1] = j.uid;
      meta[3 * i + 2] = j.gid;
    });
    // Kept only until the worker is known to run: after that, what it did not link comes back in its answer.
    if (!this.running()) this.unanswered.set(this.batches, this.queue);
    this.batches++;
    this.queue = [];
    this.worker.postMessage({ ids, paths, meta } satisfies Batch);
  }

  /** Waits for every link sent; the number linked and the jobs left to the caller. Throws the first failure. */
  async finish(): Promise<{ linked: number; undone: LinkJob[] }> {
    if (this.settled && !this.running()) this.undone.push(...this.queue.splice(0));
    this.send();
    this.worker.postMessage(null);
    await this.ended;
    await this.worker.terminate();
    if (this.failure) throw this.failure;
    return { linked: this.linked, undone: this.undone };
  }

  /** The worker's own error once it failed (after LinkWorkerFailed), and the worker stopped. */
  async failed(): Promise<Error> {
    await this.ended;
    await this.worker.terminate();
    return this.failure ?? new LinkWorkerFailed();
  }

  /** Stops the worker, links in flight or not (the checkout failed and removes what it made). */
  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * Batches waiting in the native thread before the walk links a file itself.
 * The native thread links faster than the walk's JavaScript, so the walk
 * helps only when it is well ahead: measured on the bench corpus, 2 batches
 * made the checkout slower (385-399 ms against 357-376 ms at 6).
 */
const NATIVE_BUSY = 6;

/** native/linker.c. */
interface LinkerBinding {
  create(isRoot: boolean, threads: number): object;
  post(linker: object, strings: Buffer, meta: Int32Array): void;
  pending(linker: object): number;
  finish(linker: object, done: (result: NativeResult) => void): void;
  stop(linker: object): void;
}

/** What native/linker.c's finish() gives: `undone` holds id, object and destination, NUL-terminated, per file. */
interface NativeResult {
  linked: number;
  undone: Buffer;
  undoneMeta: Int32Array;
  errno: number;
  object: string | null;
  dest: string | null;
}

/**
 * The links made by native threads (native/linker.c): no thread of
 * JavaScript to start, no message per batch, no string or error object
 * made per file. One thread: a second one linking beside it was no faster
 * (docs/benchmarks.md, "Checkout and commit against OSTree: designs tried",
 * design J).
 */
export class NativeLinker implements Linker {
  readonly symlinks = true;
  private readonly handle: object;
  private strings: string[] = [];
  private meta: number[] = [];
  private result: Promise<NativeResult> | undefined;

  constructor(
    private readonly binding: LinkerBinding,
    isRoot: boolean,
    threads = 1,
  ) {
    this.handle = binding.create(isRoot, threads);
  }

  /** Calls of busy() left before the next look at the thread, and what it saw then. */
  private unlooked = 0;
  private wasBusy = false;

  busy(): boolean {
    // One look every 16 files: a look is a call into the addon (7 ms of 26,000 files when made for each).
    if (this.unlooked-- > 0) return this.wasBusy;
    this.unlooked = 15;
    const pending = this.binding.pending(this.handle);
    if (pending < 0) throw new LinkWorkerFailed();
    this.wasBusy = pending >= NATIVE_BUSY;
    return this.wasBusy;
  }

  add(job: LinkJob): void {
    this.strings.push(job.target ?? job.id, job.object, job.dest);
    this.meta.push(job.mode, job.uid, job.gid);
    if (this.meta.length >= 3 * BATCH) this.send();
  }

  private send(): void {
    if (this.meta.length === 0) return;
    this.strings.push('');
    this.binding.post(this.handle, Buffer.from(this.strings.join('\0')), Int32Array.from(this.meta));
    this.strings = [];
    this.meta = [];
  }

  private settle(): Promise<NativeResult> {
    return (this.result ??= new Promise<NativeResult>((done) => this.binding.finish(this.handle, done)));
  }

  async finish(): Promise<{ linked: number; undone: LinkJob[] }> {
    if (this.result === undefined) this.send();
    const r = await this.settle();
    if (r.errno !== 0) throw linkError(r);
    const s = r.undone.toString().split('\0');
    const undone = Array.from({ length: r.undoneMeta.length / 3 }, (_, i): LinkJob => {
      const mode = r.undoneMeta[3 * i]!;
      // Owners travel as int32: >>> 0 gives back those from 2^31 up (a tree's uid and gid are uint32).
      const job = { id: s[3 * i]!, object: s[3 * i + 1]!, dest: s[3 * i + 2]!, mode, uid: r.undoneMeta[3 * i + 1]! >>> 0, gid: r.undoneMeta[3 * i + 2]! >>> 0 };
      return mode === SYMLINK_JOB ? { ...job, id: '', target: job.id } : job;
    });
    return { linked: r.linked, undone };
  }

  async failed(): Promise<Error> {
    const r = await this.settle();
    return r.errno !== 0 ? linkError(r) : new LinkWorkerFailed();
  }

  async stop(): Promise<void> {
    this.binding.stop(this.handle);
  }
}

/** The error of a failed native link, as Node's own linkSync would have thrown it. */
function linkError(r: NativeResult): NodeJS.ErrnoException {
  const errno = -r.errno;
  const code = getSystemErrorName(errno);
  const description = getSystemErrorMap().get(errno)?.[1] ?? 'unknown error';
  const where = r.object !== null ? `, link '${r.object}' -> '${r.dest}'` : '';
  const err: NodeJS.ErrnoException = new Error(`${code}: ${description}${where}`);
  Object.assign(err, { errno, code, syscall: 'link' }, r.object !== null ? { path: r.object, dest: r.dest } : {});
  return err;
}
