import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir as osTmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { mountsUnder, unmount } from '../../src/util/mount-table.js';

/** The repository root (where bin/trove.js lives). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const made: string[] = [];

// Registered once per test file (each file imports this module afresh).
afterAll(() => {
  for (const dir of made.splice(0)) removeTree(dir);
});

/**
 * Removes a directory tree, unmounting first whatever is mounted in it
 * (activation checkouts are read-only bind mounts when running as root).
 */
export function removeTree(dir: string): void {
  for (const m of mountsUnder(dir)) unmount(m, { lazy: true });
  rmSync(dir, { recursive: true, force: true });
}

/** A fresh temporary directory, removed when the test file finishes. */
export function tmpdir(tag = 'trove-test'): string {
  const dir = mkdtempSync(join(osTmpdir(), `${tag}-`));
  made.push(dir);
  return dir;
}

/** Runs a system command; throws with its stderr when it fails. */
export function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
  return r.stdout;
}
