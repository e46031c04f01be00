import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { aptGet, DEB_CACHE } from '../../scripts/apt-closure.mjs';

// The closure of top-level packages and its .debs, shared with the bench (bench/workload.mjs).
export { aptClosure, DEB_CACHE, debFileName, getAptDebs } from '../../scripts/apt-closure.mjs';
export type { AptPackage } from '../../scripts/apt-closure.mjs';

function cached(name: string): string | undefined {
  const file = readdirSync(DEB_CACHE)
    .filter((f) => f.startsWith(`${name}_`) && f.endsWith('.deb'))
    .sort()
    .pop();
  return file && join(DEB_CACHE, file);
}

function download(name: string): void {
  // A private directory, then rename: concurrent test files never see a partial file.
  const work = mkdtempSync(join(DEB_CACHE, '.dl-'));
  try {
    aptGet(['download', '-q', name], work);
    for (const f of readdirSync(work)) if (f.endsWith('.deb')) renameSync(join(work, f), join(DEB_CACHE, f));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Paths of real Debian packages, downloaded with `apt-get download` once and cached. */
export function getDebs(names: string[]): string[] {
  mkdirSync(DEB_CACHE, { recursive: true });
  return names.map((name) => {
    let path = cached(name);
    if (!path) {
      download(name);
      path = cached(name);
    }
    if (!path) throw new Error(`apt-get download ${name} produced no .deb in ${DEB_CACHE}`);
    return path;
  });
}
