#!/usr/bin/env node
// Set-up for `npm test`, `npm run demo` and `npm run bench` on a fresh machine:
// installs npm dependencies when missing or stale, the Debian packages the
// chosen job needs (as root; otherwise says what to install), and builds dist/.
// Uses only Node built-ins, because it runs before node_modules exists.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const job = process.argv[2] ?? '--build';

/** What trove's native parts are built with (scripts/build-native.mjs): the libfuse 3 binding, the checkout's link threads, the calls on many files at once. */
const NATIVE = [
  ['libfuse3-dev', '/usr/include/fuse3/fuse.h'],
  ['pkgconf', '/usr/bin/pkg-config'],
  ['gcc', '/usr/bin/gcc'],
];

/** Debian packages per job: [package, a file it provides]. */
const DEBIAN = {
  '--build': [],
  // mount: activation checkouts are read-only bind mounts when running as root.
  '--demo': [['libfuse2', '/usr/lib/x86_64-linux-gnu/libfuse.so.2'], ['fuse3', '/usr/bin/fusermount3'], ['mount', '/usr/bin/mount'], ...NATIVE],
  // Every system tool the tests run. The last group is Essential on Debian and
  // normally present; it is listed so that a trimmed image says what is missing.
  '--test': [
    ['libfuse2', '/usr/lib/x86_64-linux-gnu/libfuse.so.2'],
    ['fuse3', '/usr/bin/fusermount3'],
    ['nginx-light', '/usr/sbin/nginx'],
    ['git', '/usr/bin/git'],
    ['xz-utils', '/usr/bin/xz'],
    ['zstd', '/usr/bin/zstd'],
    ['binutils', '/usr/bin/ar'],
    ['apt', '/usr/bin/apt-get'],
    ['dpkg', '/usr/bin/dpkg-deb'],
    ['tar', '/usr/bin/tar'],
    ['coreutils', '/usr/sbin/chroot'],
    ['util-linux', '/usr/bin/flock'],
    ['util-linux', '/sbin/runuser'],
    ['bsdutils', '/usr/bin/script'],
    ['findutils', '/usr/bin/find'],
    ['diffutils', '/usr/bin/diff'],
    // Activation checkouts are read-only bind mounts as root.
    ['mount', '/usr/bin/mount'],
    ['util-linux', '/usr/bin/unshare'],
    // A hard-link checkout that starts from another runs cp under setpriv --pdeathsig.
    ['util-linux', '/usr/bin/setpriv'],
    // The page-cache test of the view's read-ahead counts resident pages (test/stat-at.test.ts).
    ['util-linux-extra', '/usr/bin/fincore'],
    ['dpkg', '/usr/bin/dpkg-query'],
    ['apt', '/usr/bin/apt-cache'],
    ['dash', '/bin/sh'],
    ['bash', '/bin/bash'],
    // Shell completion and man pages are tested in the shells and with man.
    ['zsh', '/usr/bin/zsh'],
    ['man-db', '/usr/bin/man'],
    // The race tests compile their attacker (test/helpers/race.ts).
    ['gcc', '/usr/bin/gcc'],
    // A certificate for the HTTPS remote of test/extra-ca.test.ts.
    ['openssl', '/usr/bin/openssl'],
    ...NATIVE,
  ],
  '--bench': [
    ['libfuse2', '/usr/lib/x86_64-linux-gnu/libfuse.so.2'],
    ['fuse3', '/usr/bin/fusermount3'],
    ['nginx-light', '/usr/sbin/nginx'],
    ['ostree', '/usr/bin/ostree'],
    ['squashfuse', '/usr/bin/squashfuse_ll'],
    ['squashfs-tools', '/usr/bin/mksquashfs'],
    ['curl', '/usr/bin/curl'],
    ['mount', '/usr/bin/mount'],
    ...NATIVE,
  ],
};

function log(msg) {
  process.stderr.write(`[setup] ${msg}\n`);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    log(`failed: ${cmd} ${args.join(' ')} (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

function ensureNpm() {
  const lock = readFileSync(join(root, 'package-lock.json'));
  const want = createHash('sha256').update(lock).update(readFileSync(join(root, 'package.json'))).digest('hex');
  const stamp = join(root, 'node_modules', '.trove-installed');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  // A node_modules that is a symlink is shared with another checkout (a git
  // worktree): npm ci here would empty it under that checkout. Install there.
  // (lstat, not existsSync: a link whose target is missing for a moment is still a link.)
  let shared = false;
  try {
    shared = lstatSync(join(root, 'node_modules')).isSymbolicLink();
  } catch {
    // no node_modules yet
  }
  if (shared) {
    log('node_modules is a symlink to another checkout\'s; not reinstalling it from here (run npm ci where it points if it is out of date)');
    return;
  }
  // The registry sometimes drops a connection: a few attempts before giving up.
  for (let attempt = 1; ; attempt++) {
    log(`installing npm dependencies (npm ci)${attempt > 1 ? `, attempt ${attempt} of 3` : ''}`);
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--fetch-retries=4'], { stdio: 'inherit', cwd: root });
    if (r.status === 0) break;
    if (attempt === 3) {
      log(`failed: npm ci (exit ${r.status ?? r.signal}); check the network and the npm registry, then run the command again`);
      process.exit(r.status || 1);
    }
    spawnSync('sleep', [String(5 * attempt)]);
  }
  writeFileSync(stamp, want);
}

function ensureDebian(list) {
  const missing = list.filter(([, file]) => !existsSync(file)).map(([pkg]) => pkg);
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) {
    log(`missing Debian packages: ${missing.join(' ')}`);
    log(`install them with: sudo apt-get install -y ${missing.join(' ')}`);
    process.exit(1);
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
}

function build() {
  const tsc = join(root, 'node_modules', '.bin', 'tsc');
  try {
    // Incremental, sharing its state with the tests' build (test/global-setup.ts).
    execFileSync(tsc, ['-p', 'tsconfig.json', '--incremental', '--tsBuildInfoFile', 'dist/.tsbuildinfo'], { cwd: root, stdio: 'inherit' });
  } catch {
    log('TypeScript build failed');
    process.exit(1);
  }
  // The CLI runs from one bundle (scripts/bundle.mjs), made from dist/.
  run(process.execPath, [join(root, 'scripts', 'bundle.mjs'), '--if-stale']);
  // The native parts (the view's libfuse 3 binding, the checkout's link
  // threads): required where the packages above were installed (root, or
  // present already); else each falls back (libfuse 2, a worker thread).
  const canBuild = NATIVE.every(([, file]) => existsSync(file));
  run(process.execPath, [join(root, 'scripts', 'build-native.mjs'), ...(canBuild ? [] : ['--if-can'])]);
}

if (!(job in DEBIAN)) {
  log(`unknown job ${job}; use one of ${Object.keys(DEBIAN).join(', ')}`);
  process.exit(2);
}
ensureDebian(DEBIAN[job]);
ensureNpm();
build();
