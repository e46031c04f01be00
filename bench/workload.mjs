// Scenario group "workload": real programs run chrooted into trove's FUSE view
// of a generation of real Debian 12 packages, against the same programs in a
// plain root made by `dpkg-deb -x` of the same packages. The packages are the
// apt dependency closure of TOP; the workload is one shell script (gcc-12,
// make, perl, sqlite3, git, xz, zstd, gawk) run as `chroot ROOT /bin/sh
// /tmp/work.sh` in a private mount namespace, as test/real-packages.slow.test.ts
// runs its programs. Its output must be the same in both roots, every step
// exiting 0. Measured: the wall time of the script, cold (caches dropped, a
// fresh mount), warm (the same again at once) and cold with one core kept busy;
// and the daemon's requests by type during a cold and a warm run.
//
// Plugs into bench/run.mjs as the group `workload`; `node bench/workload.mjs
// [--runs N]` runs it alone.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { aptClosure, DEB_CACHE, getAptDebs } from '../scripts/apt-closure.mjs';
import { BenchError, human, log, median, rmrf, run as runCmd, treeStats } from './lib.mjs';
import { table } from './report.mjs';
import { REPO_ROOT } from './tools.mjs';

export const name = 'workload';
export const title = 'Real programs chrooted into the FUSE view of a generation vs a dpkg-deb -x root of the same packages';
export const requires = [
  ['apt-get', 'apt'], ['dpkg-deb', 'dpkg'], ['chroot', 'coreutils'], ['date', 'coreutils'], ['sync', 'coreutils'],
  ['unshare', 'util-linux'], ['mount', 'mount'], ['umount', 'mount'], ['diff', 'diffutils'], ['sh', 'dash'],
];

const TROVE_JS = join(REPO_ROOT, 'bin', 'trove.js');

/**
 * The top-level packages; the generation and the plain root hold their apt
 * closure. Besides the programs of the workload: libc6-dev (headers, crt1.o,
 * libc.so; gcc-12 only Recommends it), dash (/bin/sh, which make runs recipes
 * with), base-files (the root's skeleton: /tmp, /dev and /proc to mount on)
 * and coreutils (cp, seq, sha256sum, date in the steps).
 */
const TOP = ['gcc-12', 'make', 'perl', 'sqlite3', 'git', 'xz-utils', 'zstd', 'gawk', 'libc6-dev', 'dash', 'base-files', 'coreutils'];

/** The rows: how each run starts, and the target for trove against the plain root. */
const ROWS = [
  { id: 'cold', label: 'cold (caches dropped, fresh mount)', maxRatio: 2.0 },
  { id: 'warm', label: 'warm (the same run again at once)', maxRatio: 1.3 },
  { id: 'busy', label: 'cold, a busy loop on one of the cores', maxRatio: undefined },
];

// --- The workload: sources under /tmp/src, steps under /tmp/steps, run by /tmp/work.sh.

const STATS_C = `#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define N 100000

static uint64_t state = 88172645463325252ULL;

static uint32_t next(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return (uint32_t)(state >> 11);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(void) {
  double *v = malloc(N * sizeof *v);
  assert(v != NULL);
  double sum = 0, sq = 0;
  for (int i = 0; i < N; i++) {
    v[i] = (double)(next() % 1000000) / 1000.0;
    sum += v[i];
  }
  double mean = sum / N;
  for (int i = 0; i < N; i++) sq += (v[i] - mean) * (v[i] - mean);
  qsort(v, N, sizeof *v, cmp);
  printf("n=%d mean=%.3f sd=%.3f median=%.3f min=%.3f max=%.3f\\n", N, mean, sqrt(sq / N), v[N / 2], v[0], v[N - 1]);

  const char *text = "The quick brown fox jumps over the lazy dog, 42 times!";
  int letters = 0, digits = 0, upper = 0;
  for (const char *p = text; *p; p++) {
    letters += isalpha((unsigned char)*p) != 0;
    digits += isdigit((unsigned char)*p) != 0;
    upper += isupper((unsigned char)*p) != 0;
  }
  printf("letters=%d digits=%d upper=%d len=%zu\\n", letters, digits, upper, strlen(text));

  uint64_t h = 1469598103934665603ULL;
  for (int i = 0; i < N; i++) h = (h ^ (uint64_t)(v[i] * 1000)) * 1099511628211ULL;
  printf("fnv=%016" PRIx64 " int_max=%d\\n", h, INT_MAX);

  int fd = open("out.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert(fd >= 0);
  assert(write(fd, v, 4096) == 4096);
  close(fd);
  struct stat st;
  assert(stat("out.bin", &st) == 0);
  printf("wrote %lld bytes\\n", (long long)st.st_size);
  bool missing = open("no-such-file", O_RDONLY) < 0;
  printf("missing=%d (%s)\\n", missing, strerror(errno));
  free(v);
  return 0;
}
`;

