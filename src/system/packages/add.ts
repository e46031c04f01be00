import { exists, TroveError, unsafeArchive, usage } from '../../util/errors.js';
import { compareNames, nameProblem } from '../../format/names.js';
import type { Commit, DirMeta, PackageInfo } from '../../format/types.js';
import type { ObjectId } from '../../util/hash.js';
import { refNameProblem } from '../../refs/refs.js';
import type { Repo } from '../../repo/repo.js';
import type { RefTransaction } from '../../refs/transaction.js';
import { readDebControl } from '../../repo/import/deb.js';
import type { ImportReport } from '../../repo/import/report.js';
import { importSource, type SourceKind, sourceKind } from '../../repo/import/source.js';
import { readCommit, writeCommit } from '../../repo/objects.js';
import { packageRef } from './model.js';
import { formatClause, formatRelation, parseProvides, parseRelations } from './relations.js';

export interface PkgAddOptions {
  /** Required unless the source is a `.deb` (then they override its control file). */
  name?: string;
  arch?: string;
  version?: string;
  /** Default: the previous revision + 1 (1 for a new package). */
  revision?: number;
  /**
   * Depends clauses (`libc6 (>= 2.36)`, `a | b:any`); default: a `.deb`'s
   * Depends, else none. Giving them also drops a `.deb`'s Pre-Depends.
   */
  depends?: string[];
  /** Pre-Depends clauses; default: a `.deb`'s, else none (and none when `depends` is given). */
  preDepends?: string[];
  /** Provides (`name` or `name (= version)`); default: a `.deb`'s, else none. */
  provides?: string[];
  /** Multi-Arch (`same`, `foreign`, `allowed`, `no`); default: a `.deb`'s, else none. */
  multiArch?: string;
  subject?: string;
  /** Seconds since the epoch; default now. */
  timestamp?: number;
}

export interface PkgAddResult {
  ref: string;
  commit: ObjectId;
  tree: ObjectId;
  info: PackageInfo;
  kind: SourceKind;
  /** True when tree and metadata equal the ref's tip: no new commit was made. */
  unchanged: boolean;
  report: ImportReport;
  written: { objects: number; bytes: number };
}

function checkField(what: string, value: string | undefined): string {
  if (!value) throw usage(`package ${what} is required (give --${what}, or add a .deb)`);
  if (what !== 'version' && refNameProblem(value) !== null) throw usage(`invalid package ${what} ${JSON.stringify(value)}`);
  if (nameProblem(value) !== null || /\s/.test(value)) throw usage(`invalid package ${what} ${JSON.stringify(value)}`);
  return value;
}

function sameMeta(a: DirMeta, b: DirMeta): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && JSON.stringify(a.xattrs) === JSON.stringify(b.xattrs);
}

function sameInfo(a: PackageInfo, b: PackageInfo): boolean {
  const same = (x: string[], y: string[]) => x.join('\n') === y.join('\n');
  return (
    a.name === b.name &&
    a.arch === b.arch &&
    a.version === b.version &&
    same(a.depends, b.depends) &&
    same(a.preDepends, b.preDepends) &&
    same(a.provides, b.provides) &&
    a.multiArch === b.multiArch
  );
}

const sortedUnique = (list: string[]) => [...new Set(list)].sort(compareNames);

/** Canonical clauses of a relationship field: each as `formatClause` prints it, sorted, unique. */
export function canonicalClauses(field: string | undefined, name: string): string[] {
  return sortedUnique(parseRelations(field, name).map(formatClause));
}

/** Canonical Provides: `name` or `name (= version)`, sorted, unique. */
export function canonicalProvides(field: string | undefined): string[] {
  return sortedUnique(parseProvides(field).map(formatRelation));
}

/** A Multi-Arch value as stored: `same`, `foreign`, `allowed` or '' (absent or `no`). */
export function canonicalMultiArch(field: string | undefined): string {
  const v = (field ?? '').trim();
  if (v === '' || v === 'no') return '';
  if (v === 'same' || v === 'foreign' || v === 'allowed') return v;
  throw usage(`Multi-Arch: expected same, foreign, allowed or no, got ${JSON.stringify(v)}`);
}

interface Relations {
  depends: string[];
  preDepends: string[];
  provides: string[];
  multiArch: string;
}

