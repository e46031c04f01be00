// Scenario group "link": a full `trove install` over a slow link, against curl
// fetching the same objects over the same link. The lazy group's package
// server (the apt closure of the workload group's names: one `pkg add`,
// `trove summary`), nginx on loopback, and bench/delay-proxy.mjs in front of it
// holding every byte half the round trip in each direction (this kernel has
// no netem). Each run, at each round trip:
//
//   trove     a new client, `install --no-switch --remote origin` of the lazy
//             group's names (70 packages after resolution), by default
//   trove -p1 the same with `--pipelining 1` (one request at a time on each
//             connection: how it was before small objects were pipelined)
//   curl      `curl --parallel --parallel-max 16` of every object URL the
//             trove install requested, kept-alive connections, bodies to
//             /dev/null: the same requests, as a plain HTTP client makes them
//
// Connection set-up is not delayed (the proxy), so curl's and trove's 16
// connections cost the same. OSTree has no package layer; curl is the peer.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aptClosure, getAptDebs } from '../scripts/apt-closure.mjs';
import { BenchError, human, log, median, rmrf, run, syncDisk, timeCmd } from './lib.mjs';
import { freePort, startNginx } from './pull.mjs';
import { table } from './report.mjs';
import { REPO_ROOT } from './tools.mjs';

export const name = 'link';
export const title = 'A full install over a slow link: trove against curl of the same objects (nginx behind a delay proxy)';
export const requires = [['nginx', 'nginx-light'], ['curl', 'curl']];

const TROVE_JS = join(REPO_ROOT, 'bin', 'trove.js');
/** The server's packages (also the lazy group's): the apt closure of the group `workload`'s top-level names (100 packages). */
export const SERVER_TOP = ['gcc-12', 'make', 'perl', 'sqlite3', 'git', 'xz-utils', 'zstd', 'gawk', 'libc6-dev', 'dash', 'base-files', 'coreutils'];

/**
 * What the clients install (dependencies resolved by trove against the
 * server's index): gcc-12, make and perl, with libc6-dev (stdio.h, crt1.o,
 * libc.so: gcc-12 only Recommends it) and base-files (the /tmp and /dev to
 * mount on in the chroot of the lazy group).
 */
const NAMES = ['gcc-12', 'make', 'perl', 'libc6-dev', 'base-files'];
/** Round trips measured, in ms; the target is read at the longest. */
const RTTS = [0, 50];
/** trove's default connections, and curl's. */
const CONNECTIONS = 16;
/** At the longest round trip, trove's install within this ratio of curl's fetch of the same objects. */
const TARGET = 1.0;