const GEOM_H = `#ifndef GEOM_H
#define GEOM_H
double hypotenuse(double a, double b);
double circle_area(double r);
#endif
`;

const GEOM_C = `#include <math.h>
#include "geom.h"
double hypotenuse(double a, double b) { return sqrt(a * a + b * b); }
double circle_area(double r) { return M_PI * r * r; }
`;

const MAIN_C = `#include <stdio.h>
#include <stdlib.h>
#include "geom.h"
int main(int argc, char **argv) {
  double a = argc > 2 ? atof(argv[1]) : 3, b = argc > 2 ? atof(argv[2]) : 4;
  printf("hypotenuse(%g, %g) = %g, circle area %.4f\\n", a, b, hypotenuse(a, b), circle_area(hypotenuse(a, b)));
  return 0;
}
`;

const MAKEFILE = `CC = gcc-12
CFLAGS = -O2 -Wall
OBJS = main.o geom.o

geom: $(OBJS)
\t$(CC) $(CFLAGS) -o $@ $(OBJS) -lm

%.o: %.c geom.h
\t$(CC) $(CFLAGS) -c $<

run: geom
\t./geom 5 12
\t@echo "made by $(MAKE_VERSION) with $(SHELL)"
`;

const POSIX_PL = `use strict;
use warnings;
use POSIX qw(floor ceil fmod strftime INT_MAX);
use Data::Dumper;
use File::Basename qw(basename dirname);
use File::Spec;
use Getopt::Long qw(GetOptionsFromArray);

my @argv = ('--count', '3', '--name', 'trove');
my %opt;
GetOptionsFromArray(\\@argv, \\%opt, 'count=i', 'name=s') or die "bad options\\n";
print strftime('%Y-%m-%d %H:%M:%S', gmtime(86400 * 365)), "\\n";
printf "floor %d ceil %d fmod %.1f int_max %d\\n", floor(-2.5), ceil(2.1), fmod(10, 3), INT_MAX;
print basename('/usr/lib/x86_64-linux-gnu/libc.so.6'), ' ', dirname('/usr/bin/perl'), ' ', File::Spec->catfile('a', 'b', 'c'), "\\n";
local $Data::Dumper::Sortkeys = 1;
local $Data::Dumper::Indent = 1;
print Dumper({ %opt, squares => [map { $_ * $_ } 1 .. $opt{count}] });
`;

/** 1000 rows in one transaction. */
const INSERT_SQL = [
  'BEGIN;',
  'CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, grp INTEGER NOT NULL, value REAL NOT NULL);',
  ...Array.from({ length: 1000 }, (_v, i) => `INSERT INTO t (name, grp, value) VALUES ('row-${String(i + 1).padStart(4, '0')}', ${(i + 1) % 7}, ${((i + 1) * 37) % 1000}.${(i * 7) % 10});`),
  'CREATE INDEX t_grp ON t (grp);',
  'COMMIT;',
  '',
].join('\n');

const QUERY_SQL = `SELECT count(*), sum(value), min(name), max(name) FROM t;
SELECT grp, count(*), round(avg(value), 3) FROM t GROUP BY grp ORDER BY grp;
SELECT name, value FROM t WHERE value > 990 ORDER BY value DESC, id LIMIT 5;
`;

const SALES_AWK = `BEGIN { FS = ","; OFS = " " }
{ total[$2] += $3; count[$2]++; if ($3 > best[$2]) best[$2] = $3 }
END {
  PROCINFO["sorted_in"] = "@ind_str_asc"
  for (r in total) printf "%s %d %d %d %.2f\\n", toupper(r), count[r], total[r], best[r], total[r] / count[r]
  n = asort(best, sorted)
  print "regions", n, "lowest best", sorted[1], gensub(/(.)(.)/, "\\\\2\\\\1", "g", "abcdef")
}
`;

