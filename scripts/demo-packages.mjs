// Demo section "Real packages", called by scripts/demo.mjs: the Debian package
// `hello` and its dependency closure (as this machine's apt computes it for an
// empty system, downloaded once into a cache), added to a server repository,
// served with `trove serve`, and installed by name on a client, whose
// resolver finds the dependencies; then `hello` runs from the generation with
// the generation's own loader and libc. Without apt, or when a package is not
// cached and cannot be downloaded, it says so in one line and does nothing.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { serve } from './demo-remote.mjs';

const run = promisify(execFile);
const TOP = ['hello'];

/** Where downloaded packages are kept between runs. */
function cacheDir() {
  if (process.env.TROVE_DEB_CACHE) return process.env.TROVE_DEB_CACHE;
  return process.getuid?.() === 0 ? '/var/cache/trove-test/debs' : join(homedir(), '.cache', 'trove-demo', 'debs');
}

/** The packages apt would install for `top` on an empty system, as name/version/arch. */
function aptClosure(top) {
  const r = spawnSync(
    'apt-get',
    ['--simulate', '-q', '-o', 'Dir::State::status=/dev/null', '-o', 'APT::Install-Recommends=false', 'install', ...top],
    { encoding: 'utf8' },
  );
  if (r.error || r.status !== 0) return { why: `apt-get cannot compute the closure of ${top.join(' ')}: ${(r.stderr || String(r.error)).trim().split('\n').pop()}` };
  const pkgs = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^Inst (\S+) (?:\[\S+\] )?\((\S+) .*\[([a-z0-9-]+)\]\)/.exec(line);
    if (m) pkgs.push({ name: m[1].replace(/:[a-z0-9-]+$/, ''), version: m[2], arch: m[3] });
  }
  return { pkgs };
}

/** The cached `.deb` of each package, downloading the missing ones with one `apt-get download`. */
function debs(pkgs) {
  const cache = cacheDir();
  mkdirSync(cache, { recursive: true });
  const file = (p) => `${p.name}_${p.version.replace(/:/g, '%3a')}_${p.arch}.deb`;
  const missing = pkgs.filter((p) => !existsSync(join(cache, file(p))));
  if (missing.length > 0) {
    const work = mkdtempSync(join(cache, '.dl-'));
    try {
      const r = spawnSync('apt-get', ['download', '-q', ...missing.map((p) => `${p.name}=${p.version}`)], { cwd: work, encoding: 'utf8' });
      if (r.status !== 0) return { why: `apt-get download failed (no network?): ${(r.stderr || '').trim().split('\n').pop()}` };
      for (const f of readdirSync(work)) if (f.endsWith('.deb')) renameSync(join(work, f), join(cache, f));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const out = pkgs.map((p) => join(cache, file(p)));
  const absent = out.filter((f) => !existsSync(f));
  if (absent.length) return { why: `apt-get download did not produce ${absent.join(', ')}` };
  return { files: out };
}

/**
 * The client's install by name from the remote `origin`: resolved against the
 * server's package index, fetching only what the closure needs.
 */
async function installOnClient(on, names, link) {
  await on(['install', ...names, '--remote', 'origin', '--link', link, '--no-progress']);
}

/** `trove(args)` runs the CLI (later `--repo` options win); `dir` is the demo's scratch directory. */
export async function demoPackages(trove, dir, opts = {}) {
  const bin = opts.bin;
  process.stdout.write('\n== Real packages: Debian\'s hello and its dependencies, served and installed by name ==\n');
  const closure = spawnSync('apt-get', ['--version']).status === 0 ? aptClosure(TOP) : { why: 'apt-get is not available' };
  const got = closure.pkgs ? debs(closure.pkgs) : closure;
  if (!got.files) {
    process.stdout.write(`skipping this step: ${got.why}\n`);
    return;
  }
  process.stdout.write(`apt's closure of ${TOP.join(' ')}: ${closure.pkgs.map((p) => `${p.name} ${p.version}`).join(', ')}\n`);
  const server = join(dir, 'pkg-server');
  const client = join(dir, 'pkg-client');
  const link = join(dir, 'pkg-system');
  await trove(['--repo', server, 'init']);
  await trove(['--repo', server, 'pkg', 'add', ...got.files, '--no-update-summary', '--no-progress'], { quiet: true });
  await trove(['--repo', server, 'pkg', 'list']);
  await trove(['--repo', server, 'summary']);
  const http = await serve(bin, server);
  process.stdout.write(`(trove serve: ${http.url})\n`);
  try {
    const on = (args, o) => trove(['--repo', client, ...args], o);
    await on(['init']);
    await on(['remote', 'add', 'origin', http.url]);
    await installOnClient(on, TOP, link);
  } finally {
    http.stop();
  }
  await trove(['--repo', client, 'gen', 'show']);
  const libdir = join(link, 'lib', 'x86_64-linux-gnu');
  const loader = join(libdir, 'ld-linux-x86-64.so.2');
  if (!existsSync(loader)) {
    process.stdout.write(`${link}/usr/bin: ${readdirSync(join(link, 'usr', 'bin')).join('  ')}\n`);
    return;
  }
  // The generation's own loader and libc, not the host's.
  const args = ['--library-path', libdir, join(link, 'usr', 'bin', 'hello'), '--greeting=hello from a trove generation'];
  process.stdout.write(`\n$ ${loader} ${args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}\n`);
  const { stdout } = await run(loader, args);
  process.stdout.write(stdout);
}
