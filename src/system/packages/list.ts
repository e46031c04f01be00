import { corrupt, notFound, usage } from '../../util/errors.js';
import type { PackageInfo } from '../../format/types.js';
import type { ObjectId } from '../../util/hash.js';
import type { Repo } from '../../repo/repo.js';
import { firstParentLog } from '../../repo/log.js';
import { readCommitSync } from '../../repo/objects.js';
import { decodeCommit } from '../../format/codec.js';
import { packageRef } from './model.js';

export interface PackageRow {
  ref: string;
  commit: ObjectId;
  tree: ObjectId;
  timestamp: number;
  info: PackageInfo;
}

/** Every package tip (refs `pkg/<name>/<arch>`), sorted by name then arch. */
export async function listPackages(repo: Repo): Promise<PackageRow[]> {
  const refs = (await repo.refs.list('heads')).filter((r) => /^pkg\/[^/]+\/[^/]+$/.test(r.name));
  const rows: PackageRow[] = [];
  for (const r of refs) {
    // Blocking: a server lists every package (thousands) for its summary.
    const c = decodeCommit(repo.store.getSync(r.id));
    if (!c.package) throw corrupt(`${r.name} points at ${r.id}, which is not a package commit`, { ref: r.name, id: r.id });
    rows.push({ ref: r.name, commit: r.id, tree: c.tree, timestamp: c.timestamp, info: c.package });
  }
  return rows;
}

/** A pulled package ref, `refs/remotes/<remote>/pkg/<name>/<arch>`. */
export interface PulledPackageRow extends PackageRow {
  remote: string;
}

/**
 * The tips of the package refs pulled from remotes, sorted by remote, name
 * and arch. A ref that does not point at a package commit is skipped.
 */
export async function listPulledPackages(repo: Repo): Promise<PulledPackageRow[]> {
  const rows: PulledPackageRow[] = [];
  for (const r of await repo.refs.list('remotes')) {
    const m = /^([^/]+)\/(pkg\/[^/]+\/[^/]+)$/.exec(r.name);
    // Blocking, as listPackages: a package server's refs are read one after another.
    if (!m || !repo.store.hasSync(r.id)) continue;
    const c = readCommitSync(repo.store, r.id);
    if (!c.package) continue;
    rows.push({ remote: m[1]!, ref: m[2]!, commit: r.id, tree: c.tree, timestamp: c.timestamp, info: c.package });
  }
  return rows;
}

/** The arches a package exists for. */
export async function packageArches(repo: Repo, name: string): Promise<string[]> {
  return (await repo.refs.list('heads')).filter((r) => r.name.startsWith(`pkg/${name}/`)).map((r) => r.name.split('/')[2]!);
}

/** Arch of the running machine in Debian's spelling. */
export function hostArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', ia32: 'i386', arm: 'armhf', ppc64: 'ppc64el', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[process.arch] ?? process.arch;
}

/**
 * The arch to use for `name` when none is given: the only one there is, else
 * the host's, else `all`; E_USAGE when that still leaves a choice.
 */
export async function pickArch(repo: Repo, name: string): Promise<string> {
  const arches = await packageArches(repo, name);
  if (arches.length === 0) throw notFound(`no package named ${name} (add it with: trove pkg add)`, { package: name });
  if (arches.length === 1) return arches[0]!;
  for (const a of [hostArch(), 'all']) if (arches.includes(a)) return a;
  throw usage(`package ${name} exists for several arches (${arches.join(', ')}): say which, as ${name}/ARCH`);
}

/** A package's revisions on its ref, newest first. */
export async function packageHistory(repo: Repo, name: string, arch?: string): Promise<PackageRow[]> {
  const a = arch ?? (await pickArch(repo, name));
  const ref = packageRef(name, a);
  const tip = await repo.refs.read(ref);
  if (!tip) throw notFound(`no package ${name}/${a}`, { package: name, ref });
  return (await firstParentLog(repo.store, tip))
    .filter((e) => e.commit.package)
    .map((e) => ({ ref, commit: e.id, tree: e.commit.tree, timestamp: e.commit.timestamp, info: e.commit.package! }));
}
