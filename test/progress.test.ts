// Progress and verbosity (docs/cli.md, "Progress and verbosity"): --progress
// on a pipe writes plain lines whose last one per phase states the real
// counts, stdout stays as it is; nothing is added on a pipe without it; -q
// leaves out confirmations and notes, -v adds detail; every command accepts
// -q and -v; on a terminal a bar is drawn.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildProgram, commandPath } from '../src/cli/program.js';
import { bytes } from '../src/cli/printers.js';
import { type CliResult, trove, TROVE_BIN } from './helpers/cli.js';
import { getDebs } from './helpers/debs.js';
import { sh, tmpdir } from './helpers/tmp.js';

const FILES = 30;
/** File i (1..30) holds 100*i bytes. */
const FILE_BYTES = (FILES * (FILES + 1) * 100) / 2;

function makeSource(dir: string): void {
  mkdirSync(join(dir, 'a'), { recursive: true });
  mkdirSync(join(dir, 'b', 'c'), { recursive: true });
  for (let i = 1; i <= FILES; i++) {
    const sub = i % 3 === 0 ? 'a' : i % 3 === 1 ? join('b', 'c') : '';
    writeFileSync(join(dir, sub, `f${i}`), Buffer.alloc(100 * i, i));
  }
  symlinkSync('f2', join(dir, 'l1'));
  symlinkSync('../f2', join(dir, 'a', 'l2'));
}

/** Object files in a repository (objects/xx/...). */
function objectFiles(repo: string): number {
  const dir = join(repo, 'objects');
  let n = 0;
  for (const fan of readdirSync(dir)) if (/^[0-9a-f]{2}$/.test(fan)) n += readdirSync(join(dir, fan)).length;
  return n;
}

/** Regular files (and hard links) in a .deb's data archive, as dpkg-deb lists them. */
function debFiles(deb: string): number {
  return sh('dpkg-deb', ['-c', deb])
    .split('\n')
    .filter((l) => l.startsWith('-') || l.startsWith('h')).length;
}

/**
 * Output that differs between two runs of the same commands for reasons other
 * than progress: the scenario's directory, commit ids (commits carry the time), timings, and the sizes
 * that follow from them (a commit's bytes, a compressed pack).
 */
function normalise(s: string, sc: Scenario): string {
  return s
    .replaceAll(sc.base, '<base>')
    .replace(/\b[0-9a-f]{64}\b|\b[0-9a-f]{12}\b/g, '<id>')
    .replace(/\d+\.\d+ s\b/g, '<t> s')
    .replace(/\d+(\.\d+)? (B|KiB|MiB|GiB)\b/g, '<size>');
}

type Step = 'commit' | 'pkg add' | 'checkout' | 'fsck' | 'delta' | 'pull' | 'gc';

interface Scenario {
  base: string;
  results: Record<Step, CliResult>;
  server: string;
  client: string;
  /** Objects in the server before and after gc, in the client after the pull. */
  beforeGc: number;
  afterGc: number;
  pulled: number;
}

/**
 * The same commands in a fresh pair of repositories, each measured command
 * run with `flags` (the setup commands without): commit, pkg add (a real
 * .deb), checkout, fsck, delta, pull (from a local remote, object by object),
 * gc (after a ref is deleted).
 */
