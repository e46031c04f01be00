import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * An attacker for race tests: a small C program that, for a bounded time,
 * swaps pairs of paths with renameat2(RENAME_EXCHANGE) as fast as it can
 * (both names always exist, each now one thing, now the other). A pair
 * where one side is missing is swapped with two plain renames instead, so
 * that the name is, for a moment, the other thing (only when a side is
 * missing: a failed exchange of two existing names is just retried). It prints how many swaps
 * succeeded. Without gcc, the same loop in Python (ctypes renameat2).
 */
const C_SOURCE = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
int main(int argc, char **argv) {
  double secs = atof(argv[1]);
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  long swaps = 0;
  for (long i = 0;; i++) {
    if ((i & 255) == 0) {
      clock_gettime(CLOCK_MONOTONIC, &t);
      if ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 > secs) break;
    }
    for (int p = 2; p + 1 < argc; p += 2) {
      if (syscall(SYS_renameat2, AT_FDCWD, argv[p], AT_FDCWD, argv[p + 1], RENAME_EXCHANGE) == 0) swaps++;
      else if (errno == ENOENT && rename(argv[p + 1], argv[p]) == 0) { swaps++; rename(argv[p], argv[p + 1]); }
    }
  }
  printf("%ld\n", swaps);
  return 0;
}
`;

const PY_SOURCE = String.raw`
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
secs = float(sys.argv[1]); pairs = [(sys.argv[i].encode(), sys.argv[i + 1].encode()) for i in range(2, len(sys.argv) - 1, 2)]
end = time.monotonic() + secs; swaps = 0
while time.monotonic() < end:
    for a, b in pairs:
        if libc.renameat2(-100, a, -100, b, 2) == 0: swaps += 1
        elif ctypes.get_errno() == 2:
            try:
                os.rename(b, a); swaps += 1; os.rename(a, b)
            except OSError: pass
print(swaps)
`;

/** Builds the attacker in `dir`; returns the command that runs it. */
export function buildAttacker(dir: string): string[] {
  const gcc = spawnSync('gcc', ['--version']);
  if (!gcc.error && gcc.status === 0) {
    const src = join(dir, 'attacker.c');
    const bin = join(dir, 'attacker');
    writeFileSync(src, C_SOURCE);
    const r = spawnSync('gcc', ['-O2', '-o', bin, src], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`gcc failed: ${r.stderr}`);
    chmodSync(bin, 0o755);
    return [bin];
  }
  const py = join(dir, 'attacker.py');
  writeFileSync(py, PY_SOURCE);
  chmodSync(py, 0o644);
  return ['python3', py];
}

/**
 * Runs the attacker as user `nobody` for `seconds`, swapping each pair of
 * paths; resolves with the number of swaps it made.
 */
export function runAttacker(cmd: string[], seconds: number, pairs: [string, string][]): { done: Promise<number> } {
  const child = spawn('runuser', ['-u', 'nobody', '--', ...cmd, String(seconds), ...pairs.flat()], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`attacker exited ${code}: ${err}`));
      else resolve(Number(out.trim()));
    });
  });
  return { done };
}
