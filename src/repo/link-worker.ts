import { Worker } from 'node:worker_threads';

/**
 * The second core of a large hard-link checkout. The checkout's thread
 * decodes trees, makes directories and decides every path; this worker
 * makes the links, the `stat` of each object before it, and nothing else.
 * A link and a stat are system calls of about 20 µs each that do not
 * depend on each other across directories, so they run beside the tree
 * walk instead of after it (docs/design-notes.md, "Hard-link checkouts on
 * two cores").
 *
 * The worker links an object only when its stat fits the entry exactly
 * (a regular file, the entry's mode and, as root, its owner), as the
 * checkout's own test does. Anything else comes back undone: an object
 * that does not fit (a variant is needed), is missing, or has no link to
 * spare (EMLINK). The checkout then does those itself, in its own thread,
 * with its usual errors. Any other failure stops the worker and fails the
 * checkout with that error.
 */
const SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const { statSync, linkSync } = require('node:fs');
const isRoot = workerData.isRoot;
const done = new Int32Array(workerData.done);
let failed = false;
parentPort.on('message', (m) => {
  if (m === null) return parentPort.postMessage({ kind: 'end' });
  if (failed) return;
  const { n, paths, meta } = m;
  const undone = [];
  for (let i = 0; i < meta.length / 3; i++) {
    const obj = paths[2 * i];
    const st = statSync(obj, { throwIfNoEntry: false });
    if (!st || !st.isFile() || (st.mode & 0o7777) !== meta[3 * i] || (isRoot && (st.uid !== meta[3 * i + 1] || st.gid !== meta[3 * i + 2]))) {
      undone.push(i);
      continue;
    }
    try {
      linkSync(obj, paths[2 * i + 1]);
    } catch (err) {
      if (err.code === 'EMLINK') {
        undone.push(i);
        continue;
      }
      failed = true;
      return parentPort.postMessage({ kind: 'error', message: err.message, code: err.code, errno: err.errno, syscall: err.syscall, path: err.path, dest: err.dest });
    }
  }
  parentPort.postMessage({ kind: 'batch', n, undone });
  Atomics.add(done, 0, 1);
});
`;

/** Files per message: large enough that a message costs little against its links, small enough that the worker starts early. */
const BATCH = 256;

export interface LinkJob<T> {
  /** The object file to link. */
  object: string;
  /** The new name. */
  dest: string;
  mode: number;
  uid: number;
  gid: number;
  /** The caller's own record of the entry, given back when the worker did not link it. */
  item: T;
}

export class LinkWorker<T> {
  private readonly worker: Worker;
  /** Batches the worker has finished, counted by the worker: read while this thread never yields. */
  private readonly done = new Int32Array(new SharedArrayBuffer(4));
  private readonly sent = new Map<number, LinkJob<T>[]>();
  private queue: LinkJob<T>[] = [];
  private batches = 0;
  private linked = 0;
  private readonly undone: T[] = [];
  private failure: Error | undefined;
  private settled = false;
  private readonly ended: Promise<void>;

  constructor(isRoot: boolean) {
    this.worker = new Worker(SCRIPT, { eval: true, workerData: { isRoot, done: this.done.buffer } });
    this.ended = new Promise<void>((done) => {
      const resolve = () => {
        this.settled = true;
        done();
      };
      this.worker.on('message', (m: { kind: 'batch'; n: number; undone: number[] } | { kind: 'end' } | ({ kind: 'error'; message: string } & Record<string, unknown>)) => {
        if (m.kind === 'batch') {
          const jobs = this.sent.get(m.n)!;
          this.sent.delete(m.n);
          this.linked += jobs.length - m.undone.length;
          for (const i of m.undone) this.undone.push(jobs[i]!.item);
        } else if (m.kind === 'end') {
          resolve();
        } else {
          // The link's own error, as the checkout's thread would have thrown it.
          const { kind: _kind, message, ...fields } = m;
          this.failure = Object.assign(new Error(message), fields);
          resolve();
        }
      });
      this.worker.on('error', (err) => {
        if (this.settled) return;
        this.failure = err;
        resolve();
      });
      this.worker.on('exit', () => {
        if (this.settled) return;
        this.failure = new Error("the checkout's link worker stopped before it was done");
        resolve();
      });
    });
  }

  /**
   * Whether two batches or more wait for the worker: the caller then links
   * the file itself, so that neither thread waits for the other at the end.
   */
  busy(): boolean {
    return this.batches - Atomics.load(this.done, 0) >= 2;
  }

  add(job: LinkJob<T>): void {
    this.queue.push(job);
    if (this.queue.length >= BATCH) this.send();
  }

  private send(): void {
    if (this.queue.length === 0) return;
    const n = this.batches++;
    const paths: string[] = [];
    const meta = new Int32Array(this.queue.length * 3);
    this.queue.forEach((j, i) => {
      paths.push(j.object, j.dest);
      meta[3 * i] = j.mode;
      meta[3 * i + 1] = j.uid;
      meta[3 * i + 2] = j.gid;
    });
    this.sent.set(n, this.queue);
    this.queue = [];
    this.worker.postMessage({ n, paths, meta });
  }

  /** Waits for every link sent; the number linked and the items left to the caller. Throws the first failure. */
  async finish(): Promise<{ linked: number; undone: T[] }> {
    this.send();
    this.worker.postMessage(null);
    await this.ended;
    await this.worker.terminate();
    if (this.failure) throw this.failure;
    return { linked: this.linked, undone: this.undone };
  }

  /** Stops the worker, links in flight or not (the checkout failed and removes what it made). */
  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
