// Scenario group "install": `trove install` of one more package from a remote
// (nginx on loopback) into an existing generation. The server holds a few
// corpus packages and its summary names their package index; a client installs
// the base set, then one more package. Measured: the bytes that crossed the
// wire against the package's own new objects (those the client gained that the
// server holds), and the wall time against `curl` fetching those same objects
// concatenated into one file from the same server. OSTree has no package
// layer, so its column stays empty.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { log, median, rmrf, run, syncDisk, timeCmd, human } from './lib.mjs';
import { startNginx } from './pull.mjs';
import { REPO_ROOT } from './tools.mjs';

export const name = 'install';
export const title = 'Install one more package from a remote (nginx on loopback)';
export const requires = [['nginx', 'nginx-light'], ['curl', 'curl']];

const TROVE_JS = join(REPO_ROOT, 'bin', 'trove.js');
const troveCmd = (repo, ...args) => [TROVE_JS, ['--repo', repo, ...args]];

/** The generation the client has first, and the package it then adds (all from the corpus). */
const BASE = ['bash', 'coreutils', 'libc6', 'libgcc-s1', 'liblzma5', 'libssl3', 'libzstd1', 'perl-base', 'zstd'];
const MORE = 'git';

/**
 * `server` publishes objects only; `server-pack` is the same repository with a
 * pack of the whole package (`trove delta --from-empty`, gzip), which install
 * fetches in one request instead of one request per object.
 */
const OPS = [
  { id: 'install-one', server: 'server', label: `install ${MORE} into a generation of ${BASE.length} packages, activated`, target: {} },
  { id: 'install-one-noswitch', server: 'server', label: 'same, --no-switch (fetch and build only)', target: {} },
  { id: 'install-one-pack', server: 'server-pack', label: `install ${MORE}, activated, from a server with a pack of the package`, target: {} },
  { id: 'install-one-pack-noswitch', server: 'server-pack', label: 'same, --no-switch', target: {} },
];

/** Unmounts what the activations mounted under `dir` (root activations are read-only bind mounts), deepest first. */
function unmountUnder(dir) {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p) => p && (p === dir || p.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const p of points) run('umount', [p], { allowFail: true });
}

function objectFiles(repo) {
  const out = new Map();
  const dir = join(repo, 'objects');
  for (const shard of readdirSync(dir)) {
    if (!/^[0-9a-f]{2}$/.test(shard)) continue;
    for (const n of readdirSync(join(dir, shard))) if (/^[0-9a-f]{62}$/.test(n)) out.set(shard + n, join(dir, shard, n));
  }
  return out;
}

export async function runGroup(ctx) {
  const { cache, runs } = ctx;
  const dir = join(cache, 'install');
  unmountUnder(dir);
  rmrf(dir);
  const server = join(dir, 'server');
  const samples = Object.fromEntries(OPS.map((o) => [o.id, { trove: [], ostree: [] }]));
  const errors = Object.fromEntries(OPS.map((o) => [o.id, {}]));
  const lines = [];
  const warnings = [];
  const curl = [];
  const ratios = [];
  let nginx;
  try {
    run(...troveCmd(server, 'init'));
    const debs = readdirSync(join(cache, 'debs'));
    for (const p of [...BASE, MORE]) {
      const f = debs.filter((d) => d.startsWith(`${p}_`) && d.endsWith('.deb')).sort().pop();
      if (!f) throw new Error(`the corpus has no ${p}`);
      run(...troveCmd(server, 'pkg', 'add', join(cache, 'debs', f), '--no-update-summary'));
    }
    run(...troveCmd(server, 'summary'));
    const serverObjects = objectFiles(server);
    const packed = join(dir, 'server-pack');
    run('cp', ['-a', server, packed]);
    const moreCommit = readFileSync(join(packed, 'refs', 'heads', 'pkg', MORE, 'amd64'), 'utf8').trim();
    run(...troveCmd(packed, 'delta', '--from-empty', moreCommit, '--compression', 'gzip'));
    nginx = await startNginx(join(dir, 'nginx'), dir);
    for (let r = 0; r < runs; r++) {
      for (const op of OPS) {
        const url = `${nginx.url}/${op.server}/`;
        const client = join(dir, `client-${op.id}-${r}`);
        const link = join(dir, `ro-${op.id}-${r}`);
        run(...troveCmd(client, 'init'));
        run(...troveCmd(client, 'remote', 'add', 'origin', url));
        // --no-deps: the corpus is a fixed list, not closed under dependencies.
        run(...troveCmd(client, 'install', '--no-deps', '--link', link, '--no-progress', ...BASE));
        const before = objectFiles(client);
        syncDisk();
        nginx.clear();
        const extra = op.id.endsWith('-noswitch') ? ['--no-switch'] : ['--link', link];
        let t;
        try {
          t = timeCmd(...troveCmd(client, 'install', '--no-deps', '--json', ...extra, MORE));
        } catch (e) {
          errors[op.id].trove ??= e.message;
          continue;
        }
        samples[op.id].trove.push(t);
        const wire = nginx.traffic();
        const fresh = [...objectFiles(client).keys()].filter((id) => !before.has(id) && serverObjects.has(id)).sort();
        const own = fresh.reduce((n, id) => n + statSync(serverObjects.get(id)).size, 0);
        const res = JSON.parse(t.stdout);
        if (res.fetched.objects !== fresh.length) warnings.push(`install reported ${res.fetched.objects} objects fetched, the client gained ${fresh.length}`);
        ratios.push({ op: op.id, wire: wire.bytes, requests: wire.requests, own, objects: fresh.length });
        if (op.id === 'install-one') {
          // The same bytes as one file (the objects' own, uncompressed), from the same server.
          const file = join(dir, 'same-bytes');
          writeFileSync(file, '');
          for (const id of fresh) writeFileSync(file, readFileSync(serverObjects.get(id)), { flag: 'a' });
          const dest = join(dir, 'curl-out');
          syncDisk();
          curl.push(timeCmd('curl', ['-sS', '-o', dest, `${nginx.url}/same-bytes`]).seconds);
          rmrf(dest);
        }
      }
    }
  } finally {
    await nginx?.stop();
    unmountUnder(dir);
    rmrf(dir);
  }
  for (const id of ['install-one', 'install-one-pack']) {
    const first = ratios.find((x) => x.op === id);
    if (!first) continue;
    const ratio = first.wire / first.own;
    lines.push(
      `${id === 'install-one' ? 'Object by object' : 'With the package pack'}: ${MORE}'s own new objects: ${first.objects} objects, ${human(first.own)}; ` +
        `over the wire: ${human(first.wire)} in ${first.requests} requests ` +
        `(${ratio.toFixed(4)}×; the summary is fetched, the unchanged package index is not). Target ≤ 1.05×: ${ratio <= 1.05 ? 'pass' : 'FAIL'}.`,
    );
  }
  const c = median(curl);
  for (const op of OPS) {
    const s = median(samples[op.id].trove.map((x) => x.seconds));
    if (Number.isFinite(c) && Number.isFinite(s)) {
      const activated = !op.id.endsWith('-noswitch');
      lines.push(`${op.label}: ${s.toFixed(3)} s, ${(s / c).toFixed(2)}× curl of the same bytes as one file (${c.toFixed(3)} s)${activated ? `. Target within 2× of curl: ${s / c <= 2 ? 'pass' : 'FAIL'}` : ''}.`);
    }
  }
  log(`install: ${lines.join(' ')}`);
  return { name, title, ops: OPS, samples, errors, notes: { lines }, warnings };
}
