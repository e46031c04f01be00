import { readdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ERROR_HELPERS, exists, ioError, isTroveError, TroveError, unsafeArchive, usage } from '../../util/errors.js';
import { limiter } from '../../util/limiter.js';
import { compareNames, nameProblem } from '../../format/names.js';
import type { Commit, DirMeta, PackageInfo } from '../../format/types.js';
import type { ObjectId } from '../../util/hash.js';
import { refNameProblem } from '../../refs/refs.js';
import type { Repo } from '../../repo/repo.js';
import type { RefTransaction, RefUpdate } from '../../refs/transaction.js';
import type { ObjectStore, PublishStore, PutResult } from '../../store/types.js';
import { readDebControl } from '../../repo/import/deb.js';
import type { ImportReport } from '../../repo/import/report.js';
import { importSource, type SourceKind, sourceKind } from '../../repo/import/source.js';
import { repoExclusion } from '../../repo/commit.js';
import { readCommit, writeCommit } from '../../repo/objects.js';
import { packageRef } from './model.js';
import { formatClause, formatRelation, parseProvides, parseRelations } from './relations.js';
import { versionProblem } from './version.js';
import { type OnProgress, progressOf } from '../../util/progress.js';

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
  /** Progress of the import: files and bytes read (phase `reading`). */
  onProgress?: OnProgress;
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

/**
 * Package names, architectures and versions as Debian Policy (5.6.1, 5.6.8,
 * 5.6.12) allows them: no leading `-` an option parser would take for an
 * option, no space, quote, glob, `$`, `;` or other character a shell would
 * read, so that a name printed by trove can be pasted into a command line.
 */
const FIELD_SHAPES: Record<string, RegExp> = {
  name: /^[a-z0-9][a-z0-9+.-]*$/,
  arch: /^[a-z0-9][a-z0-9-]*$/,
};

