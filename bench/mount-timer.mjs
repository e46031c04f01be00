// Times a mount as its user sees it: `node bench/mount-timer.mjs PATH CMD ARGS...`
// runs CMD, then stats PATH until it answers, and prints one JSON line
// {"seconds", "stdout"}: from just before CMD starts until the stat answers.
// It is a small process of its own, started by bench/fuse.mjs before the
// clock starts (its own loading too is before the clock), and it stats
// PATH itself: timed from the bench's process (a spawn of /usr/bin/time
// around CMD, then a `stat` process per try), squashfuse_ll's mount showed
// 0.030 s for its 4-6 ms. See docs/benchmarks.md, "Mount ready, timed apart
// from the bench's process".
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';

const [path, cmd, ...args] = process.argv.slice(2);
if (!path || !cmd) {
  process.stderr.write('usage: node bench/mount-timer.mjs PATH CMD [ARGS...]\n');
  process.exit(2);
}
const nap = new Int32Array(new SharedArrayBuffer(4));
const t0 = process.hrtime.bigint();
const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
if (r.error || r.status !== 0) {
  process.stderr.write(`${cmd} failed (${r.error ? r.error.message : `exit ${r.status}`})\n${r.stderr ?? ''}`);
  process.exit(1);
}
for (let tries = 0; ; tries++) {
  try {
    statSync(path);
    break;
  } catch {
    if (tries >= 10_000) {
      process.stderr.write(`${path} never appeared\n`);
      process.exit(1);
    }
    Atomics.wait(nap, 0, 0, 1); // 1 ms between tries
  }
}
process.stdout.write(`${JSON.stringify({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, stdout: r.stdout })}\n`);
