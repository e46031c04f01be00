// Scenario group "startup": what a short command costs end to end, against
// starting Node itself (`node -e 0`) on the same machine, in one run. The
// commands do a few milliseconds of work (status of a profile with two
// generations, switching between them, printing the version): the rest is
// Node's start-up and loading trove's code.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchError, log, median, rmrf, run } from './lib.mjs';
import { table } from './report.mjs';
import { REPO_ROOT } from './tools.mjs';

export const name = 'startup';
export const title = 'Start-up: short commands end to end against `node -e 0`';
export const requires = [];

const TROVE_JS = join(REPO_ROOT, 'bin', 'trove.js');
const TARGET = 1.25;
/** Runs per command: the measurement took nine each; short runs are cheap. */
const MIN_RUNS = 15;

/** Wall seconds of one run of `node ...args` (no wrapper process: GNU time would add its own start-up). */
function once(args, cwd) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new BenchError(`node ${args.join(' ')} failed (exit ${r.status ?? r.signal}): ${r.stderr}`);
  return seconds;
}

export async function runGroup(ctx) {
  const runs = Math.max(MIN_RUNS, ctx.runs * 5);
  const dir = mkdtempSync(join(ctx.cache, 'work-startup-'));
  const repo = join(dir, 'repo');
  const link = join(dir, 'current');
  const trove = (...args) => run(process.execPath, [TROVE_JS, '--repo', repo, ...args]);
  try {
    trove('init');
    for (const v of ['1', '2']) {
      const src = join(dir, `pkg-${v}`);
      mkdirSync(join(src, 'usr', 'bin'), { recursive: true });
      writeFileSync(join(src, 'usr', 'bin', 'tool'), `#!/bin/sh\necho ${v}\n`, { mode: 0o755 });
      trove('pkg', 'add', src, '--name', 'tool', '--arch', 'amd64', '--version', v);
      trove('gen', 'build', `tool`);
    }
    trove('switch', '1', '--link', link);
    const cases = [
      ['node -e 0', ['-e', '0']],
      ['trove --version', [TROVE_JS, '--version']],
      ['trove status', [TROVE_JS, '--repo', repo, 'status']],
      ['trove switch N', null],
    ];
    const samples = Object.fromEntries(cases.map(([label]) => [label, []]));
    log(`startup: ${runs} runs of each command, interleaved`);
    let gen = 1;
    for (let r = 0; r < runs; r++) {
      for (const [label, args] of cases) {
        if (args) samples[label].push(once(args, dir));
        else {
          gen = 3 - gen;
          samples[label].push(once([TROVE_JS, '--repo', repo, 'switch', String(gen), '--link', link], dir));
        }
      }
    }
    return { name, title, runs, samples };
  } finally {
    rmrf(dir);
  }
}

export function render(res) {
  const base = median(res.samples['node -e 0']);
  const rows = Object.entries(res.samples).map(([label, xs]) => {
    const m = median(xs);
    const ratio = m / base;
    const isBase = label === 'node -e 0';
    return [label, (m * 1000).toFixed(1), isBase ? '1.00×' : `${ratio.toFixed(2)}×`,
      isBase ? '' : `≤ ${TARGET}× node -e 0`, isBase ? '' : ratio <= TARGET ? 'pass' : `FAIL (${ratio.toFixed(2)}×)`];
  });
  return [`### ${res.title}`, '',
    table(['command', 'median ms', 'against node -e 0', 'target', 'result'], rows), '',
    `- ${res.runs} runs of each, interleaved; wall time of the process from spawn to exit. \`trove switch N\` alternates between two generations.`,
  ].join('\n');
}
