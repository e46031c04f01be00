// Scenario group "scale": how pull, gc and fsck grow with the store. A
// generated repository at two sizes, about 100,000 and about 1,000,000
// objects (1,000 and 10,000 packages of 100 files each, a commit per package
// on pkg/<name>/amd64 and a "system" commit on `system` whose tree joins them
// all), and a 1 % update of it (new contents for 1 % of the files, in about
// 1 % of the packages) made on a server copy served by nginx. Measured at each
// size: gc with nothing to delete, a full fsck, pull of the update (wall time,
// peak RSS, HTTP requests, stat-family syscalls), fsck --since after it, and
// gc --dry-run with the update unreferenced again; the growth 1M/100k of each.
// trove only.
//
// The generated repositories are cached under the bench cache
// (scale-100k/, scale-1m/, each with a stamp); clients and the server are
// `cp -al` copies of them (nothing rewrites an object file in place).
//
// Plugs into bench/run.mjs as the group `scale` (sizes from
// TROVE_BENCH_SCALE_SIZES, default both); `node bench/scale.mjs [--runs N]
// [--sizes 100k,1m]` runs it alone.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { BenchError, human, log, median, rmrf, run as runCmd, syncDisk, timeCmd } from './lib.mjs';
import { prng as rng } from './prng.mjs';
import { startNginx } from './pull.mjs';
import { table } from './report.mjs';
import { REPO_ROOT } from './tools.mjs';

export const name = 'scale';
export const title = 'Scale: gc, fsck and pull of a 1 % update on generated repositories of about 100,000 and 1,000,000 objects (trove only)';
export const requires = [
  ['nginx', 'nginx-light'], ['strace', 'strace'], ['cp', 'coreutils'], ['du', 'coreutils'], ['sync', 'coreutils'],
  ['find', 'findutils'], ['xargs', 'findutils'], ['cat', 'coreutils'],
];

const TROVE_JS = join(REPO_ROOT, 'bin', 'trove.js');
const lib = (path) => import(pathToFileURL(join(REPO_ROOT, 'dist', path)).href);

/** The two sizes: packages of FILES_PER_PACKAGE files each. */
export const SIZES = {
  '100k': { label: '100k', packages: 1_000 },
  '1m': { label: '1M', packages: 10_000 },
};

/**
 * Bumped whenever the generator changes what it writes: a cached repository
 * whose stamp has another version is generated again.
 */
const GENERATOR_VERSION = 1;
const FILES_PER_PACKAGE = 100;
/** File sizes: log-normal, median 1 KiB, sigma 1.7 (mean about 4.3 KiB), capped at 1 MiB. */
const SIZE_MEDIAN = 1024;
const SIZE_SIGMA = 1.7;
const SIZE_MAX = 1 << 20;
/** The update: this share of the packages changes, and in each this many of its files. */
const UPDATE_PACKAGE_SHARE = 0.0125;
const UPDATE_FILES_PER_PACKAGE = 80;
/** Commit times, fixed so that a generated repository is the same every time. */
const T0 = 1_700_000_000;
const ROOT_META = { mode: 0o755, uid: 0, gid: 0, xattrs: [] };
const STAT_SYSCALLS = 'stat,lstat,fstat,newfstatat,statx';
const STAT_LABELS = {
  pull: 'pull, remotes/origin/system at the old commit',
  upToDate: 'the same client pulling again, nothing to fetch',
  'pull-nobase': 'pull, no remotes/origin/system',
};

/** The timed rows, in the order they run on one client copy (pull-nobase on a second copy). */
const OPS = [
  { id: 'gc', label: 'gc, nothing to delete (the first: lists the store)' },
  { id: 'gc-counted', label: 'gc, nothing to delete, again (the store counted and its marked objects recorded by the first: not listed, nothing read)' },
  { id: 'fsck', label: 'fsck (full: re-hash every object, walk every root)' },
  { id: 'pull', label: 'pull origin system, 1 % update, client with remotes/origin/system at the old commit' },
  { id: 'pull-nobase', label: 'pull origin system, same update, client without remotes/origin/system' },
  { id: 'fsck-since', label: 'fsck --since, after the pull (full fsck before it)' },
  { id: 'gc-update', label: 'gc after the pull, nothing to delete (the old commit is the new one\'s parent: reads only what the record lacks)' },
  { id: 'gc-dry', label: 'gc --dry-run, the pulled update unreferenced again' },
];

const troveCmd = (repo, ...args) => [TROVE_JS, ['--repo', repo, ...args]];

// --- Deterministic pseudo-random numbers (not crypto).


/** A seed from small integers (package, file, version), well mixed. */
function seedOf(...parts) {
  let h = 0x811c9dc5;
  for (const p of parts) h = Math.imul(h ^ (p >>> 0), 0x01000193) ^ (h >>> 13);
  return h >>> 0;
}

