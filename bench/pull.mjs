// Scenario group "pull": trove pull against `ostree pull` over HTTP from the
// same nginx on loopback, same corpus. The ostree repository is in archive
// mode (what ostree serves); both clients pull into a new local repository
// (trove's, ostree's bare). `curl` of all the trove objects concatenated into
// one file is the physical limit of the link.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { BenchError, human, log, median, rmrf, run, syncDisk, timeCmd } from './lib.mjs';
import { modify, pickFiles, restore } from './modify.mjs';
import { REPO_ROOT } from './tools.mjs';

export const name = 'pull';
export const title = 'Pull over HTTP (nginx on loopback): trove pull vs ostree pull';
export const requires = [['nginx', 'nginx-light'], ['ostree', 'ostree'], ['curl', 'curl']];

const TROVE_JS = join(REPO_ROOT, 'bin', 'trove.js');

// Rows marked "gz": trove's objects precompressed (summary --gzip-objects,
// nginx gzip_static), as ostree's archive objects are; ostree has one set-up,
// so its samples of the plain rows are repeated there.
const OPS = [
  { id: 'initial', label: 'initial pull into a new repository (trove: the tip\'s trees pack, then file by file; ostree: object by object)', target: { maxRatio: 0.5, maxRssMB: 250 } },
  { id: 'initial-gz', label: 'same, trove objects precompressed (gzip_static)', target: { maxRssMB: 250 } },
  { id: 'update', label: 'update pull of a 1 % change, object by object', target: { maxRssMB: 250 } },
  { id: 'update-gz', label: 'same, trove objects precompressed (gzip_static)', target: { maxRssMB: 250 } },
  { id: 'update-delta', label: 'update pull of the same change, trove delta / ostree static delta', target: { maxRssMB: 250 } },
  // Each tool as a server gives it without extra steps: trove's summary writes the pack for a moved
  // ref by itself; ostree serves objects one by one unless `static-delta generate` is run.
  { id: 'update-default', label: 'same change, each server by default: trove (the pack its summary wrote) / ostree (object by object)', target: { maxRatio: 1.0, maxRssMB: 250 } },
  // trove upgrade end to end (summary, objects, recording, hard-link checkout, link swap) against ostree pull of the same change.
  { id: 'upgrade', label: 'upgrade between two published generations, 1 % change, object by object (ostree: pull)', target: { maxRatio: 1.0, maxRssMB: 250 } },
  { id: 'upgrade-delta', label: 'same, trove delta / ostree static delta', target: { maxRatio: 1.0, maxRssMB: 250 } },
  // As a running system upgrades: its FUSE view mounted, so activation is a link swap into it, no checkout.
  { id: 'upgrade-view', label: 'same, with the client\'s FUSE view mounted (activation: a link swap)', target: { maxRatio: 1.0, maxRssMB: 250 } },
  // The same trove upgrade with the delta against what an OSTree deployment of the change costs at least:
  // the static-delta pull plus a hard-link checkout of the new commit (`ostree admin upgrade` also merges /etc and writes the bootloader's entries).
  { id: 'upgrade-deploy', label: 'upgrade with the delta and a hard-link checkout (ostree: static-delta pull + hard-link checkout of the new commit)', target: { maxRatio: 1.0, maxRssMB: 250 } },
];

const troveCmd = (repo, ...args) => [TROVE_JS, ['--repo', repo, ...args]];
const ostreeCmd = (repo, ...args) => ['ostree', [`--repo=${repo}`, ...args]];

