// switch, rollback, status, checkout and commit are parsed and run without commander when their command
// line is plain (src/cli/direct.ts). Whatever the direct parser accepts, commander must read the same way:
// the same arguments, options (defaults included) and global options.
import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { type DirectCommand, parseDirect } from '../src/cli/direct.js';
import { buildProgram } from '../src/cli/program.js';
import { command as rollback } from '../src/cli/commands/rollback.js';
import { command as status } from '../src/cli/commands/status.js';
import { command as switchCommand } from '../src/cli/commands/switch.js';
import { command as checkout } from '../src/cli/commands/checkout.js';
import { command as commit } from '../src/cli/commands/commit.js';
import { prng } from './helpers/prng.js';
import { runTrove } from './helpers/cli.js';
import { removeTree, ROOT, tmpdir } from './helpers/tmp.js';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const SPECS = [switchCommand, rollback, status, checkout, commit] as DirectCommand<unknown>[];

interface Reading {
  args: (string | undefined)[];
  opts: Record<string, unknown>;
  globals: Record<string, unknown>;
}

/** How commander reads `words`: the real program, with the command's action replaced by a recorder. */
async function commanderReading(spec: DirectCommand<unknown>, words: string[]): Promise<Reading | Error> {
  const argv = ['node', 'trove', ...words];
  const program = await buildProgram(argv);
  let reading: Reading | undefined;
  const cmd = program.commands.find((c) => c.name() === spec.name)!;
  cmd.action((...params: unknown[]) => {
    const self = params.at(-1) as Command;
    const g = self.optsWithGlobals<Record<string, unknown>>();
    const globals = Object.fromEntries(['repo', 'quiet', 'verbose', 'progress'].filter((k) => g[k] !== undefined).map((k) => [k, g[k]]));
    reading = { args: params.slice(0, spec.args.length) as (string | undefined)[], opts: { ...self.opts() }, globals };
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    return err as Error;
  }
  return reading ?? new Error('the action did not run');
}

/** Random command lines around `spec`'s name: its options, global options, values, and things only commander takes. */
function lines(spec: DirectCommand<unknown>, seed: number, n: number): string[][] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const values = ['1', '12', 'main', 'os/main', 'a=b', '', '-1', '-', '--json', 'x y'];
  const tokens = (): string[] => {
    const o = pick(spec.options);
    const [first, second] = o.flags.split(/,? /);
    const short = first!.startsWith('--') ? undefined : first!;
    const long = short === undefined ? first! : second!;
    const takes = o.flags.endsWith('>');
    const value = pick(values);
    return pick([
      () => (takes ? [long, value] : [long]),
      () => [`${long}=${value}`],
      // The short form, alone or with its value run on, or two short flags run together.
      () => (short === undefined ? [long] : takes ? [short, value] : [short]),
      () => [`${short ?? '-q'}${pick(['x', '=1', 'q', ''])}`],
      () => [pick(['-q', '-v', '--quiet', '--verbose', '--progress', '--no-progress'])],
      () => ['--repo', pick(['R', '/tmp/r', '-x'])],
      () => [`--repo=${pick(['R2', ''])}`],
      () => [pick(values)],
      () => [pick(['--help', '-h', '--bogus', '--', '-qv', '--profile'])],
    ])();
  };
  const out: string[][] = [];
  for (let i = 0; i < n; i++) {
    const before = Array.from({ length: Math.floor(rnd() * 2) }, () => pick([['-q'], ['-v'], ['--repo', 'R'], ['--repo=R3'], ['--no-progress']]));
    // The arguments a command cannot do without, most of the time.
    const required = spec.args.filter((a) => a.syntax.startsWith('<') && rnd() < 0.9).map(() => pick(['main', 'd', '/tmp/x']));
    for (const o of spec.options) if (o.required && rnd() < 0.9) required.push(pick(o.flags.split(/,? /).slice(0, -1)), pick(['main', 'os/main']));
    const after = Array.from({ length: Math.floor(rnd() * 4) }, tokens);
    out.push([...before.flat(), spec.name, ...required, ...after.flat()]);
  }
  return out;
}