/** Starts bench/delay-proxy.mjs in front of 127.0.0.1:`target` with `delay` ms each way; resolves its URL and a stop. */
export async function startProxy(target, delay) {
  const port = await freePort();
  const proc = spawn(process.execPath, [join(REPO_ROOT, 'bench/delay-proxy.mjs'), String(port), String(target), String(delay)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((ok, fail) => {
    proc.stdout.once('data', ok);
    proc.once('exit', (code) => fail(new Error(`delay proxy exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => proc.kill('SIGKILL') };
}

/** The lazy group's package server under `dir`/server: every .deb of the closure, one `pkg add`, its summary. */
export function buildPackageServer(dir, trove = TROVE_JS) {
  const server = join(dir, 'server');
  const debs = getAptDebs(aptClosure(SERVER_TOP));
  run(process.execPath, [trove, '--repo', server, 'init', '-q']);
  run(process.execPath, [trove, '--repo', server, 'pkg', 'add', '--no-progress', '-q', '--no-update-summary', ...debs]);
  run(process.execPath, [trove, '--repo', server, 'summary']);
  return { server, packages: debs.length };
}

export { NAMES as LINK_NAMES };

export async function runGroup(ctx) {
  const { cache, runs } = ctx;
  const dir = join(cache, 'work-link');
  rmrf(dir);
  mkdirSync(dir, { recursive: true });
  const samples = {};
  const traffic = {};
  const warnings = [];
  let nginx;
  let setup;
  try {
    setup = buildPackageServer(dir);
    log(`link: package server of ${setup.packages} packages`);
    nginx = await startNginx(join(dir, 'nginx'), dir);
    const port = Number(new URL(nginx.url).port);
    let n = 0;
    for (const rtt of RTTS) {
      const proxy = rtt === 0 ? { url: nginx.url, stop: () => {} } : await startProxy(port, rtt / 2);
      try {
        for (let r = 0; r < runs; r++) {
          for (const tool of ['trove', 'trove-p1', 'curl']) {
            const key = `${rtt}/${tool}`;
            (samples[key] ??= []);
            if (tool === 'curl') {
              // What the install got (an optional file it asked for and the server lacks would fail curl's --fail).
              const urls = traffic[`${rtt}/trove`]?.found;
              if (!urls) continue;
              const list = join(dir, `curl-${rtt}.txt`);
              writeFileSync(list, urls.map((p) => `url = "${proxy.url}${p}"\noutput = "/dev/null"\n`).join(''));
              syncDisk();
              nginx.clear();
              samples[key].push(timeCmd('curl', ['-sS', '--fail', '--parallel', '--parallel-max', String(CONNECTIONS), '-K', list]));
              const got = nginx.traffic();
              if (got.requests !== urls.length) warnings.push(`curl at ${rtt} ms made ${got.requests} requests for ${urls.length} URLs`);
              continue;
            }
            const client = join(dir, `client-${n++}`);
            run(process.execPath, [TROVE_JS, '--repo', client, 'init', '-q']);
            run(process.execPath, [TROVE_JS, '--repo', client, 'remote', 'add', 'origin', `${proxy.url}/server/`]);
            syncDisk();
            nginx.clear();
            const extra = tool === 'trove-p1' ? ['--pipelining', '1'] : [];
            samples[key].push(timeCmd(process.execPath, [TROVE_JS, '--repo', client, 'install', '--no-switch', '--remote', 'origin', '-q', ...extra, ...NAMES]));
            const got = nginx.traffic();
            traffic[key] ??= got;
            log(`link: ${rtt} ms, ${tool}: ${samples[key].at(-1).seconds.toFixed(3)} s, ${got.requests} requests, ${human(got.bytes)}`);
            rmrf(client);
          }
        }
      } finally {
        proxy.stop();
      }
    }
  } catch (e) {
    if (!(e instanceof BenchError)) throw e;
    log(`link FAILED:\n${e.message}`);
    warnings.push(`the group stopped early: ${e.message.split('\n')[0]}`);
  } finally {
    await nginx?.stop();
    rmrf(dir);
  }
  for (const t of Object.values(traffic)) {
    delete t.paths;
    delete t.found;
  }
  return { name, title, runs, packages: setup?.packages, samples, traffic, warnings };
}

export function render(res) {
  const med = (key) => median((res.samples[key] ?? []).map((x) => x.seconds));
  const rss = (key) => {
    const xs = res.samples[key] ?? [];
    return xs.length ? (Math.max(...xs.map((x) => x.maxRssKiB)) / 1024).toFixed(0) : 'n/a';
  };
  const f = (v) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
  const longest = Math.max(...RTTS);
  const rows = [];
  for (const rtt of RTTS) {
    const c = med(`${rtt}/curl`);
    for (const tool of ['trove', 'trove-p1']) {
      const s = med(`${rtt}/${tool}`);
      const ratio = s / c;
      const targeted = rtt === longest && tool === 'trove';
      const verdict = !targeted ? '—' : Number.isFinite(ratio) ? (ratio <= TARGET ? 'pass' : `FAIL (${ratio.toFixed(2)}×)`) : 'n/a';
      const where = rtt === 0 ? 'loopback' : `${rtt} ms round trip`;
      const label = tool === 'trove' ? `install ${NAMES.join(' ')} (full, --no-switch), ${where}` : `same, --pipelining 1, ${where}`;
      rows.push([label, f(s), f(c), Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : 'n/a', rss(`${rtt}/${tool}`), targeted ? `≤ ${TARGET}× curl` : '—', verdict]);
    }
  }
  const out = [`### ${res.title}`, ''];
  out.push(table(['operation', 'trove median s', `curl --parallel-max ${CONNECTIONS} median s`, 'trove/curl', 'trove peak RSS MB', 'target', 'result'], rows));
  out.push('');
  const t = res.traffic[`${longest}/trove`];
  if (t) out.push(`- The install (${res.packages ?? 'n/a'} packages on the server): ${t.requests} requests, ${human(t.bytes)}; curl fetched the same URLs (those the install got answered 200, summary and index included).`);
  out.push(`- trove: ${CONNECTIONS} connections, small objects (commits, trees, blobs up to 1 MiB) 8 ahead on each (docs/remote.md, "HTTP/1.1 pipelining"); --pipelining 1: one request at a time on each. ` +
    `curl: ${CONNECTIONS} parallel transfers over kept-alive connections, no pipelining (curl dropped it), bodies to /dev/null (trove hashes and stores them).`);
  out.push('- All samples (s):');
  for (const rtt of RTTS) {
    for (const tool of ['trove', 'trove-p1', 'curl']) out.push(`  - ${rtt} ms, ${tool}: ${(res.samples[`${rtt}/${tool}`] ?? []).map((x) => x.seconds.toFixed(3)).join(', ') || '—'}`);
  }
  for (const w of res.warnings) out.push(`- Warning: ${w}`);
  return out.join('\n');
}
