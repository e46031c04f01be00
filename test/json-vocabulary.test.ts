// Every command that takes --json, run in one pair of real repositories (a
// server and a client pulling from it), and every key of every JSON output
// checked against the vocabulary docs/cli.md lists ("JSON vocabulary").
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.js';
import { getDebs } from './helpers/debs.js';
import { TROVE_BIN, trove } from './helpers/cli.js';
import { fuseUnavailable, mountpoints } from './helpers/fuse.js';
import { ROOT, removeTree, tmpdir } from './helpers/tmp.js';

/** One `--json` run: the command path (`pkg add`), its arguments and what it printed. */
interface Output {
  command: string;
  args: string[];
  json: unknown;
}

/** A vocabulary entry: the key, and whether its value (when an object) is a map keyed by data. */
interface Word {
  key: string;
  map: boolean;
}

/** The rows of the table under `## JSON vocabulary` in docs/cli.md: `| \`key\` | type | meaning |`. */
function vocabulary(): Map<string, Word> {
  const md = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');
  const start = md.indexOf('\n## JSON vocabulary\n');
  expect(start, 'docs/cli.md has a "## JSON vocabulary" section').toBeGreaterThan(0);
  const end = md.indexOf('\n## ', start + 1);
  const words = new Map<string, Word>();
  for (const line of md.slice(start, end < 0 ? undefined : end).split('\n')) {
    const m = /^\| `([A-Za-z][A-Za-z0-9]*)` \| ([^|]+) \|/.exec(line);
    if (m) words.set(m[1]!, { key: m[1]!, map: /\bmap\b/.test(m[2]!) });
  }
  return words;
}

/** Every command path of the program with a --json option (`refs list`, `bisect good`, ...). */
function jsonCommands(program: Command): string[] {
  const out: string[] = [];
  const walk = (cmd: Command, path: string[]) => {
    for (const sub of cmd.commands) {
      const p = [...path, sub.name()];
      if (sub.options.some((o) => o.long === '--json')) out.push(p.join(' '));
      walk(sub, p);
    }
  };
  walk(program, []);
  return out.sort();
}

/** Problems with the keys of `value`: keys not in the vocabulary, modes that are no octal strings. */
function check(value: unknown, words: Map<string, Word>, where: string, problems: string[], isMap = false): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => check(v, words, `${where}[${i}]`, problems));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, v] of Object.entries(value)) {
    const at = `${where}.${key}`;
    if (isMap) {
      check(v, words, at, problems);
      continue;
    }
    const word = words.get(key);
    if (!word) problems.push(`${at}: key '${key}' is not in the docs/cli.md JSON vocabulary`);
    if (key === 'mode' && !(typeof v === 'string' && /^0[0-7]{3,}$/.test(v))) problems.push(`${at}: mode ${JSON.stringify(v)} is not an octal string`);
    check(v, words, at, problems, word?.map === true && !Array.isArray(v));
  }
}

