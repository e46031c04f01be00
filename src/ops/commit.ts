import type { Commit, GenerationInfo, PackageInfo } from '../format/types.js';
import type { ObjectId } from '../hash/index.js';
import type { Repo } from '../repo.js';
import type { ImportReport } from './import/report.js';
import { importSource, type SourceKind } from './import/source.js';
import { writeCommit } from './objects.js';
import { IndexStatCache } from './stat-cache-db.js';

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

/** Imports `source` and commits it on `opts.ref`, with the ref's tip as parent. */
export async function commitSource(repo: Repo, source: string, opts: CommitOptions): Promise<CommitResult> {
  const db = await repo.indexDb();
  const cache = db ? new IndexStatCache(db, repo.gcEpoch()) : undefined;
  const result = await repo.write(
    async (txn) => {
      const parent = opts.parent === undefined ? ((await repo.refs.read(opts.ref)) ?? null) : opts.parent;
      const imported = await importSource(source, txn, { cache, xattrs: opts.xattrs });
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
      return { commit: id, tree: imported.tree, parent, kind: imported.kind, report: imported.report, written: { ...txn.stats } };
    },
    { sync: opts.sync, after: (r) => repo.refs.write(opts.ref, r.commit) },
  );
  await cache?.flush();
  return { ...result, statCache: cache !== undefined };
}