describe('the direct parser against commander', () => {
  for (const spec of SPECS) {
    it(`reads every command line of ${spec.name} it accepts as commander does`, async () => {
      let accepted = 0;
      for (const words of lines(spec, spec.name.length * 7919, 1_500)) {
        const mine = parseDirect(['node', 'trove', ...words], spec);
        if (!mine) continue;
        accepted++;
        const theirs = await commanderReading(spec, words);
        const where = JSON.stringify(words);
        if (theirs instanceof Error) {
          // The one error both share: the global options' own rule, from the same function.
          expect(theirs.message, where).toBe('-q and -v exclude each other');
          expect(mine.globals.quiet && mine.globals.verbose, where).toBe(true);
          continue;
        }
        expect({ args: mine.args, opts: mine.opts, globals: mine.globals }, where).toEqual(theirs);
      }
      // The plain forms are common in the generated lines: the comparison is not of a few.
      expect(accepted).toBeGreaterThan(150);
    });
  }

  it('takes the plain forms users type, and leaves help, unknown options and extra arguments to commander', () => {
    const parse = (spec: DirectCommand<unknown>, ...words: string[]) => parseDirect(['node', 'trove', ...words], spec);
    expect(parse(switchCommand, '--repo', 'R', 'switch', '3', '--link', '/ro')).toEqual({
      globals: { repo: 'R' },
      args: ['3'],
      opts: { link: '/ro', profile: 'system' },
    });
    expect(parse(status, 'status', '--json', '--profile=work', '-q')).toEqual({ globals: { quiet: true }, args: [], opts: { json: true, profile: 'work' } });
    expect(parse(rollback, 'rollback', '--to', '2')?.opts).toEqual({ to: '2', profile: 'system' });
    expect(parse(checkout, 'checkout', 'main', '/tmp/d', '-H', '--repo', 'R')).toEqual({ globals: { repo: 'R' }, args: ['main', '/tmp/d'], opts: { hardlink: true } });
    expect(parse(checkout, 'checkout', '--copy', 'main', 'd', '--json')?.opts).toEqual({ copy: true, json: true });
    expect(parse(commit, 'commit', 'src', '-r', 'main', '-m', 'x', '--meta', 'a=1', '--meta=b=2', '--no-xattrs')).toEqual({
      globals: {},
      args: ['src'],
      opts: { ref: 'main', message: 'x', meta: ['a=1', 'b=2'], xattrs: false, updateSummary: true },
    });
    for (const words of [
      ['switch', '--help'],
      ['switch', '-h'],
      ['switch', '1', '2'],
      ['switch', '--bogus'],
      ['switch', '--', '1'],
      ['status', '--profile'],
      ['status', '--profile', '--json'],
      ['status', '--json=yes'],
      ['status', '--json', '--json'],
      ['--json', 'status'],
      ['rollback', 'extra'],
      ['statu'],
      // Needs the network, which the direct commands' bundle leaves out (viaCommander).
      ['status', '--remote-check'],
      ['status', '--json', '--remote-check'],
      ['checkout', 'main'],
      ['checkout', 'main', 'd', '-HC'],
      ['checkout', 'main', 'd', '-H', '--hardlink'],
      ['checkout', 'main', 'd', '-H=1'],
      ['checkout', 'main', 'd', '-x'],
      // The ref is required: commander says so.
      ['commit', 'src', '-m', 'x'],
      ['commit', 'src', '-r', 'a', '--ref', 'b'],
      ['commit', 'src', '-r', 'a', '--no-xattrs=1'],
    ]) {
      const spec = SPECS.find((s) => s.name === words.find((w) => !w.startsWith('-')))! ?? status;
      expect(parse(spec, ...words), JSON.stringify(words)).toBeUndefined();
    }
  });
});

