import { spawnSync } from 'node:child_process';
import { mkdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AptPackage, aptClosure, getAptDebs } from './helpers/debs.js';
import { mountRepo, skipFuse } from './helpers/fuse.js';
import { troveOk } from './helpers/cli.js';
import { type Nginx, startNginx } from './helpers/nginx.js';
import { sh, tmpdir } from './helpers/tmp.js';

/**
 * Real Debian 12 packages end to end: a server repository holds the
 * dependency closure of a few top-level packages, nginx serves it, a client
 * installs the top-level names only (its resolver finds the rest), and a C
 * compiler, make, perl and sqlite3 run chrooted into the FUSE view of the
 * active generation exactly as they run in a root made by `dpkg-deb -x` of
 * the same packages.
 *
 * The top-level names: the four programs, plus what a working toolchain and
 * root need that those four do not depend on:
 * - libc6-dev: gcc-12 only Recommends it, but without its headers, crt1.o
 *   and libc.so nothing compiles or links;
 * - dash: /bin/sh, which make runs every recipe line with;
 * - base-files: the root's skeleton (/tmp, /dev and /proc to mount on); it
 *   Pre-Depends on the virtual package awk, which mawk provides.
 * Debian 12's packages still ship /bin, /lib and /sbin as directories (the
 * /bin -> usr/bin links come from usrmerge or the installer, not from a
 * package), so both roots have the same layout without them.
 */
const TOP = ['gcc-12', 'make', 'perl', 'sqlite3', 'libc6-dev', 'dash', 'base-files'];

const HELLO_C = `#include <stdio.h>
#include <string.h>
int main(void) {
  const char *words[] = { "pear", "apple", "fig" };
  size_t total = 0;
  for (int i = 0; i < 3; i++) total += strlen(words[i]);
  printf("hello from gcc %s: %zu letters, %d\\n", __VERSION__, total, 6 * 7);
  return 0;
}
`;

const MAKEFILE = `CC = gcc-12
square: square.c
\t$(CC) -O2 -o $@ $<
run: square
\t./square 7
\t@echo "made by $(MAKE_VERSION) with $(SHELL)"
`;

const SQUARE_C = `#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) { long n = argc > 1 ? atol(argv[1]) : 0; printf("%ld squared is %ld\\n", n, n * n); return 0; }
`;

/** Each program and what it prints; run one by one with `/bin/sh -c` in the chroot. */
const PROGRAMS = [
  'gcc-12 -o /tmp/hello /tmp/hello.c && /tmp/hello',
  'make -C /tmp run',
  `perl -e 'print join(",", map { $_ * 2 } 1..5), "\\n"'`,
  "sqlite3 :memory: 'select 1+1;' 'select group_concat(x) from (select 3 as x union select 1 union select 2);'",
  // Only dash builtins: coreutils is not among the packages.
  'for f in /bin/sh /usr/bin/mawk /usr/include/stdio.h /usr/lib/x86_64-linux-gnu/crt1.o /usr/bin/ls; do if [ -e $f ]; then echo "$f yes"; else echo "$f no"; fi; done; [ -L /bin/sh ] && echo "/bin/sh is a symlink"',
];

/**
 * Runs PROGRAMS chrooted into `tree` in a private mount namespace: `tree`
 * bind-mounted on a fresh directory as the root, a writable tmpfs on its
 * /tmp (holding the sources), a tmpfs /dev with /dev/null, and /proc.
 * Returns everything printed, with each program's exit code.
 */
function runIn(tree: string, scratch: string): string {
  const root = join(scratch, `root-${basename(tree)}`);
  mkdirSync(root, { recursive: true });
  const src = join(scratch, 'src');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'hello.c'), HELLO_C);
  writeFileSync(join(src, 'square.c'), SQUARE_C);
  writeFileSync(join(src, 'Makefile'), MAKEFILE);
  const script = [
    'set -e',
    'mount --bind "$1" "$2"',
    'mount -t tmpfs -o mode=1777 tmpfs "$2/tmp"',
    'cp "$3"/hello.c "$3"/square.c "$3"/Makefile "$2/tmp/"',
    'mount -t tmpfs -o mode=755 tmpfs "$2/dev"',
    ': > "$2/dev/null"',
    'mount --bind /dev/null "$2/dev/null"',
    'mount -t proc proc "$2/proc"',
    'set +e',
    'root=$2',
    'shift 3',
    'for p in "$@"; do',
    '  printf "\\$ %s\\n" "$p"',
    '  chroot "$root" /bin/sh -c "cd /tmp && $p" 2>&1',
    '  echo "exit $?"',
    'done',
  ].join('\n');
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', tree, root, src, ...PROGRAMS], {
    encoding: 'utf8',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', HOME: '/tmp' },
    maxBuffer: 64 << 20,
  });
  expect(r.stderr, `setting up ${tree}`).toBe('');
  expect(r.status, `running in ${tree}`).toBe(0);
  return r.stdout;
}

/**
 * The client's install of `names` from the remote `origin`: resolved on the
 * client against the server's package index, fetching only the closure.
 */