async function scenario(flags: string[], src: string, deb: string): Promise<Scenario> {
  const base = tmpdir('trove-progress');
  const server = join(base, 'server');
  const client = join(base, 'client');
  const ok = async (args: string[]) => {
    const r = await trove(args);
    if (r.code !== 0) throw new Error(`trove ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r;
  };
  const run = (repo: string, ...args: string[]) => ok(['--repo', repo, ...args, ...flags]);
  await ok(['--repo', server, 'init']);
  const results = {} as Record<Step, CliResult>;
  results.commit = await run(server, 'commit', src, '-r', 'os/main', '-m', 'one');
  results['pkg add'] = await run(server, 'pkg', 'add', deb);
  results.checkout = await run(server, 'checkout', 'os/main', join(base, 'out'));
  results.fsck = await run(server, 'fsck');
  results.delta = await run(server, 'delta', '--from-empty', 'os/main');
  await ok(['--repo', server, 'summary']);
  await ok(['--repo', client, 'init']);
  await ok(['--repo', client, 'remote', 'add', 'origin', server]);
  results.pull = await run(client, 'pull', 'origin', 'os/main', '--no-deltas');
  const pulled = objectFiles(client);
  const pkgRef = (await ok(['--repo', server, 'refs'])).stdout.split('\n').find((l) => l.includes(' pkg/'))!.split(' ')[1]!;
  await ok(['--repo', server, 'refs', 'delete', pkgRef]);
  const beforeGc = objectFiles(server);
  results.gc = await run(server, 'gc');
  return { base, results, server, client, beforeGc, afterGc: objectFiles(server), pulled };
}

const STEPS: Step[] = ['commit', 'pkg add', 'checkout', 'fsck', 'delta', 'pull', 'gc'];

describe('progress and verbosity', () => {
  let src: string;
  let deb: string;
  let plain: Scenario;
  let progress: Scenario;
  let quiet: Scenario;
  let verbose: Scenario;

  beforeAll(async () => {
    src = join(tmpdir('trove-progress-src'), 'src');
    makeSource(src);
    [deb] = getDebs(['hello']) as [string];
    plain = await scenario([], src, deb);
    progress = await scenario(['--progress'], src, deb);
    quiet = await scenario(['-q'], src, deb);
    verbose = await scenario(['-v'], src, deb);
  }, 120_000);

  it('adds nothing to stderr on a pipe without --progress', () => {
    for (const step of STEPS) expect(plain.results[step].stderr, step).toBe('');
  });

  it('with --progress on a pipe, leaves stdout as it is', () => {
    for (const step of STEPS) {
      expect(progress.results[step].stdout, step).not.toBe('');
      expect(normalise(progress.results[step].stdout, progress), step).toBe(normalise(plain.results[step].stdout, plain));
    }
  });

  it('with --progress on a pipe, writes plain lines whose last one per phase states the real counts', () => {
    const err = (s: Step) => progress.results[s].stderr;
    for (const step of STEPS) {
      expect(err(step), step).not.toMatch(/\x1b\[/);
      expect(err(step).endsWith('\n'), step).toBe(true);
    }
    expect(err('commit')).toMatch(new RegExp(`^commit: reading done: ${FILES} files, ${bytes(FILE_BYTES)} in \\d+\\.\\d\\d s$`, 'm'));
    const debCount = debFiles(deb);
    expect(debCount).toBeGreaterThan(0);
    expect(err('pkg add')).toMatch(new RegExp(`^pkg add: reading done: ${debCount} files, `, 'm'));
    expect(err('checkout')).toMatch(new RegExp(`^checkout: writing done: ${FILES} files, ${bytes(FILE_BYTES)} in `, 'm'));

    // fsck: every object file re-hashed; every commit, tree and blob reached.
    const objects = Number(/^(\d+) objects/m.exec(plain.results.fsck.stdout)![1]);
    const [, commits, trees, blobs] = /(\d+) commits, (\d+) trees, (\d+) blobs reachable/.exec(plain.results.fsck.stdout)!.map(Number);
    expect(err('fsck')).toMatch(new RegExp(`^fsck: hashing done: ${objects} objects, `, 'm'));
    expect(err('fsck')).toMatch(new RegExp(`^fsck: checking done: ${commits! + trees! + blobs!} objects in `, 'm'));

    const packed = Number(/: (\d+) objects, /.exec(plain.results.delta.stdout)![1]);
    expect(packed).toBeGreaterThan(FILES);
    expect(err('delta')).toMatch(new RegExp(`^delta: packing done: ${packed}/${packed} objects, `, 'm'));

    // The client held nothing: every object in it came with the pull.
    expect(progress.pulled).toBeGreaterThan(FILES);
    expect(err('pull')).toMatch(new RegExp(`^pull: objects done: ${progress.pulled}/${progress.pulled} objects, `, 'm'));

    const deleted = progress.beforeGc - progress.afterGc;
    expect(deleted).toBeGreaterThan(0);
    expect(err('gc')).toMatch(new RegExp(`^gc: marking done: ${progress.afterGc} objects in `, 'm'));
    expect(err('gc')).toMatch(new RegExp(`^gc: scanning done: ${progress.beforeGc} objects, `, 'm'));
    expect(err('gc')).toMatch(new RegExp(`^gc: deleting done: ${deleted}/${deleted} objects, `, 'm'));
  });

  it('-q: confirmation commands print nothing on stdout, and no notes on stderr; exit codes as without', () => {
    for (const step of STEPS) {
      expect(quiet.results[step].code, step).toBe(0);
      expect(quiet.results[step].stdout, step).toBe('');
      expect(quiet.results[step].stderr, step).toBe('');
    }
  });

  it('-v: detail lines on stderr, stdout as without', () => {
    const err = (s: Step) => verbose.results[s].stderr;
    for (const step of STEPS) expect(normalise(verbose.results[step].stdout, verbose), step).toBe(normalise(plain.results[step].stdout, plain));
    expect(err('commit')).toMatch(/^commit: reading done: 30 files, .* in \d+\.\d\d s$/m);
    expect(err('commit')).toMatch(new RegExp(`^commit: .* is a directory; stat cache used$`, 'm'));
    expect(err('commit')).toMatch(new RegExp(`^commit: ${FILES} files, 3 dirs, 2 symlinks; ${bytes(FILE_BYTES)} read; 0 files unchanged \\(stat cache\\); 0 skipped$`, 'm'));
    const written = Number(/wrote (\d+) new objects/.exec(verbose.results.commit.stdout)![1]);
    expect(err('commit')).toMatch(new RegExp(`^commit: ${written} new objects written \\(.*\\); tree [0-9a-f]{64}; parent none; `, 'm'));
    expect(err('pkg add')).toMatch(new RegExp(`^pkg add: ${deb.replace(/[.+]/g, '\\$&')}: ${debFiles(deb)} files, .* read; revision 1 on pkg/hello/amd64$`, 'm'));
    expect(err('checkout')).toMatch(new RegExp(`^checkout: os/main is commit [0-9a-f]{64}; copies, each re-hashed as written$`, 'm'));
    expect(err('checkout')).toMatch(new RegExp(`^checkout: ${FILES} files \\(0 linked, ${FILES} copied\\), 3 dirs, 2 symlinks in `, 'm'));
    expect(err('fsck')).toMatch(/^fsck: root refs\/heads\/os\/main: commit [0-9a-f]{64}$/m);
    expect(err('fsck')).toMatch(/^fsck: root refs\/heads\/pkg\/hello\/amd64: commit [0-9a-f]{64}$/m);
    expect(err('delta')).toMatch(/^delta: from nothing to [0-9a-f]{64}: \d+ objects \(.*\) packed into .* with (xz|gzip) level 6 in /m);
    expect(err('pull')).toMatch(new RegExp(`^pull: ${verbose.pulled} objects \\(.*\\) stored; \\d+ requests, .* received, 0 retries in `, 'm'));
    // gc names each object it deletes: as many as left the store.
    const removed = err('gc').split('\n').filter((l) => /^gc: remove (commit|tree|blob) [0-9a-f]{64} \(/.test(l));
    expect(removed.length).toBe(verbose.beforeGc - verbose.afterGc);
    expect(removed.filter((l) => l.startsWith('gc: remove commit')).length).toBe(1);
  });

  it('--progress with --json: progress on stderr, stdout pure JSON; --json alone adds nothing', async () => {
    const repo = join(tmpdir('trove-progress-json'), 'repo');
    expect((await trove(['--repo', repo, 'init'])).code).toBe(0);
    const withBar = await trove(['--repo', repo, 'commit', src, '-r', 'a', '--json', '--progress']);
    expect(withBar.code).toBe(0);
    expect(JSON.parse(withBar.stdout).report.files).toBe(FILES);
    expect(withBar.stderr).toMatch(new RegExp(`^commit: reading done: ${FILES} files, `, 'm'));
    const without = await trove(['--repo', repo, 'fsck', '--json']);
    expect(without.stderr).toBe('');
    expect(JSON.parse(without.stdout).ok).toBe(true);
    // --no-progress wins over nothing, -q over --progress.
    expect((await trove(['--repo', repo, 'fsck', '--no-progress', '--progress'])).stderr).toMatch(/^fsck: hashing done/m);
    expect((await trove(['--repo', repo, '-q', 'fsck', '--progress'])).stderr).toBe('');
  });

  it('-q and -v together are a usage error', async () => {
    const r = await trove(['--repo', plain.server, 'fsck', '-q', '-v']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('trove: -q and -v exclude each other\n');
  });

  it('data commands print their data under -q and -v as without', async () => {
    const cases = [['log'], ['ls', 'os/main'], ['refs'], ['show', 'os/main'], ['cat', 'os/main:f2'], ['pkg', 'list'], ['gen', 'list'], ['remote', 'list'], ['status']];
    for (const args of cases) {
      const base = await trove(['--repo', plain.server, ...args]);
      for (const flag of ['-q', '-v', '--quiet', '--verbose']) {
        const r = await trove(['--repo', plain.server, ...args, flag]);
        expect(r.code, `${args.join(' ')} ${flag}`).toBe(base.code);
        expect(r.stdout, `${args.join(' ')} ${flag}`).toBe(base.stdout);
      }
    }
  });

  it('every command accepts -q and -v, before and after its words', async () => {
    const leaves: string[][] = [];
    const walk = (cmd: Command) => {
      const subs = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
      if (cmd.parent && subs.length === 0) leaves.push(commandPath(cmd).split(' ').slice(1));
      for (const s of subs) walk(s);
    };
    walk(await buildProgram());
    expect(leaves.length).toBeGreaterThan(30);
    for (const words of leaves) {
      for (const [flag, level] of [['-q', 'quiet'], ['-v', 'verbose'], ['--quiet', 'quiet'], ['--verbose', 'verbose']] as const) {
        for (const where of ['before', 'after'] as const) {
          const program = await buildProgram(['node', 'trove', ...words]);
          let cmd: Command = program;
          for (const w of words) cmd = cmd.commands.find((c) => c.name() === w)!;
          // The arguments and required options the command needs, then an action that records what it got.
          const args = cmd.registeredArguments.filter((a) => a.required).map((a) => a.argChoices?.[0] ?? 'x');
          const required = cmd.options.filter((o) => o.mandatory).flatMap((o) => [o.long!, 'x']);
          let seen: Record<string, unknown> | undefined;
          cmd.action((...a: unknown[]) => {
            seen = (a[a.length - 1] as Command).optsWithGlobals();
          });
          const argv = where === 'before' ? [flag, ...words, ...args, ...required] : [...words, ...args, ...required, flag];
          await program.parseAsync(['node', 'trove', ...argv]);
          expect(seen?.[level], `trove ${argv.join(' ')}`).toBe(true);
        }
      }
    }
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  it.skipIf(!hasScript && !process.env.CI)('draws a bar on a terminal (script(1)), and none with --no-progress', () => {
    const base = tmpdir('trove-progress-tty');
    const repo = join(base, 'repo');
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const run = (args: string) =>
      spawnSync('script', ['-qec', `${q(process.execPath)} ${q(TROVE_BIN)} --repo ${q(repo)} ${args}`, '/dev/null'], { encoding: 'utf8', env: { ...process.env, TROVE_REPO: undefined } });
    expect(run('init').status).toBe(0);
    const r = run(`commit ${q(src)} -r tty`);
    expect(r.status).toBe(0);
    // The bar is redrawn in place (cursor to column 1, line cleared) and cleared at the end.
    expect(r.stdout).toMatch(/\x1b\[1Gcommit: reading \d+ files/);
    expect(r.stdout).toContain(`commit: reading ${FILES} files | ${bytes(FILE_BYTES)} | `);
    expect(r.stdout).toMatch(/\x1b\[2K/);
    expect(r.stdout).toMatch(/tty -> [0-9a-f]{64}/);
    const off = run(`commit ${q(src)} -r tty2 --no-progress`);
    expect(off.status).toBe(0);
    expect(off.stdout).not.toContain('commit: reading');
    expect(off.stdout).toMatch(/tty2 -> [0-9a-f]{64}/);
  });
});