/** A log-normal file size (Box-Muller on two uniforms), at least `min` bytes. */
function fileSize(r, min) {
  const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return Math.max(min, Math.min(SIZE_MAX, Math.round(SIZE_MEDIAN * Math.exp(SIZE_SIGMA * z))));
}

let poolBytes;
/** 64 MiB (plus the largest file) of xorshift32 bytes; file contents are slices of it behind a unique first line. */
function pool() {
  if (poolBytes) return poolBytes;
  const words = new Uint32Array((64 << 20 >> 2) + (SIZE_MAX >> 2));
  let x = 2463534242;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  poolBytes = Buffer.from(words.buffer);
  return poolBytes;
}

// --- The generated packages.

const pkgName = (i) => `pkg${String(i).padStart(5, '0')}`;
const pkgRef = (i) => `pkg/${pkgName(i)}/amd64`;

/**
 * The files and symlinks of package `i`, the same in every version: 1-3
 * programs in usr/bin with their man pages, a shared library in
 * usr/lib/x86_64-linux-gnu, three files in usr/share/doc/<name>, a
 * configuration file in etc/<name>, and the rest split between
 * usr/lib/<name> (a third of those in plugins/) and usr/share/<name>.
 */
function packageLayout(i) {
  const r = rng(seedOf(i, 0xfeed));
  const n = pkgName(i);
  const files = [];
  const file = (path, exec = false) => files.push({ path, exec });
  const bins = 1 + Math.floor(r() * 3);
  for (let b = 0; b < bins; b++) {
    const prog = b === 0 ? n : `${n}-tool${b + 1}`;
    file(`usr/bin/${prog}`, true);
    file(`usr/share/man/man1/${prog}.1.gz`);
  }
  file(`usr/lib/x86_64-linux-gnu/lib${n}.so.1.0.0`);
  for (const d of ['copyright', 'changelog.Debian.gz', 'README.md']) file(`usr/share/doc/${n}/${d}`);
  file(`etc/${n}/${n}.conf`);
  const rest = FILES_PER_PACKAGE - files.length;
  const libs = Math.round(rest * 0.6);
  for (let k = 0; k < libs; k++) {
    const three = String(k).padStart(3, '0');
    file(k % 3 === 2 ? `usr/lib/${n}/plugins/plugin-${three}.so` : `usr/lib/${n}/mod-${three}.so`);
  }
  const exts = ['dat', 'txt', 'xml', 'png', 'json'];
  for (let k = 0; k < rest - libs; k++) file(`usr/share/${n}/data-${String(k).padStart(3, '0')}.${exts[k % exts.length]}`);
  const links = [
    { path: `usr/lib/x86_64-linux-gnu/lib${n}.so.1`, target: `lib${n}.so.1.0.0` },
    { path: `usr/share/doc/${n}/NEWS.gz`, target: 'changelog.Debian.gz' },
    { path: `usr/bin/${n}-alias`, target: n },
  ];
  return { name: n, files, links };
}

/** The content of file `f` of package `i` in `version`: a first line naming it, then pool bytes. */
function fileContent(i, f, version, path) {
  const r = rng(seedOf(i, f, version));
  const head = Buffer.from(`${pkgName(i)} ${version} ${path}\n`);
  const size = fileSize(r, head.length);
  const p = pool();
  const off = Math.floor(r() * (p.length - SIZE_MAX));
  const buf = Buffer.allocUnsafe(size);
  head.copy(buf, 0);
  p.copy(buf, head.length, off, off + size - head.length);
  return buf;
}

/**
 * Writes objects into a transaction (txn.putSync: staged, moved into objects/
 * when the transaction commits) and keeps the bytes of the trees it wrote,
 * for the union of the package trees.
 */
class Writer {
  constructor(txn, store, codec) {
    this.txn = txn;
    this.store = store;
    this.codec = codec;
    this.treeBytes = new Map();
    this.counts = { blobs: 0, trees: 0, commits: 0, bytes: 0, files: 0, symlinks: 0 };
  }

  blob(bytes, exec) {
    const r = this.txn.putSync(bytes, { executable: exec });
    if (r.written) {
      this.counts.blobs++;
      this.counts.bytes += bytes.length;
    }
    return r.id;
  }

  tree(entries) {
    const bytes = this.codec.encodeTree({ entries });
    const r = this.txn.putSync(bytes);
    if (r.written) {
      this.counts.trees++;
      this.counts.bytes += bytes.length;
    }
    this.treeBytes.set(r.id, bytes);
    return r.id;
  }

  commit(c) {
    const bytes = this.codec.encodeCommit(c);
    const r = this.txn.putSync(bytes);
    if (r.written) {
      this.counts.commits++;
      this.counts.bytes += bytes.length;
    }
    return r.id;
  }

  readTree(id) {
    return this.codec.decodeTree(this.treeBytes.get(id) ?? this.store.getSync(id));
  }

