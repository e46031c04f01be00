// Installs from a package server over a slow link: `trove install --lazy`
// (and with --full, the full install) of the lazy group's names from the
// lazy group's package server (the apt closure of the workload group's
// names, one `pkg add`, `trove summary`), nginx on loopback behind
// bench/delay-proxy.mjs, at each round trip asked for. Several trove trees
// (--tree, default this one) run interleaved on the same server, so a
// change can be set against the code before it: build the other tree
// (`npx tsc -p tsconfig.json && node scripts/bundle.mjs`) and name it.
//
//   node bench/slow-link.mjs [--rtt 0,20,50] [--runs 3] [--tree DIR]... [--full] [--upgrade]
//
// The server is built by the first tree. Each run is a new client (init,
// remote add: untimed), `install --no-switch --remote origin`, timed end to
// end; requests and body bytes from nginx's access log.
//
// --upgrade adds a client's first `upgrade --lazy` to a published generation
// of the scale group's cached 1,000 packages (a `cp -al` copy, `gen build`,
// `gen publish`), each client with its view mounted (untimed, unmounted
// after).
import { existsSync, mkdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { join, resolve } from 'node:path';
import { human, log, median, rmrf, run } from './lib.mjs';
import { startNginx } from './pull.mjs';
import { copyRepo } from './scale.mjs';
import { buildPackageServer, LINK_NAMES as NAMES, startProxy } from './link.mjs';
import { REPO_ROOT } from './tools.mjs';


function args() {
  const a = process.argv.slice(2);
  const out = { rtts: [0, 20, 50], runs: 3, trees: [], full: false, upgrade: false };
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--rtt') out.rtts = a[++i].split(',').map(Number);
    else if (a[i] === '--runs') out.runs = Number(a[++i]);
    else if (a[i] === '--tree') out.trees.push(resolve(a[++i]));
    else if (a[i] === '--full') out.full = true;
    else if (a[i] === '--upgrade') out.upgrade = true;
    else throw new Error(`unknown argument ${a[i]}; usage: node bench/slow-link.mjs [--rtt 0,20,50] [--runs 3] [--tree DIR]... [--full] [--upgrade]`);
  }
  if (out.trees.length === 0) out.trees.push(REPO_ROOT);
  if (out.rtts.some((r) => !(r >= 0)) || !(out.runs >= 1)) throw new Error('--rtt takes round trips in ms, --runs a count');
  return out;
}

const troveJs = (tree) => join(tree, 'bin', 'trove.js');

async function main() {
  const o = args();
  const dir = join('/var/cache/trove-bench', 'work-slow-link');
  rmrf(dir);
  mkdirSync(dir, { recursive: true });
  const { packages } = buildPackageServer(dir, troveJs(o.trees[0]));
  log(`slow-link: package server of ${packages} packages, built by ${o.trees[0]}`);
  if (o.upgrade) {
    const scale = join('/var/cache/trove-bench', 'scale-100k', 'repo');
    if (!existsSync(join(scale, 'config'))) throw new Error(`--upgrade needs ${scale}: run npm run bench -- --only scale once`);
    const gserver = join(dir, 'gserver');
    copyRepo(scale, gserver);
    const pkgs = Array.from({ length: 1000 }, (_, i) => `pkg${String(i).padStart(5, '0')}`);
    run(process.execPath, [troveJs(o.trees[0]), '--repo', gserver, 'gen', 'build', '--no-update-summary', '-q', ...pkgs]);
    run(process.execPath, [troveJs(o.trees[0]), '--repo', gserver, 'gen', 'publish']);
    log('slow-link: generation server of 1,000 packages published');
  }
  const nginx = await startNginx(join(dir, 'nginx'), dir);
  const port = Number(new URL(nginx.url).port);
  const kinds = [...(o.upgrade ? ['upgrade --lazy'] : []), 'lazy', ...(o.full ? ['full'] : [])];
  const samples = new Map();
  let n = 0;
  try {
    for (const rtt of o.rtts) {
      const proxy = rtt === 0 ? { url: nginx.url, stop: () => {} } : await startProxy(port, rtt / 2);
      try {
        for (let r = 0; r < o.runs; r++) {
          for (const kind of kinds) {
            for (const tree of o.trees) {
              const client = join(dir, `client-${n++}`);
              const trove = (...a) => run(process.execPath, [troveJs(tree), '--repo', client, ...a]);
              const upgrade = kind === 'upgrade --lazy';
              trove('init', '-q');
              trove('remote', 'add', 'origin', `${proxy.url}/${upgrade ? 'gserver' : 'server'}`);
              if (upgrade) trove('mount', join(client, 'mnt'));
              nginx.clear();
              const t = performance.now();
              if (upgrade) trove('upgrade', '--lazy', '--remote', 'origin', '--link', join(client, 'link'), '-q');
              else trove('install', ...(kind === 'lazy' ? ['--lazy'] : []), '--no-switch', '--remote', 'origin', '-q', ...NAMES);
              const s = (performance.now() - t) / 1000;
              if (upgrade) trove('umount', '--force', join(client, 'mnt'));
              const { requests, bytes } = nginx.traffic();
              const key = `${rtt}\t${kind}\t${tree}`;
              if (!samples.has(key)) samples.set(key, []);
              samples.get(key).push({ s, requests, bytes });
              log(`slow-link: rtt ${rtt} ms, ${kind}, ${tree}: ${s.toFixed(3)} s, ${requests} requests, ${human(bytes)}`);
              rmrf(client);
            }
          }
        }
      } finally {
        proxy.stop();
      }
    }
  } finally {
    await nginx.stop();
  }
  console.log(`\n| round trip | install | trove tree | seconds (median of ${o.runs}) | samples | requests | bytes |`);
  console.log('|---|---|---|---|---|---|---|');
  for (const [key, list] of samples) {
    const [rtt, kind, tree] = key.split('\t');
    console.log(`| ${rtt} ms | ${kind} | ${tree} | ${median(list.map((x) => x.s)).toFixed(3)} | ${list.map((x) => x.s.toFixed(3)).join(', ')} | ${list[0].requests} | ${human(list[0].bytes)} |`);
  }
}

await main();
