/**
 * Debian version strings, compared exactly as dpkg compares them
 * (lib/dpkg/version.c: `dpkg_version_compare`, `verrevcmp`):
 *
 *   [epoch:]upstream[-debian_revision]
 *
 * The epoch is compared as a number; upstream and revision each by
 * alternating runs of non-digits (compared character by character, where
 * `~` sorts before everything, even the end of the string, and letters sort
 * before every other character) and digits (compared as numbers).
 */

export interface DebVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

/** Why `v` is not a Debian version dpkg would accept, or null. */
export function versionProblem(v: string): string | null {
  if (v === '') return 'empty version';
  if (/\s/.test(v)) return 'version contains whitespace';
  const colon = v.indexOf(':');
  if (colon >= 0) {
    const epoch = v.slice(0, colon);
    if (!/^[0-9]+$/.test(epoch)) return 'epoch is not a number';
    if (Number(epoch) > 2147483647) return 'epoch is too big';
  }
  const rest = colon >= 0 ? v.slice(colon + 1) : v;
  const dash = rest.lastIndexOf('-');
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : '';
  if (upstream === '') return 'nothing after colon in version';
  if (dash >= 0 && revision === '') return 'revision number is empty';
  if (!/^[0-9]/.test(upstream)) return 'version number does not start with digit';
  if (!/^[A-Za-z0-9.+~:-]*$/.test(upstream)) return 'invalid character in version number';
  if (!/^[A-Za-z0-9.+~]*$/.test(revision)) return 'invalid character in revision number';
  return null;
}

/**
 * Splits a version as dpkg's parseversion does (leniently: a string dpkg
 * would warn about still compares the way dpkg compares it).
 */
export function parseVersion(v: string): DebVersion {
  const s = v.trim();
  const colon = s.indexOf(':');
  let epoch = 0;
  let rest = s;
  if (colon >= 0 && /^[0-9]+$/.test(s.slice(0, colon))) {
    epoch = Number(s.slice(0, colon));
    rest = s.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  return dash >= 0 ? { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) } : { epoch, upstream: rest, revision: '' };
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** dpkg's `order`: `~` first, then the end of a run, then letters, then everything else by code. */
function order(c: number): number {
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 126) return -1; // '~'
  if (c) return c + 256;
  return 0;
}

/** dpkg's `verrevcmp`: negative, zero or positive. */
function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ac = i < a.length ? order(a.charCodeAt(i)) : 0;
      const bc = j < b.length ? order(b.charCodeAt(j)) : 0;
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (i < a.length && a.charCodeAt(i) === 48) i++;
    while (j < b.length && b.charCodeAt(j) === 48) j++;
    while (i < a.length && isDigit(a.charCodeAt(i)) && j < b.length && isDigit(b.charCodeAt(j))) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < a.length && isDigit(a.charCodeAt(i))) return 1;
    if (j < b.length && isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

/** Compares two Debian versions as `dpkg --compare-versions` does: <0, 0 or >0. */
export function compareVersions(a: string | DebVersion, b: string | DebVersion): number {
  const x = typeof a === 'string' ? parseVersion(a) : a;
  const y = typeof b === 'string' ? parseVersion(b) : b;
  if (x.epoch !== y.epoch) return x.epoch > y.epoch ? 1 : -1;
  const r = verrevcmp(x.upstream, y.upstream);
  if (r) return r;
  return verrevcmp(x.revision, y.revision);
}

/** A relation operator of deb822 (`<` and `>` are the obsolete forms of `<=` and `>=`, as dpkg reads them). */
export type VersionOp = '<<' | '<=' | '=' | '>=' | '>>';

/** Whether `version` satisfies `op ref` (`libc6 (>= 2.36)`: satisfies('2.36-9', '>=', '2.36')). */
export function satisfies(version: string | DebVersion, op: VersionOp, ref: string | DebVersion): boolean {
  const c = compareVersions(version, ref);
  switch (op) {
    case '<<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '=':
      return c === 0;
    case '>=':
      return c >= 0;
    case '>>':
      return c > 0;
  }
}