function checkField(what: string, value: string | undefined): string {
  if (!value) throw usage(`package ${what} is required (give --${what}, or add a .deb)`);
  const bad = () => usage(`invalid package ${what} ${JSON.stringify(value)}`);
  if (what === 'version') {
    const problem = versionProblem(value);
    if (problem !== null || value !== value.trim()) throw usage(`invalid package version ${JSON.stringify(value)}: ${problem ?? 'surrounding blanks'}`);
  } else {
    const shape = FIELD_SHAPES[what];
    if (shape && !shape.test(value)) throw bad();
    if (refNameProblem(value) !== null) throw bad();
  }
  if (nameProblem(value) !== null || /\s/.test(value)) throw bad();
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
        const imported = await importSource(source, txn, { exclude: [repoExclusion(repo.path)], onProgress: opts.onProgress });
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

/** One source of `addPackages`: a file, or a `.deb` found in a directory argument. */
export interface PkgSource {
  path: string;
  /** The directory argument it was found in, if any. */
  dir?: string;
}

/**
 * The sources named by `args`. A directory that holds `.deb` files at its top
 * level stands for those files (sorted by name; subdirectories and other files
 * are ignored); any other argument stands for itself. Arguments keep their order.
 */
export async function expandSources(args: string[]): Promise<PkgSource[]> {
  const out: PkgSource[] = [];
  for (const arg of args) {
    if ((await sourceKind(arg)) !== 'dir') {
      out.push({ path: arg });
      continue;
    }
    const debs = (await readdir(arg, { withFileTypes: true }))
      .filter((d) => d.name.endsWith('.deb') && (d.isFile() || d.isSymbolicLink()))
      .map((d) => d.name)
      .sort();
    if (debs.length === 0) out.push({ path: arg });
    else for (const d of debs) out.push({ path: join(arg, d), dir: arg });
  }
  return out;
}

export interface PkgAddManyOptions {
  /** Imports run at once (default: the number of CPUs, at least 2). */
  jobs?: number;
  subject?: string;
  timestamp?: number;
  /** Called after each import with the packages and source bytes done so far (phase `adding`, unit `packages`). */
  onProgress?: OnProgress;
}

export interface PkgAddManyResult {
  packages: (PkgAddResult & { source: string })[];
  /** Objects written for all packages together. */
  written: { objects: number; bytes: number };
}

/** `err` with its message prefixed by `path` (unless it names it already), same code and data. */
function aboutFile(path: string, err: unknown): unknown {
  if (isTroveError(err)) {
    if (err.message.includes(path)) return err;
    return ERROR_HELPERS[err.code](`${path}: ${err.message}`, { path, ...err.data }, { cause: err });
  }
  if (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string') {
    return ioError(`${path}: ${err.message}`, { path }, { cause: err });
  }
  return err;
}

type ImportStore = Pick<ObjectStore, 'put' | 'putStream' | 'has' | 'hasSync' | 'putSync' | 'putFileSync'> & PublishStore;

/** A view of `store` that counts the objects and bytes it writes (for one package of a shared transaction). */
function counting(store: ImportStore): { store: ImportStore; written: { objects: number; bytes: number } } {
  const written = { objects: 0, bytes: 0 };
  const note = (r: PutResult): PutResult => {
    if (r.written) {
      written.objects++;
      written.bytes += r.size;
    }
    return r;
  };
  const view: ImportStore = {
    has: (id) => store.has(id),
    hasSync: (id) => store.hasSync(id),
    put: async (bytes) => note(await store.put(bytes)),
    putStream: async (source, hint) => note(await store.putStream(source, hint)),
    putSync: (bytes, hint) => note(store.putSync(bytes, hint)),
    putFileSync: (path, hint) => note(store.putFileSync(path, hint)),
    publishSync: (id) => store.publishSync(id),
  };
  return { store: view, written };
}

interface Planned {
  source: string;
  kind: SourceKind;
  name: string;
  arch: string;
  version: string;
  relations: Relations;
  size: number;
}

/**
 * Commits several `.deb` files at once, each on its `pkg/<name>/<arch>` as
 * `addPackage` would (fields from the control file, revision = previous + 1,
 * unchanged content makes no new revision). All of it or nothing: the
 * imports run concurrently (`jobs` at a time) into one write transaction,
 * and every ref moves in one ref transaction, after the objects are in; the
 * first source that fails (unreadable, not a `.deb`, hostile) stops the
 * others and nothing is added, with an error naming the file. Two sources
 * of one package are committed in the order given, the second on top of the first.
 */
export async function addPackages(repo: Repo, sources: string[], opts: PkgAddManyOptions = {}): Promise<PkgAddManyResult> {
  if (sources.length === 0) throw usage('no package to add');
  const jobs = opts.jobs ?? Math.max(2, availableParallelism());
  if (!Number.isSafeInteger(jobs) || jobs < 1) throw usage(`jobs must be a positive integer, got ${jobs}`);
  const run = limiter(jobs);
  const planned: Planned[] = await Promise.all(
    sources.map((source) =>
      run(async () => {
        try {
          const kind = await sourceKind(source);
          if (kind !== 'deb') throw usage(`${source} is not a .deb: only .deb files are added several at a time`);
          const control = await readDebControl(source);
          const name = checkField('name', control.Package);
          const arch = checkField('arch', control.Architecture);
          const version = checkField('version', control.Version);
          return { source, kind, name, arch, version, relations: debRelations(source, control), size: (await stat(source)).size };
        } catch (err) {
          throw aboutFile(source, err);
        }
      }),
    ),
  );
  const refs = [...new Set(planned.map((p) => packageRef(p.name, p.arch)))];
  const totalBytes = planned.reduce((n, p) => n + p.size, 0);
  const progress = progressOf('adding', 'packages', planned.length, totalBytes);
  const results: (PkgAddResult & { source: string })[] = [];
  const updates: RefUpdate[] = [];
  let written = { objects: 0, bytes: 0 };
  let refTxn: RefTransaction | undefined;
  try {
    await repo.write(
      async (txn) => {
        // Every import, concurrently; after the first failure no new one starts,
        // and the error is thrown once the running ones have settled.
        let failure: { err: unknown } | undefined;
        const imports = await Promise.all(
          planned.map((p) =>
            run(async () => {
              if (failure) return undefined;
              try {
                const view = counting(txn);
                const imported = await importSource(p.source, view.store, { exclude: [repoExclusion(repo.path)] });
                progress.done++;
                progress.bytes += p.size;
                opts.onProgress?.(progress);
                return { ...imported, written: view.written };
              } catch (err) {
                failure ??= { err: aboutFile(p.source, err) };
                return undefined;
              }
            }),
          ),
        );
        if (failure) throw failure.err;
        refTxn = await repo.refs.transaction(refs.map((name) => ({ name })));
        const tips = new Map<string, { id: ObjectId | null; commit?: Commit }>();
        for (const ref of refs) {
          const id = await refTxn.read(ref);
          tips.set(ref, { id, commit: id ? await readCommit(repo.store, id) : undefined });
        }
        const start = new Map([...tips].map(([ref, t]) => [ref, t.id]));
        const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
        for (const [i, p] of planned.entries()) {
          const imported = imports[i]!;
          const ref = packageRef(p.name, p.arch);
          const tip = tips.get(ref)!;
          const prev = tip.commit?.package?.revision ?? 0;
          const info: PackageInfo = { name: p.name, arch: p.arch, version: p.version, revision: prev + 1, ...p.relations };
          const base = { source: p.source, ref, kind: p.kind, report: imported.report, written: imported.written };
          const t = tip.commit;
          if (t && tip.id && t.package && t.tree === imported.tree && sameMeta(t.root, imported.root) && sameInfo(t.package, info)) {
            results.push({ ...base, commit: tip.id, tree: t.tree, info: t.package, unchanged: true });
            continue;
          }
          const commit: Commit = {
            tree: imported.tree,
            root: imported.root,
            parents: tip.id ? [tip.id] : [],
            subject: opts.subject ?? `${p.name} ${p.version} revision ${info.revision}`,
            body: '',
            timestamp,
            metadata: [],
            package: info,
          };
          const id = await writeCommit(txn, commit);
          tips.set(ref, { id, commit });
          results.push({ ...base, commit: id, tree: imported.tree, info, unchanged: false });
        }
        for (const [ref, t] of tips) if (t.id !== start.get(ref)) updates.push({ name: ref, expected: start.get(ref)!, id: t.id! });
        written = { ...txn.stats };
      },
      {
        after: async () => {
          if (updates.length > 0) await refTxn!.update(updates);
        },
      },
    );
  } finally {
    await refTxn?.release();
  }
  return { packages: results, written };
}
