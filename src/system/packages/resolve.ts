import { notFound, usage } from '../../util/errors.js';
import type { PackageInfo } from '../../format/types.js';
import type { ObjectId } from '../../util/hash.js';
import { type Clause, formatClause, formatRelation, parseProvides, parseRelations, type Relation } from './relations.js';
import { compareVersions, type DebVersion, parseVersion, satisfies } from './version.js';

/**
 * The dependency resolver: the closure of what is asked for over a set of
 * known packages, as docs/distribution.md ("Resolver rules") describes. Pure:
 * it reads nothing but its input, so one index serves any number of calls.
 */

/** A package the resolver may choose. */
export interface Candidate {
  info: PackageInfo;
  commit: ObjectId;
  /** Where it comes from: `local` or a remote's name. */
  source: string;
}

/** What a user asks for: `NAME`, `NAME/ARCH`, `NAME=VERSION`, or a pinned commit. */
export interface Request {
  name: string;
  arch?: string;
  /** An exact Debian version, compared as dpkg compares (`1:1.0` is not `1.0`). */
  version?: string;
  /** An exact trove revision. */
  revision?: number;
  /** Exactly this package commit. */
  commit?: ObjectId;
}

export interface ResolveOptions {
  /**
   * The native architecture: what `all` packages, unqualified dependencies of
   * `all` packages and `:native` mean. Default: the arch of the asked-for
   * packages: among explicit `/ARCH`s (not `all`), `hostArch` if there, else
   * the first; without any, `hostArch` if their names exist for it, else the
   * first non-`all` arch by name.
   */
  arch?: string;
  /** Used for the default arch when several fit; default `amd64`. */
  hostArch?: string;
  /** Commits of the base generation: preferred whenever they satisfy a dependency. */
  base?: Iterable<ObjectId>;
  /** Exactly the asked-for packages, no dependencies. */
  noDeps?: boolean;
}

export interface Resolved {
  candidate: Candidate;
  /** True when it came in only as a dependency of what was asked for. */
  dependency: boolean;
  /** The package (`name/arch`) whose dependency brought it in first; absent for asked-for ones. */
  neededBy?: string;
}

interface Item {
  e: Entry;
  dependency: boolean;
  parent?: Item;
}

/** Names from the asked-for package down to `item`. */
function chainOf(item: Item): string[] {
  const out: string[] = [];
  for (let i: Item | undefined = item; i; i = i.parent) out.push(i.e.name);
  return out.reverse();
}

export interface Resolution {
  arch: string;
  /** Sorted by name, then arch. */
  packages: Resolved[];
}

/** Parses `NAME`, `NAME/ARCH`, `NAME=VERSION` and `NAME/ARCH=VERSION`. */
export function parseRequest(text: string): Request {
  const m = /^([a-z0-9][a-z0-9+.-]*)(?:\/([a-z0-9-]+))?(?:=(\S+))?$/.exec(text);
  if (!m) throw usage(`bad package ${JSON.stringify(text)}: expected NAME[/ARCH][=VERSION]`);
  const r: Request = { name: m[1]! };
  if (m[2]) r.arch = m[2];
  if (m[3]) r.version = m[3];
  return r;
}

interface Entry {
  c: Candidate;
  /** Position in the input: a stable tie-break. */
  index: number;
  key: string;
  name: string;
  arch: string;
  multiArch: string;
  /** The version, parsed on first use (`ver`). */
  parsed?: DebVersion;
  revision: number;
  /** Pre-Depends then Depends, parsed on first use. */
  clauses?: Clause[];
}

interface Provision {
  e: Entry;
  version?: string;
}

function ver(e: Entry): DebVersion {
  return (e.parsed ??= parseVersion(e.c.info.version));
}

/**
 * Highest version first; on equal versions a local package before a remote's
 * (revisions count only within one source: each repository numbers its own),
 * then highest revision, then input order.
 */
function better(a: Entry, b: Entry): number {
  const local = (e: Entry) => (e.c.source === 'local' ? 0 : 1);
  return compareVersions(ver(b), ver(a)) || local(a) - local(b) || b.revision - a.revision || a.index - b.index;
}

/** A package name alone, the commonest relation. */
const PLAIN = /^[a-z0-9][a-z0-9+.-]*$/;

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Candidates indexed once: by name (best first) and by what they provide. */
export class PackageIndex {
  readonly byName = new Map<string, Entry[]>();
  readonly providers = new Map<string, Provision[]>();
  readonly byCommit = new Map<ObjectId, Entry>();

