// Scenario group "lazy": `trove install --lazy` and `trove upgrade --lazy`
// (commits and trees fetched, files left on the remote until the mounted view
// reads them) against full installs, on the real Debian packages of the
// group `workload` served by nginx on loopback, and on the generated
// 1,000-package repository of the group `scale` published as a generation.
//
// Each run makes fresh clients (init, remote, mount: untimed) and keeps them
// until the group ends (a large delete slows file creation on this machine's
// ext4 for about 30 s):
//   A  install --lazy NAMES, then the first compile-and-run of a C program
//      chrooted into the view (timed together); its trace is flushed by the
//      unmount that follows
//   F  the same with a full install (the view mounted too, so activation is a
//      link swap in both)
//   T  A's access traces copied in, install --lazy, `trove fetch
//      --background` at once, the compile; then `fetch --wait` for the rest
//   R  install --lazy (untimed), then first reads of 50 small files not yet
//      fetched, against first reads of the same paths in F's view (stored
//      objects) and curl of the same object URLs
//   G  `trove upgrade --lazy` of a published generation of 1,000 generated
//      packages (115,011 objects): bytes fetched against all its objects
//
// Plugs into bench/run.mjs as the group `lazy`; `node bench/lazy.mjs
// [--runs N]` runs it alone.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { aptClosure, getAptDebs } from '../scripts/apt-closure.mjs';
import { BenchError, human, log, median, rmrf, run as runCmd, syncDisk, timeCmd } from './lib.mjs';
import { startNginx } from './pull.mjs';
import { copyRepo } from './scale.mjs';
import { LINK_NAMES as NAMES, SERVER_TOP } from './link.mjs';
import { table } from './report.mjs';
import { REPO_ROOT } from './tools.mjs';

export const name = 'lazy';
export const title = 'Lazy activation: install and upgrade --lazy, files fetched on first read through the view (nginx on loopback)';
export const requires = [
  ['nginx', 'nginx-light'], ['curl', 'curl'], ['apt-get', 'apt'], ['chroot', 'coreutils'], ['cp', 'coreutils'], ['date', 'coreutils'],
  ['sync', 'coreutils'], ['unshare', 'util-linux'], ['mount', 'mount'], ['sh', 'dash'],
];

const TROVE_JS = join(REPO_ROOT, 'bin', 'trove.js');
const troveCmd = (repo, ...args) => [TROVE_JS, ['--repo', repo, ...args]];
const trove = (repo, ...args) => runCmd(...troveCmd(repo, ...args)).stdout;



/** Targets. */
const MAX_TIME_RATIO = 0.3;
const MAX_BYTES_RATIO = 0.5;
const MAX_METADATA_SHARE = 0.05;

/** The read-latency row: this many small files, first reads, of these sizes, under this directory. */
const READS = 50;
const READ_MIN = 1024;
const READ_MAX = 8192;
const READ_DIR = 'usr/share/perl/5.36.0';

/** The generated repository of the group `scale` (1,000 packages of 100 files), reused from the bench cache. */
const SCALE_PACKAGES = 1000;

const HELLO_C = `#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  const char *who = argc > 1 ? argv[1] : "lazy";
  double x = 0;
  for (int i = 1; i <= 1000; i++) x += sqrt((double)i);
  printf("hello, %s: %zu letters, sum of roots %.3f\\n", who, strlen(who), x);
  return EXIT_SUCCESS;
}
`;

/**
 * In a private mount namespace: the view (`$1`, the client's link) bind-mounted
 * on the fresh directory `$2`, tmpfs on its /tmp (holding the source `$3`) and
 * /dev (with /dev/null and /dev/urandom); then, timed, gcc-12 compiles and
 * links the program and it runs, both chrooted; output into `$4`. Prints
 * `STATUS T0 T1` (ns).
 */
const NAMESPACE_SH = `set -e
mount --bind "$1" "$2"
mount -t tmpfs -o mode=1777 tmpfs "$2/tmp"
cp "$3" "$2/tmp/hello.c"
mount -t tmpfs -o mode=755 tmpfs "$2/dev"
for d in null urandom; do
  : > "$2/dev/$d"
  mount --bind "/dev/$d" "$2/dev/$d"
done
set +e
t0=$(date +%s%N)
chroot "$2" /usr/bin/gcc-12 -O2 -Wall -o /tmp/hello /tmp/hello.c -lm > "$4" 2>&1 && chroot "$2" /tmp/hello trove >> "$4" 2>&1
rc=$?
t1=$(date +%s%N)
echo "$rc $t0 $t1"
`;
const EXPECTED = /^hello, trove: 5 letters, sum of roots 21097\.456$/m;

