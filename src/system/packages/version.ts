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

/** dpkg's `c_isblank`: the only white space it trims around a version. */
const BLANKS = /^[ \t]+|[ \t]+$/g;

/**
 * The epoch part before the first colon as C's `strtol` reads it (leading
 * white space, a sign, digits), or undefined when it is not all number.
 */
function strtolEpoch(text: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(text);
  if (!m) return undefined;
  const n = Number(m[2]);
  return m[1] === '-' ? -n : n;
}

/**
 * Why `v` is not a Debian version dpkg would accept, or null: dpkg's
 * `parseversion` errors and warnings both count (around the version, spaces
 * and tabs are trimmed, as dpkg does).
 */
export function versionProblem(v: string): string | null {
  const s = v.replace(BLANKS, '');
  if (s === '') return 'empty version';
  if (/[ \t]/.test(s)) return 'version contains embedded spaces';
  const colon = s.indexOf(':');
  let rest = s;
  if (colon >= 0) {
    const epoch = strtolEpoch(s.slice(0, colon));
    if (epoch === undefined) return 'epoch is not a number';
    if (epoch < 0) return 'epoch is negative';
    if (epoch > 2147483647) return 'epoch is too big';
    rest = s.slice(colon + 1);
    if (rest === '') return 'nothing after colon in version';
  }
  const dash = rest.lastIndexOf('-');
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : '';
  if (dash >= 0 && revision === '') return 'revision number is empty';
  if (upstream === '') return 'version number is empty';
  if (!/^[0-9]/.test(upstream)) return 'version number does not start with digit';
  if (!/^[A-Za-z0-9.+~:-]*$/.test(upstream)) return 'invalid character in version number';
  if (!/^[A-Za-z0-9.+~]*$/.test(revision)) return 'invalid character in revision number';
  return null;
}

/**
 * Splits a version as dpkg's parseversion does (leniently: a string dpkg
 * would only warn about compares the way dpkg compares it).
 */
export function parseVersion(v: string): DebVersion {
  const s = v.replace(BLANKS, '');
  const colon = s.indexOf(':');
  let epoch = 0;
  let rest = s;
  const e = colon >= 0 ? strtolEpoch(s.slice(0, colon)) : undefined;
  if (e !== undefined && e >= 0) {
    epoch = e;
    rest = s.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  return dash >= 0 ? { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) } : { epoch, upstream: rest, revision: '' };
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/**
 * dpkg's `order`: `~` first, then the end of a run, then letters, then
 * everything else. dpkg reads bytes as (signed) `char`, so a byte of a
 * non-ASCII character (128-255, negative there) sorts between the letters
 * and ASCII punctuation (which gets +256).
 */
function order(c: number): number {
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 126) return -1; // '~'
  if (c >= 128) return c; // (c - 256) + 256
  if (c) return c + 256;
  return 0;
}

/** The bytes dpkg sees: UTF-8 (ASCII strings, the common case, are read as they are). */
function bytesOf(s: string): { length: number; at: (i: number) => number } {
  if (/^[\x00-\x7f]*$/.test(s)) return { length: s.length, at: (i) => s.charCodeAt(i) };
  const b = Buffer.from(s, 'utf8');
  return { length: b.length, at: (i) => b[i]! };
}

/** dpkg's `verrevcmp`: negative, zero or positive. */
function verrevcmp(as: string, bs: string): number {
  const a = bytesOf(as);
  const b = bytesOf(bs);
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a.at(i))) || (j < b.length && !isDigit(b.at(j)))) {
      const ac = i < a.length ? order(a.at(i)) : 0;
      const bc = j < b.length ? order(b.at(j)) : 0;
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (i < a.length && a.at(i) === 48) i++;
    while (j < b.length && b.at(j) === 48) j++;
    while (i < a.length && isDigit(a.at(i)) && j < b.length && isDigit(b.at(j))) {
      if (!firstDiff) firstDiff = a.at(i) - b.at(j);
      i++;
      j++;
    }
    if (i < a.length && isDigit(a.at(i))) return 1;
    if (j < b.length && isDigit(b.at(j))) return -1;
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
