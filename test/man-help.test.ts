// Man pages and help topics: both are made from the command definitions and
// docs/cli.md, so they say what the reference says.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trove } from './helpers/cli.js';
import { ROOT } from './helpers/tmp.js';

const hasMan = spawnSync('bash', ['-c', 'command -v man']).status === 0;
if (!hasMan && !process.env.CI) console.log('skipping man rendering: man is not installed (scripts/ensure.mjs --test installs man-db)');

/** `man -l FILE` as text, 80 columns, with groff's warnings on stderr. */
function man(file: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('man', ['--warnings', '-l', join(ROOT, file)], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '80', MAN_KEEP_FORMATTING: '', PAGER: 'cat' } });
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

describe('man pages', () => {
  it('are up to date with the command definitions and docs/cli.md, and listed in package.json', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'man.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { man: string[] };
    expect(pkg.man).toContain('man/man1/trove.1');
    expect(pkg.man).toContain('man/man1/trove-commit.1');
    expect(pkg.man).toContain('man/man1/trove-pkg-add.1');
  });

  it('are in the package npm installs, with what the CLI reads at run time', () => {
    // `npm pack` builds the tarball `npm install -g` installs; --dry-run only lists it.
    const r = spawnSync('bash', ['-c', 'npm pack --dry-run --json --ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const files = new Set((JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { man: string[] };
    for (const page of pkg.man) expect(files.has(page), page).toBe(true);
    // The binary, the built code and docs/cli.md, which `trove help TOPIC` prints from.
    for (const f of ['bin/trove.js', 'bin/package.json', 'dist/bundle/trove.cjs', 'dist/bundle/direct-main.cjs', 'dist/bundle/cli-main.cjs', 'dist/bundle/main.js', 'dist/cli/main.js', 'dist/cli/docs.js', 'docs/cli.md', 'package.json']) expect(files.has(f), f).toBe(true);
  });

  it.skipIf(!hasMan && !process.env.CI)('render with man, without warnings', () => {
    const commit = man('man/man1/trove-commit.1');
    expect(commit.stderr).toBe('');
    expect(commit.code).toBe(0);
    const text = commit.stdout.replace(/.\x08/g, '');
    expect(text).toMatch(/^TROVE-COMMIT\(1\)/);
    expect(text).toMatch(/NAME\n +trove-commit - import a directory/);
    expect(text).toContain('trove commit [options] <source>');
    expect(text).toMatch(/-r, --ref <name>\n +ref to commit on/);
    // The long text of docs/cli.md's section, code spans joined across lines.
    expect(text.replace(/\s+/g, ' ')).toContain('written by trove summary to serve it');
    const main = man('man/man1/trove.1');
    expect(main.stderr).toBe('');
    const mainText = main.stdout.replace(/.\x08/g, '');
    for (const section of ['REVISIONS', 'EXIT STATUS', 'ENVIRONMENT', 'COMMANDS']) expect(mainText).toContain(`\n${section}\n`);
    expect(mainText).toMatch(/E_NOT_FOUND {2}3\n/);
    expect(mainText).toContain('TROVE_REPO');
    for (const page of ['trove-pkg.1', 'trove-bisect-run.1', 'trove-umount.1']) expect(man(`man/man1/${page}`).stderr).toBe('');
  });
});

describe('trove help TOPIC', () => {
  it.each([
    ['revisions', /^Every command that takes a revision/, 'suffix ~N'],
    ['exit-codes', /^0 is success/, 'E_NOT_A_REPO  9'],
    ['environment', /^ {2}TROVE_REPO\n/, 'TROVE_DEBUG'],
  ])('%s prints its section of docs/cli.md', async (topic, start, inside) => {
    const r = await trove(['help', topic]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(start);
    expect(r.stdout).toContain(inside);
    // Plain text: no markdown left, and lines fit a terminal.
    expect(r.stdout).not.toMatch(/`|\|---/);
    for (const line of r.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
  });
});