const now = () => process.hrtime.bigint();
const since = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const objectPath = (repo, id) => join(repo, 'objects', id.slice(0, 2), id.slice(2));

/** One compile-and-run in `link`; up to 5 attempts, until the first that succeeds. */
function compileAndRun(dir, link, label) {
  const attempts = [];
  for (let i = 0; i < 5; i++) {
    const root = join(dir, 'roots', `${label}-${i}`);
    const out = join(dir, 'roots', `${label}-${i}.out`);
    mkdirSync(root, { recursive: true });
    const t0 = now();
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', NAMESPACE_SH, 'sh', link, root, join(dir, 'hello.c'), out], {
      encoding: 'utf8',
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', TZ: 'UTC', HOME: '/tmp' },
    });
    const wall = since(t0);
    if (r.error) throw new BenchError(`cannot run unshare: ${r.error.message}`);
    if (r.status !== 0 || r.stderr) throw new BenchError(`setting up the chroot into ${link} failed (exit ${r.status ?? r.signal}):\n${r.stderr}`);
    const [status, a, b] = r.stdout.trim().split(' ').map(Number);
    const output = existsSync(out) ? readFileSync(out, 'utf8') : '';
    attempts.push({ status, seconds: (b - a) / 1e9, wall, output });
    if (status === 0 && EXPECTED.test(output)) return { attempts: attempts.length, wall: attempts.reduce((n, x) => n + x.wall, 0), inside: (b - a) / 1e9, output };
    log(`lazy: ${label}: compile attempt ${i + 1} failed (exit ${status}):\n${output}`);
  }
  throw new BenchError(`the compile in ${link} failed 5 times; last output:\n${attempts.at(-1).output}`);
}

/** Counts the object paths of an access log requested more than once. */
function repeated(paths) {
  const seen = new Map();
  for (const p of paths) if (p.includes('/objects/')) seen.set(p, (seen.get(p) ?? 0) + 1);
  return [...seen.values()].filter((n) => n > 1).length;
}

/** `<repo>/mount.log`'s last "fetched on read" line, as { blobs, bytes, failed }, or undefined. */
function fetchedOnRead(repo) {
  const p = join(repo, 'mount.log');
  if (!existsSync(p)) return undefined;
  const m = [...readFileSync(p, 'utf8').matchAll(/fetched on read: (\d+) blobs \((\d+) bytes\), (\d+) failed/g)].at(-1);
  return m ? { blobs: Number(m[1]), bytes: Number(m[2]), failed: Number(m[3]) } : undefined;
}

/**
 * The daemon's cumulative request counts and ms (arrival in JavaScript to the
 * answer) by operation: `kill -USR2` makes it log both (docs/fuse.md,
 * "Requests"). Undefined when no such lines come within 2 s.
 */
async function daemonRequests(repo) {
  const logFile = join(repo, 'mount.log');
  const lines = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n') : []);
  const parse = (line, key) => {
    const m = new RegExp(`^\\S+ ${key}: (\\{.*\\})$`).exec(line);
    try {
      return m ? JSON.parse(m[1]) : undefined;
    } catch {
      return undefined;
    }
  };
  const pid = JSON.parse(readFileSync(join(repo, 'mount.json'), 'utf8')).pid;
  const before = lines().length;
  process.kill(pid, 'SIGUSR2');
  for (let waited = 0; waited <= 2000; waited += 10) {
    const fresh = lines().slice(Math.max(0, before - 1));
    const counts = fresh.map((l) => parse(l, 'requests')).findLast(Boolean);
    const ms = fresh.map((l) => parse(l, 'request-ms')).findLast(Boolean);
    if (counts && ms) return { counts, ms };
    await sleep(10);
  }
  return undefined;
}