/** A free TCP port on 127.0.0.1 (bound and released). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const accepting = (port) =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

/** nginx serving `root` on a free loopback port, one process, its own config and log under `dir`. */
export async function startNginx(dir, root) {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, `master_process off;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  log_format bench '$uri $status $body_bytes_sent';
  access_log ${dir}/access.log bench;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  types { } default_type application/octet-stream;
  sendfile on; tcp_nopush on; keepalive_requests 1000000; keepalive_timeout 60s;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location /trove-gz/ { alias ${root}/trove-server/; gzip_static on; }
  }
}
`);
  const proc = spawn('nginx', ['-e', join(dir, 'error.log'), '-c', conf, '-p', dir], { stdio: 'ignore' });
  for (let i = 0; i < 500 && proc.exitCode === null; i++) {
    if (await accepting(port)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  if (!(await accepting(port))) throw new BenchError(`nginx did not start: ${readFileSync(join(dir, 'error.log'), 'utf8')}`);
  const logPath = join(dir, 'access.log');
  return {
    url: `http://127.0.0.1:${port}`,
    clear: () => writeFileSync(logPath, ''),
    /** Requests and body bytes logged since the last clear. */
    traffic() {
      const lines = readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' '));
      return {
        requests: lines.length,
        bytes: lines.reduce((n, l) => n + Number(l[2]), 0),
        paths: lines.map((l) => l[0]),
        /** The paths answered 200. */
        found: lines.filter((l) => l[1] === '200').map((l) => l[0]),
      };
    },
    stop: () => new Promise((r) => (proc.exitCode !== null ? r() : (proc.once('exit', r), proc.kill('SIGKILL')))),
  };
}

/** Builds both servers from the corpus: ref v1 (the corpus) and bench (v1 plus a 1 % change), with a delta between. */
function buildServers(dir, work) {
  const tsrv = join(dir, 'trove-server');
  const osrv = join(dir, 'ostree-server');
  log('pull: committing the corpus into the trove and ostree (archive) servers');
  run(...troveCmd(tsrv, 'init'));
  run(...troveCmd(tsrv, 'commit', work.dir, '-r', 'bench', '-m', 'v1'));
  run(...troveCmd(tsrv, 'refs', 'set', 'v1', 'bench'));
  run(...ostreeCmd(osrv, 'init', '--mode=archive'));
  // ostree binds a commit to the branch it was made on, so v1 gets its own.
  run(...ostreeCmd(osrv, 'commit', '--branch=v1', `--tree=dir=${work.dir}`, '--fsync=false', '-s', 'v1'));
  const v1 = run(...ostreeCmd(osrv, 'rev-parse', 'v1')).stdout.trim();
  // Published generations of profile system: 1 of the corpus, 2 of the changed corpus. Clients reach
  // generation 1 through trove-server-g1/, the same repository with the summary as it was before
  // generation 2 was built.
  log('pull: building and publishing generation 1 (the corpus as one package)');
  run(...troveCmd(tsrv, 'pkg', 'add', work.dir, '--name', 'corpus', '--arch', 'all', '--version', '1', '--no-update-summary'));
  run(...troveCmd(tsrv, 'gen', 'build', 'corpus', '--no-update-summary'));
  run(...troveCmd(tsrv, 'gen', 'publish'));
  const g1view = join(dir, 'trove-server-g1');
  mkdirSync(g1view);
  for (const sub of ['objects', 'refs']) symlinkSync(join(tsrv, sub), join(g1view, sub));
  copyFileSync(join(tsrv, 'summary'), join(g1view, 'summary'));
  const picked = pickFiles(work.dir);
  work.markDirty();
  const undo = modify(work.dir, picked);
  try {
    run(...troveCmd(tsrv, 'pkg', 'add', work.dir, '--name', 'corpus', '--arch', 'all', '--version', '2', '--no-update-summary'));
    run(...troveCmd(tsrv, 'gen', 'build', 'corpus', '--no-update-summary'));
    run(...troveCmd(tsrv, 'commit', work.dir, '-r', 'bench', '-m', 'v2'));
    run(...ostreeCmd(osrv, 'commit', '--branch=bench', `--parent=${v1}`, `--tree=dir=${work.dir}`, '--fsync=false', '-s', 'v2'));
  } finally {
    restore(undo);
    work.markClean();
  }
  // trove's delta packs v1 -> v2 (ref bench, and generation 1 -> 2) are the ones the summary rewrite
  // after `trove commit` wrote by default for the tips that moved: no `trove delta` on the server.
  log('pull: the ostree static delta v1 -> v2, and the summaries (trove\'s deltas: written by default)');
  const gen = (n) => readFileSync(join(tsrv, 'profiles/system', String(n)), 'utf8').trim();
  const listed = JSON.parse(run(...troveCmd(tsrv, 'summary', '--gzip-objects', '--json')).stdout).deltas;
  const v1id = readFileSync(join(tsrv, 'refs/heads/v1'), 'utf8').trim();
  const v2id = readFileSync(join(tsrv, 'refs/heads/bench'), 'utf8').trim();
  for (const [from, to] of [[v1id, v2id], [gen(1), gen(2)]]) {
    if (!listed.some((d) => d.from === from && d.to === to)) throw new BenchError(`pull: the summary wrote no delta pack ${from} -> ${to} by default`);
  }
  run(...ostreeCmd(osrv, 'static-delta', 'generate', '--from=v1', '--to=bench'));
  run(...ostreeCmd(osrv, 'summary', '-u'));
  log('pull: one file of every trove object, for curl');
  run('sh', ['-c', 'find "$1/objects" -type f -print0 | sort -z | xargs -0 cat > "$2"', 'sh', tsrv, join(dir, 'all-objects')]);
  return { tsrv, osrv, modified: picked.length };
}

