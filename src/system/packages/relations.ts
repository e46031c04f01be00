import { usage } from '../../util/errors.js';
import { type VersionOp, versionProblem } from './version.js';

/**
 * One alternative of a deb822 relationship field (Debian Policy 7.1):
 * `name[:archqual] [(op version)]`. `archQual` is `any`, `native` or an
 * architecture name; absent, the relation names a package of the same
 * architecture (or an `all` one).
 */
export interface Relation {
  name: string;
  archQual?: string;
  op?: VersionOp;
  version?: string;
}

/** A clause: alternatives, the first that can be satisfied wins (`a | b`). */
export type Clause = Relation[];

const NAME = /^[a-z0-9][a-z0-9+.-]*$/;
const OPS: Record<string, VersionOp> = { '<<': '<<', '<=': '<=', '=': '=', '>=': '>=', '>>': '>>', '<': '<=', '>': '>=' };

/**
 * Parses one alternative. Architecture restrictions (`[amd64 !i386]`) and
 * build profiles (`<!nocheck>`) belong to source packages and are dropped
 * here: a binary package's fields never carry them.
 */
export function parseRelation(text: string, field = 'Depends'): Relation {
  const t = text.replace(/\[[^\]]*\]|<[!a-z][^>]*>/g, ' ').trim();
  const m = /^([^\s(:]+)(?::([a-z0-9-]+))?\s*(?:\(\s*(<<|<=|>=|>>|=|<|>)\s*([^\s)]+)\s*\))?$/.exec(t);
  if (!m) throw usage(`${field}: cannot parse relation ${JSON.stringify(text.trim())}`);
  const [, name, archQual, op, version] = m;
  if (!NAME.test(name!)) throw usage(`${field}: invalid package name ${JSON.stringify(name)}`);
  if (version !== undefined) {
    const problem = versionProblem(version);
    if (problem) throw usage(`${field}: invalid version ${JSON.stringify(version)} for ${name}: ${problem}`);
  }
  const r: Relation = { name: name! };
  if (archQual) r.archQual = archQual;
  if (op) {
    r.op = OPS[op]!;
    r.version = version!;
  }
  return r;
}

/** Parses a relationship field (`Depends`, `Pre-Depends`, ...) into clauses, in the order given. */
export function parseRelations(field: string | undefined, name = 'Depends'): Clause[] {
  if (!field || field.trim() === '') return [];
  return field
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '')
    .map((c) => c.split('|').map((a) => parseRelation(a, name)));
}

/**
 * Parses `Provides`: names with at most an `=` version (Policy 7.5), no
 * alternatives.
 */
export function parseProvides(field: string | undefined): Relation[] {
  return parseRelations(field, 'Provides').map((clause) => {
    const [r] = clause;
    if (clause.length !== 1) throw usage(`Provides: alternatives are not allowed`);
    if (r!.op !== undefined && r!.op !== '=') throw usage(`Provides: only "=" versions are allowed (${formatRelation(r!)})`);
    return r!;
  });
}

/** The canonical text of a relation: `name[:q] (op version)`, as stored in a package's metadata. */
export function formatRelation(r: Relation): string {
  const head = r.archQual ? `${r.name}:${r.archQual}` : r.name;
  return r.op ? `${head} (${r.op} ${r.version})` : head;
}

/** The canonical text of a clause: alternatives joined by ` | `. */
export function formatClause(c: Clause): string {
  return c.map(formatRelation).join(' | ');
}
