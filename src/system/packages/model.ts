import type { PackageInfo } from '../../format/types.js';

/** The ref of a package: `pkg/<name>/<arch>`. */
export function packageRef(name: string, arch: string): string {
  return `pkg/${name}/${arch}`;
}

/** Whether a ref (under heads/) is a package's (`pkg/...`). */
export function isPackageRef(name: string): boolean {
  return name.startsWith('pkg/');
}

/** `<name>-<arch>-<version>-<revision>`, the package's directory in a generation. */
export function packageLabel(p: Pick<PackageInfo, 'name' | 'arch' | 'version' | 'revision'>): string {
  return `${p.name}-${p.arch}-${p.version}-${p.revision}`;
}