/** The steps, each a `sh -e` script run in its own empty directory /tmp/w/<name>. */
const STEPS = [
  ['01-gcc', `gcc-12 -O2 -Wall -o stats /tmp/src/stats.c -lm
./stats`],
  ['02-make', `cp /tmp/src/Makefile /tmp/src/main.c /tmp/src/geom.c /tmp/src/geom.h .
make run`],
  ['03-perl', `perl -MList::Util=sum,max,first -e 'my @x = map { $_ * $_ } 1 .. 100; print sum(@x), " ", max(@x), " ", (first { $_ > 1000 } @x), "\\n"'
perl /tmp/src/posix.pl`],
  ['04-sqlite3', `sqlite3 rows.db < /tmp/src/insert.sql
sqlite3 rows.db < /tmp/src/query.sql`],
  ['05-git', `export GIT_AUTHOR_DATE='2024-01-01T00:00:00Z' GIT_COMMITTER_DATE='2024-01-01T00:00:00Z'
g() { git -c user.name=Bench -c user.email=bench@example.org -c init.defaultBranch=main "$@"; }
g init -q repo
cd repo
cp /tmp/src/*.c /tmp/src/*.h /tmp/src/Makefile .
g add .
g commit -q -m 'sources'
echo '# built by make' >> Makefile
g commit -q -a -m 'a comment'
g --no-pager log --stat --format='%H %an <%ae> %ad %s' --date=iso-strict
g rev-parse HEAD~1:Makefile`],
  ['06-xz-zstd', `seq -f 'line %g of a generated file, written to be compressed' 1 20000 > data.txt
xz -T1 -6 -k data.txt
zstd -q -9 data.txt -o data.txt.zst
xz -dc data.txt.xz > from-xz.txt
zstd -q -d data.txt.zst -o from-zstd.txt
wc -c data.txt data.txt.xz data.txt.zst
sha256sum data.txt from-xz.txt from-zstd.txt | cut -c1-16`],
  ['07-gawk', `seq 1 20000 | gawk -v OFS=, '{ print $1, substr("nesw", $1 % 4 + 1, 1), ($1 * 7919) % 1000 }' > sales.csv
gawk -f /tmp/src/sales.awk sales.csv
gawk -l ordchr 'BEGIN { print ord("A"), chr(66), strftime("%Y-%m-%d", 0, 1) }'`],
];

/**
 * Runs every step in order; prints each one's output and exit status, and
 * appends its start and end (ns) to /tmp/times. Exits 1 when any step failed.
 */
const WORK_SH = `fail=0
for s in /tmp/steps/*.sh; do
  n=\${s##*/}; n=\${n%.sh}
  echo "== $n"
  mkdir -p "/tmp/w/$n"
  t0=$(date +%s%N)
  (cd "/tmp/w/$n" && sh -e "$s") 2>&1
  rc=$?
  echo "$n $t0 $(date +%s%N)" >> /tmp/times
  echo "== $n: exit $rc"
  [ "$rc" = 0 ] || fail=1
done
exit $fail
`;

/** Writes /tmp's initial content (the sources, the steps and work.sh) into `dir`. */
function writeSources(dir) {
  const src = join(dir, 'src');
  const steps = join(dir, 'steps');
  mkdirSync(src, { recursive: true });
  mkdirSync(steps, { recursive: true });
  const files = {
    'stats.c': STATS_C, 'geom.h': GEOM_H, 'geom.c': GEOM_C, 'main.c': MAIN_C, Makefile: MAKEFILE,
    'posix.pl': POSIX_PL, 'insert.sql': INSERT_SQL, 'query.sql': QUERY_SQL, 'sales.awk': SALES_AWK,
  };
  for (const [f, text] of Object.entries(files)) writeFileSync(join(src, f), text);
  for (const [n, text] of STEPS) writeFileSync(join(steps, `${n}.sh`), `${text}\n`);
  writeFileSync(join(dir, 'work.sh'), WORK_SH);
}

