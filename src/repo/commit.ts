import type { Commit, GenerationInfo, PackageInfo } from '../format/types.js';
import type { ObjectId } from '../util/hash.js';
import type { Repo } from './repo.js';
import type { RefTransaction } from '../refs/transaction.js';
import type { ImportReport } from './import/report.js';
import { importSource, type SourceKind } from './import/source.js';
import { prescanDir } from './import/dir.js';
import { resolve } from 'node:path';
import { writeCommit } from './objects.js';
import { assertRefFree } from './resolve.js';
import { IndexStatCache } from './import/stat-cache-db.js';
import { crashPoint } from '../util/crash-point.js';
import { stat } from 'node:fs/promises';
import { usage } from '../util/errors.js';
import type { OnProgress } from '../util/progress.js';

/** SOURCE that is the repository directory itself (however spelled) is a usage error. */
async function refuseRepoAsSource(repoPath: string, source: string): Promise<void> {
  const [a, b] = await Promise.all([stat(repoPath), stat(source).catch(() => undefined)]);
  if (b && a.dev === b.dev && a.ino === b.ino) throw usage(`${source} is the repository itself: commit the directory it holds, not the repository`, { path: source });
}

export interface CommitOptions {
  ref: string;
  subject?: string;
  body?: string;
  metadata?: Record<string, string>;
  package?: PackageInfo;
  generation?: GenerationInfo;
  /** Parent commit; default: the ref's current commit. Pass null for none. */
  parent?: ObjectId | null;
  /** Seconds since the epoch; default now. */
  timestamp?: number;
  xattrs?: boolean;
  /** syncfs once after writing (default false). */
  sync?: boolean;
  /** Progress of the import: files and bytes read (phase `reading`). */
  onProgress?: OnProgress;
}

export interface CommitResult {
  commit: ObjectId;
  tree: ObjectId;
  parent: ObjectId | null;
  kind: SourceKind;
  report: ImportReport;
  /** New objects written and their total size. */
  written: { objects: number; bytes: number };
  /** False when the stat cache was unavailable (index busy in another process). */
  statCache: boolean;
}

/**
 * Imports `source` and commits it on `opts.ref`, with the ref's tip as parent.
 * The import runs concurrently with other writers; reading the tip, writing
 * the commit and moving the ref happen under the ref's update lock, so two
 * commits on one ref chain instead of one losing the other.
 */
/** The repository, when it lies inside a directory being imported into it, is left out (and reported). */
export function repoExclusion(path: string): { path: string; reason: string } {
  return { path, reason: 'the repository itself, not committed into itself' };
}

export async function commitSource(repo: Repo, source: string, opts: CommitOptions): Promise<CommitResult> {
  // Before anything is imported: a name that cannot be created would fail only after the objects were installed.
  await assertRefFree(repo, opts.ref);
  await refuseRepoAsSource(repo.path, source);
  // A directory's walk runs on a pool thread while the index opens and the stat cache loads.
  const exclude = [repoExclusion(repo.path)];
  let prescan: ReturnType<typeof prescanDir> | undefined = prescanDir(resolve(source), exclude);
  const db = await repo.indexDb();
  let cache: IndexStatCache | undefined;
  let refTxn: RefTransaction | undefined;
  let result: Omit<CommitResult, 'statCache'> & { tip: ObjectId | null };
  try {
    result = await repo.write(
      async (txn) => {
        // The epoch is read under the shared lock: a gc that finished before it was taken bumped it,
        // so records naming objects that gc deleted are not trusted; none can start while it is held.
        cache = db ? new IndexStatCache(db, repo.gcEpoch()) : undefined;
        const imported = await importSource(source, txn, { cache, xattrs: opts.xattrs, exclude, onProgress: opts.onProgress, prescan });
        refTxn = await repo.refs.transaction([{ name: opts.ref }]);
        const tip = await refTxn.read(opts.ref);
        const parent = opts.parent === undefined ? tip : opts.parent;
        const commit: Commit = {
          tree: imported.tree,
          root: imported.root,
          parents: parent ? [parent] : [],
          subject: opts.subject ?? '',
          body: opts.body ?? '',
          timestamp: opts.timestamp ?? Math.floor(Date.now() / 1000),
          metadata: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
          package: opts.package,
          generation: opts.generation,
        };
        const id = await writeCommit(txn, commit);
        return { commit: id, tree: imported.tree, parent, tip, kind: imported.kind, report: imported.report, written: { ...txn.stats } };
      },
      {
        sync: opts.sync,
        after: (r) => refTxn!.update([{ name: opts.ref, expected: r.tip, id: r.commit }]),
        // A scan made before a wait for another process's lock (a gc) may be long out of date: the import
        // makes its own once the lock is held.
        onWait: () => {
          prescan = undefined;
        },
      },
    );
  } finally {
    await refTxn?.release();
  }
  crashPoint('commit:before-cache-flush');
  await cache?.flush();
  const { tip: _tip, ...out } = result;
  return { ...out, statCache: db !== undefined };
}
