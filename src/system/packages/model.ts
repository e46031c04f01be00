import { compareNames } from '../../format/names.js';
import type { PackageInfo } from '../../format/types.js';

/** The ref of a package: `pkg/<name>/<arch>`. */
export function packageRef(name: string, arch: string): string {
  return `pkg/${name}/${arch}`;
}

/** `<name>-<arch>-<version>-<revision>`, the package's directory in a generation. */
export function packageLabel(p: Pick<PackageInfo, 'name' | 'arch' | 'version' | 'revision'>): string {
  return `${p.name}-${p.arch}-${p.version}-${p.revision}`;
}

/**
 * Dependency names of a deb822 relationship field: version constraints and
 * architecture qualifiers dropped, alternatives kept as `a | b`.
 */
export function parseDepends(field: string | undefined): string[] {
  if (!field) return [];
  const out = new Set<string>();
  for (const clause of field.split(',')) {
    const alts = clause
      .split('|')
      .map((a) => a.replace(/\(.*?\)|\[.*?\]|<.*?>/g, '').trim().replace(/:[a-z0-9]+$/, ''))
      .filter((a) => a !== '');
    if (alts.length > 0) out.add(alts.join(' | '));
  }
  return [...out].sort(compareNames);
}