export async function runGroup(ctx) {
  const { cache, work, runs } = ctx;
  const dir = join(cache, 'pull');
  rmrf(dir);
  mkdirSync(dir, { recursive: true });
  const samples = Object.fromEntries(OPS.map((o) => [o.id, { trove: [], ostree: [] }]));
  const errors = Object.fromEntries(OPS.map((o) => [o.id, {}]));
  const traffic = { trove: {}, ostree: {} };
  const upgradeSplit = {};
  const curl = [];
  const warnings = [];
  let nginx;
  let modified = 0;
  try {
    const servers = buildServers(dir, work);
    modified = servers.modified;
    nginx = await startNginx(join(dir, 'nginx'), dir);
    log('pull: waiting 65 s after sync, so that files deleted before (older runs, other groups) no longer slow down file creation');
    syncDisk();
    await new Promise((r) => setTimeout(r, 65_000));
    const tools = {
      trove: {
        client(repo, gz = false) {
          run(...troveCmd(repo, 'init'));
          run(...troveCmd(repo, 'remote', 'add', 'origin', `${nginx.url}/${gz ? 'trove-gz' : 'trove-server'}/`));
        },
        pull: (repo, ref, deltas) => troveCmd(repo, 'pull', 'origin', ref, '--json', ...(deltas ? [] : ['--no-deltas'])),
      },
      ostree: {
        client(repo) {
          run(...ostreeCmd(repo, 'init', '--mode=bare'));
          run(...ostreeCmd(repo, 'remote', 'add', '--no-gpg-verify', 'origin', `${nginx.url}/ostree-server`));
        },
        pull: (repo, ref, deltas) => ostreeCmd(repo, 'pull', 'origin', ref, ...(deltas ? [] : ['--disable-static-deltas'])),
      },
    };
    const step = (op, tool, cmd) => {
      syncDisk();
      nginx.clear();
      try {
        const t = timeCmd(...cmd);
        samples[op][tool].push(t);
        const tr = nginx.traffic();
        (traffic[tool][op] ??= []).push(tr);
        return t;
      } catch (e) {
        if (!(e instanceof BenchError)) throw e;
        log(`${tool} ${op} FAILED:\n${e.message}`);
        errors[op][tool] ??= e.message;
        return undefined;
      }
    };
    for (let r = 0; r < runs; r++) {
      const order = r % 2 ? ['ostree', 'trove'] : ['trove', 'ostree'];
      log(`pull: run ${r + 1} of ${runs} (${order.join(' first, then ')})`);
      for (const tool of order) {
        // Clients stay until the end: deleting 25 000 files makes ext4 slow to
        // create the next ones for a minute (it avoids recently freed inodes).
        const a = join(dir, `${tool}-client-${r}`);
        const b = join(dir, `${tool}-client-delta-${r}`);
        tools[tool].client(a);
        if (!step('initial', tool, tools[tool].pull(a, 'v1', false))) continue;
        run('cp', ['-a', a, b]);
        step('update', tool, tools[tool].pull(a, 'bench', false));
        const d = step('update-delta', tool, tools[tool].pull(b, 'bench', true));
        if (d && tool === 'trove' && JSON.parse(d.stdout).deltas.used.length !== 1) warnings.push('trove did not use the delta');
        if (d && tool === 'ostree') {
          // A deployment's checkout of the pulled commit, timed apart and added to the pull's time.
          syncDisk();
          try {
            const co = timeCmd(...ostreeCmd(b, 'checkout', '--require-hardlinks', 'bench', join(dir, `ostree-deploy-${r}`)));
            samples['upgrade-deploy'].ostree.push({ seconds: d.seconds + co.seconds, maxRssKiB: Math.max(d.maxRssKiB, co.maxRssKiB), stdout: '', stderr: '' });
          } catch (e) {
            if (!(e instanceof BenchError)) throw e;
            errors['upgrade-deploy'].ostree ??= e.message;
          }
        }
        if (tool === 'trove') {
          // Upgrade: a client at published generation 1 (untimed), then generation 2, timed.
          const u = join(dir, `trove-client-upgrade-${r}`);
          const ud = join(dir, `trove-client-upgrade-delta-${r}`);
          run(...troveCmd(u, 'init'));
          run(...troveCmd(u, 'remote', 'add', 'g1', `${nginx.url}/trove-server-g1/`));
          run(...troveCmd(u, 'remote', 'add', 'origin', `${nginx.url}/trove-server/`));
          run(...troveCmd(u, 'upgrade', '--remote', 'g1', '--link', join(u, 'link'), '--no-progress'));
          run('cp', ['-a', u, ud]);
          const uv = join(dir, `trove-client-upgrade-view-${r}`);
          run('cp', ['-a', u, uv]);
          const up = step('upgrade', tool, troveCmd(u, 'upgrade', '--remote', 'origin', '--link', join(u, 'link'), '--no-deltas', '--json'));
          const upd = step('upgrade-delta', tool, troveCmd(ud, 'upgrade', '--remote', 'origin', '--link', join(ud, 'link'), '--json'));
          run(...troveCmd(uv, 'mount', join(uv, 'mnt')));
          let upv;
          try {
            upv = step('upgrade-view', tool, troveCmd(uv, 'upgrade', '--remote', 'origin', '--link', join(uv, 'link'), '--json'));
          } finally {
            run(...troveCmd(uv, 'umount', '--force', join(uv, 'mnt')));
          }
          if (upv && JSON.parse(upv.stdout).activated?.via !== 'mount') warnings.push('trove upgrade with a view mounted did not activate through it');
          for (const [x, op] of [[up, 'upgrade'], [upd, 'upgrade-delta'], [upv, 'upgrade-view']]) {
            if (!x) continue;
            const j = JSON.parse(x.stdout);
            (upgradeSplit[op] ??= []).push({ pull: j.pullSeconds, activate: j.activateSeconds, objects: j.fetched.objects, deltas: j.deltas.used.length });
          }
          if (upd && JSON.parse(upd.stdout).deltas.used.length !== 1) warnings.push('trove upgrade did not use the delta');
          const g = join(dir, `trove-client-gz-${r}`);
          tools.trove.client(g, true);
          if (step('initial-gz', tool, tools.trove.pull(g, 'v1', false))) step('update-gz', tool, tools.trove.pull(g, 'bench', false));
        }
      }
      const dest = join(dir, 'curl-out');
      rmrf(dest);
      syncDisk();
      nginx.clear();
      curl.push(timeCmd('curl', ['-sS', '-o', dest, `${nginx.url}/all-objects`]).seconds);
      rmrf(dest);
    }
  } finally {
    await nginx?.stop();
    rmrf(dir);
  }
  samples['update-default'] = { trove: samples['update-delta'].trove, ostree: samples.update.ostree };
  traffic.trove['update-default'] = traffic.trove['update-delta'];
  traffic.ostree['update-default'] = traffic.ostree.update;
  for (const op of ['initial', 'update']) {
    samples[`${op}-gz`].ostree = samples[op].ostree;
    traffic.ostree[`${op}-gz`] = traffic.ostree[op];
  }
  // The upgrade rows compare with ostree pull of the same change (ostree has no upgrade without a deployment).
  for (const [op, from] of [['upgrade', 'update'], ['upgrade-delta', 'update-delta'], ['upgrade-view', 'update-delta']]) {
    samples[op].ostree = samples[from].ostree;
    traffic.ostree[op] = traffic.ostree[from];
  }
  samples['upgrade-deploy'].trove = samples['upgrade-delta'].trove;
  traffic.trove['upgrade-deploy'] = traffic.trove['upgrade-delta'];
  traffic.ostree['upgrade-deploy'] = traffic.ostree['update-delta'];
  return { name, title, ops: OPS, samples, errors, notes: notes(samples, traffic, curl, modified, upgradeSplit), warnings };
}