async function installOnClient(client: string, names: string[], link: string): Promise<string> {
  // Resolved against the server's package index; only what the closure needs is fetched.
  return troveOk(client, 'install', ...names, '--remote', 'origin', '--link', link, '--no-progress', '--json');
}

interface GenPackage {
  name: string;
  arch: string;
  version: string;
  dependency?: boolean;
}

const skip = skipFuse() || (!process.env.CI && process.getuid?.() !== 0 && (console.log('skipping real packages: chroot and mounts need root'), true));

describe.skipIf(skip)('real Debian packages from a server, installed by name and run from the FUSE view', () => {
  let closure: AptPackage[];
  let debs: Map<string, string>;
  let server: string;
  let client: string;
  let mnt: string;
  let link: string;
  let scratch: string;
  let nginx: Nginx;
  let generation: GenPackage[];

  beforeAll(async () => {
    closure = aptClosure(TOP);
    const files = getAptDebs(closure);
    debs = new Map(closure.map((p, i) => [p.name, files[i]!]));
    const dir = tmpdir('trove-real-packages');
    server = join(dir, 'server');
    client = join(dir, 'client');
    mnt = join(dir, 'mnt');
    link = join(dir, 'system');
    scratch = join(dir, 'scratch');
    mkdirSync(scratch);

    await troveOk(server, 'init');
    // Every .deb in one process and one transaction.
    await troveOk(server, 'pkg', 'add', ...files, '--no-update-summary', '--no-progress');
    await troveOk(server, 'summary');
    nginx = await startNginx(server);

    await troveOk(client, 'init');
    await troveOk(client, 'remote', 'add', 'origin', nginx.url);
    await mountRepo(client, mnt);
    await installOnClient(client, TOP, link);
    generation = (JSON.parse(await troveOk(client, 'gen', 'show', '--json')) as { packages: GenPackage[] }).packages;
  }, 1_800_000);

  afterAll(async () => {
    await nginx?.stop();
  });

  it('the server holds the closure apt computes, and the client resolves the same packages from the names alone', async () => {
    expect(closure.length).toBeGreaterThan(50);
    const listed = JSON.parse(await troveOk(server, 'pkg', 'list', '--json')) as unknown[];
    expect(listed).toHaveLength(closure.length);
    const got = generation.map((p) => `${p.name}/${p.arch}=${p.version}`).sort();
    const apt = closure.map((p) => `${p.name}/${p.arch}=${p.version}`).sort();
    expect(got).toEqual(apt);
    expect(generation.filter((p) => !p.dependency).map((p) => p.name).sort()).toEqual([...TOP].sort());
    expect(generation.find((p) => p.name === 'mawk')?.dependency).toBe(true);
    // Everything came over HTTP from nginx.
    expect(nginx.accessLog().filter((l) => l.path.startsWith('/objects/') && l.status === 200).length).toBeGreaterThan(1000);
  });

  it('the active generation is shown through the FUSE view', async () => {
    const before = JSON.parse(await troveOk(client, 'status', '--json')) as { active: { generation: number; commit: string; target: string } };
    // Installed while the view was mounted, it is already active there; switching to it again keeps it so.
    await troveOk(client, 'switch', String(before.active.generation));
    const s = JSON.parse(await troveOk(client, 'status', '--json')) as { active: { generation: number; commit: string; target: string }; problem: string | null };
    expect(s.active.generation).toBe(1);
    expect(s.active.commit).toBe(before.active.commit);
    expect(s.problem).toBeNull();
    expect(readlinkSync(link)).toBe(join(mnt, 'commits', s.active.commit));
  });

  it('gcc-12, make, perl and sqlite3 run chrooted into the view as in a dpkg-deb -x root of the same packages', async () => {
    const ref = join(scratch, 'dpkg-root');
    mkdirSync(ref);
    for (const p of generation) {
      const deb = debs.get(p.name);
      expect(deb, `${p.name} is one of the downloaded packages`).toBeDefined();
      sh('dpkg-deb', ['-x', deb!, ref]);
    }
    const fromView = runIn(readlinkSync(link), scratch);
    const fromDpkg = runIn(ref, scratch);
    expect(fromView).toMatch(/\nhello from gcc 12\.2\.0: 12 letters, 42\nexit 0\n/);
    expect(fromView).toContain("\nmake: Entering directory '/tmp'\ngcc-12 -O2 -o square square.c\n./square 7\n7 squared is 49\nmade by 4.3 with /bin/sh\nmake: Leaving directory '/tmp'\nexit 0\n");
    expect(fromView).toContain('\n2,4,6,8,10\nexit 0\n');
    expect(fromView).toContain('\n2\n1,2,3\nexit 0\n');
    expect(fromView).toContain('\n/bin/sh yes\n/usr/bin/mawk yes\n/usr/include/stdio.h yes\n/usr/lib/x86_64-linux-gnu/crt1.o yes\n/usr/bin/ls no\n/bin/sh is a symlink\nexit 0\n');
    expect(fromView.match(/^exit 0$/gm)).toHaveLength(PROGRAMS.length);
    expect(fromView).toBe(fromDpkg);
  });
});
