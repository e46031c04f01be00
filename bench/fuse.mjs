// Scenario group "fuse": the same tree served four ways, side by side:
// trove's FUSE view (MNT/commits/<id>), squashfuse_ll and the kernel's
// squashfs on an image made by mksquashfs (its default gzip compression), and
// the plain extracted directory. For each: mount-ready time, cold and warm
// reads of every file (MB/s), a metadata walk (find -printf, which lstat()s
// and readlink()s every entry) cold and warm, and the FUSE daemons' peak RSS.
// "Cold" is a fresh mount after `sync; echo 3 > /proc/sys/vm/drop_caches`.
//
// Plugs into bench/run.mjs as the group `fuse`; `node bench/fuse.mjs [--runs N]`
// runs it alone on the same corpus.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BenchError, human, log, median, rmrf, run as runCmd, timeCmd } from './lib.mjs';
import { table } from './report.mjs';
import { REPO_ROOT } from './tools.mjs';

export const name = 'fuse';
export const title = 'FUSE view: trove vs squashfuse_ll, kernel squashfs and the plain directory (same tree)';
export const requires = [
  ['squashfuse_ll', 'squashfuse'], ['mksquashfs', 'squashfs-tools'], ['find', 'findutils'], ['xargs', 'findutils'],
  ['mount', 'mount'], ['umount', 'mount'],
];

const TROVE_JS = join(REPO_ROOT, 'bin', 'trove.js');
const SYSTEMS = ['trove', 'squashfuse_ll', 'squashfs', 'plain'];
const LABEL = { trove: 'trove', squashfuse_ll: 'squashfuse_ll', squashfs: 'kernel squashfs', plain: 'plain dir' };

const OPS = [
  { id: 'mount', label: 'mount until the first stat answers (s)', unit: 's', target: { system: 'abs', max: 0.1 } },
  { id: 'read-cold', label: 'read every file, cold (MB/s)', unit: 'MB/s', target: { system: 'squashfuse_ll', minRatio: 1.0 } },
  { id: 'read-warm', label: 'read every file, warm (MB/s)', unit: 'MB/s', target: { system: 'plain', minRatio: 0.95 } },
  { id: 'walk-cold', label: 'metadata walk, cold (s)', unit: 's', target: { system: 'squashfuse_ll', maxRatio: 0.5 } },
  { id: 'walk-warm', label: 'metadata walk, warm (s)', unit: 's', target: { system: 'squashfuse_ll', maxRatio: 0.5 } },
  { id: 'rss-walk', label: 'daemon peak RSS after the walks (MB)', unit: 'MB', target: {} },
  { id: 'rss-read', label: 'daemon peak RSS after the reads (MB)', unit: 'MB', target: {} },
];

const WALK = ['-printf', '%y %m %U %G %s %i %l %p\\n'];

function dropCaches() {
  runCmd('sync', []);
  writeFileSync('/proc/sys/vm/drop_caches', '3\n');
}

/** The pid of the process whose command line holds `word` and whose name is `comm` (for squashfuse_ll). */
function pidOf(comm, word) {
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() !== comm) continue;
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(word)) return Number(p);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

function vmHwmMB(pid) {
  if (!pid) return NaN;
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function mounted(mnt) {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === mnt);
}

const MOUNT_TIMER = join(REPO_ROOT, 'bench', 'mount-timer.mjs');

/**
 * Runs mount command `cmd` and waits until `path` stats (the mount answers),
 * timed by bench/mount-timer.mjs, a small process of its own: the seconds
 * from the command's start to the first answer, and the command's stdout.
 */