  /** Writes a nested directory ({ entries, dirs }) bottom-up; returns its tree id. */
  writeDir(node) {
    const entries = [...node.entries];
    for (const [n, sub] of node.dirs) entries.push({ name: n, kind: 'dir', id: this.writeDir(sub), mode: 0o755, uid: 0, gid: 0, size: 0, xattrs: [] });
    return this.tree(entries);
  }

  /**
   * The union of trees: entries of one name in several of them must all be
   * directories, merged in turn; a directory only one of them has is taken
   * as it is (its tree id), so packages' own directories are shared, not copied.
   */
  merge(ids) {
    if (ids.length === 1) return ids[0];
    const byName = new Map();
    for (const id of ids) {
      for (const e of this.readTree(id).entries) {
        const list = byName.get(e.name);
        if (list) list.push(e);
        else byName.set(e.name, [e]);
      }
    }
    const entries = [];
    for (const [n, list] of byName) {
      if (list.length === 1) entries.push(list[0]);
      else if (list.every((e) => e.kind === 'dir')) entries.push({ ...list[0], id: this.merge(list.map((e) => e.id)) });
      else throw new BenchError(`scale: ${n} is a file in more than one package`);
    }
    return this.tree(entries);
  }
}

/**
 * Writes version `version` of package `i`: the contents of the files in
 * `changed` (all when undefined) at that version, the others as in version 1
 * (already stored, so not written again). Returns its commit and root tree.
 */
function writePackage(w, i, version, { changed, parent } = {}) {
  const { name: n, files, links } = packageLayout(i);
  const root = { entries: [], dirs: new Map() };
  const dirOf = (path) => {
    const parts = path.split('/');
    let node = root;
    for (const p of parts.slice(0, -1)) {
      let sub = node.dirs.get(p);
      if (!sub) node.dirs.set(p, (sub = { entries: [], dirs: new Map() }));
      node = sub;
    }
    return [node, parts[parts.length - 1]];
  };
  files.forEach((f, k) => {
    const v = !changed || changed.has(k) ? version : 1;
    const bytes = fileContent(i, k, v, f.path);
    const [node, base] = dirOf(f.path);
    node.entries.push({ name: base, kind: 'file', id: w.blob(bytes, f.exec), mode: f.exec ? 0o755 : 0o644, uid: 0, gid: 0, size: bytes.length, xattrs: [] });
  });
  w.counts.files += files.length;
  for (const l of links) {
    const [node, base] = dirOf(l.path);
    node.entries.push({ name: base, kind: 'symlink', mode: 0o777, uid: 0, gid: 0, size: Buffer.byteLength(l.target), target: l.target, xattrs: [] });
  }
  w.counts.symlinks += links.length;
  const tree = w.writeDir(root);
  const commit = w.commit({
    tree, root: ROOT_META, parents: parent ? [parent] : [], subject: `${n} ${version}.0`, body: '', timestamp: T0 + (version - 1) * 86400, metadata: [],
    package: { name: n, arch: 'amd64', version: `${version}.0`, revision: version, depends: [], preDepends: [], provides: [], multiArch: '' },
  });
  return { commit, tree };
}

/** The system commit: one tree joining every package's root tree. */
function writeSystem(w, roots, version, parent) {
  const tree = w.merge(roots);
  return w.commit({ tree, root: ROOT_META, parents: parent ? [parent] : [], subject: `system ${version}`, body: '', timestamp: T0 + (version - 1) * 86400, metadata: [] });
}

async function libs() {
  const { Repo } = await lib('repo/repo.js');
  const codec = await lib('format/codec.js');
  return { Repo, codec };
}

/** Generates the repository of `spec` at `repoDir` (a new directory) in this process; returns its stamp. */
async function generate(repoDir, spec) {
  const { Repo, codec } = await libs();
  const t0 = performance.now();
  const repo = await Repo.init(repoDir);
  // Seconds of each phase: writing the packages' objects (staged), the system tree, moving the objects in, the refs, sync.
  const phases = {};
  let t = t0;
  const lap = (phase) => {
    const now = performance.now();
    phases[phase] = (now - t) / 1000;
    t = now;
  };
  let w;
  try {
    const tips = [];
    const system = await repo.write(
      async (txn) => {
        w = new Writer(txn, repo.store, codec);
        const roots = [];
        for (let i = 0; i < spec.packages; i++) {
          if (i % 1000 === 0) log(`scale: generating packages ${i + 1}-${Math.min(i + 1000, spec.packages)} of ${spec.packages}`);
          const p = writePackage(w, i, 1);
          tips.push(p.commit);
          roots.push(p.tree);
        }
        lap('packages');
        log('scale: writing the system tree');
        const id = writeSystem(w, roots, 1);
        lap('system');
        return id;
      },
      {
        after: async (sys) => {
          lap('install');
          for (const [i, id] of tips.entries()) await repo.refs.write(pkgRef(i), id);
          await repo.refs.write('system', sys);
          lap('refs');
        },
      },
    );
    syncDisk();
    lap('sync');
    const seconds = (performance.now() - t0) / 1000;
    const c = w.counts;
    return {
      version: GENERATOR_VERSION, size: spec.label, packages: spec.packages, files: c.files, symlinks: c.symlinks,
      objects: c.blobs + c.trees + c.commits, blobs: c.blobs, trees: c.trees, commits: c.commits, bytes: c.bytes,
      diskKiB: duKiB(repoDir), seconds, phases, maxRssMB: process.resourceUsage().maxRSS / 1024, system, date: new Date().toISOString(),
    };
  } finally {
    await repo.close();
  }
}

