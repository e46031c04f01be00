// The apt dependency closure of a few top-level Debian packages and their
// .deb files, downloaded once into a cache shared by the tests and the bench
// (test/helpers/debs.ts re-exports it).
// Node built-ins only.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Downloaded packages live outside the repository and survive between runs. */
export const DEB_CACHE = '/var/cache/trove-test/debs';

/** @typedef {{ name: string, version: string, arch: string }} AptPackage */

let updated = false;

/**
 * `apt-get ARGS` (in `cwd`); runs `apt-get update` once when apt cannot find a package. Returns stdout.
 * @param {string[]} args
 * @param {string} [cwd]
 * @returns {string}
 */
export function aptGet(args, cwd) {
  for (;;) {
    const r = spawnSync('apt-get', args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.error) throw new Error(`cannot run apt-get: ${r.error.message}`);
    if (r.status === 0) return r.stdout;
    if (!updated && /Unable to locate|no installation candidate|Can't find|Version '.*' for '.*' was not found/i.test(r.stderr)) {
      updated = true;
      const u = spawnSync('apt-get', ['update', '-qq'], { encoding: 'utf8' });
      if (u.status !== 0) throw new Error(`apt-get update failed: ${u.stderr}`);
      continue;
    }
    throw new Error(`apt-get ${args.join(' ')} failed (exit ${r.status ?? r.signal}): ${r.stderr}`);
  }
}

/**
 * The dependency closure of `top` as this machine's apt computes it for an
 * empty system: `apt-get --simulate install` against an empty dpkg status,
 * without Recommends. apt's own solver chooses, so a virtual package comes
 * with the one provider apt picks (`awk`: mawk) and an alternative with the
 * one it takes. Pre-Depends and Depends only; host arch and `all`. Sorted by name.
 * @param {string[]} top
 * @returns {AptPackage[]}
 */
export function aptClosure(top) {
  const out = aptGet([
    '--simulate', '-q', '-o', 'Dir::State::status=/dev/null', '-o', 'APT::Install-Recommends=false',
    '-o', 'APT::Install-Suggests=false', 'install', ...top,
  ]);
  const pkgs = [];
  for (const line of out.split('\n')) {
    // Inst libc6 (2.36-9+deb12u14 Debian:12.13/stable [amd64]) []
    const m = /^Inst (\S+) (?:\[\S+\] )?\((\S+) .*\[([a-z0-9-]+)\]\)/.exec(line);
    if (m) pkgs.push({ name: m[1].replace(/:[a-z0-9-]+$/, ''), version: m[2], arch: m[3] });
  }
  for (const t of top) if (!pkgs.some((p) => p.name === t)) throw new Error(`apt-get --simulate install did not list ${t}:\n${out}`);
  return pkgs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The file name `apt-get download` gives a package (an epoch's colon is escaped).
 * @param {AptPackage} p
 */
export function debFileName(p) {
  return `${p.name}_${p.version.replace(/:/g, '%3a')}_${p.arch}.deb`;
}

/**
 * Paths of `.deb`s of exactly these versions in `cache`: the missing ones
 * downloaded with ONE `apt-get download` into a private directory, then each
 * renamed into the cache (a concurrent reader never sees a partial file).
 * @param {AptPackage[]} pkgs
 * @param {string} [cache]
 * @returns {string[]}
 */
export function getAptDebs(pkgs, cache = DEB_CACHE) {
  mkdirSync(cache, { recursive: true });
  const have = new Set(readdirSync(cache));
  const missing = pkgs.filter((p) => !have.has(debFileName(p)));
  if (missing.length > 0) {
    const work = mkdtempSync(join(cache, '.dl-'));
    try {
      aptGet(['download', '-q', ...missing.map((p) => (p.arch === 'all' ? `${p.name}=${p.version}` : `${p.name}:${p.arch}=${p.version}`))], work);
      for (const f of readdirSync(work)) if (f.endsWith('.deb')) renameSync(join(work, f), join(cache, f));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const now = new Set(readdirSync(cache));
  return pkgs.map((p) => {
    const f = debFileName(p);
    if (!now.has(f)) throw new Error(`apt-get download ${p.name}=${p.version} produced no ${f} in ${cache}`);
    return join(cache, f);
  });
}
