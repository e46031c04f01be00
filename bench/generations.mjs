// Scenario group "generations": building a generation from 100+ real Debian
// packages, switch and rollback with 10 and 500 packages, and the overhead of
// one bisect step. trove only: OSTree has no package union or bisect, and its
// deployments need a whole sysroot, so the ostree columns stay empty and the
// targets are checked in the notes.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { BenchError, log, median, rmrf, run, syncDisk, timeCmd } from './lib.mjs';
import { REPO_ROOT } from './tools.mjs';
import { ASKED, PACKAGES as RESOLVE_PACKAGES, resolverBench } from './resolve.mjs';

export const name = 'generations';
export const title = 'Generations: build, switch, rollback, bisect (trove only)';
export const requires = [['git', 'git']];

const TROVE_JS = join(REPO_ROOT, 'bin', 'trove.js');
const SIZES = [10, 500];
/** Swaps timed per size and run; the median is reported. */
const SWAPS = 7;
const BISECT_COMMITS = 1000;

const OPS = [
  { id: 'gen-build', label: 'gen build of every corpus package (CLI, end to end)', target: {} },
  ...SIZES.flatMap((n) => [
    { id: `switch-${n}`, label: `switch, ${n} packages (CLI)`, target: {} },
    { id: `rollback-${n}`, label: `rollback, ${n} packages (CLI)`, target: {} },
  ]),
  { id: 'bisect-step', label: `bisect, one step over ${BISECT_COMMITS} commits (in process)`, target: {} },
  { id: 'resolve', label: `resolver: closure of ${ASKED} names over ${RESOLVE_PACKAGES} generated packages (in process)`, target: {} },
];

const lib = (path) => import(pathToFileURL(join(REPO_ROOT, 'dist', path)).href);

function trove(repo, ...args) {
  return [TROVE_JS, ['--repo', repo, ...args]];
}

/** Adds every .deb of the corpus as a package (untimed set-up); returns names and file counts. */
async function addCorpus(repoPath, debsDir) {
  const { Repo } = await lib('repo/repo.js');
  const { addPackage } = await lib('system/packages/add.js');
  const repo = await Repo.open(repoPath);
  const debs = readdirSync(debsDir).filter((f) => f.endsWith('.deb')).sort();
  const names = [];
  let files = 0;
  try {
    for (const [i, f] of debs.entries()) {
      if (i % 20 === 0) log(`generations: pkg add ${i + 1}-${Math.min(i + 20, debs.length)} of ${debs.length}`);
      const r = await addPackage(repo, join(debsDir, f));
      names.push(`${r.info.name}/${r.info.arch}`);
      files += r.report.files + r.report.symlinks;
    }
  } finally {
    await repo.close();
  }
  return { names: [...new Set(names)], files };
}

/** Times the generation build in-process, split into reading package trees and the rest. */
async function buildBreakdown(repoPath, names) {
  const { Repo } = await lib('repo/repo.js');
  const { resolvePackage, parsePackageSpec } = await lib('system/packages/spec.js');
  const { buildGenerationTree } = await lib('system/generations/tree.js');
  const { readTree } = await lib('repo/objects.js');
  const repo = await Repo.open(repoPath);
  try {
    const inputs = [];
    for (const n of names) inputs.push(await resolvePackage(repo, parsePackageSpec(n)));
    const read = [];
    const store = {
      get: (id) => {
        read.push(id);
        return repo.store.get(id);
      },
      put: (bytes) => repo.store.put(bytes),
    };
    const t0 = performance.now();
    const built = await buildGenerationTree(store, inputs);
    const buildS = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    await Promise.all(read.map((id) => readTree(repo.store, id)));
    const readS = (performance.now() - t1) / 1000;
    return { buildS, readS, trees: read.length, conflicts: built.conflicts.length };
  } finally {
    await repo.close();
  }
}