describe('the direct commands as a process runs them (their own bundle, then the CLI for the rest)', () => {
  it('reports errors as the CLI does, and leaves help and unknown options to commander', () => {
    const dir = tmpdir();
    try {
      const repo = join(dir, 'repo');
      expect(runTrove(['--repo', repo, 'init']).code).toBe(0);
      const missing = runTrove(['--repo', repo, 'switch']);
      expect(missing).toMatchObject({ code: 2, stdout: '' });
      expect(missing.stderr).toBe('trove: switch needs a target (a generation number, ref or commit), or --restore\n');
      const none = runTrove(['--repo', join(dir, 'nothing'), 'status', '--json']);
      expect(none.code).toBe(9);
      expect((JSON.parse(none.stderr) as { error: { code: string } }).error.code).toBe('E_NOT_A_REPO');
      expect(runTrove(['--repo', repo, 'status'])).toMatchObject({ code: 0, stdout: expect.stringContaining('active      none') as unknown as string });
      expect(runTrove(['--repo', repo, 'rollback', '--to', 'x'])).toMatchObject({ code: 2, stderr: 'trove: --to must be a generation number\n' });
      expect(runTrove(['status', '--bogus'])).toMatchObject({ code: 2, stderr: "trove: unknown option '--bogus'\n" });
      expect(runTrove(['switch', '--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: trove switch [options] [target]') as unknown as string });
      expect(runTrove(['-q', '-v', 'status'])).toMatchObject({ code: 2, stderr: 'trove: -q and -v exclude each other\n' });
      // The same refusal whether the direct parser (-H -C) or commander (-HC) read the line.
      for (const flags of [['-H', '-C'], ['-HC']]) {
        expect(runTrove(['--repo', repo, 'checkout', 'main', join(dir, 'co'), ...flags])).toMatchObject({ code: 2, stderr: 'trove: --hardlink and --copy exclude each other\n' });
      }
      expect(runTrove(['--repo', repo, 'checkout', 'nosuch', join(dir, 'co'), '--json']).code).toBe(3);
    } finally {
      removeTree(dir);
    }
  });

  it('load neither node:crypto, node:fs/promises, worker threads nor the network: a switch to a checkout that exists hashes nothing', () => {
    const dir = tmpdir();
    try {
      const repo = join(dir, 'repo');
      const tree = join(dir, 'tree');
      mkdirSync(join(tree, 'etc'), { recursive: true });
      writeFileSync(join(tree, 'etc', 'id'), '1');
      for (const args of [['init'], ['pkg', 'add', tree, '--name', 'base', '--arch', 'amd64', '--version', '1'], ['gen', 'build', 'base']]) {
        expect(runTrove(['--repo', repo, ...args]).code, args.join(' ')).toBe(0);
      }
      const link = join(dir, 'current');
      expect(runTrove(['--repo', repo, 'switch', '1', '--link', link]).code).toBe(0);
      // The CLI's entry run under a wrapper that lists the built-in modules loaded by the time it exits.
      const wrapper = join(dir, 'loaded.cjs');
      writeFileSync(
        wrapper,
        "process.on('exit', () => require('node:fs').writeFileSync(process.env.LOADED, process.moduleLoadList.join('\\n')));\n" +
          `process.argv.splice(1, 1);\nrequire(${JSON.stringify(join(ROOT, 'dist', 'bundle', 'trove.cjs'))});\n`,
      );
      for (const args of [['switch', '1', '--link', link], ['status'], ['rollback', '--to', '1']]) {
        const loaded = join(dir, `loaded-${args[0]}`);
        const r = spawnSync(process.execPath, [wrapper, 'bin', '--repo', repo, ...args], { encoding: 'utf8', env: { ...process.env, LOADED: loaded } });
        expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
        const modules = readFileSync(loaded, 'utf8').split('\n');
        expect(modules, args[0]).toContain('NativeModule fs');
        for (const m of ['NativeModule crypto', 'NativeModule net', 'NativeModule http', 'NativeModule zlib', 'NativeModule fs/promises', 'NativeModule worker_threads']) {
          expect(modules, `${args[0]}: ${m}`).not.toContain(m);
        }
      }
      // A checkout runs from its own file: no commander (which loads node:child_process) and no network.
      const loaded = join(dir, 'loaded-checkout');
      const dest = join(dir, 'co');
      const r = spawnSync(process.execPath, [wrapper, 'bin', '--repo', repo, 'checkout', 'pkg/base/amd64', dest, '-H', '--json'], { encoding: 'utf8', env: { ...process.env, LOADED: loaded } });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ dest, method: 'hardlink', files: 1 });
      expect(readFileSync(join(dest, 'etc', 'id'), 'utf8')).toBe('1');
      const modules = readFileSync(loaded, 'utf8').split('\n');
      expect(modules).toContain('NativeModule fs');
      for (const m of ['NativeModule child_process', 'NativeModule net', 'NativeModule http', 'NativeModule zlib']) expect(modules, m).not.toContain(m);
      // A commit into a repository that serves no summary loads none of the summary's code either (delta packs, zlib, the compressors).
      const loadedCommit = join(dir, 'loaded-commit');
      const c = spawnSync(process.execPath, [wrapper, 'bin', '--repo', repo, 'commit', tree, '-r', 'other', '--json'], { encoding: 'utf8', env: { ...process.env, LOADED: loadedCommit } });
      expect(c.status, c.stderr).toBe(0);
      expect(JSON.parse(c.stdout)).toMatchObject({ report: { files: 1 } });
      const commitModules = readFileSync(loadedCommit, 'utf8').split('\n');
      for (const m of ['NativeModule child_process', 'NativeModule net', 'NativeModule http', 'NativeModule zlib']) expect(commitModules, `commit: ${m}`).not.toContain(m);
    } finally {
      removeTree(dir);
    }
  });
});
