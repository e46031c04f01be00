// The benchmark corpus: real Debian packages downloaded once with
// `apt-get download` into ${cache}/debs/, all extracted into one tree
// ${cache}/root/, plus a private copy ${cache}/root-mod/ that scenarios may
// modify (and must restore). Everything is reused across runs when complete.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchError, human, log, rmrf, run, treeStats } from './lib.mjs';
import { MIN_PACKAGES, PACKAGES } from './packages.mjs';

const BATCH = 15;

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The cached .deb of a package, whatever its version, or undefined. */
function cachedDeb(debs, names, pkg) {
  const re = new RegExp(`^${pkg.replace(/[.+]/g, '\\$&')}_[^_]+_(amd64|all)\\.deb$`);
  return names.filter((n) => re.test(n)).sort().pop();
}

/** Packages of `pkgs` that apt can download (a candidate version exists). */
function available(pkgs) {
  const r = run('apt-cache', ['policy', ...pkgs], { allowFail: true });
  const found = new Set();
  let cur;
  for (const line of r.stdout.split('\n')) {
    const head = /^(\S+):$/.exec(line);
    if (head) cur = head[1];
    const cand = /^\s+Candidate: (.+)$/.exec(line);
    if (cand && cur && cand[1] !== '(none)') found.add(cur);
  }
  return pkgs.filter((p) => found.has(p));
}

function download(debs, pkgs) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (let i = 0; i < pkgs.length; i += BATCH) {
    const batch = pkgs.slice(i, i + BATCH);
    log(`downloading packages ${i + 1}-${i + batch.length} of ${pkgs.length}`);
    const r = run('apt-get', ['download', '-q', ...batch], { cwd: debs, env, allowFail: true });
    if (r.status === 0) continue;
    for (const p of batch) {
      const one = run('apt-get', ['download', '-q', p], { cwd: debs, env, allowFail: true });
      if (one.status !== 0) log(`cannot download ${p}: ${one.stderr.trim().split('\n').pop()}`);
    }
  }
}

/** Makes sure the .deb files exist; returns the sorted list of their paths. */
export function ensureDebs(cache) {
  const debs = join(cache, 'debs');
  mkdirSync(debs, { recursive: true });
  let names = readdirSync(debs);
  const missing = PACKAGES.filter((p) => !cachedDeb(debs, names, p));
  if (missing.length > 0) {
    log(`${PACKAGES.length - missing.length} of ${PACKAGES.length} packages cached; checking ${missing.length} with apt-cache`);
    let ok = available(missing);
    if (ok.length < missing.length) {
      log(`apt-cache does not know ${missing.length - ok.length} of them; running apt-get update`);
      run('apt-get', ['update', '-qq'], { allowFail: true });
      ok = available(missing);
    }
    const gone = missing.filter((p) => !ok.includes(p));
    if (gone.length) log(`not available in this Debian release, dropped: ${gone.join(' ')}`);
    download(debs, ok);
    names = readdirSync(debs);
  }
  const have = PACKAGES.map((p) => [p, cachedDeb(debs, names, p)]).filter(([, f]) => f);
  if (have.length < MIN_PACKAGES) {
    throw new BenchError(`only ${have.length} packages in ${debs}; the corpus needs at least ${MIN_PACKAGES}`);
  }
  return have.map(([, f]) => join(debs, f)).sort();
}

function corpusKey(debPaths) {
  const h = createHash('sha256');
  for (const p of debPaths) h.update(`${p.split('/').pop()}\n`);
  return h.digest('hex');
}

/** Extracts every .deb into ${cache}/root once; returns { root, key, packages, stats }. */
export function ensureRoot(cache, debPaths) {
  const root = join(cache, 'root');
  const stampPath = join(cache, 'root.stamp.json');
  const key = corpusKey(debPaths);
  const stamp = readJson(stampPath);
  if (stamp?.key === key && existsSync(root)) {
    log(`reusing corpus ${root}`);
    return { root, key, packages: debPaths.length, stats: stamp.stats };
  }
  rmSync(stampPath, { force: true });
  rmrf(root);
  const partial = join(cache, 'root.partial');
  rmrf(partial);
  mkdirSync(partial, { recursive: true });
  debPaths.forEach((deb, i) => {
    if (i % 10 === 0 || i === debPaths.length - 1) log(`extracting package ${i + 1} of ${debPaths.length}`);
    run('dpkg-deb', ['-x', deb, partial]);
  });
  log('counting the corpus');
  const stats = treeStats(partial);
  renameSync(partial, root);
  writeFileSync(stampPath, `${JSON.stringify({ key, stats, packages: debPaths.length }, null, 2)}\n`);
  return { root, key, packages: debPaths.length, stats };
}

/**
 * A full, hardlink-free copy of the corpus (`cp -a`) at ${cache}/root-mod that
 * scenarios commit and modify in place. Scenarios call markDirty() before they
 * change it and markClean() after restoring it; a copy left dirty by an
 * interrupted run is made again.
 */
export function ensureWorkCopy(cache, corpus) {
  const dir = join(cache, 'root-mod');
  const stampPath = join(cache, 'root-mod.stamp.json');
  const dirty = join(cache, 'root-mod.dirty');
  if (readJson(stampPath)?.key === corpus.key && existsSync(dir) && !existsSync(dirty)) {
    log(`reusing work copy ${dir}`);
  } else {
    log(`copying the corpus to ${dir} (cp -a)`);
    rmSync(stampPath, { force: true });
    rmrf(dir);
    run('cp', ['-a', corpus.root, dir]);
    writeFileSync(stampPath, `${JSON.stringify({ key: corpus.key })}\n`);
    rmSync(dirty, { force: true });
  }
  return {
    dir,
    markDirty: () => writeFileSync(dirty, 'modified by a benchmark run; will be copied again\n'),
    markClean: () => rmSync(dirty, { force: true }),
  };
}

export function describeCorpus(c) {
  const s = c.stats;
  return `${c.packages} Debian packages, ${human(s.bytes)} in ${s.files} files, ` +
    `${s.dirs} directories, ${s.symlinks} symlinks (${s.entries} entries)`;
}