describe('JSON vocabulary: every --json output uses the keys docs/cli.md lists', () => {
  const base = tmpdir('trove-json');
  const server = join(base, 'server');
  const client = join(base, 'client');
  const link = join(base, 'ro');
  const clientLink = join(base, 'client-ro');
  const outputs: Output[] = [];

  /** Runs `trove --repo REPO ARGS` with --json, which must succeed (or exit `code`), and records its output. */
  async function json(repo: string, command: string, args: string[], code = 0): Promise<unknown> {
    // --json goes before a `--` (after it, everything is the operand of bisect run).
    const dashes = args.indexOf('--');
    const withJson = dashes < 0 ? [...args, '--json'] : [...args.slice(0, dashes), '--json', ...args.slice(dashes)];
    const r = await trove(['--repo', repo, ...command.split(' '), ...withJson]);
    if (r.code !== code) throw new Error(`trove ${command} ${args.join(' ')} --json exited ${r.code}: ${r.stderr}`);
    let value: unknown;
    try {
      value = JSON.parse(r.stdout);
    } catch {
      throw new Error(`trove ${command} ${args.join(" ")} --json printed no JSON: ${r.stdout}`);
    }
    outputs.push({ command, args, json: value });
    return value;
  }

  async function ok(repo: string, ...args: string[]): Promise<void> {
    const r = await trove(['--repo', repo, ...args]);
    if (r.code !== 0) throw new Error(`trove ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  }

  /** `trove serve --json` as a process: its one JSON line, then it is stopped. */
  function serveJson(repo: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [TROVE_BIN, '--repo', repo, 'serve', '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) child.kill('SIGTERM');
      });
      child.on('error', reject);
      child.on('close', () => {
        try {
          const value: unknown = JSON.parse(out);
          outputs.push({ command: 'serve', args: [], json: value });
          resolve(value);
        } catch {
          reject(new Error(`serve --json printed ${JSON.stringify(out)}; stderr ${err}`));
        }
      });
    });
  }

  /** A directory of files, with a 0755 script, as a package or commit source. */
  function source(name: string, version: string): string {
    const dir = join(base, `src-${name}-${version}`);
    mkdirSync(join(dir, 'usr', 'bin'), { recursive: true });
    mkdirSync(join(dir, 'etc'), { recursive: true });
    writeFileSync(join(dir, 'usr', 'bin', name), `#!/bin/sh\necho ${name} ${version}\n`);
    chmodSync(join(dir, 'usr', 'bin', name), 0o755);
    writeFileSync(join(dir, 'etc', `${name}.conf`), `version=${version}\n`);
    return dir;
  }

  beforeAll(async () => {
    const debs = getDebs(['hello', 'bc']);
    // The server: commits, packages, generations, activation, bisect, publishing.
    await json(server, 'init', []);
    await json(server, 'commit', [source('os', '1'), '-r', 'os/main', '-m', 'one', '--meta', 'k=v']);
    await json(server, 'commit', [source('os', '2'), '-r', 'os/main', '-m', 'two']);
    await json(server, 'ls', ['os/main', '-R']);
    await json(server, 'log', ['os/main']);
    await json(server, 'show', ['os/main']);
    await json(server, 'diff', ['os/main~1', 'os/main']);
    await json(server, 'diff', ['os/main~1', 'os/main', '--stat']);
    await json(server, 'refs set', ['other', 'os/main~1']);
    await json(server, 'refs list', ['--remotes']);
    await json(server, 'refs delete', ['other']);
    await json(server, 'checkout', ['os/main', join(base, 'co')]);
    await json(server, 'pkg add', [source('tool', '1'), '--name', 'tool', '--arch', 'amd64', '--version', '1.0']);
    await json(server, 'pkg add', debs);
    await json(server, 'gen build', ['tool', 'hello', '--no-deps']);
    await json(server, 'pkg add', [source('tool', '2'), '--name', 'tool', '--arch', 'amd64', '--version', '2.0']);
    await json(server, 'gen build', ['tool', 'hello', '--no-deps']);
    await json(server, 'gen build', ['tool', 'hello', 'bc', '--no-deps']);
    await json(server, 'pkg list', []);
    await json(server, 'pkg show', ['tool']);
    await json(server, 'gen list', []);
    await json(server, 'gen show', ['2']);
    await json(server, 'gen diff', ['1', '3']);
    await json(server, 'switch', ['1', '--link', link]);
    await json(server, 'install', ['bc', '--no-deps']);
    await json(server, 'remove', ['bc']);
    await json(server, 'rollback', []);
    await json(server, 'status', []);
    await json(server, 'switch', ['--restore']);
    // Candidates 2..4: one skipped, then marked good until the session ends (first bad, or suspects).
    await json(server, 'bisect start', ['--good', '1', '--bad', '5']);
    let step = (await json(server, 'bisect skip', [])) as { current: string | null };
    while (step.current) step = (await json(server, 'bisect good', [])) as { current: string | null };
    await json(server, 'bisect reset', []);
    await json(server, 'bisect start', ['--good', '1', '--bad', '5']);
    await json(server, 'bisect bad', []);
    await json(server, 'bisect run', ['--', 'sh', '-c', `test -e ${link}/usr/bin/tool`]);
    await json(server, 'bisect reset', []);
    await json(server, 'gen publish', []);
    await json(server, 'keygen', ['--out', join(base, 'key')]);
    await json(server, 'sign', ['os/main', '--key', join(base, 'key')]);
    await json(server, 'delta', ['os/main~1', 'os/main']);
    await json(server, 'summary', ['--key', join(base, 'key'), '--gzip-objects']);
    await json(server, 'gen prune', ['--keep', '3', '--dry-run']);
    await serveJson(server);

    // The client: a remote served from the server's directory.
    await ok(client, 'init');
    await json(client, 'remote add', ['origin', server, '--sign-key', join(base, 'key.pub')]);
    await json(client, 'remote list', []);
    await json(client, 'pull', ['origin', 'os/main']);
    await json(client, 'pull', ['origin', '--check']);
    await json(client, 'install', ['bc', '--no-deps', '--dry-run']);
    await json(client, 'install', ['bc', '--no-deps', '--link', clientLink]);
    await json(client, 'upgrade', ['--dry-run']);
    await json(client, 'upgrade', []);
    await json(client, 'pkg list', []);
    await json(client, 'fsck', []);
    await json(client, 'fsck', ['--repair']);
    await json(client, 'fetch', []);
    await json(client, 'gc', ['--dry-run']);
    await json(client, 'gc', []);
    await json(client, 'remote remove', ['origin', '--prune']);

    // A FUSE view of the server.
    if (fuseUnavailable() === null || process.env.CI) {
      const mnt = join(base, 'mnt');
      await json(server, 'mount', [mnt]);
      await json(server, 'umount', [mnt]);
      // A lazy install: the files stay on the server until read or fetched.
      const lazy = join(base, 'lazy');
      const lazyMnt = join(base, 'lazy-mnt');
      await ok(lazy, 'init');
      await ok(lazy, 'remote', 'add', 'origin', server);
      await ok(lazy, 'mount', lazyMnt);
      try {
        await json(lazy, 'install', ['tool', '--no-deps', '--lazy', '--link', join(base, 'lazy-ro')]);
        await json(lazy, 'status', []);
        await json(lazy, 'fsck', []);
        await json(lazy, 'fetch', ['--background']);
        await json(lazy, 'fetch', ['--wait']);
      } finally {
        await ok(lazy, 'umount', '--force', lazyMnt);
      }
    }
  }, 300_000);

  afterAll(async () => {
    const mnt = join(base, 'mnt');
    if (mountpoints().has(mnt)) await trove(['--repo', server, 'umount', mnt]);
    removeTree(base);
  });

  it('every key is in the vocabulary, and every mode an octal string', () => {
    if (process.env.JSON_VOCAB_DUMP) writeFileSync(process.env.JSON_VOCAB_DUMP, JSON.stringify(outputs, null, 2));
    const words = vocabulary();
    const problems: string[] = [];
    for (const o of outputs) check(o.json, words, `${o.command} ${o.args.join(' ')}`.trim(), problems);
    expect(problems).toEqual([]);
  });

  it('every command with --json was run', async () => {
    const all = jsonCommands(await buildProgram());
    expect(all.length).toBeGreaterThan(30);
    const run = new Set(outputs.map((o) => o.command));
    expect(all.filter((c) => !run.has(c))).toEqual([]);
  });
});
