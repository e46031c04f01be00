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

/** One package of a closure: what `apt-get download NAME=VERSION` fetches. */
export interface AptPackage {
  name: string;
  version: string;
  arch: string;
}

/** `apt-get` with its lists updated once, when it cannot find a package. */
function apt(args: string[], cwd?: string): string {
  for (;;) {
    const r = spawnSync('apt-get', args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status === 0) return r.stdout;
    if (!updated && /Unable to locate|no installation candidate|Can't find|Version '.*' for '.*' was not found/i.test(r.stderr)) {
      updated = true;
      const u = spawnSync('apt-get', ['update', '-qq'], { encoding: 'utf8' });
      if (u.status !== 0) throw new Error(`apt-get update failed: ${u.stderr}`);
      continue;
    }
    throw new Error(`apt-get ${args.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
  }
}

/**
 * The dependency closure of `top` as this machine's apt computes it for an
 * empty system: `apt-get --simulate install` against an empty dpkg status,
 * without Recommends. apt's own solver chooses, so a virtual package comes
 * with the one provider apt picks (`awk`: mawk) and an alternative with the
 * one it takes. Pre-Depends and Depends only; host arch and `all`.
 */
export function aptClosure(top: string[]): AptPackage[] {
  const out = apt(['--simulate', '-q', '-o', 'Dir::State::status=/dev/null', '-o', 'APT::Install-Recommends=false', '-o', 'APT::Install-Suggests=false', 'install', ...top]);
  const pkgs: AptPackage[] = [];
  for (const line of out.split('\n')) {
    // Inst libc6 (2.36-9+deb12u14 Debian:12.13/stable [amd64]) []
    const m = /^Inst (\S+) (?:\[\S+\] )?\((\S+) .*\[([a-z0-9-]+)\]\)/.exec(line);
    if (m) pkgs.push({ name: m[1]!.replace(/:[a-z0-9-]+$/, ''), version: m[2]!, arch: m[3]! });
  }
  for (const t of top) if (!pkgs.some((p) => p.name === t)) throw new Error(`apt-get --simulate install did not list ${t}:\n${out}`);
  return pkgs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The file name `apt-get download` gives a package (an epoch's colon is escaped). */
export function debFileName(p: AptPackage): string {
  return `${p.name}_${p.version.replace(/:/g, '%3a')}_${p.arch}.deb`;
}

/**
 * Paths of `.deb`s of exactly these versions, in `DEB_CACHE`: the missing ones
 * downloaded with ONE `apt-get download` into a private directory, then each
 * renamed into the cache (concurrent test files never see a partial file).
 */
export function getAptDebs(pkgs: AptPackage[]): string[] {
  mkdirSync(DEB_CACHE, { recursive: true });
  const have = new Set(readdirSync(DEB_CACHE));
  const missing = pkgs.filter((p) => !have.has(debFileName(p)));
  if (missing.length > 0) {
    const work = mkdtempSync(join(DEB_CACHE, '.dl-'));
    try {
      apt(['download', '-q', ...missing.map((p) => (p.arch === 'all' ? `${p.name}=${p.version}` : `${p.name}:${p.arch}=${p.version}`))], work);
      for (const f of readdirSync(work)) if (f.endsWith('.deb')) renameSync(join(work, f), join(DEB_CACHE, f));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const now = new Set(readdirSync(DEB_CACHE));
  return pkgs.map((p) => {
    const f = debFileName(p);
    if (!now.has(f)) throw new Error(`apt-get download ${p.name}=${p.version} produced no ${f} in ${DEB_CACHE}`);
    return join(DEB_CACHE, f);
  });
}
