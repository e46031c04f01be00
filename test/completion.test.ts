// Shell completion: the scripts `trove completion bash|zsh` print, run in the
// real shells with the built CLI as `trove` on PATH, against a repository.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { trove, TROVE_BIN, troveOk } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';

const dir = tmpdir('trove-completion');
const bin = join(dir, 'bin');
const repo = join(dir, 'repo');

/** Runs a shell script with `trove` (the built CLI) first on PATH, in `dir`. */
function shell(shellName: 'bash' | 'zsh', script: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(shellName, shellName === 'zsh' ? ['-f', '-c', script] : ['--norc', '-c', script], {
    cwd: dir,
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, TROVE_REPO: undefined },
    encoding: 'utf8',
  });
  if (r.error) throw r.error;
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  mkdirSync(bin);
  writeFileSync(join(bin, 'trove'), `#!/bin/sh\nexec "${process.execPath}" "${TROVE_BIN}" "$@"\n`);
  chmodSync(join(bin, 'trove'), 0o755);
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'hello'), 'hello\n');
  await troveOk(repo, 'init');
  await troveOk(repo, 'commit', src, '--ref', 'os/main', '-m', 'one');
  await troveOk(repo, 'commit', src, '--ref', 'os/test', '-m', 'two');
  await troveOk(repo, 'pkg', 'add', src, '--name', 'hello', '--arch', 'amd64', '--version', '1.0');
  await troveOk(repo, 'pkg', 'add', src, '--name', 'world', '--arch', 'amd64', '--version', '1.0');
  await troveOk(repo, 'gen', 'build', 'hello');
  await troveOk(repo, 'gen', 'build', 'hello', 'world');
});

// Calls the completion function as bash does on <Tab>: COMP_WORDS, COMP_CWORD, then COMPREPLY.
const BASH = `source <(trove completion bash) || exit 9
t() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=(); _trove; printf '%s\\n' "\${COMPREPLY[*]}"; }
`;

describe('bash completion', () => {
  it('registers a completion function for trove', () => {
    const r = shell('bash', `${BASH}complete -p trove`);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('complete -F _trove trove');
  });

  it('completes commands, subcommands and options from the command definitions', () => {
    const r = shell('bash', `${BASH}t trove co\nt trove pkg ''\nt trove gen b\nt trove log --one\nt trove commit --r\nt trove help rev\nt trove completion ''`);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual(['commit completion', 'add list show', 'build', '--oneline', '--ref', 'revisions', 'bash zsh', '']);
  });

  it('offers the global options -q, -v, --progress and --no-progress after every command word, and before it', () => {
    const r = shell('bash', `${BASH}t trove gc --qu\nt trove pkg add --verb\nt trove fsck --pro\nt trove checkout --no-p\nt trove --qu\nt trove gen build -q`);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual(['--quiet', '--verbose', '--progress', '--no-progress', '--quiet', '-q', '']);
  });

  it('completes refs, generation numbers, packages and profiles from the repository', () => {
    const r = shell(
      'bash',
      `${BASH}t trove --repo repo log ''\nt trove --repo repo diff os/main os/t\nt trove --repo repo install h\nt trove --repo repo rollback --to ''\nt trove --repo repo status --profile ''\nt trove --repo=repo refs set x ''`,
    );
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]!.split(' ').sort()).toEqual(['1', '2', 'os/main', 'os/test', 'pkg/hello/amd64', 'pkg/world/amd64']);
    expect(lines.slice(1, 5)).toEqual(['os/test', 'hello', '1 2', 'system']);
    expect(lines[5]!.split(' ').sort()).toEqual(['1', '2', 'os/main', 'os/test', 'pkg/hello/amd64', 'pkg/world/amd64']);
  });

  it('completes files where a command takes a path', () => {
    const r = shell('bash', `${BASH}t trove commit sr\nt trove checkout os/main re`);
    expect(r.stdout.split('\n')).toEqual(['src', 'repo', '']);
  });

  it('__complete reads the repository without it: no words, no error, exit 0', async () => {
    const r = await trove(['__complete', 'rev', '--repo', join(dir, 'nothing-here')]);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '', '']);
    const ok = await trove(['__complete', 'package', '--repo', repo]);
    expect(ok.stdout).toBe('hello\nworld\n');
  });
});

const hasZsh = spawnSync('bash', ['-c', 'command -v zsh']).status === 0;
if (!hasZsh && !process.env.CI) console.log('skipping zsh completion: zsh is not installed (scripts/ensure.mjs --test installs it)');

describe.skipIf(!hasZsh && !process.env.CI)('zsh completion', () => {
  // The candidates as the completion widget computes them (compadd is only available inside a widget).
  const ZSH = `autoload -U compinit && compinit -u -D
source <(trove completion zsh) || exit 9
t() { local -a _trove_reply _trove_repo; local _trove_kind; _trove_candidates $(( $# - 1 )) "$@"; print -r -- "$_trove_kind:\${_trove_reply[*]}"; }
`;

  it('registers _trove for trove and completes commands, options, refs and generations', () => {
    const r = shell('zsh', `${ZSH}print -r -- \${_comps[trove]}\nt trove co\nt trove pkg ''\nt trove log --one\nt trove --repo repo rollback --to ''\nt trove --repo repo diff os/main os/t\nt trove commit ''`);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual(['_trove', 'words:commit completion', 'words:add list show', 'words:--oneline', 'words:1 2', 'words:os/test', 'file:', '']);
  });
});
