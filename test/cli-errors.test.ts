// One error style for every command: a usage error is one line on stderr,
// `trove: <message>`, exit 2, nothing on stdout; under --json it is one JSON
// object {"error":{"code","message"}} with the same exit status.
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.js';
import { trove, type CliResult } from './helpers/cli.js';

const NO_REPO = '/nonexistent/trove-cli-errors-repo';

/** Every command of the program with its words (`['pkg', 'add']`), subcommands included. */
function commands(program: Command): { words: string[]; cmd: Command }[] {
  const out: { words: string[]; cmd: Command }[] = [];
  const visit = (cmd: Command, words: string[]): void => {
    for (const sub of cmd.commands) {
      out.push({ words: [...words, sub.name()], cmd: sub });
      visit(sub, [...words, sub.name()]);
    }
  };
  visit(program, []);
  return out;
}

function expectUsageLine(r: CliResult, what: string): void {
  expect(r.code, `${what}: ${r.stderr}`).toBe(2);
  expect(r.stdout, what).toBe('');
  const lines = r.stderr.split('\n');
  expect(lines.length, `${what}: ${r.stderr}`).toBe(2);
  expect(lines[0], what).toMatch(/^trove: \S/);
  expect(lines[1]).toBe('');
}

function expectUsageJson(r: CliResult, what: string): { code: string; message: string } {
  expect(r.code, `${what}: ${r.stderr}`).toBe(2);
  expect(r.stdout, what).toBe('');
  expect(r.stderr.endsWith('\n'), what).toBe(true);
  expect(r.stderr.trimEnd().split('\n'), `${what}: ${r.stderr}`).toHaveLength(1);
  const parsed = JSON.parse(r.stderr) as { error: { code: string; message: string } };
  expect(Object.keys(parsed), what).toEqual(['error']);
  expect(parsed.error.code, what).toBe('E_USAGE');
  expect(parsed.error.message, what).toMatch(/^\S/);
  expect(parsed.error.message, what).not.toMatch(/\n|^trove: |^error: /);
  return parsed.error;
}

/** The bad command lines of one command: an unknown option, a missing argument, too many arguments. */
function badLines(words: string[], cmd: Command): string[][] {
  // A command that passes unknown options on (`bisect run CMD --opt`) gets the other bad lines.
  const passesOptions = (cmd as unknown as { _allowUnknownOption: boolean })._allowUnknownOption && words.join(' ') !== 'log';
  const lines = passesOptions ? [] : [[...words, '--no-such-option']];
  const args = cmd.registeredArguments;
  if (args.some((a) => a.required)) lines.push(words);
  if (!args.some((a) => a.variadic)) lines.push([...words, ...Array.from({ length: args.length + 1 }, (_, i) => `extra${i}`)]);
  return lines;
}

describe('usage errors of every command', async () => {
  const all = commands(await buildProgram());

  it('walks the whole program', () => {
    const names = all.map((c) => c.words.join(' '));
    for (const name of ['commit', 'pkg add', 'gen build', 'bisect start', 'refs set', 'remote add', 'help', 'completion']) expect(names).toContain(name);
  });

  it.each(all.map((c) => [c.words.join(' '), c] as const))('%s: one line, exit 2, nothing on stdout', async (_name, { words, cmd }) => {
    for (const line of badLines(words, cmd)) {
      expectUsageLine(await trove(['--repo', NO_REPO, ...line]), line.join(' '));
    }
  });

  it.each(all.map((c) => [c.words.join(' '), c] as const))('%s --json: one JSON object, exit 2', async (_name, { words, cmd }) => {
    for (const line of badLines(words, cmd)) {
      expectUsageJson(await trove(['--repo', NO_REPO, ...line, '--json']), `${line.join(' ')} --json`);
    }
  });
});

describe('error style', () => {
  it('an unknown command is one line with a suggestion, with and without --json', async () => {
    const r = await trove(['comit']);
    expectUsageLine(r, 'comit');
    expect(r.stderr).toBe("trove: unknown command 'comit' (did you mean commit?)\n");
    const j = expectUsageJson(await trove(['comit', '--json']), 'comit --json');
    expect(j.message).toBe("unknown command 'comit' (did you mean commit?)");
  });

  it('no command at all is one line too', async () => {
    for (const args of [[], ['--repo', NO_REPO]]) {
      const r = await trove(args);
      expectUsageLine(r, 'no command');
      expect(r.stderr).toBe('trove: no command given (trove --help lists the commands)\n');
    }
    expectUsageJson(await trove(['--json']), '--json alone');
  });

  it('an unknown option suggests the near one', async () => {
    const r = await trove(['log', '--onelin']);
    expect(r.stderr).toBe("trove: unknown option '--onelin' (did you mean --oneline?)\n");
  });

  it('a group command without its subcommand, or with a wrong one, is one line', async () => {
    const r = await trove(['pkg']);
    expectUsageLine(r, 'pkg');
    expect(r.stderr).toBe('trove: pkg needs a subcommand: add, list, show (see trove pkg --help)\n');
    const s = await trove(['gen', 'buidl']);
    expectUsageLine(s, 'gen buidl');
    expect(s.stderr).toBe("trove: unknown command 'gen buidl' (did you mean gen build?)\n");
  });

  it('help of an unknown command or topic says so and exits 2', async () => {
    const r = await trove(['help', 'nosuch']);
    expectUsageLine(r, 'help nosuch');
    expect(r.stderr).toContain("no command or help topic 'nosuch'");
    expect((await trove(['help', 'revisons'])).stderr).toContain('did you mean revisions?');
    expect((await trove(['help', 'pkg', 'nosuch'])).code).toBe(2);
  });

  it('help of a command and of a subcommand goes to stdout, exit 0', async () => {
    const r = await trove(['help', 'pkg', 'add']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Usage: trove pkg add /);
    const h = await trove(['commit', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^Usage: trove commit /);
  });

  it('the help lists -V, --version and the help topics', async () => {
    const r = await trove(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/-V, --version +print the version/);
    expect(r.stdout).toContain('trove help revisions | exit-codes | environment');
    expect((await trove(['-V'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('an error of a command under --json is one JSON object with its code, data and exit status', async () => {
    const r = await trove(['--repo', NO_REPO, 'log', '--json']);
    expect(r.code).toBe(9);
    expect(r.stdout).toBe('');
    const parsed = JSON.parse(r.stderr) as { error: { code: string; message: string; data?: { path?: string } } };
    expect(parsed.error.code).toBe('E_NOT_A_REPO');
    expect(parsed.error.message).toContain(NO_REPO);
    const plain = await trove(['--repo', NO_REPO, 'log']);
    expect(plain.code).toBe(9);
    expect(plain.stderr).toBe(`trove: ${parsed.error.message}\n`);
  });
});