function duKiB(path) {
  return Number(runCmd('du', ['-sk', path]).stdout.split(/\s/)[0]);
}

/** The cached repository of `spec`, generated when missing or stale; { repo, stamp, generated }. */
async function ensureRepo(cache, spec) {
  const dir = join(cache, `scale-${spec.label.toLowerCase()}`);
  const stampPath = join(dir, 'stamp.json');
  const repo = join(dir, 'repo');
  try {
    const stamp = JSON.parse(readFileSync(stampPath, 'utf8'));
    if (stamp.version === GENERATOR_VERSION && stamp.packages === spec.packages && existsSync(join(repo, 'config'))) {
      log(`scale: ${spec.label}: reusing ${repo} (generated ${stamp.date} in ${stamp.seconds.toFixed(1)} s)`);
      return { repo, stamp, generated: false };
    }
  } catch {
    // no stamp (or an unreadable one): generate
  }
  rmrf(dir);
  mkdirSync(dir, { recursive: true });
  log(`scale: ${spec.label}: generating ${spec.packages} packages of ${FILES_PER_PACKAGE} files into ${repo}`);
  const stamp = await generate(repo, spec);
  writeFileSync(stampPath, `${JSON.stringify(stamp, null, 2)}\n`);
  const split = Object.entries(stamp.phases).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ');
  log(`scale: ${spec.label}: ${stamp.objects} objects, ${human(stamp.bytes)}, generated in ${stamp.seconds.toFixed(1)} s (${split})`);
  return { repo, stamp, generated: true };
}

/** The packages the update changes: UPDATE_PACKAGE_SHARE of them, evenly spread. */
function updatedPackages(packages) {
  const count = Math.max(1, Math.round(packages * UPDATE_PACKAGE_SHARE));
  return Array.from({ length: count }, (_, j) => Math.floor(((j + 0.5) * packages) / count));
}

/** UPDATE_FILES_PER_PACKAGE of the files of package `i`, picked by a seeded shuffle. */
function changedFiles(i) {
  const r = rng(seedOf(i, 0xc4a6));
  const idx = Array.from({ length: FILES_PER_PACKAGE }, (_, k) => k);
  for (let k = idx.length - 1; k > 0; k--) {
    const j = Math.floor(r() * (k + 1));
    [idx[k], idx[j]] = [idx[j], idx[k]];
  }
  return new Set(idx.slice(0, UPDATE_FILES_PER_PACKAGE));
}

/**
 * The 1 % update, written into the repository at `repoDir`: version 2 of the
 * picked packages (their refs move, parent the version 1 commit) and a new
 * system commit joining every package's current tree, parent the old one.
 */
async function writeUpdate(repoDir, spec) {
  const { Repo, codec } = await libs();
  const repo = await Repo.open(repoDir);
  try {
    const picked = updatedPackages(spec.packages);
    const pickedSet = new Set(picked);
    const oldSystem = await repo.refs.read('system');
    const tips = new Map();
    let w;
    let written;
    const system = await repo.write(
      async (txn) => {
        w = new Writer(txn, repo.store, codec);
        const roots = [];
        for (let i = 0; i < spec.packages; i++) {
          const tip = await repo.refs.read(pkgRef(i));
          if (pickedSet.has(i)) {
            const p = writePackage(w, i, 2, { changed: changedFiles(i), parent: tip });
            tips.set(i, p.commit);
            roots.push(p.tree);
          } else roots.push(codec.decodeCommit(repo.store.getSync(tip)).tree);
        }
        const id = writeSystem(w, roots, 2, oldSystem);
        written = { ...txn.stats };
        return id;
      },
      {
        after: async (sys) => {
          for (const [i, id] of tips) await repo.refs.write(pkgRef(i), id);
          await repo.refs.write('system', sys);
        },
      },
    );
    return {
      packages: picked.length, files: picked.length * UPDATE_FILES_PER_PACKAGE, objects: written.objects, bytes: written.bytes,
      blobs: w.counts.blobs, trees: w.counts.trees, commits: w.counts.commits, oldSystem, system,
    };
  } finally {
    await repo.close();
  }
}