function notes(samples, traffic, curl, modified, upgradeSplit = {}) {
  const lines = [];
  const med = (xs) => median(xs.map((x) => x.seconds));
  const t = (tool, op) => traffic[tool][op]?.[0];
  const fmt = (x) => (x ? `${human(x.bytes)} in ${x.requests} requests` : 'n/a');
  lines.push(`Update: ${modified} files modified (every 100th regular file by sorted path), committed on top of the corpus.`);
  for (const op of OPS) lines.push(`Transferred, ${op.label}: trove ${fmt(t('trove', op.id))}; ostree ${fmt(t('ostree', op.id))}.`);
  const ou = t('ostree', 'update');
  const od = t('ostree', 'update-delta');
  const td = t('trove', 'update-delta');
  for (const [op, what, o] of [['update', 'object by object, plain objects', ou], ['update-gz', 'object by object, precompressed objects', ou], ['update-delta', 'with a delta', od]]) {
    const x = t('trove', op);
    if (x && o) lines.push(`Target update pull bytes ≤ ostree's, ${what}: ${x.bytes <= o.bytes ? 'pass' : 'FAIL'} (${human(x.bytes)} vs ${human(o.bytes)}).`);
  }
  const od2 = t('ostree', 'update-delta');
  for (const op of ['upgrade', 'upgrade-delta', 'upgrade-view']) {
    const x = t('trove', op);
    if (x && od2) lines.push(`Target ${op} bytes ≤ ostree's static delta of the same change: ${x.bytes <= od2.bytes ? 'pass' : 'FAIL'} (${human(x.bytes)} vs ${human(od2.bytes)}).`);
    const sp = upgradeSplit[op]?.[0];
    if (sp) lines.push(`trove ${op}: ${sp.objects} objects${sp.deltas ? ' by one delta' : ''}; pull ${sp.pull.toFixed(2)} s, recording and activation (hard-link checkout, link swap) ${sp.activate.toFixed(2)} s.`);
  }
  const ti0 = t('trove', 'initial');
  if (ti0) lines.push(`trove initial pull: ${ti0.paths.filter((p) => p.includes('/packages/') && p.endsWith('.trees')).length} trees pack(s) among its ${ti0.requests} requests.`);
  if (td) {
    const objectRequests = td.paths.filter((p) => !p.endsWith('/summary')).length;
    lines.push(`Target one request with a delta: ${objectRequests === 1 ? 'pass' : 'FAIL'} (${td.paths.join(', ')}).`);
  }
  const c = median(curl);
  const ti = med(samples.initial.trove);
  if (Number.isFinite(c) && Number.isFinite(ti)) {
    lines.push(`curl of every trove object as one file: ${c.toFixed(3)} s (median); trove initial pull ${(ti / c).toFixed(2)}× curl. ` +
      `Target within 3× of curl: ${ti / c <= 3 ? 'pass' : 'FAIL'}.`);
  }
  return { lines };
}
