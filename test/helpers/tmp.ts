import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir as osTmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

/** The repository root (where bin/trove.js lives). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TROVE_BIN = join(ROOT, 'bin', 'trove.js');

const made: string[] = [];

// Registered once per test file (each file imports this module afresh).
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the test file finishes. */
export function tmpdir(tag = 'trove-test'): string {
  const dir = mkdtempSync(join(osTmpdir(), `${tag}-`));
  made.push(dir);
  return dir;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
}

/** Runs the built CLI (`node bin/trove.js ...`) and waits for it. */
export function runTrove(args: string[], opts: RunOptions = {}): RunResult {
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

/** Runs a system command; throws with its stderr when it fails. */
export function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Starts every `trove` command line at once and waits for them all. */
export function troveAll(commands: string[][]): Promise<{ code: number | null; stdout: string; stderr: string }[]> {
  return Promise.all(
    commands.map(
      (args) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
          const child = spawn(process.execPath, [TROVE_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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