/** The relationship fields of a .deb's control file; a malformed one is E_UNSAFE_ARCHIVE. */
function debRelations(source: string, control: Record<string, string>): Relations {
  try {
    return {
      depends: canonicalClauses(control.Depends, 'Depends'),
      preDepends: canonicalClauses(control['Pre-Depends'], 'Pre-Depends'),
      provides: canonicalProvides(control.Provides),
      multiArch: canonicalMultiArch(control['Multi-Arch']),
    };
  } catch (e) {
    if (e instanceof TroveError && e.code === 'E_USAGE') throw unsafeArchive(`${source}: bad control file: ${e.message}`);
    throw e;
  }
}

/**
 * Commits a package (a directory, tar archive or `.deb`) on `pkg/<name>/<arch>`.
 * Re-adding what the tip already holds (same tree, root metadata, version and
 * dependencies) writes nothing and makes no new revision, unless a higher
 * revision is asked for explicitly. Concurrent adds of one package
 * serialise on the ref's update lock: every one gets its own revision and
 * the previous tip as parent.
 */
export async function addPackage(repo: Repo, source: string, opts: PkgAddOptions = {}): Promise<PkgAddResult> {
  const kind = await sourceKind(source);
  const control = kind === 'deb' ? await readDebControl(source) : {};
  const name = checkField('name', opts.name ?? control.Package);
  const arch = checkField('arch', opts.arch ?? control.Architecture);
  const version = checkField('version', opts.version ?? control.Version);
  const relations: Relations = debRelations(source, control);
  if (opts.depends) {
    relations.depends = canonicalClauses(opts.depends.join(','), '--depends');
    relations.preDepends = [];
  }
  if (opts.preDepends) relations.preDepends = canonicalClauses(opts.preDepends.join(','), '--pre-depends');
  if (opts.provides) relations.provides = canonicalProvides(opts.provides.join(','));
  if (opts.multiArch !== undefined) relations.multiArch = canonicalMultiArch(opts.multiArch);
  if (opts.revision !== undefined && (!Number.isSafeInteger(opts.revision) || opts.revision < 1)) {
    throw usage(`revision must be a positive integer, got ${opts.revision}`);
  }
  const ref = packageRef(name, arch);
  let result: (PkgAddResult & { tip: ObjectId | null }) | undefined;
  let refTxn: RefTransaction | undefined;
  try {
    await repo.write(
      async (txn) => {
        // Import first, concurrently with other writers; then read the tip and
        // write the ref under the ref's update lock, so each revision is
        // computed from the tip it replaces.
        const imported = await importSource(source, txn);
        refTxn = await repo.refs.transaction([{ name: ref }]);
        const tipId = (await refTxn.read(ref)) ?? undefined;
        const tip = tipId ? await readCommit(repo.store, tipId) : undefined;
        const prev = tip?.package?.revision ?? 0;
        const info: PackageInfo = { name, arch, version, revision: opts.revision ?? prev + 1, ...relations };
        const base = { ref, kind, report: imported.report, tip: tipId ?? null };
        if (tip && tipId && tip.package && tip.tree === imported.tree && sameMeta(tip.root, imported.root) && sameInfo(tip.package, info)) {
          if (opts.revision === undefined || opts.revision === prev) {
            result = { ...base, commit: tipId, tree: tip.tree, info: tip.package, unchanged: true, written: { ...txn.stats } };
            return;
          }
        }
        if (info.revision <= prev) {
          throw exists(`${ref} is at revision ${prev}; revision ${info.revision} must be higher`, { ref, package: info.name });
        }
        const commit: Commit = {
          tree: imported.tree,
          root: imported.root,
          parents: tipId ? [tipId] : [],
          subject: opts.subject ?? `${name} ${version} revision ${info.revision}`,
          body: '',
          timestamp: opts.timestamp ?? Math.floor(Date.now() / 1000),
          metadata: [],
          package: info,
        };
        const id = await writeCommit(txn, commit);
        result = { ...base, commit: id, tree: imported.tree, info, unchanged: false, written: { ...txn.stats } };
      },
      {
        after: async () => {
          const r = result!;
          if (!r.unchanged) await refTxn!.update([{ name: ref, expected: r.tip, id: r.commit }]);
        },
      },
    );
  } finally {
    await refTxn?.release();
  }
  const { tip: _tip, ...out } = result!;
  return out;
}