/** After minus before, per key; undefined when either is. */
function delta(after, before) {
  if (!after || !before) return undefined;
  const keys = new Set([...Object.keys(after), ...Object.keys(before)]);
  return Object.fromEntries([...keys].map((k) => [k, Math.round(((after[k] ?? 0) - (before[k] ?? 0)) * 10) / 10]));
}

const daemonDelta = (a, b) => (a && b ? { counts: delta(a.counts, b.counts), ms: delta(a.ms, b.ms) } : undefined);

/** The cached 1,000-package repository of the group `scale`; generated through that group when missing. */
async function scaleRepo(cache) {
  const dir = join(cache, 'scale-100k');
  const ok = () => {
    try {
      const stamp = JSON.parse(readFileSync(join(dir, 'stamp.json'), 'utf8'));
      return stamp.packages === SCALE_PACKAGES && existsSync(join(dir, 'repo', 'config')) ? stamp : undefined;
    } catch {
      return undefined;
    }
  };
  if (!ok()) {
    log('lazy: no cached scale-100k repository: running the group scale at 100k once to generate it');
    const scale = await import('./scale.mjs');
    await scale.runGroup({ cache, runs: 1, sizes: ['100k'] });
  }
  const stamp = ok();
  if (!stamp) throw new BenchError(`lazy: ${dir} has no 1,000-package repository`);
  return { repo: join(dir, 'repo'), stamp };
}

