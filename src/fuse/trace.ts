import { join } from 'node:path';
import type { ObjectId } from '../util/hash.js';
import { writeFileAtomicSync } from '../util/fs-atomic.js';
import { readPartial, TRACES_DIR } from '../repo/partial.js';

/** Default length of a trace: blobs first read within this many ms of the first read under a commit. */
export const DEFAULT_TRACE_MS = 60_000;

/** Most blobs one trace holds. */
const MAX_TRACE = 100_000;

const COMMIT_PATH = /^\/commits\/([0-9a-f]{64})\//;

/**
 * Records, for each commit the view serves under `/commits/<id>/`, which
 * blobs are read in the first `windowMs` after the first read under it, in
 * the order first read, with their sizes. The view fetches what a partial
 * commit's traces name as soon as it is first read, and `trove fetch`
 * brings the rest of it in that order, so what a workload reads first
 * arrives first the next time (blob ids are those of the files, shared by
 * every generation holding the same package); a server publishes the trace
 * of a generation with it (summary.ts). Written when the window closes and
 * when the daemon stops; a newer trace of a commit replaces the older.
 */
export class AccessTrace {
  private readonly traces = new Map<ObjectId, { started: number; ids: Map<ObjectId, number>; written: boolean }>();
  private readonly timers = new Set<NodeJS.Timeout>();

  /** `onPartial`: called with a partial commit the first time something under it is read. */
  constructor(
    private readonly repoPath: string,
    private readonly windowMs = DEFAULT_TRACE_MS,
    private readonly onPartial?: (commit: ObjectId) => void,
  ) {}

  /** Notes that blob `id` of `size` bytes was opened to read `path` (a path of the mount). */
  note(id: ObjectId, path: string, size: number): void {
    const m = COMMIT_PATH.exec(path);
    if (!m) return;
    const commit = m[1]!;
    let t = this.traces.get(commit);
    if (t === undefined) {
      // Every commit is traced (a server's trace of a generation is published with it, see summary.ts);
      // a partial one's first read also starts fetching what its traces name.
      t = { started: Date.now(), ids: new Map(), written: false };
      this.traces.set(commit, t);
      if (readPartial(this.repoPath, commit)) this.onPartial?.(commit);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.write(commit);
      }, this.windowMs);
      timer.unref();
      this.timers.add(timer);
    }
    if (t.written || t.ids.size >= MAX_TRACE || Date.now() - t.started > this.windowMs) return;
    if (!t.ids.has(id)) t.ids.set(id, size);
  }

  /** Writes every trace not written yet (the daemon is stopping). */
  flush(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const commit of this.traces.keys()) this.write(commit);
  }

  private write(commit: ObjectId): void {
    const t = this.traces.get(commit);
    if (!t || t.written || t.ids.size === 0) return;
    t.written = true;
    try {
      const lines = [...t.ids].map(([id, size]) => `${id} ${size}`);
      writeFileAtomicSync(join(this.repoPath, TRACES_DIR, commit), `${lines.join('\n')}\n`, { tmpDir: join(this.repoPath, 'tmp'), tag: 'trace' });
    } catch {
      // A trace is a hint: a repository this daemon cannot write to goes without.
    }
  }
}