/** A copy of a repository: objects hard-linked (`cp -al`), everything else but the index copied. */
export function copyRepo(src, dest) {
  mkdirSync(dest, { recursive: true });
  runCmd('cp', ['-al', join(src, 'objects'), join(dest, 'objects')]);
  for (const e of readdirSync(src)) {
    if (e === 'objects' || e === 'index' || e === 'tmp') continue;
    runCmd('cp', ['-a', join(src, e), join(dest, e)]);
  }
  mkdirSync(join(dest, 'tmp'), { recursive: true });
}

let scratch;
/** The stat-family syscalls of one command and its threads (`strace -f -c`): total and by syscall. */
function statCalls(cmd, args) {
  scratch ??= mkdtempSync(join(tmpdir(), 'trove-bench-scale-'));
  const out = join(scratch, 'strace.txt');
  runCmd('strace', ['-f', '-c', '-o', out, '-e', `trace=${STAT_SYSCALLS}`, '--', cmd, ...args]);
  const by = {};
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?([a-z_0-9]+)\s*$/.exec(line);
    if (m && m[2] !== 'total') by[m[2]] = Number(m[1]);
  }
  return { total: Object.values(by).reduce((a, b) => a + b, 0), by };
}

function seconds(t0) {
  return (performance.now() - t0) / 1000;
}

/** Runs every row at one size; returns its samples, traffic, stat counts and set-up times. */
async function runSize(cache, spec, runs) {
  const res = {
    size: spec.label, samples: Object.fromEntries(OPS.map((o) => [o.id, []])), errors: {}, missing: {},
    traffic: { pull: [], 'pull-nobase': [] }, fetched: { pull: [], 'pull-nobase': [] }, garbage: [], gcRead: { 'gc-counted': [], 'gc-update': [] }, setup: {}, stat: {},
  };
  const sizeStart = performance.now();
  let t = performance.now();
  const base = await ensureRepo(cache, spec);
  res.stamp = base.stamp;
  res.generated = base.generated;
  res.setup.ensure = seconds(t);

  const work = join(cache, `scale-work-${spec.label.toLowerCase()}`);
  rmrf(work);
  mkdirSync(work, { recursive: true });
  let nginx;
  try {
    t = performance.now();
    const server = join(work, 'server');
    copyRepo(base.repo, server);
    res.setup.copy = seconds(t);
    log(`scale: ${spec.label}: server copy in ${res.setup.copy.toFixed(1)} s; writing the 1 % update`);
    t = performance.now();
    res.update = await writeUpdate(server, spec);
    res.setup.update = seconds(t);
    t = performance.now();
    runCmd(...troveCmd(server, 'summary'));
    res.setup.summary = seconds(t);
    log(`scale: ${spec.label}: update (${res.update.files} files in ${res.update.packages} packages, ${res.update.objects} new objects) ` +
      `in ${res.setup.update.toFixed(1)} s, summary in ${res.setup.summary.toFixed(1)} s`);
    nginx = await startNginx(join(work, 'nginx'), work);
    const url = `${nginx.url}/server/`;

    // Every timed command meets the objects in the page cache, whether the repository was generated just now or cached.
    t = performance.now();
    runCmd('sh', ['-c', 'find "$1" -type f -print0 | xargs -0 cat > /dev/null', 'sh', join(base.repo, 'objects')]);
    res.setup.warm = seconds(t);

    const client = (dir, withBase) => {
      const t1 = performance.now();
      copyRepo(base.repo, dir);
      runCmd(...troveCmd(dir, 'remote', 'add', 'origin', url));
      // As an earlier pull of `system` leaves it: the commit a pull reads fetched trees beside.
      if (withBase) {
        mkdirSync(join(dir, 'refs', 'remotes', 'origin'), { recursive: true });
        writeFileSync(join(dir, 'refs', 'remotes', 'origin', 'system'), `${res.update.oldSystem}\n`);
      }
      (res.setup.clients ??= []).push(seconds(t1));
    };
    const step = (op, cmd, { traffic } = {}) => {
      syncDisk();
      nginx.clear();
      try {
        const x = timeCmd(...cmd);
        res.samples[op].push(x);
        if (traffic) res.traffic[op].push(nginx.traffic());
        log(`scale: ${spec.label}: ${op}: ${x.seconds.toFixed(2)} s, ${(x.maxRssKiB / 1024).toFixed(0)} MB`);
        return x;
      } catch (e) {
        if (!(e instanceof BenchError)) throw e;
        if (op === 'fsck-since' && /unknown option/.test(e.message)) {
          res.missing[op] = 'flag missing';
          log(`scale: ${spec.label}: fsck --since: the CLI does not know the flag yet`);
        } else {
          log(`scale: ${spec.label}: ${op} FAILED:\n${e.message}`);
          res.errors[op] ??= e.message;
        }
        return undefined;
      }
    };

    for (let r = 0; r < runs; r++) {
      log(`scale: ${spec.label}: run ${r + 1} of ${runs}`);
      const a = join(work, `client-${r}`);
      client(a, true);
      step('gc', troveCmd(a, 'gc', '--json'));
      const counted = step('gc-counted', troveCmd(a, 'gc', '--json'));
      if (counted && JSON.parse(counted.stdout).listed !== false) throw new BenchError('the second gc listed the store: its count does not match the mark');
      if (counted) res.gcRead['gc-counted'].push(JSON.parse(counted.stdout).treesRead);
      step('fsck', troveCmd(a, 'fsck'));
      const p = step('pull', troveCmd(a, 'pull', 'origin', 'system', '--json'), { traffic: true });
      if (p) {
        res.fetched.pull.push(JSON.parse(p.stdout).fetched);
        step('fsck-since', troveCmd(a, 'fsck', '--since'));
        const kept = step('gc-update', troveCmd(a, 'gc', '--json'));
        if (kept) {
          const r = JSON.parse(kept.stdout);
          if (r.listed !== false || r.deleted.objects !== 0) throw new BenchError('gc after the pull listed the store or found garbage');
          res.gcRead['gc-update'].push(r.treesRead);
        }
        // The pulled commit loses its only ref: everything the update brought is garbage.
        rmSync(join(a, 'refs', 'remotes', 'origin', 'system'));
        const g = step('gc-dry', troveCmd(a, 'gc', '--dry-run', '--json'));
        if (g) res.garbage.push(JSON.parse(g.stdout).deleted);
      }
      const b = join(work, `client-nobase-${r}`);
      client(b, false);
      const q = step('pull-nobase', troveCmd(b, 'pull', 'origin', 'system', '--json'), { traffic: true });
      if (q) res.fetched['pull-nobase'].push(JSON.parse(q.stdout).fetched);
    }

    // Stat-family syscalls, each pull once more from a fresh copy under strace (not timed), and a pull with nothing to fetch.
    log(`scale: ${spec.label}: counting stat calls (strace)`);
    const s1 = join(work, 'strace-client');
    client(s1, true);
    res.stat.pull = statCalls(...troveCmd(s1, 'pull', 'origin', 'system', '--json'));
    res.stat.upToDate = statCalls(...troveCmd(s1, 'pull', 'origin', 'system', '--json'));
    const s2 = join(work, 'strace-client-nobase');
    client(s2, false);
    res.stat['pull-nobase'] = statCalls(...troveCmd(s2, 'pull', 'origin', 'system', '--json'));
  } finally {
    await nginx?.stop();
    t = performance.now();
    rmrf(work);
    res.setup.cleanup = seconds(t);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    scratch = undefined;
  }
  res.seconds = seconds(sizeStart);
  log(`scale: ${spec.label}: done in ${res.seconds.toFixed(0)} s`);
  return res;
}