/** Runs the group; the result is rendered by `render` below. */
export async function runGroup(ctx) {
  const { cache, runs } = ctx;
  if (process.getuid?.() !== 0) throw new BenchError('the lazy group needs root (chroot, mounts)');
  const dir = join(cache, 'work-lazy');
  if (existsSync(dir)) {
    rmrf(dir);
    syncDisk();
    log('lazy: removed an old work directory; waiting 35 s, so that the delete no longer slows file creation');
    await sleep(35_000);
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'hello.c'), HELLO_C);

  const mounted = new Map();
  const background = new Set();
  let nginx;
  const res = {
    name, title, runs, names: NAMES,
    sessions: { lazy: [], full: [], traced: [] },
    reads: { lazy: [], fetched: [], curl: [] },
    upgrade: [],
    setup: {},
    warnings: [],
  };
  try {
    // --- The package server: every .deb of the workload's closure, its package index in the summary.
    let t = now();
    const closure = aptClosure(SERVER_TOP);
    const debs = getAptDebs(closure);
    const server = join(dir, 'server');
    trove(server, 'init');
    trove(server, 'pkg', 'add', '--no-progress', '-q', '--no-update-summary', ...debs);
    trove(server, 'summary');
    res.setup.server = { packages: closure.length, debBytes: debs.reduce((n, f) => n + statSync(f).size, 0), seconds: since(t) };
    log(`lazy: package server of ${closure.length} packages in ${res.setup.server.seconds.toFixed(1)} s`);

    // --- The generation server: a hard-link copy of the scale group's 1,000 packages, one generation of all, published.
    t = now();
    const scale = await scaleRepo(cache);
    const gserver = join(dir, 'gserver');
    copyRepo(scale.repo, gserver);
    const pkgs = Array.from({ length: SCALE_PACKAGES }, (_, i) => `pkg${String(i).padStart(5, '0')}`);
    trove(gserver, 'gen', 'build', '--no-update-summary', '-q', ...pkgs);
    trove(gserver, 'gen', 'publish');
    res.setup.gserver = { packages: SCALE_PACKAGES, stamp: scale.stamp, seconds: since(t) };
    log(`lazy: generation server (${SCALE_PACKAGES} packages, one generation, published) in ${res.setup.gserver.seconds.toFixed(1)} s`);

    nginx = await startNginx(join(dir, 'nginx'), dir);
    const url = (what) => `${nginx.url}/${what}/`;

    /** A fresh client: init, remote origin, and (unless `view` is false) a mounted view. */
    const client = (label, remote = 'server', view = true) => {
      const repo = join(dir, 'clients', label);
      const mnt = join(dir, 'mnt', label);
      trove(repo, 'init');
      trove(repo, 'remote', 'add', 'origin', url(remote));
      if (view) {
        trove(repo, 'mount', mnt);
        mounted.set(mnt, repo);
      }
      return { label, repo, mnt, link: join(dir, 'links', label) };
    };
    mkdirSync(join(dir, 'links'), { recursive: true });
    /** Unmounts a client's view (--force: links into it stay, nothing is checked out); its trace is written. */
    const unmount = (c) => {
      if (!mounted.has(c.mnt)) return;
      trove(c.repo, 'umount', '--force', c.mnt);
      mounted.delete(c.mnt);
    };

    /**
     * One timed session: install (lazy or not), `fetch --background` when asked,
     * then the first compile-and-run; the wall time of all of it, and nginx's
     * requests and bytes after the install and after the compile.
     */
    const session = async (c, { lazy, fetchBackground = false }) => {
      // The daemon's counters before the install and after the compile (untimed): what the compile asked of it.
      const d0 = await daemonRequests(c.repo);
      syncDisk();
      nginx.clear();
      const t0 = now();
      const inst = timeCmd(...troveCmd(c.repo, 'install', ...(lazy ? ['--lazy'] : []), '--remote', 'origin', '--link', c.link, '--json', ...NAMES));
      const installSeconds = since(t0);
      const afterInstall = nginx.traffic();
      let bg;
      if (fetchBackground) {
        bg = timeCmd(...troveCmd(c.repo, 'fetch', '--background', '--json'));
        const pid = JSON.parse(bg.stdout).background?.pid;
        if (pid) background.add(pid);
      }
      const comp = compileAndRun(dir, c.link, c.label);
      const seconds = since(t0);
      const atCompile = nginx.traffic();
      const daemon = daemonDelta(await daemonRequests(c.repo), d0);
      const j = JSON.parse(inst.stdout);
      return {
        daemon,
        seconds, installSeconds, backgroundSeconds: bg?.seconds, compileSeconds: comp.wall, compileInside: comp.inside, attempts: comp.attempts,
        install: { requests: afterInstall.requests, bytes: afterInstall.bytes },
        compile: { requests: atCompile.requests - afterInstall.requests, bytes: atCompile.bytes - afterInstall.bytes },
        total: { requests: atCompile.requests, bytes: atCompile.bytes },
        fetched: j.fetched, lazy: j.lazy, via: j.install?.activated?.via, packages: j.packages?.length, output: comp.output,
      };
    };

    let reference;
    const checkOutput = (s, label) => {
      reference ??= s.output;
      if (s.output !== reference) throw new BenchError(`lazy: ${label}: the program's output differs:\n${s.output}\nagainst\n${reference}`);
    };

    // --- Denominator of the metadata row: what a full upgrade of the generation would fetch (dry-run, once).
    {
      const d = client('gen-dry-run', 'gserver', false);
      const j = JSON.parse(trove(d.repo, 'upgrade', '--remote', 'origin', '--dry-run', '--json'));
      res.setup.generation = { objects: j.fetched.objects, bytes: j.fetched.bytes, commit: j.published?.commit };
    }

    for (let r = 0; r < runs; r++) {
      const order = r % 2 ? ['full', 'lazy'] : ['lazy', 'full'];
      log(`lazy: run ${r + 1} of ${runs} (${order.join(', ')}, then traced, reads, upgrade)`);
      const clients = {};
      for (const kind of order) {
        const c = (clients[kind] = client(`${kind}-${r}`));
        const s = await session(c, { lazy: kind === 'lazy' });
        checkOutput(s, c.label);
        if (s.via !== 'mount') res.warnings.push(`${c.label}: activated via ${s.via}, not the view`);
        res.sessions[kind].push(s);
        log(`lazy: ${c.label}: ${s.seconds.toFixed(3)} s to the first compile (install ${s.installSeconds.toFixed(3)} s, compile ${s.compileSeconds.toFixed(3)} s), ${human(s.total.bytes)} in ${s.total.requests} requests`);
        if (kind === 'lazy') {
          unmount(c);
          const f = fetchedOnRead(c.repo);
          if (f) s.onRead = f;
          s.trace = existsSync(join(c.repo, 'traces')) ? readdirSync(join(c.repo, 'traces')).map((n) => readFileSync(join(c.repo, 'traces', n), 'utf8').split('\n').filter(Boolean).length) : [];
        }
      }

      // --- T: the lazy client's traces copied in, a background fetch right after the install.
      {
        const c = client(`traced-${r}`);
        const src = join(clients.lazy.repo, 'traces');
        const traces = existsSync(src) ? readdirSync(src) : [];
        if (traces.length === 0) res.warnings.push(`run ${r + 1}: the lazy client wrote no trace`);
        mkdirSync(join(c.repo, 'traces'), { recursive: true });
        for (const n of traces) copyFileSync(join(src, n), join(c.repo, 'traces', n));
        const s = await session(c, { lazy: true, fetchBackground: true });
        checkOutput(s, c.label);
        // The rest: fetch --wait waits for the background fetch, then finds nothing left.
        const t0 = now();
        const w = JSON.parse(timeCmd(...troveCmd(c.repo, 'fetch', '--wait', '--json')).stdout);
        s.completeSeconds = s.seconds + since(t0);
        const all = nginx.traffic();
        s.complete = { requests: all.requests, bytes: all.bytes, repeated: repeated(all.paths), remaining: w.remaining.length };
        background.clear();
        unmount(c);
        const f = fetchedOnRead(c.repo);
        if (f) s.onRead = f;
        res.sessions.traced.push(s);
        log(`lazy: ${c.label}: ${s.seconds.toFixed(3)} s to the first compile, ${human(s.total.bytes)} by then; complete at ${s.completeSeconds.toFixed(2)} s, ${human(all.bytes)} in all, ${s.complete.repeated} objects requested twice`);
      }

      // --- R: first reads of small files not fetched yet, against the same paths in F's view, and curl.
      {
        const c = client(`reads-${r}`);
        trove(c.repo, 'install', '--lazy', '--remote', 'origin', '--link', c.link, '--json', ...NAMES);
        const gen = basename(readlinkSync(c.link));
        const entries = JSON.parse(trove(c.repo, 'ls', '-R', '--json', `${gen}:${READ_DIR}`));
        const seen = new Set();
        const cand = entries.filter((e) => e.kind === 'file' && e.size >= READ_MIN && e.size <= READ_MAX && !seen.has(e.id) && seen.add(e.id));
        const fresh = cand.filter((e) => !existsSync(objectPath(c.repo, e.id)));
        if (fresh.length < READS) throw new BenchError(`lazy: only ${fresh.length} small files under ${READ_DIR} not fetched yet`);
        const step = Math.floor(fresh.length / READS);
        const pick = Array.from({ length: READS }, (_, i) => fresh[i * step]);
        for (const e of pick) if (!existsSync(objectPath(clients.full.repo, e.id))) throw new BenchError(`lazy: the full client lacks ${e.id}`);
        const paths = (link) => pick.map((e) => join(link, READ_DIR, e.path));
        const lazyPaths = paths(c.link);
        const fullPaths = paths(clients.full.link);
        // Lookups first (untimed): the timed part is open, read, close.
        for (const p of [...lazyPaths, ...fullPaths]) statSync(p);
        const timeRead = (p, size) => {
          const t0 = now();
          const b = readFileSync(p);
          const ms = since(t0) * 1000;
          if (b.length !== size) throw new BenchError(`lazy: read ${b.length} bytes of ${p}, its tree says ${size}`);
          return ms;
        };
        const l0 = await daemonRequests(c.repo);
        const f0 = await daemonRequests(clients.full.repo);
        nginx.clear();
        pick.forEach((e, i) => {
          res.reads.lazy.push(timeRead(lazyPaths[i], e.size));
          res.reads.fetched.push(timeRead(fullPaths[i], e.size));
        });
        const readTraffic = nginx.traffic();
        (res.reads.daemon ??= []).push({ lazy: daemonDelta(await daemonRequests(c.repo), l0), fetched: daemonDelta(await daemonRequests(clients.full.repo), f0) });
        if (readTraffic.requests !== READS) res.warnings.push(`run ${r + 1}: ${READS} first reads made ${readTraffic.requests} requests`);
        // curl of the same objects, one process, one kept-alive connection: time_total of each transfer.
        const args = ['-sS'];
        for (const e of pick) args.push('-o', '/dev/null', '-w', '%{time_total}\\n', `${url('server')}objects/${e.id.slice(0, 2)}/${e.id.slice(2)}`);
        res.reads.curl.push(...runCmd('curl', args).stdout.trim().split('\n').map((x) => Number(x) * 1000));
        res.reads.sizes ??= pick.map((e) => e.size);
        unmount(c);
        unmount(clients.full);
      }

      // --- G: lazy upgrade to the published generation of 1,000 packages.
      {
        const c = client(`upgrade-${r}`, 'gserver');
        syncDisk();
        nginx.clear();
        const x = timeCmd(...troveCmd(c.repo, 'upgrade', '--lazy', '--remote', 'origin', '--link', c.link, '--json'));
        const tr = nginx.traffic();
        const j = JSON.parse(x.stdout);
        res.upgrade.push({ seconds: x.seconds, maxRssKiB: x.maxRssKiB, requests: tr.requests, bytes: tr.bytes, fetched: j.fetched, lazy: j.lazy, via: j.activated?.via, pullSeconds: j.pullSeconds });
        log(`lazy: ${c.label}: ${x.seconds.toFixed(2)} s, ${human(tr.bytes)} in ${tr.requests} requests; left on the remote ${j.lazy?.objects} files (${human(j.lazy?.bytes ?? 0)})`);
        unmount(c);
      }
    }
  } finally {
    for (const pid of background) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already done
      }
    }
    for (const [mnt, repo] of mounted) runCmd(...troveCmd(repo, 'umount', '--force', mnt), { allowFail: true });
    await nginx?.stop();
    rmrf(dir);
  }
  return res;
}

