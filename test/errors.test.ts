import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ERROR_CODES, ERROR_HELPERS, EXIT_CODES, type ErrorCode, isTroveError, TroveError } from '../src/util/errors.js';
import { ROOT } from './helpers/tmp.js';

/** `| \`E_X\` | N | ... |` rows of the exit-status table of docs/cli.md, by code. */
function docRows(): Map<string, number> {
  const text = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');
  const rows = new Map<string, number>();
  for (const m of text.matchAll(/^\| `(E_[A-Z_]+)` \| (\d+) \| (.+) \|$/gm)) {
    expect(rows.has(m[1]!), `${m[1]} has two rows in docs/cli.md`).toBe(false);
    expect(m[3]!.trim().length).toBeGreaterThan(10);
    rows.set(m[1]!, Number(m[2]));
  }
  return rows;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.ts') && !d.parentPath.includes('generated'))
    .map((d) => join(d.parentPath, d.name));
}

describe('error codes', () => {
  it('are listed once each', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  });

  it('each have a helper that makes an error of that code, with data and cause', () => {
    expect(Object.keys(ERROR_HELPERS).sort()).toEqual([...ERROR_CODES].sort());
    const cause = new Error('underneath');
    for (const code of ERROR_CODES) {
      const err = ERROR_HELPERS[code](`a ${code} error`, { path: '/x', id: 'ab'.repeat(32) }, { cause });
      expect(err).toBeInstanceOf(TroveError);
      expect(err.code).toBe(code);
      expect(err.message).toBe(`a ${code} error`);
      expect(err.data).toEqual({ path: '/x', id: 'ab'.repeat(32) });
      expect(err.cause).toBe(cause);
      expect(ERROR_HELPERS[code]('no data').data).toEqual({});
      expect(ERROR_HELPERS[code]('no cause').cause).toBeUndefined();
    }
  });

  it('each have an exit status', () => {
    expect(Object.keys(EXIT_CODES).sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      expect(Number.isInteger(EXIT_CODES[code])).toBe(true);
      expect(EXIT_CODES[code]).toBeGreaterThanOrEqual(1);
      expect(EXIT_CODES[code]).toBeLessThan(126);
    }
  });

  it('each have one row in docs/cli.md with their exit status, and no other code has one', () => {
    const rows = docRows();
    expect([...rows.keys()].sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) expect(rows.get(code), code).toBe(EXIT_CODES[code]);
  });

  it('are each described with their exit status in the TSDoc of errors.ts', () => {
    const text = readFileSync(join(ROOT, 'src', 'util', 'errors.ts'), 'utf8');
    for (const code of ERROR_CODES) expect(text, code).toContain(`\`${code}\` (exit ${EXIT_CODES[code]})`);
  });

  it('isTroveError tells trove errors, and one code, from the rest', () => {
    const err = ERROR_HELPERS.E_LOCKED('held');
    expect(isTroveError(err)).toBe(true);
    expect(isTroveError(err, 'E_LOCKED')).toBe(true);
    expect(isTroveError(err, 'E_NOT_FOUND')).toBe(false);
    expect(isTroveError(new Error('x'))).toBe(false);
    expect(isTroveError(Object.assign(new Error('x'), { code: 'E_LOCKED' }), 'E_LOCKED')).toBe(false);
    expect(isTroveError(undefined)).toBe(false);
  });

  it('isTroveError knows the errors of another copy of the module (the direct commands bundle their own)', async () => {
    vi.resetModules();
    const other = (await import('../src/util/errors.js')) as typeof import('../src/util/errors.js');
    expect(other.TroveError).not.toBe(TroveError);
    const err = other.ERROR_HELPERS.E_NOT_FOUND('gone');
    expect(err instanceof TroveError).toBe(false);
    expect(isTroveError(err, 'E_NOT_FOUND')).toBe(true);
    expect(isTroveError(err, 'E_LOCKED')).toBe(false);
    expect(other.isTroveError(ERROR_HELPERS.E_LOCKED('held'), 'E_LOCKED')).toBe(true);
  });

  it('are made through the helpers in src: a TroveError is constructed directly only to re-raise a code it was given', () => {
    const direct: string[] = [];
    for (const file of sources(join(ROOT, 'src'))) {
      const rel = relative(ROOT, file);
      if (rel === join('src', 'util', 'errors.ts')) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/new TroveError\(\s*'E_/.test(line) || /new TroveError\(\s*$/.test(line)) direct.push(`${rel}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(direct).toEqual([]);
  });

  it('type the code a helper makes', () => {
    const code: ErrorCode = ERROR_HELPERS.E_USAGE('x').code;
    expect(code).toBe('E_USAGE');
  });
});