  constructor(candidates: Candidate[]) {
    candidates.forEach((c, index) => {
      const i = c.info;
      const e: Entry = { c, index, key: `${i.name}/${i.arch}`, name: i.name, arch: i.arch, multiArch: i.multiArch ?? '', revision: i.revision };
      if (!this.byCommit.has(c.commit)) this.byCommit.set(c.commit, e);
      let list = this.byName.get(i.name);
      if (!list) this.byName.set(i.name, (list = []));
      list.push(e);
      for (const text of i.provides ?? []) {
        // Stored entries are canonical: a bare name needs no parsing.
        const p = PLAIN.test(text) ? { name: text, version: undefined } : parseProvides(text)[0];
        if (!p) continue;
        let ps = this.providers.get(p.name);
        if (!ps) this.providers.set(p.name, (ps = []));
        ps.push(p.version === undefined ? { e } : { e, version: p.version });
      }
    });
    for (const list of this.byName.values()) list.sort(better);
    for (const ps of this.providers.values()) ps.sort((a, b) => cmp(a.e.name, b.e.name) || better(a.e, b.e));
  }

  clauses(e: Entry): Clause[] {
    if (!e.clauses) {
      const i = e.c.info;
      const field = `${e.name} ${i.version}`;
      const out: Clause[] = [];
      for (const list of [i.preDepends ?? [], i.depends]) {
        for (const t of list) {
          if (PLAIN.test(t)) out.push([{ name: t }]);
          else out.push(...parseRelations(t, field));
        }
      }
      e.clauses = out;
    }
    return e.clauses;
  }
}

/** Whether package `e` (arch-wise) can satisfy `rel` for a package of arch `from`, as dpkg's deparchsatisfied decides. */
function archFits(rel: Relation, e: Entry, from: string, native: string): boolean {
  const pa = e.arch === 'all' ? native : e.arch;
  const q = rel.archQual;
  if (q === undefined) return e.multiArch === 'foreign' || pa === from;
  if (q === 'any') return e.multiArch === 'allowed';
  return pa === (q === 'native' ? native : q);
}

const parsedVersions = new Map<string, DebVersion>();

/** `parseVersion`, remembered: relations repeat the same few versions. */
function parsed(v: string): DebVersion {
  let p = parsedVersions.get(v);
  if (!p) {
    if (parsedVersions.size > 100_000) parsedVersions.clear();
    parsedVersions.set(v, (p = parseVersion(v)));
  }
  return p;
}

function versionFits(rel: Relation, version: DebVersion | string | undefined): boolean {
  if (rel.op === undefined) return true;
  return version !== undefined && satisfies(typeof version === 'string' ? parsed(version) : version, rel.op, parsed(rel.version!));
}

/**
 * The first known package that satisfies `rel` for a package of arch `from`
 * and passes `ok`: real ones (best first), then providers (by name).
 */
function find(index: PackageIndex, rel: Relation, from: string, native: string, ok: (e: Entry) => boolean): Entry | undefined {
  const real = index.byName.get(rel.name);
  if (real) for (const e of real) if (archFits(rel, e, from, native) && versionFits(rel, ver(e)) && ok(e)) return e;
  const provs = index.providers.get(rel.name);
  if (provs) for (const p of provs) if (archFits(rel, p.e, from, native) && versionFits(rel, p.version) && ok(p.e)) return p.e;
  return undefined;
}

/** Why nothing satisfies `rel`: which versions or arches exist. */
function whyNot(index: PackageIndex, rel: Relation, from: string, native: string): string {
  const real = index.byName.get(rel.name) ?? [];
  const provs = index.providers.get(rel.name) ?? [];
  if (real.length === 0 && provs.length === 0) return `no package provides ${rel.name}`;
  const archOk = real.filter((e) => archFits(rel, e, from, native));
  const provArchOk = provs.filter((p) => archFits(rel, p.e, from, native));
  if (archOk.length === 0 && provArchOk.length === 0) {
    const arches = [...new Set([...real, ...provs.map((p) => p.e)].map((e) => `${e.arch}${e.multiArch ? ` (Multi-Arch: ${e.multiArch})` : ''}`))].sort(cmp);
    return `${rel.name} exists only for ${arches.join(', ')}, which cannot satisfy ${formatRelation(rel)} for ${from}`;
  }
  const parts: string[] = [];
  if (archOk.length) parts.push(`versions of ${rel.name}: ${[...new Set(archOk.map((e) => e.c.info.version))].join(', ')}`);
  if (provArchOk.length) {
    parts.push(`provided by ${[...new Set(provArchOk.map((p) => (p.version === undefined ? `${p.e.name} (unversioned)` : `${p.e.name} (= ${p.version})`)))].join(', ')}`);
  }
  return `no version fits (${parts.join('; ')})`;
}