function timeMount(cmd, args, path) {
  const r = spawnSync(process.execPath, [MOUNT_TIMER, path, cmd, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new BenchError(`mount failed: ${cmd} ${args.join(' ')}\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Commits the corpus into a trove repository once per corpus (reused across runs). */
function ensureTroveRepo(dir, corpus) {
  const repo = join(dir, 'trove-repo');
  const stamp = join(dir, 'trove-repo.stamp.json');
  const old = existsSync(stamp) ? JSON.parse(readFileSync(stamp, 'utf8')) : undefined;
  if (old?.key === corpus.key && existsSync(repo)) return { repo, commit: old.commit };
  rmrf(repo);
  log('fuse: committing the corpus into a trove repository (untimed)');
  runCmd(TROVE_JS, ['--repo', repo, 'init']);
  runCmd(TROVE_JS, ['--repo', repo, 'commit', corpus.root, '--ref', 'corpus', '-m', 'corpus']);
  const commit = readFileSync(join(repo, 'refs', 'heads', 'corpus'), 'utf8').trim();
  writeFileSync(stamp, `${JSON.stringify({ key: corpus.key, commit })}\n`);
  return { repo, commit };
}

/** mksquashfs of the corpus once per corpus (minutes on two cores: kept in the cache). */
function ensureImage(dir, corpus) {
  const img = join(dir, 'corpus.sqfs');
  const stamp = join(dir, 'corpus.sqfs.stamp.json');
  const old = existsSync(stamp) ? JSON.parse(readFileSync(stamp, 'utf8')) : undefined;
  if (old?.key === corpus.key && existsSync(img)) return img;
  log('fuse: mksquashfs of the corpus (untimed, once per corpus)');
  runCmd('mksquashfs', [corpus.root, img, '-noappend', '-quiet', '-no-progress']);
  writeFileSync(stamp, `${JSON.stringify({ key: corpus.key })}\n`);
  return img;
}

/** How to mount, unmount and find each system; `root` is the directory that shows the tree. */
function systems(dir, corpus, trove, img) {
  const mnt = (s) => join(dir, `mnt-${s}`);
  const probe = readdirSync(corpus.root).sort()[0];
  return {
    trove: {
      root: join(mnt('trove'), 'commits', trove.commit),
      mount() {
        const r = timeMount(TROVE_JS, ['--repo', trove.repo, 'mount', mnt('trove')], join(mnt('trove'), 'commits', trove.commit, probe));
        const daemonMs = Number(/ready in (\d+) ms/.exec(r.stdout)?.[1]);
        return { seconds: r.seconds, daemonMs };
      },
      unmount: () => mounted(mnt('trove')) && runCmd(TROVE_JS, ['--repo', trove.repo, 'umount', mnt('trove')]),
      pid: () => JSON.parse(readFileSync(join(trove.repo, 'mount.json'), 'utf8')).pid,
    },
    squashfuse_ll: {
      root: mnt('squashfuse_ll'),
      mount() {
        return { seconds: timeMount('squashfuse_ll', [img, mnt('squashfuse_ll')], join(mnt('squashfuse_ll'), probe)).seconds };
      },
      unmount: () => mounted(mnt('squashfuse_ll')) && runCmd('umount', [mnt('squashfuse_ll')]),
      pid: () => pidOf('squashfuse_ll', mnt('squashfuse_ll')),
    },
    squashfs: {
      root: mnt('squashfs'),
      mount() {
        return { seconds: timeMount('mount', ['-t', 'squashfs', '-o', 'loop,ro', img, mnt('squashfs')], join(mnt('squashfs'), probe)).seconds };
      },
      unmount: () => mounted(mnt('squashfs')) && runCmd('umount', [mnt('squashfs')]),
      pid: () => undefined,
    },
    plain: { root: corpus.root, mount: () => undefined, unmount: () => {}, pid: () => undefined },
  };
}

/** Runs the group; results as { name, title, ops, values: {op: {system: [samples]}}, notes, warnings, render }. */
export async function runGroup(ctx) {
  const { cache, corpus, runs } = ctx;
  if (process.getuid?.() !== 0) throw new BenchError('the fuse group needs root (mount, drop_caches, allow_other)');
  const dir = join(cache, 'fuse');
  mkdirSync(dir, { recursive: true });
  const trove = ensureTroveRepo(dir, corpus);
  const img = ensureImage(dir, corpus);
  const sys = systems(dir, corpus, trove, img);
  for (const s of SYSTEMS) mkdirSync(join(dir, `mnt-${s}`), { recursive: true });
  for (const s of SYSTEMS) sys[s].unmount();

  // The same file list (from the plain tree) for everyone, so reads are never charged for a walk.
  const list = join(dir, 'files.list');
  writeFileSync(list, runCmd('find', ['.', '-type', 'f', '-print0'], { cwd: corpus.root }).stdout);
  const files = readFileSync(list, 'utf8').split('\0').filter(Boolean);
  const bytes = files.reduce((n, f) => n + statSync(join(corpus.root, f)).size, 0);
  log(`fuse: ${files.length} files, ${human(bytes)}; image ${human(statSync(img).size)}`);

  const values = Object.fromEntries(OPS.map((o) => [o.id, Object.fromEntries(SYSTEMS.map((s) => [s, []]))]));
  const daemonMs = [];
  const warnings = [];
  const readAll = (root) => timeCmd('sh', ['-c', 'xargs -0 cat < "$1" > /dev/null', 'sh', list], { cwd: root }).seconds;
  const walk = (root) => timeCmd('sh', ['-c', 'find "$1" "$2" "$3" > /dev/null', 'sh', root, ...WALK]).seconds;

  try {
    for (let r = 0; r < runs; r++) {
      // Rotate who goes first, so no system always meets the disk in the same state.
      const order = SYSTEMS.map((_s, i) => SYSTEMS[(i + r) % SYSTEMS.length]);
      log(`fuse: run ${r + 1} of ${runs} (${order.join(', ')})`);
      for (const s of order) {
        const t = sys[s];
        const fresh = () => {
          t.unmount();
          dropCaches();
          const m = t.mount();
          if (m) {
            values.mount[s].push(m.seconds);
            if (m.daemonMs) daemonMs.push(m.daemonMs);
          }
        };
        fresh();
        values['walk-cold'][s].push(walk(t.root));
        values['walk-warm'][s].push(walk(t.root));
        values['rss-walk'][s].push(vmHwmMB(t.pid()));
        fresh();
        values['read-cold'][s].push(bytes / 1e6 / readAll(t.root));
        readAll(t.root); // settles the page cache: see the note on warm reads
        values['read-warm'][s].push(bytes / 1e6 / readAll(t.root));
        values['rss-read'][s].push(vmHwmMB(t.pid()));
        t.unmount();
      }
    }
  } finally {
    for (const s of SYSTEMS) {
      try {
        sys[s].unmount();
      } catch (e) {
        warnings.push(`could not unmount ${s}: ${e.message}`);
      }
    }
  }

  const lines = [
    `Tree: ${files.length} files, ${human(bytes)} (the corpus); squashfs image ${human(statSync(img).size)} (mksquashfs defaults: gzip, 128 KiB blocks).`,
    'Reads: `xargs -0 cat` of one list of every regular file, in the plain tree\'s find order, same list for all; MB/s = 10^6 bytes/s.',
    `Walk: \`find ROOT -printf '${WALK[1].replace(/\\n$/, '')}'\` (lstat and readlink of every entry).`,
    'Cold: unmount, `sync; echo 3 > /proc/sys/vm/drop_caches`, mount again (the daemons start empty too). ' +
      'Warm walk: the same command again at once. Warm read: the third pass after the cold one (the second is untimed): ' +
      'right after a cold pass some pages just read are already gone again (this VM runs a DAMON `pageout` scheme that ' +
      'evicts pages left alone for seconds), and on a FUSE mount each such hole costs a round trip to the daemon, so the ' +
      'first warm pass measures that reclaim more than the view.',
    'Mount: the mount command until a stat below the mount point answers; for trove that is the whole `trove mount` CLI, ' +
      'which starts Node twice (the command, then the detached daemon). Timed by bench/mount-timer.mjs, a small process ' +
      'that runs the command and then stats in a loop, so that the bench\'s own process is not in the figure: timed from ' +
      'here as before (`/usr/bin/time` around the command, then a `stat` process per try), squashfuse_ll showed 0.030 s ' +
      'for its 4-6 ms, and trove 0.124 s.',
  ];
  if (daemonMs.length) {
    lines.push(`trove daemon alone, from its process start to serving: median ${median(daemonMs).toFixed(0)} ms ` +
      '(Node starts in about 80 ms here; the mount call itself takes a few ms, see mount.log).');
  }
  lines.push('Peak RSS: VmHWM of the FUSE daemon (trove: the node process) after a fresh mount and the two walks, resp. the two reads.');
  return { name, title, ops: OPS, values, notes: { lines }, warnings, render };
}

const fmt = (v, unit) => (!Number.isFinite(v) ? 'n/a' : unit === 'MB/s' || unit === 'MB' ? v.toFixed(0) : v.toFixed(3));

function verdict(op, med) {
  const t = op.target;
  if (!t.system) return ['—', '—'];
  const mine = med.trove;
  if (t.system === 'abs') return [`trove < ${t.max} s`, Number.isFinite(mine) ? (mine < t.max ? 'pass' : `FAIL (${mine.toFixed(3)} s)`) : 'n/a'];
  const ratio = mine / med[t.system];
  const text = t.minRatio !== undefined ? `≥ ${t.minRatio}× ${LABEL[t.system]}` : `≤ ${t.maxRatio}× ${LABEL[t.system]}`;
  if (!Number.isFinite(ratio)) return [text, 'n/a'];
  const ok = t.minRatio !== undefined ? ratio >= t.minRatio : ratio <= t.maxRatio;
  return [text, `${ok ? 'pass' : 'FAIL'} (${ratio.toFixed(2)}×)`];
}

/** Markdown for the group: one row per measure, one column per system, then the target. */
export function render(res) {
  const rows = res.ops.map((op) => {
    const med = Object.fromEntries(SYSTEMS.map((s) => [s, median(res.values[op.id][s].filter(Number.isFinite))]));
    return [op.label, ...SYSTEMS.map((s) => fmt(med[s], op.unit)), ...verdict(op, med)];
  });
  const out = [`### ${res.title}`, '', table(['measure (median)', ...SYSTEMS.map((s) => LABEL[s]), 'target', 'result'], rows), ''];
  for (const l of res.notes.lines) out.push(`- ${l}`);
  out.push('- All samples, trove | squashfuse_ll | kernel squashfs | plain dir:');
  for (const op of res.ops) {
    const f = (xs) => xs.map((x) => fmt(x, op.unit)).join(', ') || '—';
    out.push(`  - ${op.label}: ${SYSTEMS.map((s) => f(res.values[op.id][s])).join(' | ')}`);
  }
  for (const w of res.warnings) out.push(`- Warning: ${w}`);
  return out.join('\n');
}

/** Self-contained entry: runs the group on the bench corpus and returns its Markdown. */
export async function run(ctx) {
  return render(await runGroup(ctx));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { resolve } = await import('node:path');
  const { ensureDebs, ensureRoot } = await import('./corpus.mjs');
  const { cleanupTimeDir, lockCache, requireTools } = await import('./lib.mjs');
  const i = process.argv.indexOf('--runs');
  const runs = i > 0 ? Number(process.argv[i + 1]) : 3;
  requireTools(requires);
  const cache = resolve(process.env.TROVE_BENCH_CACHE || '/var/cache/trove-bench');
  await lockCache(cache);
  const corpus = ensureRoot(cache, ensureDebs(cache));
  try {
    console.log(await run({ cache, corpus, runs }));
  } finally {
    cleanupTimeDir();
  }
}
