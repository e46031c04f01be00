import { badRef, notFound, usage } from '../../util/errors.js';
import type { Repo } from '../../repo/repo.js';
import type { GenerationInput } from '../generations/tree.js';
import { firstParentLog } from '../../repo/log.js';
import { readCommit } from '../../repo/objects.js';
import { packageRef } from './model.js';
import { pickArch } from './list.js';

/** `NAME[/ARCH][@REVISION][=PRIORITY]` as given on the command line. */
export interface PackageSpec {
  name: string;
  arch?: string;
  /** An older revision from the package's history; default the tip. */
  revision?: number;
  priority: number;
}

const SPEC = /^([^/@=\s]+)(?:\/([^/@=\s]+))?(?:@(\d+))?(?:=(-?\d+))?$/;

/** Parses `NAME[/ARCH][@REVISION][=PRIORITY]`. */
export function parsePackageSpec(text: string): PackageSpec {
  const m = SPEC.exec(text);
  if (!m) throw usage(`bad package ${JSON.stringify(text)}: expected NAME[/ARCH][@REVISION][=PRIORITY]`);
  const spec: PackageSpec = { name: m[1]!, priority: m[4] ? Number(m[4]) : 0 };
  if (m[2]) spec.arch = m[2];
  if (m[3]) spec.revision = Number(m[3]);
  if (!Number.isSafeInteger(spec.priority) || Math.abs(spec.priority) > 2 ** 31 - 1) throw usage(`priority out of range in ${text}`);
  return spec;
}

/** Finds the package commit a spec names and what a generation needs of it. */
export async function resolvePackage(repo: Repo, spec: PackageSpec): Promise<GenerationInput> {
  const arch = spec.arch ?? (await pickArch(repo, spec.name));
  const ref = packageRef(spec.name, arch);
  const tip = await repo.refs.read(ref);
  if (!tip) throw notFound(`no package ${spec.name}/${arch} (add it with: trove pkg add)`, { package: spec.name, ref });
  let id = tip;
  if (spec.revision !== undefined) {
    const hit = (await firstParentLog(repo.store, tip)).find((e) => e.commit.package?.revision === spec.revision);
    if (!hit) throw notFound(`package ${spec.name}/${arch} has no revision ${spec.revision}`, { package: spec.name, ref });
    id = hit.id;
  }
  return inputOf(repo, id, spec.priority);
}

/** The generation input of package commit `id`. */
export async function inputOf(repo: Repo, id: string, priority: number): Promise<GenerationInput> {
  const c = await readCommit(repo.store, id);
  if (!c.package) throw badRef(`${id} is not a package commit`, { id });
  const { name, arch, version, revision } = c.package;
  return { pkg: { name, arch, version, revision, commit: id, priority }, tree: c.tree, root: c.root };
}
