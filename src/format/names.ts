import { badName } from '../util/errors.js';

/** A surrogate without its other half: a string UTF-8 cannot hold (String.prototype.isWellFormed, ES2024). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether `s` can be written as UTF-8: no lone surrogates. Tree bytes hold only UTF-8 (decodeTree refuses anything else). */
export function isWellFormedText(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/**
 * Why `name` is not a valid tree entry name, or null when it is. Names are
 * single path components: non-empty, no '/', no NUL, not '.' or '..', and
 * at most 255 bytes (the Linux NAME_MAX).
 */
export function nameProblem(name: string): string | null {
  if (name.length === 0) return 'empty name';
  if (name === '.' || name === '..') return `'${name}' is not allowed as a name`;
  if (name.includes('/')) return 'name contains /';
  if (name.includes('\0')) return 'name contains NUL';
  if (name.includes('\uFFFD') || !isWellFormedText(name)) return 'name is not valid UTF-8';
  if (Buffer.byteLength(name, 'utf8') > 255) return 'name longer than 255 bytes';
  return null;
}

/** Throws E_BAD_NAME unless `name` is a valid entry name. */
export function assertValidName(name: string, context = ''): void {
  const problem = nameProblem(name);
  if (problem) throw badName(`invalid entry name ${JSON.stringify(name)}${context ? ` in ${context}` : ''}: ${problem}`);
}

/**
 * Bytewise (UTF-8) order of names, the canonical order of tree entries.
 * Below U+D800, UTF-16 code units order as UTF-8 bytes do, so the first
 * differing unit decides without encoding anything; past it (surrogates,
 * which UTF-8 orders after U+E000-U+FFFF), and when the shorter name ends in
 * a surrogate, both names are encoded and compared as bytes.
 */
export function compareNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    return compareBytes(a, b);
  }
  if (n > 0 && (a.length === n ? a : b).charCodeAt(n - 1) >= 0xd800) return compareBytes(a, b);
  return a.length - b.length;
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