/** Sizes asked for: ctx.sizes, else TROVE_BENCH_SCALE_SIZES, else both. */
function chosenSizes(ctx) {
  const list = ctx.sizes ?? (process.env.TROVE_BENCH_SCALE_SIZES ? process.env.TROVE_BENCH_SCALE_SIZES.split(',').filter(Boolean) : Object.keys(SIZES));
  for (const s of list) if (!(s.toLowerCase() in SIZES)) throw new BenchError(`scale: unknown size ${s} (known: ${Object.keys(SIZES).join(', ')})`);
  return list.map((s) => SIZES[s.toLowerCase()]);
}

export async function runGroup(ctx) {
  const { cache, runs } = ctx;
  const sizes = [];
  for (const spec of chosenSizes(ctx)) sizes.push(await runSize(cache, spec, runs));
  const cacheKiB = Object.fromEntries(Object.values(SIZES).map((s) => {
    const dir = join(cache, `scale-${s.label.toLowerCase()}`);
    return [s.label, existsSync(dir) ? duKiB(dir) : undefined];
  }));
  return { name, title, runs, sizes, cacheKiB };
}

// --- Rendering.

const sec = (v) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');
const mb = (v) => (Number.isFinite(v) ? v.toFixed(0) : 'n/a');
const int = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'n/a');
const growth = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && a > 0 ? `${(b / a).toFixed(1)}×` : 'n/a');

/** Median seconds and largest peak RSS (MB) of a row's samples; NaN without any. */
function summarise(samples) {
  if (!samples.length) return { s: NaN, rss: NaN };
  return { s: median(samples.map((x) => x.seconds)), rss: Math.max(...samples.map((x) => x.maxRssKiB)) / 1024 };
}