/**
 * In a private mount namespace: `tree` bind-mounted on the fresh directory
 * `root`, a tmpfs on its /tmp holding a copy of `tmp`, a tmpfs /dev with
 * /dev/null and /dev/urandom (git's temporary files need random bytes), and
 * /proc; then the timed `chroot ROOT /bin/sh /tmp/work.sh`,
 * its output into `out`. Prints `STATUS T0 T1` (ns), then /tmp/times.
 */
const NAMESPACE_SH = `set -e
mount --bind "$1" "$2"
mount -t tmpfs -o mode=1777 tmpfs "$2/tmp"
cp -R "$3"/. "$2/tmp/"
mount -t tmpfs -o mode=755 tmpfs "$2/dev"
for d in null urandom; do
  : > "$2/dev/$d"
  mount --bind "/dev/$d" "$2/dev/$d"
done
mount -t proc proc "$2/proc"
set +e
t0=$(date +%s%N)
chroot "$2" /bin/sh /tmp/work.sh > "$4" 2>&1
rc=$?
t1=$(date +%s%N)
echo "$rc $t0 $t1"
cat "$2/tmp/times"
`;

/** One run of the workload in `tree`; returns { seconds, steps: {name: seconds}, output, status }. */
function runWorkload(tree, dir, label) {
  const root = join(dir, `root-${label}`);
  const out = join(dir, `out-${label}.txt`);
  mkdirSync(root, { recursive: true });
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', NAMESPACE_SH, 'sh', tree, root, join(dir, 'tmp'), out], {
    encoding: 'utf8',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', TZ: 'UTC', HOME: '/tmp' },
  });
  if (r.error) throw new BenchError(`cannot run unshare: ${r.error.message}`);
  if (r.status !== 0 || r.stderr) throw new BenchError(`setting up the chroot into ${tree} failed (exit ${r.status ?? r.signal}):\n${r.stderr}`);
  const [head, ...rest] = r.stdout.trim().split('\n');
  const [status, t0, t1] = head.split(' ').map(Number);
  const steps = {};
  for (const line of rest) {
    const [n, a, b] = line.split(' ');
    steps[n] = (Number(b) - Number(a)) / 1e9;
  }
  return { seconds: (t1 - t0) / 1e9, steps, output: readFileSync(out, 'utf8'), status };
}

