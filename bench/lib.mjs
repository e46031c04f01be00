// Shared helpers for the benchmark harness: running and timing commands,
// tool checks, statistics and filesystem walks. Node built-ins only.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const TIME = '/usr/bin/time';

export function log(msg) {
  process.stderr.write(`[bench] ${msg}\n`);
}

export class BenchError extends Error {}

function describe(cmd, args) {
  return [cmd, ...args].map((a) => (/^[\w./=:@%+,-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/** Runs a command untimed; throws a BenchError carrying its stderr when it fails. */
export function run(cmd, args, { cwd, env, input, allowFail = false } = {}) {
  const r = spawnSync(cmd, args, {
    cwd, env: env ?? process.env, input, encoding: 'utf8', maxBuffer: 1 << 30,
  });
  if (r.error) throw new BenchError(`cannot run ${describe(cmd, args)}: ${r.error.message}`);
  if (r.status !== 0 && !allowFail) {
    throw new BenchError(
      `command failed (exit ${r.status ?? r.signal}): ${describe(cmd, args)}\n${tail(r.stderr)}${tail(r.stdout)}`,
    );
  }
  return r;
}

function tail(text, lines = 30) {
  if (!text) return '';
  const all = text.trimEnd().split('\n');
  const shown = all.slice(-lines).map((l) => `    | ${l}`).join('\n');
  return `${all.length > lines ? `    | ... (${all.length - lines} earlier lines)\n` : ''}${shown}\n`;
}

let timeDir;

/**
 * Runs one command under GNU time and measures it.
 * Wall time comes from a monotonic clock around the child (GNU time's %e has
 * only 10 ms resolution); peak memory is the child's max RSS from GNU time's %M.
 * Returns { seconds, maxRssKiB, stdout, stderr }; throws a BenchError on failure.
 */
export function timeCmd(cmd, args, { cwd, env } = {}) {
  timeDir ??= mkdtempSync(join(tmpdir(), 'trove-bench-time-'));
  const out = join(timeDir, 'time.txt');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(TIME, ['-f', '%e %M', '-o', out, '--', cmd, ...args], {
    cwd, env: env ?? process.env, encoding: 'utf8', maxBuffer: 1 << 30,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error) throw new BenchError(`cannot run ${describe(cmd, args)}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new BenchError(
      `timed command failed (exit ${r.status ?? r.signal}): ${describe(cmd, args)}\n${tail(r.stderr)}${tail(r.stdout)}`,
    );
  }
  const last = readFileSync(out, 'utf8').trim().split('\n').pop() ?? '';
  const m = /^([\d.]+) (\d+)$/.exec(last);
  if (!m) throw new BenchError(`cannot parse ${TIME} output ${JSON.stringify(last)}`);
  return { seconds, maxRssKiB: Number(m[2]), stdout: r.stdout, stderr: r.stderr };
}

/** Times a sequence of commands as one operation: seconds add up, peak RSS is the max. */
export function timeSeq(steps) {
  let seconds = 0;
  let maxRssKiB = 0;
  let last;
  for (const [cmd, args, opts] of steps) {
    last = timeCmd(cmd, args, opts);
    seconds += last.seconds;
    maxRssKiB = Math.max(maxRssKiB, last.maxRssKiB);
  }
  return { seconds, maxRssKiB, stdout: last?.stdout ?? '', stderr: last?.stderr ?? '' };
}

export function cleanupTimeDir() {
  if (timeDir) rmSync(timeDir, { recursive: true, force: true });
  timeDir = undefined;
}

export function median(values) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Checks required tools: [[path-or-name, debian-package], ...]. Exits with a clear message. */
export function requireTools(tools) {
  const missing = tools.filter(([file]) => !(file.startsWith('/') ? existsSync(file) : which(file)));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map(([, pkg]) => pkg))];
  for (const [file, pkg] of missing) log(`missing tool: ${file} (Debian package ${pkg})`);
  if (process.getuid?.() === 0 && pkgs.every((p) => p === 'time')) {
    log('installing the Debian package "time"');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    run('apt-get', ['install', '-y', '-qq', 'time'], { env, allowFail: true });
    if (existsSync(TIME)) return;
  }
  log(`install with: ${process.getuid?.() === 0 ? '' : 'sudo '}apt-get install -y ${pkgs.join(' ')}`);
  process.exit(1);
}

export function which(name) {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, name)));
}

/** Walks a tree without following symlinks; calls visit(relPath, lstat) for every entry below root. */
export function walk(root, visit, rel = '') {
  const names = readdirSync(join(root, rel)).sort();
  for (const name of names) {
    const p = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(root, p));
    visit(p, st);
    if (st.isDirectory()) walk(root, visit, p);
  }
}

/** Counts entries by kind and sums the apparent size of regular files. */
export function treeStats(root) {
  const s = { entries: 0, files: 0, dirs: 0, symlinks: 0, other: 0, bytes: 0 };
  walk(root, (_p, st) => {
    s.entries++;
    if (st.isFile()) { s.files++; s.bytes += st.size; }
    else if (st.isDirectory()) s.dirs++;
    else if (st.isSymbolicLink()) s.symlinks++;
    else s.other++;
  });
  return s;
}

// dist/ is built before a bench runs (scripts/ensure.mjs --bench).
const mounts = await import('../dist/util/mount-table.js');

/** Removes a tree; first unmounts what is mounted in it (activation checkouts are read-only bind mounts as root). */
export function rmrf(path) {
  if (!existsSync(path)) return;
  for (const m of mounts.mountsUnder(path)) mounts.unmount(m, { lazy: true });
  run('rm', ['-rf', '--one-file-system', path]);
}

/** Drops dirty pages to disk so one command's writes are not charged to the next. */
export function syncDisk() {
  run('sync', []);
}

export function mb(kib) {
  return kib / 1024;
}

export function human(bytes) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (bytes >= 1024 && i < u.length - 1) { bytes /= 1024; i++; }
  return `${bytes.toFixed(i ? 1 : 0)} ${u[i]}`;
}

/** Waits (up to maxMinutes) until the 1-minute load average drops below `below`; returns the load. */
export async function waitQuiet(below, maxMinutes) {
  const deadline = Date.now() + maxMinutes * 60_000;
  let said = false;
  while (loadavg()[0] >= below && Date.now() < deadline) {
    if (!said) log(`load average ${loadavg()[0].toFixed(2)}: waiting up to ${maxMinutes} min for it to drop below ${below}`);
    said = true;
    await new Promise((resolve) => setTimeout(resolve, 10_000));
  }
  return loadavg()[0];
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/**
 * Takes ${cache}/bench.lock so that two bench runs never share the corpus work
 * copy or work dirs; waits while a live process holds it, takes over a stale one.
 * Returns a function that releases it (also released on exit).
 */
export async function lockCache(cache) {
  const path = join(cache, 'bench.lock');
  let said = false;
  for (;;) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (!Number.isInteger(pid) || !alive(pid)) {
        rmSync(path, { force: true });
        continue;
      }
      if (!said) log(`waiting for the bench run ${pid}, which holds ${path}`);
      said = true;
      await new Promise((resolve) => setTimeout(resolve, 5000));
    }
  }
  const release = () => {
    try {
      if (readFileSync(path, 'utf8').trim() === String(process.pid)) rmSync(path);
    } catch {
      // already gone
    }
  };
  process.on('exit', release);
  return release;
}

/** `--runs N` of the command line (default 3); a usage error naming `file` when N is no positive integer. */
export function runsArg(file) {
  const i = process.argv.indexOf('--runs');
  const runs = i > 0 ? Number(process.argv[i + 1]) : 3;
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(`usage: node bench/${file} [--runs N]`);
    process.exit(2);
  }
  return runs;
}

/**
 * A group's file run on its own (`node bench/<group>.mjs`): checks `requires`,
 * takes the cache (TROVE_BENCH_CACHE, else /var/cache/trove-bench) and prints
 * what `report(cache)` returns; a BenchError is one line and exit status 1.
 */
export async function runAlone(requires, report) {
  requireTools(requires);
  const cache = resolve(process.env.TROVE_BENCH_CACHE || '/var/cache/trove-bench');
  mkdirSync(cache, { recursive: true });
  await lockCache(cache);
  try {
    console.log(await report(cache));
  } catch (e) {
    if (!(e instanceof BenchError)) throw e;
    console.error(`bench: ${e.message}`);
    process.exitCode = 1;
  } finally {
    cleanupTimeDir();
  }
}