/** `n` small synthetic packages (three files each, sharing bin/ and share/doc/) and two generations of them. */
async function syntheticProfile(repoPath, dir, n, profile) {
  const { Repo } = await lib('repo/repo.js');
  const { addPackage } = await lib('system/packages/add.js');
  const { buildGeneration } = await lib('system/generations/build.js');
  const repo = await Repo.open(repoPath);
  try {
    const specs = [];
    for (let i = 0; i < n; i++) {
      const pname = `${profile}-p${i}`;
      const src = join(dir, pname);
      mkdirSync(join(src, 'bin'), { recursive: true });
      mkdirSync(join(src, 'share', 'doc', pname), { recursive: true });
      writeFileSync(join(src, 'bin', pname), `#!/bin/sh\necho ${pname}\n`);
      writeFileSync(join(src, 'share', 'doc', pname, 'README'), `${pname}\n`);
      writeFileSync(join(src, 'share', 'doc', pname, 'copyright'), `copyright ${pname}\n`);
      await addPackage(repo, src, { name: pname, arch: 'amd64', version: '1.0' });
      specs.push({ name: pname, priority: 0 });
    }
    await buildGeneration(repo, { profile, specs });
    // The second generation differs by one package's new revision.
    const first = join(dir, `${profile}-p0`);
    writeFileSync(join(first, 'bin', `${profile}-p0`), `#!/bin/sh\necho ${profile}-p0 v2\n`);
    await addPackage(repo, first, { name: `${profile}-p0`, arch: 'amd64', version: '1.1' });
    await buildGeneration(repo, { profile, specs });
  } finally {
    await repo.close();
  }
}

/** A first-parent history of tiny commits on ref `hist`, broken from commit `fault` on. */
async function bisectHistory(repoPath, n, fault) {
  const { Repo } = await lib('repo/repo.js');
  const { writeCommit, writeTree } = await lib('repo/objects.js');
  const repo = await Repo.open(repoPath);
  try {
    const broken = (await repo.store.put(Buffer.from('broken\n'))).id;
    let parent;
    for (let i = 0; i < n; i++) {
      const content = Buffer.from(`${i}\n`);
      const file = { kind: 'file', mode: 0o644, uid: 0, gid: 0, xattrs: [] };
      const entries = [{ ...file, name: 'value', id: (await repo.store.put(content)).id, size: content.length }];
      if (i >= fault) entries.push({ ...file, name: 'broken', id: broken, size: 7 });
      const tree = await writeTree(repo.store, { entries });
      const root = { mode: 0o755, uid: 0, gid: 0, xattrs: [] };
      parent = await writeCommit(repo.store, { tree, root, parents: parent ? [parent] : [], subject: `${i}`, body: '', timestamp: i, metadata: [] });
    }
    await repo.refs.write('hist', parent);
  } finally {
    await repo.close();
  }
}

/** Bisects `hist` in process, timing each step (everything but the test itself). */
async function bisectSteps(repoPath, link) {
  const { Repo } = await lib('repo/repo.js');
  const { bisectMark, bisectReset, bisectStart } = await lib('system/bisect/bisect.js');
  const repo = await Repo.open(repoPath);
  try {
    let t = performance.now();
    let step = await bisectStart(repo, { ref: 'hist', good: 'hist~999', link });
    // Start walks the whole history once; steps are what repeats.
    const startS = (performance.now() - t) / 1000;
    let spent = 0;
    let steps = 0;
    while (step.current) {
      const verdict = existsSync(join(link, 'broken')) ? 'bad' : 'good';
      t = performance.now();
      step = await bisectMark(repo, verdict);
      spent += performance.now() - t;
      steps++;
    }
    await bisectReset(repo);
    return { perStep: spent / steps / 1000, startS, firstBad: step.firstBad };
  } finally {
    await repo.close();
  }
}