function nativeArch(index: PackageIndex, requests: Request[], opts: ResolveOptions): string {
  if (opts.arch) return opts.arch;
  const host = opts.hostArch ?? 'amd64';
  const explicit = requests.flatMap((r) => (r.arch && r.arch !== 'all' ? [r.arch] : []));
  if (explicit.length > 0) return explicit.includes(host) ? host : explicit[0]!;
  const arches = new Set<string>();
  for (const r of requests) for (const e of index.byName.get(r.name) ?? []) if (e.arch !== 'all') arches.add(e.arch);
  if (arches.size === 0 || arches.has(host)) return host;
  return [...arches].sort(cmp)[0]!;
}

/** The package a request names: the pinned commit, else the best of its name (and arch, version, revision) that fits. */
function pickRequested(index: PackageIndex, r: Request, native: string, pins: Map<string, Relation[]>): Entry {
  const label = `${r.name}${r.arch ? `/${r.arch}` : ''}${r.version ? `=${r.version}` : ''}${r.revision !== undefined ? `@${r.revision}` : ''}`;
  if (r.commit) {
    const e = index.byCommit.get(r.commit);
    if (!e) throw notFound(`${label}: commit ${r.commit} is not among the known packages`, { package: r.name });
    return e;
  }
  const all = index.byName.get(r.name) ?? [];
  if (all.length === 0) {
    // A virtual package: its first provider (by name), as if asked for by name.
    const provs = (index.providers.get(r.name) ?? []).filter((p) => (r.arch ? p.e.arch === r.arch : p.e.arch === native || p.e.arch === 'all'));
    if (provs.length > 0 && r.version === undefined && r.revision === undefined) return provs[0]!.e;
    throw notFound(`${label}: no package provides ${r.name}`, { package: r.name });
  }
  const arched = all.filter((e) => (r.arch ? e.arch === r.arch : e.arch === native || e.arch === 'all'));
  if (arched.length === 0) {
    const arches = [...new Set(all.map((e) => e.arch))].sort(cmp);
    throw notFound(`${label}: no package for ${r.arch ?? native} (${r.name} exists for ${arches.join(', ')}; ask for ${r.name}/ARCH)`, { package: r.name });
  }
  const fits = arched.filter(
    (e) =>
      (r.version === undefined || compareVersions(ver(e), r.version) === 0) &&
      (r.revision === undefined || e.revision === r.revision) &&
      (pins.get(e.key) ?? []).every((p) => versionFits(p, ver(e))),
  );
  if (fits.length === 0) {
    const have = arched.map((e) => `${e.c.info.version} revision ${e.revision}`).join(', ');
    throw notFound(`${label}: no such version (there is ${have})`, { package: r.name });
  }
  return fits[0]!;
}

class Conflict {
  constructor(
    readonly key: string,
    readonly rel: Relation,
  ) {}
}

/**
 * The closure of `requests` over `candidates`: for each dependency clause, the
 * first alternative a known package or a Provides satisfies, choosing
 * already-chosen packages and the base generation's first, then the highest
 * version. Throws E_NOT_FOUND with the chain that needs an unsatisfiable
 * dependency; returns nothing partial.
 */
export function resolve(candidates: Candidate[] | PackageIndex, requests: Request[], opts: ResolveOptions = {}): Resolution {
  const index = candidates instanceof PackageIndex ? candidates : new PackageIndex(candidates);
  const base = new Set(opts.base ?? []);
  const native = nativeArch(index, requests, opts);
  // Constraints learnt from a conflict (one dependency chose X 3, another
  // needs X (<< 3)): later rounds choose X among the versions all of them allow.
  const pins = new Map<string, Relation[]>();
  for (let round = 0; ; round++) {
    try {
      return { arch: native, packages: closure(index, requests, opts, base, native, pins) };
    } catch (e) {
      if (!(e instanceof Conflict) || round > 1000) throw e instanceof Conflict ? notFound(`cannot choose a version of ${e.key}`) : e;
      const list = pins.get(e.key) ?? [];
      list.push(e.rel);
      pins.set(e.key, list);
    }
  }
}

