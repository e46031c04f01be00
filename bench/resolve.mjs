// The dependency resolver in process: the closure of 100 names over an index
// of 10,000 generated packages (several versions of some names, alternatives,
// version constraints, versioned and unversioned Provides, Multi-Arch
// foreign, cycles). Used by the generations group; also runs alone:
// `node bench/resolve.mjs [runs]` (after `npx tsc`).
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { prng as rng } from './prng.mjs';
import { REPO_ROOT } from './tools.mjs';

export const PACKAGES = 10000;
export const ASKED = 100;


/**
 * 10,000 candidates: 8,000 names, 2,000 of them in a second version. Each
 * depends on up to 6 lower-numbered names (a layered graph, like a
 * distribution's, plus some back edges that make cycles), some clauses
 * versioned, some with an alternative or a virtual name.
 */
export function generateCandidates(n = PACKAGES) {
  const rand = rng(42);
  const names = Math.floor(n * 0.8);
  const out = [];
  const dep = (i) => {
    const j = Math.floor(rand() * i);
    const r = rand();
    if (r < 0.3) return `p${j} (>= 1.${j % 3})`;
    if (r < 0.4) return `virt${j % 200} | p${j}`;
    if (r < 0.45) return `p${j}:any | p${Math.floor(j / 2)}`;
    return `p${j}`;
  };
  for (let i = 0; i < n; i++) {
    const k = i % names;
    const second = i >= names;
    const depends = new Set();
    const count = k === 0 ? 0 : Math.floor(rand() * 7);
    for (let d = 0; d < count; d++) depends.add(dep(k));
    if (k > 100 && rand() < 0.02) depends.add(`p${k + 1 + Math.floor(rand() * 50)}`); // a cycle, or a forward edge
    const provides = k % 40 === 0 ? [`virt${(k / 40) % 200}${k % 80 === 0 ? ` (= 1.${k})` : ''}`] : [];
    out.push({
      info: {
        name: `p${k}`,
        arch: k % 10 === 0 ? 'all' : 'amd64',
        version: second ? `1.${k % 3}.1-1` : `1.${k % 3}-1`,
        revision: 1,
        depends: [...depends].filter((d) => !d.startsWith(`p${n}`)).sort(),
        preDepends: [],
        provides,
        multiArch: k % 7 === 0 ? 'foreign' : k % 11 === 0 ? 'allowed' : '',
      },
      commit: i.toString(16).padStart(64, '0'),
      source: 'local',
    });
  }
  return out;
}

/** Median milliseconds of resolving the closure of 100 names, index building included. */
export async function resolverBench(runs = 5) {
  const { PackageIndex, resolve } = await import(pathToFileURL(join(REPO_ROOT, 'dist', 'system', 'packages', 'resolve.js')).href);
  const candidates = generateCandidates();
  const names = Math.floor(PACKAGES * 0.8);
  const asked = Array.from({ length: ASKED }, (_, i) => ({ name: `p${names - 1 - i * 37}` }));
  const times = [];
  const indexTimes = [];
  const cpuTimes = [];
  let size = 0;
  // One unmeasured warm-up: the CLI resolves once per process, but the
  // target is about the algorithm, not V8's start.
  resolve(candidates, asked, { arch: 'amd64' });
  for (let r = 0; r < runs; r++) {
    const cpu = process.cpuUsage();
    const t = performance.now();
    const index = new PackageIndex(candidates);
    const ti = performance.now();
    const res = resolve(index, asked, { arch: 'amd64' });
    times.push(performance.now() - t);
    const used = process.cpuUsage(cpu);
    cpuTimes.push((used.user + used.system) / 1000);
    indexTimes.push(ti - t);
    size = res.packages.length;
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { ms: med(times), indexMs: med(indexTimes), cpuMs: med(cpuTimes), all: times, closure: size };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await resolverBench(Number(process.argv[2] ?? 5));
  console.log(`closure of ${ASKED} names over ${PACKAGES} packages: ${r.closure} packages, median ${r.ms.toFixed(1)} ms, of which ${r.indexMs.toFixed(1)} ms building the index; CPU time ${r.cpuMs.toFixed(1)} ms (runs: ${r.all.map((t) => t.toFixed(1)).join(', ')})`);
}