/** Checks that every step ran and exited 0; returns a problem or undefined. */
function stepProblem(res) {
  const codes = new Map([...res.output.matchAll(/^== (\S+): exit (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
  const bad = STEPS.map(([n]) => n).filter((n) => codes.get(n) !== 0);
  if (bad.length === 0 && res.status === 0) return undefined;
  return `${bad.map((n) => `${n} ${codes.has(n) ? `exited ${codes.get(n)}` : 'did not run'}`).join(', ') || `work.sh exited ${res.status}`}`;
}

function dropCaches() {
  runCmd('sync', []);
  writeFileSync('/proc/sys/vm/drop_caches', '3\n');
}

function mounted(mnt) {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === mnt);
}

/** Waits until `path` stats (the mount answers). */
function waitStat(path) {
  for (let i = 0; i < 2000; i++) {
    if (spawnSync('stat', ['-c', '%i', path]).status === 0) return;
    spawnSync('sleep', ['0.005']);
  }
  throw new BenchError(`${path} never appeared`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The daemon's request counters, from the lines `kill -USR2` makes it write
 * to mount.log: `<time> requests: {...}` (cumulative counts by operation) and,
 * when the daemon writes it, `<time> request-ms: {...}` (cumulative ms).
 * `snapshot()` returns { counts, ms } or undefined when the daemon writes no
 * such line (then it stops asking, so later runs pay no wait).
 */
function requestCounter(repo) {
  const logFile = join(repo, 'mount.log');
  let available = true;
  const lines = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n') : []);
  const parse = (line, key) => {
    const m = new RegExp(`^\\S+ ${key}: (\\{.*\\})$`).exec(line);
    if (!m) return undefined;
    try {
      return JSON.parse(m[1]);
    } catch {
      return undefined;
    }
  };
  return {
    get available() {
      return available;
    },
    async snapshot() {
      if (!available) return undefined;
      const pid = JSON.parse(readFileSync(join(repo, 'mount.json'), 'utf8')).pid;
      const before = lines().length;
      process.kill(pid, 'SIGUSR2');
      let counts;
      let ms;
      // Up to 2 s for the requests line; then a little more for request-ms, written right after it.
      for (let waited = 0; waited <= 2000 && !ms; waited += 10) {
        const fresh = lines().slice(Math.max(0, before - 1));
        counts ??= fresh.map((l) => parse(l, 'requests')).findLast(Boolean);
        ms = fresh.map((l) => parse(l, 'request-ms')).findLast(Boolean);
        if (counts && !ms && waited >= 100) break;
        await sleep(10);
      }
      if (!counts) available = false;
      return counts && { counts, ms };
    },
  };
}

/** After minus before, per key (keys of either). */
function delta(after, before) {
  if (!after || !before) return undefined;
  const keys = new Set([...Object.keys(after), ...Object.keys(before)]);
  return Object.fromEntries([...keys].map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)]));
}

/** Builds the repository, the generation and the plain root (untimed). */
function setUp(dir) {
  log(`workload: the apt closure of ${TOP.join(' ')}`);
  const closure = aptClosure(TOP);
  const debs = getAptDebs(closure);
  const byName = new Map(closure.map((p, i) => [p.name, debs[i]]));
  log(`workload: ${closure.length} packages (.debs in ${DEB_CACHE}); trove pkg add, gen build (untimed)`);
  const repo = join(dir, 'repo');
  const trove = (...args) => runCmd(TROVE_JS, ['--repo', repo, ...args]).stdout;
  trove('init');
  trove('pkg', 'add', '--no-progress', '-q', ...debs);
  trove('gen', 'build', '--no-progress', '-q', ...TOP);
  const gen = JSON.parse(trove('gen', 'show', '--json'));
  const commit = gen.commit;
  if (!/^[0-9a-f]{64}$/.test(commit ?? '')) throw new BenchError(`gen show --json gave no commit id: ${JSON.stringify(gen).slice(0, 200)}`);
  // Both roots must hold the same packages: trove's resolver against apt's.
  const got = gen.packages.map((p) => `${p.name}/${p.arch}=${p.version}`).sort();
  const want = closure.map((p) => `${p.name}/${p.arch}=${p.version}`).sort();
  if (got.join('\n') !== want.join('\n')) {
    const only = (a, b) => a.filter((x) => !b.includes(x)).join(' ') || 'none';
    throw new BenchError(`the generation's packages differ from apt's closure: only in the generation: ${only(got, want)}; only in apt's: ${only(want, got)}`);
  }
  log('workload: dpkg-deb -x of every package into the plain root (untimed)');
  const plain = join(dir, 'plain');
  mkdirSync(plain);
  for (const p of closure) runCmd('dpkg-deb', ['-x', byName.get(p.name), plain]);
  return { repo, commit, plain, packages: closure.length, conflicts: gen.conflicts?.length ?? 0, debs };
}

/** Runs the group; the result is rendered by `render` below. */
export async function runGroup(ctx) {
  const { cache, runs } = ctx;
  if (process.getuid?.() !== 0) throw new BenchError('the workload group needs root (chroot, mounts, drop_caches)');
  const dir = join(cache, 'work-workload');
  rmrf(dir);
  mkdirSync(dir, { recursive: true });
  const mnt = join(dir, 'mnt');
  let repo;
  let busy;
  const unmount = () => {
    if (repo && mounted(mnt)) runCmd(TROVE_JS, ['--repo', repo, 'umount', mnt]);
  };
  try {
    const t0 = performance.now();
    const env = setUp(dir);
    repo = env.repo;
    log(`workload: set-up took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    writeSources(join(dir, 'tmp'));
    const view = join(mnt, 'commits', env.commit);
    const stats = treeStats(env.plain);
    const mount = () => {
      runCmd(TROVE_JS, ['--repo', repo, 'mount', mnt]);
      waitStat(join(view, 'usr', 'bin'));
    };
    const counter = requestCounter(repo);

    const seconds = Object.fromEntries(ROWS.map((r) => [r.id, { trove: [], plain: [] }]));
    const steps = Object.fromEntries(ROWS.map((r) => [r.id, { trove: [], plain: [] }]));
    const requests = { cold: [], warm: [] };
    let reference;
    /** One timed run; checks its output against the first one's and records it. */
    const once = async (system, row) => {
      const snap = system === 'trove' && row !== 'busy' ? await counter.snapshot() : undefined;
      const res = runWorkload(system === 'trove' ? view : env.plain, dir, system);
      const after = snap ? await counter.snapshot() : undefined;
      const problem = stepProblem(res);
      if (problem) throw new BenchError(`the workload failed in the ${system === 'trove' ? 'trove view' : 'plain root'} (${row}): ${problem}\n${res.output}`);
      reference ??= { system, row, output: res.output };
      if (res.output !== reference.output) {
        const a = join(dir, 'expected.txt');
        const b = join(dir, 'got.txt');
        writeFileSync(a, reference.output);
        writeFileSync(b, res.output);
        const d = runCmd('diff', ['-u', `--label=${reference.system} ${reference.row}`, `--label=${system} ${row}`, a, b], { allowFail: true }).stdout;
        throw new BenchError(`the workload's output differs between runs:\n${d.split('\n').slice(0, 80).join('\n')}`);
      }
      seconds[row][system].push(res.seconds);
      steps[row][system].push(res.steps);
      if (snap && after) requests[row].push({ counts: delta(after.counts, snap.counts), ms: delta(after.ms, snap.ms) });
      log(`workload: ${row} ${system}: ${res.seconds.toFixed(3)} s`);
    };
    /** A cold start: caches dropped; for trove a fresh mount too (the daemon starts empty). */
    const cold = (system) => {
      if (system === 'trove') unmount();
      dropCaches();
      if (system === 'trove') mount();
    };

    for (let r = 0; r < runs; r++) {
      // Alternate who goes first, so neither always meets the disk in the same state.
      const order = r % 2 ? ['plain', 'trove'] : ['trove', 'plain'];
      log(`workload: run ${r + 1} of ${runs} (${order.join(', ')})`);
      for (const s of order) {
        cold(s);
        await once(s, 'cold');
        await once(s, 'warm');
      }
      // A second process spinning on one of the two cores throughout (killed below also on failure).
      busy = spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
      for (const s of order) {
        cold(s);
        await once(s, 'busy');
      }
      busy.kill('SIGKILL');
      busy = undefined;
    }
    unmount();
    return {
      name, title, runs, cpus: cpus().length, seconds, steps, requests,
      requestsAvailable: counter.available,
      setup: { packages: env.packages, conflicts: env.conflicts, stats, debBytes: env.debs.reduce((n, f) => n + statSync(f).size, 0) },
    };
  } finally {
    busy?.kill('SIGKILL');
    try {
      unmount();
    } finally {
      rmrf(dir);
    }
  }
}

const sec = (v) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');

/** Median per key of a list of objects of numbers. */
function medianByKey(list) {
  const keys = [...new Set(list.flatMap((x) => (x ? Object.keys(x) : [])))].sort();
  return Object.fromEntries(keys.map((k) => [k, median(list.filter(Boolean).map((x) => x[k] ?? 0))]));
}

/** Markdown for the group: times and ratios, the time of each step, and the daemon's requests. */
export function render(res) {
  const out = [`### ${res.title}`, ''];
  const rows = ROWS.map((row) => {
    const a = median(res.seconds[row.id].trove);
    const b = median(res.seconds[row.id].plain);
    const ratio = a / b;
    const target = row.maxRatio === undefined ? '—' : `≤ ${row.maxRatio}× plain`;
    const result = row.maxRatio === undefined || !Number.isFinite(ratio) ? '—' : ratio <= row.maxRatio ? 'pass' : `FAIL (${ratio.toFixed(2)}×)`;
    return [row.label, sec(a), sec(b), Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : 'n/a', target, result];
  });
  out.push(table([`workload run (median of ${res.runs})`, 'trove view s', 'plain root s', 'trove/plain', 'target', 'result'], rows), '');

  // Seconds of each step (median), cold and warm, to show where the difference is.
  const stepMed = (row, system) => medianByKey(res.steps[row][system]);
  const cols = [['cold', 'trove'], ['cold', 'plain'], ['warm', 'trove'], ['warm', 'plain']].map(([r, s]) => stepMed(r, s));
  out.push(table(['step (median s)', 'trove cold', 'plain cold', 'trove warm', 'plain warm'],
    STEPS.map(([n]) => [n, ...cols.map((c) => sec(c[n]))])), '');

  if (res.requestsAvailable && res.requests.cold.length && res.requests.warm.length) {
    const counts = { cold: medianByKey(res.requests.cold.map((x) => x.counts)), warm: medianByKey(res.requests.warm.map((x) => x.counts)) };
    const withMs = res.requests.cold.some((x) => x.ms) && res.requests.warm.some((x) => x.ms);
    const ms = withMs ? { cold: medianByKey(res.requests.cold.map((x) => x.ms)), warm: medianByKey(res.requests.warm.map((x) => x.ms)) } : undefined;
    // Operations that did not occur in either run (init, say) are left out.
    const keys = [...new Set([...Object.keys(counts.cold), ...Object.keys(counts.warm)])].filter((k) => counts.cold[k] || counts.warm[k]).sort();
    const total = (o) => Object.entries(o).filter(([k]) => !k.endsWith('-enoent')).reduce((n, [, v]) => n + v, 0);
    const rowsR = keys.map((k) => [k, counts.cold[k] ?? 0, counts.warm[k] ?? 0, ...(ms ? [(ms.cold[k] ?? 0).toFixed(1), (ms.warm[k] ?? 0).toFixed(1)] : [])]);
    rowsR.push(['all requests', total(counts.cold), total(counts.warm), ...(ms ? [total(ms.cold).toFixed(1), total(ms.warm).toFixed(1)] : [])]);
    out.push(table(['daemon requests (median per run)', 'cold run', 'warm run', ...(ms ? ['cold ms', 'warm ms'] : [])], rowsR), '');
  } else {
    out.push('Daemon requests: request counts unavailable (no `requests:` line in mount.log after `kill -USR2`).', '');
  }

  const s = res.setup;
  out.push(
    `- Packages: the apt closure of ${TOP.join(', ')}: ${s.packages} Debian 12 packages (${human(s.debBytes)} of .debs), ` +
      `${s.stats.files} files, ${s.stats.symlinks} symlinks, ${s.stats.dirs} directories, ${human(s.stats.bytes)} in the plain root; ` +
      `trove: one \`pkg add\` of every .deb, \`gen build\` of the top-level names (${s.conflicts} conflicts), \`mount\`; the root is MNT/commits/<generation commit>.`,
    `- Workload (\`chroot ROOT /bin/sh /tmp/work.sh\` in a private mount namespace with tmpfs /tmp and /dev, /dev/null, /dev/urandom and /proc): ` +
      'gcc-12 -O2 compiles and runs a C program of 15 standard headers; make builds a two-file program; perl with List::Util, then a script ' +
      'with POSIX, Data::Dumper, Getopt::Long, File::Spec; sqlite3 inserts 1000 rows in a transaction and queries them; git init, two commits, log --stat; ' +
      'xz -6 and zstd -9 compress and decompress 1.1 MB; gawk sums 20,000 CSV lines and loads an extension. ' +
      'Its output is the same in every run in both roots, every step exiting 0. Time: wall clock of the chroot command.',
    '- Cold: `sync; echo 3 > /proc/sys/vm/drop_caches` before the run; for trove, after a fresh `trove mount` (the daemon starts empty). ' +
      `Warm: the same run again at once. Busy: as cold, with \`sh -c 'while :; do :; done'\` spinning throughout (one of the machine's ${res.cpus} cores).`,
  );
  if (res.requestsAvailable) {
    out.push('- Daemon requests: `kill -USR2` before and after the run, the difference of the cumulative counts the daemon logs ' +
      '(`<op>-enoent`: those answered ENOENT, included in `<op>`; ms: time from arrival in JavaScript to the answer, summed).');
  }
  out.push(`- All samples (s), trove | plain:`);
  for (const row of ROWS) {
    const f = (xs) => xs.map(sec).join(', ') || '—';
    out.push(`  - ${row.label}: ${f(res.seconds[row.id].trove)} | ${f(res.seconds[row.id].plain)}`);
  }
  return out.join('\n');
}

/** Self-contained entry: runs the group and returns its Markdown. */
export async function run(ctx) {
  return render(await runGroup(ctx));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { runAlone, runsArg } = await import('./lib.mjs');
  const runs = runsArg('workload.mjs');
  await runAlone(requires, (cache) => run({ cache, runs }));
}
