// Before any test: build dist/ from src/ (incrementally) and bundle it, so that the tests
// that run bin/trove.js as a real process, and the FUSE daemon that `trove
// mount` starts, run the code under test and never an old build.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUILD_INFO = join(ROOT, 'dist', '.tsbuildinfo');

/** The newest modification time under `dir`, in ms. */
function newest(dir: string): number {
  let t = statSync(dir).mtimeMs;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return t;
}

export default async function setup(): Promise<void> {
  buildDist();
  // bin/trove.js and the FUSE daemon run the bundle of dist/ (scripts/bundle.mjs).
  const { bundle } = (await import(join(ROOT, 'scripts', 'bundle.mjs'))) as { bundle: (o: { ifStale: boolean }) => Promise<boolean> };
  await bundle({ ifStale: true });
}

function buildDist(): void {
  // Nothing in src/ (or the build's config) changed since the last build: skip tsc's own check, which takes seconds.
  if (existsSync(BUILD_INFO) && statSync(BUILD_INFO).mtimeMs > Math.max(newest(join(ROOT, 'src')), statSync(join(ROOT, 'tsconfig.json')).mtimeMs)) return;
  execFileSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json', '--incremental', '--tsBuildInfoFile', BUILD_INFO], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  // tsc leaves the file alone when nothing needed building: mark this check as done.
  const now = new Date();
  utimesSync(BUILD_INFO, now, now);
}
