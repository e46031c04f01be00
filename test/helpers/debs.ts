import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Downloaded packages live outside the repository and survive between runs. */
export const DEB_CACHE = '/var/cache/trove-test/debs';

let updated = false;

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
    for (;;) {
      const r = spawnSync('apt-get', ['download', '-q', name], { cwd: work, encoding: 'utf8' });
      if (r.status === 0) break;
      if (!updated && /Unable to locate|no installation candidate|Can't find/i.test(r.stderr)) {
        updated = true;
        const u = spawnSync('apt-get', ['update', '-qq'], { encoding: 'utf8' });
        if (u.status !== 0) throw new Error(`apt-get update failed: ${u.stderr}`);
        continue;
      }
      throw new Error(`apt-get download ${name} failed (exit ${r.status}): ${r.stderr}`);
    }
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
