// Two ways to run the CLI from the tests:
//  - in this process (`trove`, `troveIn`, `troveOk`): `main` from src/ with the
//    output captured; most tests use these, since starting Node costs far more
//    than most commands take;
//  - as a real process (`runTrove`, `troveAll`, `TROVE_BIN`): `node bin/trove.js`,
//    which runs dist/ (built before the tests by test/global-setup.ts), for
//    what only a process has: its exit status, a closed pipe, a kill, locks held
//    against other processes, a terminal.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import type { Writer } from '../../src/util/io.js';
import { ROOT } from './tmp.js';

export const TROVE_BIN = join(ROOT, 'bin', 'trove.js');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A run in this process: also the exact bytes of stdout (`cat` of a binary file). */
export interface CliResult extends RunResult {
  stdoutBytes: Buffer;
}

export interface CliOptions {
  /** The working directory for the run (the process's own is changed for its duration). */
  cwd?: string;
  /** Added to this process's environment, where TROVE_REPO is unset, as for a real run. */
  env?: NodeJS.ProcessEnv;
}

/** Collects what the CLI writes; not a terminal. */
class Capture implements Writer {
  readonly isTTY = false;
  private readonly chunks: Buffer[] = [];

  write(chunk: string | Uint8Array, callback?: (err?: Error | null) => void): boolean {
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
    if (callback) process.nextTick(callback);
    return true;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

let running = 0;
let chdirRunning = false;

/** Runs `trove ARGS` in this process (the code in src/) and returns its exit code and output. */
export async function trove(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  // The working directory belongs to the whole process: a run with `cwd` must be alone.
  if (chdirRunning || (opts.cwd !== undefined && running > 0)) throw new Error('a CLI run with cwd cannot overlap another run');
  const stdout = new Capture();
  const stderr = new Capture();
  const env: NodeJS.ProcessEnv = { ...process.env, TROVE_REPO: undefined, ...opts.env };
  const before = process.cwd();
  running++;
  if (opts.cwd !== undefined) {
    chdirRunning = true;
    process.chdir(opts.cwd);
  }
  try {
    const code = await main(['node', 'trove', ...args], { stdout, stderr, env });
    const bytes = stdout.bytes();
    return { code, stdout: bytes.toString('utf8'), stderr: stderr.bytes().toString('utf8'), stdoutBytes: bytes };
  } finally {
    running--;
    if (opts.cwd !== undefined) {
      process.chdir(before);
      chdirRunning = false;
    }
  }
}

/** `trove --repo REPO ARGS` in this process. */
export function troveIn(repo: string): (...args: string[]) => Promise<CliResult> {
  return (...args) => trove(['--repo', repo, ...args]);
}

/** `trove --repo REPO ARGS` in this process; its stdout, or an error with its stderr when it fails. */
export async function troveOk(repo: string, ...args: string[]): Promise<string> {
  const r = await trove(['--repo', repo, ...args]);
  if (r.code !== 0) throw new Error(`trove ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

export interface ProcessOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
}

/** Runs the built CLI as a process (`node bin/trove.js ...`) and waits for it. */
export function runTrove(args: string[], opts: ProcessOptions = {}): RunResult {
  const r = spawnSync(process.execPath, [TROVE_BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, TROVE_REPO: undefined, ...opts.env },
    input: opts.input,
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** Starts every `trove` command line at once, each its own process, and waits for them all. */
export function troveAll(commands: string[][]): Promise<{ code: number | null; stdout: string; stderr: string }[]> {
  return Promise.all(
    commands.map(
      (args) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
          const child = spawn(process.execPath, [TROVE_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TROVE_REPO: undefined } });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
          child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
          child.on('error', reject);
          child.on('close', (code) => resolve({ code, stdout, stderr }));
        }),
    ),
  );
}