function closure(index: PackageIndex, requests: Request[], opts: ResolveOptions, base: Set<ObjectId>, native: string, pins: Map<string, Relation[]>): Resolved[] {
  const chosen = new Map<string, Item>();
  const extra: Item[] = [];
  const queue: Item[] = [];
  const pinOk = (e: Entry) => (pins.get(e.key) ?? []).every((p) => versionFits(p, ver(e)));
  for (const r of requests) {
    const e = pickRequested(index, r, native, pins);
    const had = chosen.get(e.key);
    if (had?.e === e || extra.some((x) => x.e === e)) throw usage(`package ${e.key} ${e.c.info.version} revision ${e.revision} is asked for twice`);
    const item: Item = { e, dependency: false };
    // Two revisions of one name and arch, both asked for by commit, share a
    // generation (the exchange view gives precedence to the higher one).
    if (had) extra.push(item);
    else chosen.set(e.key, item);
    queue.push(item);
  }
  if (opts.noDeps) return finish(chosen, extra);
  for (let qi = 0; qi < queue.length; qi++) {
    const from = queue[qi]!;
    const fromArch = from.e.arch === 'all' ? native : from.e.arch;
    for (const clause of index.clauses(from.e)) {
      // 1. Already satisfied by a chosen package or one of the base generation.
      let pick: Entry | undefined;
      for (let a = 0; a < clause.length && !pick; a++) pick = find(index, clause[a]!, fromArch, native, (e) => chosen.get(e.key)?.e === e);
      if (pick) continue;
      for (let a = 0; a < clause.length && !pick; a++) pick = find(index, clause[a]!, fromArch, native, (e) => base.has(e.c.commit) && !chosen.has(e.key) && pinOk(e));
      // 2. The first alternative anything satisfies: a real package (highest
      // version) before a provider. When another version of the name and
      // arch is chosen and does not fit, and no later alternative fits either,
      // a new round chooses one version for both (when one exists).
      let conflict: Conflict | undefined;
      for (let a = 0; a < clause.length && !pick; a++) {
        const rel = clause[a]!;
        pick = find(index, rel, fromArch, native, (e) => {
          if (!pinOk(e)) return false;
          if (!chosen.has(e.key)) return true;
          if (e.name === rel.name && !conflict && (pins.get(e.key)?.length ?? 0) < 64) conflict = new Conflict(e.key, rel);
          return false;
        });
      }
      if (!pick) {
        if (conflict) throw conflict;
        const pinned = clause.flatMap((rel) => [...pins].filter(([k]) => k.startsWith(`${rel.name}/`)).flatMap(([, rs]) => rs.map(formatRelation)));
        const also = pinned.length ? `; other packages need ${[...new Set(pinned)].join(', ')}` : '';
        const why = clause.map((rel) => whyNot(index, rel, fromArch, native)).join('; ') + also;
        throw notFound(`${[...chainOf(from), formatClause(clause)].join(' -> ')}: ${why}`, { package: clause[0]!.name });
      }
      const item: Item = { e: pick, dependency: true, parent: from };
      chosen.set(pick.key, item);
      queue.push(item);
    }
  }
  return finish(chosen, extra);
}

function finish(chosen: Map<string, Item>, extra: Item[]): Resolved[] {
  return [...chosen.values(), ...extra]
    .sort((a, b) => cmp(a.e.name, b.e.name) || cmp(a.e.arch, b.e.arch) || better(a.e, b.e))
    .map((i) => (i.parent ? { candidate: i.e.c, dependency: i.dependency, neededBy: i.parent.e.key } : { candidate: i.e.c, dependency: i.dependency }));
}

/** Every known package that satisfies `rel` for a package of arch `from`. */
function all(index: PackageIndex, rel: Relation, from: string, native: string): Entry[] {
  const out: Entry[] = [];
  find(index, rel, from, native, (e) => {
    out.push(e);
    return false;
  });
  return out;
}

/**
 * The commits the packages `roots` need, themselves included: every package
 * of the index that satisfies any alternative of a dependency of a needed
 * package (what apt's autoremove keeps, following alternatives and Provides).
 */
export function requiredBy(index: PackageIndex, roots: ObjectId[], opts: { arch?: string; hostArch?: string } = {}): Set<ObjectId> {
  const start = roots.map((c) => index.byCommit.get(c)).filter((e): e is Entry => e !== undefined);
  const arches = new Set(start.filter((e) => e.arch !== 'all').map((e) => e.arch));
  const host = opts.hostArch ?? 'amd64';
  const native = opts.arch ?? (arches.size === 0 || arches.has(host) ? host : [...arches].sort(cmp)[0]!);
  const keep = new Set<ObjectId>();
  const queue: Entry[] = [];
  const mark = (e: Entry) => {
    if (keep.has(e.c.commit)) return;
    keep.add(e.c.commit);
    queue.push(e);
  };
  for (const e of start) mark(e);
  for (let i = 0; i < queue.length; i++) {
    const e = queue[i]!;
    const from = e.arch === 'all' ? native : e.arch;
    for (const clause of index.clauses(e)) {
      for (const rel of clause) {
        for (const d of all(index, rel, from, native)) mark(d);
      }
    }
  }
  return keep;
}