// --- Rendering.

const sec = (v) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
const ms = (v) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
const int = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'n/a');
const pct = (v) => (Number.isFinite(v) ? `${(v * 100).toFixed(2)} %` : 'n/a');
const ratio = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : 'n/a');
const verdict = (ok) => (ok === undefined ? '—' : ok ? 'pass' : 'FAIL');
const med = (xs, f) => median(xs.map(f).filter(Number.isFinite));
/** Sum of a counter object's values, leaving out the `<op>-enoent` counts (included in `<op>`); NaN without one. */
const total = (o) => (o ? Object.entries(o).filter(([k]) => !k.endsWith('-enoent')).reduce((n, [, v]) => n + v, 0) : NaN);

/** Markdown for the group: the five rows with targets, where the time goes, and the samples. */
export function render(res) {
  const out = [`### ${res.title}`, ''];
  const S = res.sessions;
  const lazyT = med(S.lazy, (s) => s.seconds);
  const fullT = med(S.full, (s) => s.seconds);
  const tracedT = med(S.traced, (s) => s.seconds);
  const lazyB = med(S.lazy, (s) => s.total.bytes);
  const fullB = med(S.full, (s) => s.total.bytes);
  const tracedB = med(S.traced, (s) => s.total.bytes);
  const up = med(res.upgrade, (u) => u.bytes);
  const all = res.setup.generation?.bytes;
  const rl = median(res.reads.lazy);
  const rf = median(res.reads.fetched);
  const rc = median(res.reads.curl);
  const r1 = lazyT / fullT;
  const r2 = lazyB / fullB;
  const r3 = tracedT / fullT;
  const r4 = up / all;
  const names = res.names.join(' ');
  out.push(table(
    [`row (median of ${res.runs})`, 'trove', 'against', 'ratio', 'target', 'result'],
    [
      [`1. install --lazy ${names}, then the first compile-and-run in the view`, `${sec(lazyT)} s`, `${sec(fullT)} s (full install, same compile)`, ratio(r1), `≤ ${MAX_TIME_RATIO}× full`, verdict(Number.isFinite(r1) ? r1 <= MAX_TIME_RATIO : undefined)],
      ['2. bytes of that lazy install and compile', human(lazyB), `${human(fullB)} (the full install: the whole closure)`, ratio(r2), `≤ ${MAX_BYTES_RATIO}× closure`, verdict(Number.isFinite(r2) ? r2 <= MAX_BYTES_RATIO : undefined)],
      ['3. same on a client with the first one\'s trace, fetch --background right after the install: time to the first compile', `${sec(tracedT)} s`, `${sec(fullT)} s (full)`, ratio(r3), `≤ ${MAX_TIME_RATIO}× full (as row 1)`, verdict(Number.isFinite(r3) ? r3 <= MAX_TIME_RATIO : undefined)],
      ['   bytes fetched by then (install, reads and the background fetch so far)', human(tracedB), `${human(fullB)} (closure)`, ratio(tracedB / fullB), '—', '—'],
      [`4. upgrade --lazy to a published generation of ${int(res.setup.gserver?.packages)} generated packages: bytes`, human(up), `${human(all)} (all its objects, upgrade --dry-run)`, pct(r4), `≤ ${MAX_METADATA_SHARE * 100} %`, verdict(Number.isFinite(r4) ? r4 <= MAX_METADATA_SHARE : undefined)],
      [`5. first read of a small file not fetched yet (median of ${res.reads.lazy.length})`, `${ms(rl)} ms`, `${ms(rf)} ms first read of a stored one; curl ${ms(rc)} ms`, `+${ms(rl - rf)} ms`, '≤ stored read + curl of the object', verdict(Number.isFinite(rl) ? rl - rf <= rc : undefined)],
    ],
  ), '');

  // Where the time and bytes go, per kind of session.
  const row = (label, xs) => [
    label, sec(med(xs, (s) => s.seconds)), sec(med(xs, (s) => s.installSeconds)), sec(med(xs, (s) => s.backgroundSeconds)), sec(med(xs, (s) => s.compileSeconds)),
    `${int(med(xs, (s) => s.install.requests))} / ${human(med(xs, (s) => s.install.bytes))}`,
    `${int(med(xs, (s) => s.compile.requests))} / ${human(med(xs, (s) => s.compile.bytes))}`,
    int(med(xs, (s) => s.onRead?.blobs)),
    `${int(med(xs, (s) => total(s.daemon?.counts)))} / ${int(med(xs, (s) => total(s.daemon?.ms)))}`,
    `${int(med(xs, (s) => s.daemon?.counts.read))} / ${int(med(xs, (s) => s.daemon?.ms.read))}`,
  ];
  out.push(table(
    ['session (median)', 'to first compile s', 'install s', 'fetch --background s', 'compile and run s', 'install: requests / bytes', 'compile: requests / bytes', 'blobs the view fetched', 'daemon: requests / ms', 'of which read: requests / ms'],
    [row('lazy', S.lazy), row('full', S.full), row('lazy, traced, background fetch', S.traced)],
  ), '');

  const s0 = res.setup.server;
  const g = res.setup.gserver;
  const lz = S.lazy[0];
  out.push(
    `- Package server: the apt closure of the group \`workload\`'s names (${s0 ? `${s0.packages} Debian 12 packages, ${human(s0.debBytes)} of .debs` : 'n/a'}), one \`trove pkg add\`, \`trove summary\`; nginx on loopback serves it. ` +
      `Clients install \`${names}\` with \`--remote origin\`; trove resolves ${lz?.packages ?? 'n/a'} packages against the server's index ` +
      `(libc6-dev: gcc-12 only Recommends it; base-files: the /tmp and /dev to mount on). Lazy: ${lz?.lazy ? `${int(lz.lazy.objects)} files (${human(lz.lazy.bytes)}) left on the remote by the install` : 'n/a'}.`,
    '- Every client is new (init, remote, `trove mount`: untimed), so activation is a link swap into the view for both the lazy and the full install; clients are kept until the group ends. ' +
      'Timed from the start of `trove install` to the end of the first successful `gcc-12 -O2 -Wall` compile and link of a 12-line C program (stdio, stdlib, string, math) and its run, ' +
      'both chrooted into the client\'s link in a private mount namespace (tmpfs /tmp and /dev; set-up included). `sync` before each install; the server\'s files are in the page cache. ' +
      'Bytes: nginx body bytes (access log) from the install to the end of the compile.',
    '- Traced client: the lazy client of the same run is unmounted after its compile (the daemon writes its access trace, `traces/<its generation>`), its traces are copied into a new client\'s `traces/` before its install. ' +
      'The new client\'s generation is another commit (its own build time), so `trove fetch` uses the copied trace as another generation\'s (`traceRank`: its own first, then the others, newest first; blob ids are shared). ' +
      '`trove fetch --background --json` runs right after the install (its time counts), then the compile; the bytes are those nginx served until the compile ended.',
  );
  const tr = S.traced;
  if (tr.length) {
    out.push(`- Traced client, the rest: \`fetch --wait\` returned ${sec(med(tr, (s) => s.completeSeconds))} s after the install started (median), ` +
      `${human(med(tr, (s) => s.complete.bytes))} in ${int(med(tr, (s) => s.complete.requests))} requests in all (${ratio(med(tr, (s) => s.complete.bytes) / fullB)} the full install), ` +
      `${int(med(tr, (s) => s.complete.repeated))} object URLs requested more than once (the view and the background fetch both fetching the same blob); ` +
      `trace lengths of the lazy clients (blobs): ${S.lazy.map((s) => (s.trace ?? []).join('+') || '0').join(', ')}.`);
  }
  if (g) {
    const u = res.upgrade[0];
    out.push(`- Generation: the group \`scale\`'s cached repository (${int(g.stamp.packages)} packages of 100 files and 3 symlinks, log-normal sizes, ${int(g.stamp.objects)} objects, ${human(g.stamp.bytes)}), ` +
      'a `cp -al` copy as server, `trove gen build` of every package, `trove gen publish`. Each run: a new client with a mounted view, `trove upgrade --lazy --remote origin --link L --json`, timed, nginx bytes. ' +
      `All its objects: ${int(res.setup.generation?.objects)} objects, ${human(all)} (\`upgrade --dry-run\` of a new client)` +
      (u ? `; the lazy upgrade fetched ${int(u.fetched?.objects)} commits and trees (${human(u.fetched?.bytes ?? NaN)}), left ${int(u.lazy?.objects)} files (${human(u.lazy?.bytes ?? NaN)}), ` +
        `in ${sec(med(res.upgrade, (x) => x.seconds))} s (median; peak RSS ${int(Math.max(...res.upgrade.map((x) => x.maxRssKiB)) / 1024)} MB), ${int(u.requests)} requests.` : '.'));
  }
  out.push(`- Reads: on a new lazy client (install untimed), ${READS} files of ${human(READ_MIN)}-${human(READ_MAX)} under /${READ_DIR} with distinct blobs not stored yet, evenly spaced in path order ` +
    `(median size ${human(median(res.reads.sizes ?? []))}); each looked up first (stat, untimed), then \`readFileSync\` timed in the bench process (open, read, close through the view); ` +
    'after each, the same path through the full client\'s view (stored object, first read). curl: one process fetching the same object URLs over one kept-alive connection, `%{time_total}` of each. ' +
    `Quartiles, not fetched / stored / curl (ms): ${[res.reads.lazy, res.reads.fetched, res.reads.curl].map(quartiles).join(' | ')}. ` +
    `The daemon's own time for them (\`kill -USR2\` before and after; open and read requests, arrival in JavaScript to the answer, summed), mean per file: ` +
    `not fetched ${ms(med(res.reads.daemon ?? [], (d) => perRead(d.lazy)))} ms, stored ${ms(med(res.reads.daemon ?? [], (d) => perRead(d.fetched)))} ms ` +
    `(median over runs; ${int(med(res.reads.daemon ?? [], (d) => d.lazy?.counts.read))} and ${int(med(res.reads.daemon ?? [], (d) => d.fetched?.counts.read))} read requests for the ${READS} files).`);
  out.push('- All samples (s to the first compile):');
  for (const [k, xs] of Object.entries(S)) out.push(`  - ${k}: ${xs.map((s) => sec(s.seconds)).join(', ') || '—'}; bytes ${xs.map((s) => human(s.total.bytes)).join(', ')}`);
  out.push(`  - upgrade --lazy: ${res.upgrade.map((u) => `${sec(u.seconds)} s/${human(u.bytes)}`).join(', ') || '—'}`);
  for (const w of res.warnings) out.push(`- Warning: ${w}`);
  return out.join('\n');
}

/** The daemon's ms of open and read requests per read of the read row. */
function perRead(d) {
  if (!d?.ms) return NaN;
  return ((d.ms.read ?? 0) + (d.ms.open ?? 0)) / READS;
}

function quartiles(xs) {
  if (!xs.length) return 'n/a';
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `${q(0.25).toFixed(3)}, ${median(s).toFixed(3)}, ${q(0.75).toFixed(3)}`;
}

/** Self-contained entry: runs the group and returns its Markdown. */
export async function run(ctx) {
  return render(await runGroup(ctx));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { runAlone, runsArg } = await import('./lib.mjs');
  const runs = runsArg('lazy.mjs');
  await runAlone(requires, (cache) => run({ cache, runs }));
}
