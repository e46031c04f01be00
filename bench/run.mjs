#!/usr/bin/env node
// `npm run bench [-- --runs N | --quick] [--only store,...] [--no-docs]`
// Builds or reuses the Debian corpus, runs the selected scenario groups with
// trove and OSTree side by side, prints the tables and rewrites the generated
// section of docs/benchmarks.md.
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { mkdirSync } from 'node:fs';
import { BenchError, cleanupTimeDir, human, lockCache, log, requireTools, run, TIME, waitQuiet } from './lib.mjs';
import { describeCorpus, ensureDebs, ensureRoot, ensureWorkCopy } from './corpus.mjs';
import { renderGroup, renderHeader, writeDocs } from './report.mjs';
import { ostree, REPO_ROOT, trove } from './tools.mjs';

/** Scenario groups, in the order they run. Add FUSE, pull and switch groups here. */
const GROUPS = {
  store: () => import('./store.mjs'),
  generations: () => import('./generations.mjs'),
  pull: () => import('./pull.mjs'),
  install: () => import('./install.mjs'),
  link: () => import('./link.mjs'),
  fuse: () => import('./fuse.mjs'),
  pkgadd: () => import('./pkgadd.mjs'),
  startup: () => import('./startup.mjs'),
  workload: () => import('./workload.mjs'),
  lazy: () => import('./lazy.mjs'),
  scale: () => import('./scale.mjs'),
};

const USAGE = `usage: npm run bench -- [--runs N | --quick] [--only ${Object.keys(GROUPS).join(',')}] [--no-docs] [--no-wait]
  --runs N     repeat every timed operation N times and report medians (default 3)
  --quick      same as --runs 1
  --only LIST  run only these comma-separated groups
  --no-docs    do not rewrite docs/benchmarks.md
  --no-wait    start at once instead of waiting (up to 10 min) for a load average below 1
environment: TROVE_BENCH_CACHE (default /var/cache/trove-bench) holds the corpus and work dirs;
  TROVE_BENCH_SCALE_SIZES (default 100k,1m) the repository sizes of the group scale`;

function parseArgs(argv) {
  const opts = { runs: 3, only: Object.keys(GROUPS), docs: true, wait: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--runs') opts.runs = Number(value());
    else if (a.startsWith('--runs=')) opts.runs = Number(a.slice(7));
    else if (a === '--quick') opts.runs = 1;
    else if (a === '--only') opts.only = value().split(',').filter(Boolean);
    else if (a.startsWith('--only=')) opts.only = a.slice(7).split(',').filter(Boolean);
    else if (a === '--no-docs') opts.docs = false;
    else if (a === '--no-wait') opts.wait = false;
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else usage(`unknown argument ${a}`);
  }
  if (!Number.isInteger(opts.runs) || opts.runs < 1) usage('--runs needs a positive integer');
  for (const g of opts.only) if (!(g in GROUPS)) usage(`unknown group ${g}`);
  return opts;
}

function usage(msg) {
  console.error(`bench: ${msg}\n${USAGE}`);
  process.exit(2);
}

function machine(cache) {
  const fs = run('findmnt', ['-n', '-o', 'FSTYPE', '-T', cache], { allowFail: true }).stdout.trim() || 'unknown';
  return `${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), ${human(totalmem())} RAM, ` +
    `Linux ${release()}, ${fs} filesystem for the corpus and repositories`;
}

async function main() {
  const argv = process.argv.slice(2);
  const opts = parseArgs(argv);
  const cache = resolve(process.env.TROVE_BENCH_CACHE || '/var/cache/trove-bench');
  if ((cache + sep).startsWith(REPO_ROOT + sep)) usage(`the cache ${cache} must be outside the repository`);
  requireTools([
    [TIME, 'time'], ['apt-get', 'apt'], ['apt-cache', 'apt'], ['dpkg-deb', 'dpkg'], ['cp', 'coreutils'],
    ['ostree', 'ostree'], ['git', 'git'],
  ]);
  const groups = [];
  for (const g of opts.only) {
    try {
      groups.push(await GROUPS[g]());
    } catch (e) {
      throw new BenchError(`cannot load the scenario group ${g}: ${e.message}`);
    }
  }
  requireTools(groups.flatMap((g) => g.requires ?? []));

  const troveProblem = trove.available();
  if (troveProblem) log(`warning: the trove CLI does not work yet; its half of every table will fail\n${troveProblem}`);

  mkdirSync(cache, { recursive: true });
  await lockCache(cache);
  const corpus = ensureRoot(cache, ensureDebs(cache));
  log(`corpus: ${describeCorpus(corpus)}`);
  const work = ensureWorkCopy(cache, corpus);

  const info = {
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    machine: machine(cache),
    corpus: describeCorpus(corpus),
    trove: trove.version(),
    ostree: ostree.version(),
    runs: opts.runs,
  };
  if (opts.wait) await waitQuiet(1, 10);
  info.loadStart = loadavg();
  info.date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  if (info.loadStart[0] > 0.5) log(`warning: load average ${info.loadStart[0].toFixed(2)}; other work on this machine skews the timings`);
  const sections = [];
  let failed = false;
  try {
    for (const g of groups) {
      log(`group ${g.name}: ${g.title}`);
      try {
        const res = await g.runGroup({ cache, corpus, work, runs: opts.runs });
        sections.push((g.render ?? renderGroup)(res));
      } catch (e) {
        // One broken group must not lose the others' results.
        log(`group ${g.name} failed:\n${e.stack ?? e}`);
        failed = true;
        sections.push(`### ${g.title}\n\nThe group failed:\n\n\`\`\`\n${String(e.message ?? e).trimEnd()}\n\`\`\``);
      }
    }
  } finally {
    cleanupTimeDir();
  }
  info.loadEnd = loadavg();
  const body = [renderHeader(info), ...sections].join('\n\n');
  console.log(`\n${body}\n`);
  if (opts.docs) {
    const docs = join(REPO_ROOT, 'docs', 'benchmarks.md');
    writeDocs(docs, body);
    log(`wrote ${docs}`);
  }
  if (failed) process.exitCode = 1;
}

main().catch((e) => {
  if (e instanceof BenchError) {
    console.error(`bench: ${e.message}`);
    process.exit(1);
  }
  throw e;
});