/** Markdown: the repositories, the timed rows with their growth, and what the pull moved. */
export function render(res) {
  const out = [`### ${res.title}`, ''];
  const small = res.sizes.find((s) => s.size === '100k');
  const big = res.sizes.find((s) => s.size === '1M');
  const both = (f) => [f(small), f(big)];

  // The repositories.
  out.push(table(
    ['repository', 'packages', 'files + symlinks', 'objects', 'blobs', 'trees', 'commits', 'bytes', 'disk (du)', 'generation s', 'generator peak RSS MB'],
    res.sizes.map((s) => {
      const st = s.stamp;
      return [s.size, int(st.packages), `${int(st.files)} + ${int(st.symlinks)}`, int(st.objects), int(st.blobs), int(st.trees), int(st.commits),
        human(st.bytes), human(st.diskKiB * 1024), `${sec(st.seconds)}${s.generated ? '' : ' (cached)'}`, mb(st.maxRssMB)];
    }),
  ), '');

  // The timed rows.
  const cell = (s, op, what) => {
    if (!s) return 'n/a';
    if (s.errors[op]) return 'error';
    if (s.missing[op]) return `n/a (${s.missing[op]})`;
    const x = summarise(s.samples[op]);
    return what === 's' ? sec(x.s) : mb(x.rss);
  };
  const val = (s, op, what) => (s ? summarise(s.samples[op])[what] : NaN);
  out.push(table(
    [`operation (median of ${res.runs})`, '100k s', '100k peak RSS MB', '1M s', '1M peak RSS MB', 'growth s 1M/100k', 'growth RSS 1M/100k'],
    OPS.map((op) => [
      op.label, cell(small, op.id, 's'), cell(small, op.id, 'rss'), cell(big, op.id, 's'), cell(big, op.id, 'rss'),
      growth(val(small, op.id, 's'), val(big, op.id, 's')), growth(val(small, op.id, 'rss'), val(big, op.id, 'rss')),
    ]),
  ), '');

  // What the update changed and what pulling it cost.
  const first = (xs) => xs?.[0];
  const traffic = (s, op, k) => first(s?.traffic[op])?.[k];
  const metric = (label, f) => {
    const [a, b] = both((s) => (s ? f(s) : NaN));
    return [label, int(a), int(b), growth(a, b)];
  };
  out.push(table(['pull of the 1 % update', '100k', '1M', 'growth 1M/100k'], [
    metric('files changed on the server', (s) => s.update.files),
    metric('packages changed', (s) => s.update.packages),
    metric('objects the update wrote on the server', (s) => s.update.objects),
    metric('objects pulled (remotes/origin/system at the old commit)', (s) => first(s.fetched.pull)?.objects),
    metric('HTTP requests (idem)', (s) => traffic(s, 'pull', 'requests')),
    metric('bytes served (idem)', (s) => traffic(s, 'pull', 'bytes')),
    metric('stat-family syscalls (idem)', (s) => s.stat.pull?.total),
    metric('objects pulled (no remotes/origin/system)', (s) => first(s.fetched['pull-nobase'])?.objects),
    metric('HTTP requests (idem)', (s) => traffic(s, 'pull-nobase', 'requests')),
    metric('stat-family syscalls (idem)', (s) => s.stat['pull-nobase']?.total),
    metric('stat-family syscalls, pull with nothing to fetch (start-up)', (s) => s.stat.upToDate?.total),
    metric('commits and trees the second gc read', (s) => first(s.gcRead?.['gc-counted'])),
    metric('commits and trees the gc after the pull read', (s) => first(s.gcRead?.['gc-update'])),
    metric('objects gc --dry-run would delete, update unreferenced', (s) => first(s.garbage)?.objects),
  ]), '');

  out.push(
    `- Generated repositories: ${FILES_PER_PACKAGE} regular files and 3 symlinks per package, in usr/bin (1-3 programs), ` +
      'usr/share/man/man1, usr/lib/x86_64-linux-gnu (a library and its soname link), usr/share/doc/<pkg>, etc/<pkg>, usr/lib/<pkg> ' +
      '(and plugins/) and usr/share/<pkg>: 15 trees and a package commit on pkg/<pkg>/amd64 each; ref `system`: a commit whose tree is the ' +
      'union of every package tree (shared directories merged, each package\'s own directories taken by id). File sizes log-normal, ' +
      `median ${human(SIZE_MEDIAN)}, sigma ${SIZE_SIGMA}, capped at ${human(SIZE_MAX)}; contents: a first line naming the file and its version, ` +
      'then bytes of a 64 MiB xorshift32 pool from a seeded offset (unique, incompressible). Written in-process through the library ' +
      '(one transaction, `putSync` of every object), then synced; cached under the bench cache with a stamp.',
    `- Update: version 2 of ${UPDATE_PACKAGE_SHARE * 100} % of the packages (evenly spread), ${UPDATE_FILES_PER_PACKAGE} of each one's ` +
      `${FILES_PER_PACKAGE} files with new contents (and sizes): 1 % of the files; the package refs move and a new system commit ` +
      '(parent: the old one) joins every package\'s current tree. Written on a `cp -al` copy of the repository, then `trove summary`, ' +
      'served by nginx on loopback.',
    '- Clients: `cp -al` copies of the generated repository with `trove remote add origin URL`. "Remotes/origin/system at the old commit" ' +
      'is what an earlier pull of `system` leaves: the pull reads fetched trees beside the stored ones (docs/remote.md). On that client, ' +
      'in this order: `gc --json`, `fsck`, `pull origin system --json`, `fsck --since`, `gc --json`, then the remote-tracking ref removed and ' +
      '`gc --dry-run --json`. The other pull row is a second copy without the remote-tracking ref (it has the generated refs/heads/system, the old commit, which a pull reads beside when it has no remote-tracking ref). `fsck --since` checks what changed ' +
      'since the full `fsck` recorded a clean state (nothing else touches the client between them: a `cp -al` or a removal of a ' +
      'copy would change the objects\' ctime); a CLI without the flag shows "n/a (flag missing)".',
    '- Times: wall clock of the CLI process (`node bin/trove.js`), after `sync`, with the objects in the page cache (read once before the ' +
      'runs); peak RSS from GNU time (%M). HTTP requests: nginx access-log lines during the pull. Stat-family syscalls: ' +
      `\`strace -f -c -e trace=${STAT_SYSCALLS}\` of the same pull from another fresh copy (not timed), summed over the process and its threads; ` +
      'the "nothing to fetch" line is the same client pulling again, Node\'s start-up and the summary.',
  );
  for (const s of res.sizes) {
    const st = s.setup;
    const clients = st.clients ?? [];
    const phases = s.stamp.phases ? `: ${Object.entries(s.stamp.phases).map(([k, v]) => `${k} ${sec(v)} s`).join(', ')}` : '';
    const made = s.generated ? `generated in ${sec(s.stamp.seconds)} s${phases} (${sec(st.ensure)} s with removing a stale one and du)` : 'from the cache';
    out.push(`- ${s.size}: whole size ${sec(s.seconds)} s: repository ${made}, ` +
      `server copy ${sec(st.copy)} s, update ${sec(st.update)} s, summary ${sec(st.summary)} s, page-cache warm-up ${sec(st.warm)} s, ` +
      `${clients.length} client copies ${sec(median(clients))} s each (median), clean-up ${sec(st.cleanup)} s.`);
    for (const [k, v] of Object.entries(s.stat)) {
      out.push(`  - stat calls, ${STAT_LABELS[k]}: ${Object.entries(v.by).map(([n, c]) => `${n} ${c}`).join(', ') || 'none'}`);
    }
    const paths = first(s.traffic.pull)?.paths ?? [];
    const other = paths.filter((p) => !p.includes('/objects/'));
    if (paths.length) out.push(`  - requests of the pull other than objects: ${other.join(', ') || 'none'}`);
    for (const op of OPS) {
      const f = s.samples[op.id].map((x) => `${x.seconds.toFixed(2)} s/${(x.maxRssKiB / 1024).toFixed(0)} MB`).join(', ');
      if (f) out.push(`  - samples, ${op.label}: ${f}`);
    }
  }
  const cacheLine = Object.entries(res.cacheKiB).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${human(v * 1024)}`);
  if (cacheLine.length) out.push(`- Disk used by the cached repositories: ${cacheLine.join(', ')}.`);
  for (const s of res.sizes) {
    for (const [op, msg] of Object.entries(s.errors)) out.push('', `${s.size}: "${OPS.find((o) => o.id === op).label}" failed:`, '', '```', msg.trimEnd(), '```');
  }
  return out.join('\n');
}

/** Self-contained entry: runs the group and returns its Markdown. */
export async function run(ctx) {
  return render(await runGroup(ctx));
}

const USAGE = 'usage: node bench/scale.mjs [--runs N] [--sizes 100k,1m]';

function parseArgs(argv) {
  const opts = { runs: 3, sizes: Object.keys(SIZES) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--runs') opts.runs = Number(value());
    else if (a.startsWith('--runs=')) opts.runs = Number(a.slice(7));
    else if (a === '--sizes') opts.sizes = value().split(',').filter(Boolean);
    else if (a.startsWith('--sizes=')) opts.sizes = a.slice(8).split(',').filter(Boolean);
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else usage(`unknown argument ${a}`);
  }
  if (!Number.isInteger(opts.runs) || opts.runs < 1) usage('--runs needs a positive integer');
  for (const s of opts.sizes) if (!(s.toLowerCase() in SIZES)) usage(`unknown size ${s}`);
  return opts;
}

function usage(msg) {
  console.error(`bench: ${msg}\n${USAGE}`);
  process.exit(2);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const opts = parseArgs(process.argv.slice(2));
  const { runAlone } = await import('./lib.mjs');
  await runAlone(requires, (cache) => run({ cache, runs: opts.runs, sizes: opts.sizes }));
}