export async function runGroup(ctx) {
  const { cache, runs } = ctx;
  const dir = join(cache, 'work-generations');
  rmrf(dir);
  mkdirSync(dir, { recursive: true });
  const repo = join(dir, 'repo');
  const samples = Object.fromEntries(OPS.map((o) => [o.id, { trove: [], ostree: [] }]));
  const errors = Object.fromEntries(OPS.map((o) => [o.id, {}]));
  const lines = [];
  const warnings = [];
  try {
    run(...trove(repo, 'init'));
    const corpus = await addCorpus(repo, join(cache, 'debs'));
    log(`generations: ${corpus.names.length} packages, ${corpus.files} files`);

    let written;
    for (let r = 0; r < runs; r++) {
      // A new profile per run: the build always happens; objects already stored are not written again.
      // --no-deps: the corpus is a fixed list, not closed under dependencies; this row times the union build.
      const s = timeCmd(...trove(repo, 'gen', 'build', '--profile', `corpus${r}`, '--no-deps', '--json', ...corpus.names));
      samples['gen-build'].trove.push(s);
      written ??= JSON.parse(s.stdout).written.objects;
    }
    const b = await buildBreakdown(repo, corpus.names);
    const beyond = b.buildS - b.readS;
    const perHundred = (written / corpus.files) * 100;
    lines.push(
      `gen build of ${corpus.names.length} packages (${corpus.files} files, ${b.conflicts} conflicts): in-process ` +
        `${b.buildS.toFixed(3)} s, of which ${b.readS.toFixed(3)} s reading the ${b.trees} package trees it needs; ` +
        `${beyond.toFixed(3)} s beyond that (target < 1 s): ${beyond < 1 ? 'pass' : 'FAIL'}.`,
    );
    lines.push(
      `New objects of the first build: ${written}, ${perHundred.toFixed(2)} per 100 package files ` +
        `(target < 1): ${perHundred < 1 ? 'pass' : 'FAIL'}.`,
    );

    const link = join(dir, 'ro');
    for (const n of SIZES) {
      const profile = `s${n}`;
      await syntheticProfile(repo, join(dir, `src-${n}`), n, profile);
      // First activations make the checkouts (untimed); after that a switch is a symlink swap.
      run(...trove(repo, 'switch', '1', '--profile', profile, '--link', link));
      run(...trove(repo, 'switch', '2', '--profile', profile, '--link', link));
    }
    // Set-up writes are flushed first, and the sizes alternate, so neither pays for the other's writeback.
    syncDisk();
    for (let r = 0; r < runs * SWAPS; r++) {
      for (const n of r % 2 ? [...SIZES].reverse() : SIZES) {
        const profile = `s${n}`;
        samples[`switch-${n}`].trove.push(timeCmd(...trove(repo, 'switch', '2', '--profile', profile, '--link', link)));
        samples[`rollback-${n}`].trove.push(timeCmd(...trove(repo, 'rollback', '--profile', profile, '--link', link)));
      }
    }
    const med = (id) => median(samples[id].trove.map((x) => x.seconds));
    for (const op of ['switch', 'rollback']) {
      const ratio = med(`${op}-500`) / med(`${op}-10`);
      lines.push(`${op} with 500 packages / with 10: ${ratio.toFixed(2)}× (target: independent of size, ≤ 1.5×): ${ratio <= 1.5 ? 'pass' : 'FAIL'}.`);
    }

    const rb = await resolverBench(Math.max(5, runs));
    for (const ms of rb.all) samples.resolve.trove.push({ seconds: ms / 1000, maxRssKiB: NaN });
    lines.push(
      `resolver: the closure of ${ASKED} names over ${RESOLVE_PACKAGES} generated packages (${rb.closure} packages) took ` +
        `${rb.ms.toFixed(1)} ms (median wall clock, index building included: ${rb.indexMs.toFixed(1)} ms; CPU time ${rb.cpuMs.toFixed(1)} ms) in process (target < 200 ms): ${rb.ms < 200 ? 'pass' : 'FAIL'}.`,
    );

    await bisectHistory(repo, BISECT_COMMITS, 737);
    for (let r = 0; r < runs; r++) {
      run(...trove(repo, 'bisect', 'start', '--ref', 'hist', '--good', 'hist~999', '--link', link));
      const s = timeCmd(...trove(repo, 'bisect', 'run', '--json', '--', 'sh', '-c', `test ! -e ${link}/broken`));
      const res = JSON.parse(s.stdout);
      run(...trove(repo, 'bisect', 'reset'));
      const steps = await bisectSteps(repo, link);
      if (res.firstBad !== steps.firstBad) warnings.push('bisect run and in-process bisect disagree');
      samples['bisect-step'].trove.push({ seconds: steps.perStep, maxRssKiB: s.maxRssKiB });
      if (r === 0) {
        lines.push(
          `bisect over ${BISECT_COMMITS} commits: \`trove bisect run\` took ${res.steps} steps, ${s.seconds.toFixed(3)} s in all ` +
            `(CLI start-up and the test command included). In process, one step (mark, pick the next candidate, ` +
            `activate it: checkout of its tiny tree and symlink swap, save the state) took ${(steps.perStep * 1000).toFixed(1)} ms ` +
            `on average (target < 50 ms): ${steps.perStep < 0.05 ? 'pass' : 'FAIL'}; the start, which walks the history once, ` +
            `took ${steps.startS.toFixed(3)} s.`,
        );
      }
    }
  } catch (e) {
    if (!(e instanceof BenchError)) throw e;
    log(`generations FAILED:\n${e.message}`);
    warnings.push(`the group stopped early: ${e.message.split('\n')[0]}`);
  } finally {
    rmrf(dir);
  }
  return { name, title, ops: OPS, samples, errors, notes: { lines }, warnings };
}
