// compareVersions and versionProblem against dpkg itself: thousands of
// generated and real version pairs go through `dpkg --compare-versions`, one
// shell loop per batch (not one spawned shell per pair), and every verdict
// must agree. The generator's seed is fixed and printed.
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compareVersions, versionProblem } from '../src/system/packages/version.js';
import { prng } from './helpers/prng.js';

const SEED = 0x7e57_d9c6;

const rand = prng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const chance = (p: number) => rand() < p;

function digits(): string {
  const n = chance(0.2) ? pick(['0', '00', '007', '0010']) : String(Math.floor(rand() * (chance(0.3) ? 100000 : 20)));
  return n;
}

function letters(): string {
  const alpha = 'abcxyzABCXZ';
  let s = '';
  for (let i = 1 + Math.floor(rand() * 3); i > 0; i--) s += pick([...alpha]);
  return s;
}

/** A run of version characters: digits, letters, separators, `~`; rarely ones dpkg only warns about. */
function token(revision: boolean): string {
  const r = rand();
  if (r < 0.4) return digits();
  if (r < 0.6) return letters();
  if (r < 0.93) return pick(revision ? ['.', '+', '~', '.', '~~'] : ['.', '+', '~', '-', '.', '~~', '+~']);
  // Characters outside dpkg's set (a warning, and the comparison goes on), non-ASCII included.
  return pick(['_', '%', 'é', 'ß', '!', '@']);
}

function part(revision: boolean, maxTokens: number): string {
  let s = chance(0.95) ? digits() : token(revision);
  for (let i = Math.floor(rand() * maxTokens); i > 0; i--) s += token(revision);
  return s;
}

/** A random version: optional epoch (sometimes in forms only strtol reads), upstream, optional revision. */
function version(): string {
  let v = '';
  if (chance(0.3)) v += `${pick(['0', '1', '2', '10', '01', '00', '+1', ' 1'].filter((e) => e !== ' 1' || chance(0.2)))}:`;
  v += part(false, 6);
  if (v.includes(':') && chance(0.05)) v += `:${digits()}`;
  if (chance(0.5)) v += `-${part(true, 4)}`;
  return v;
}

/** A version close to `v`: one small change of the kinds that decide real comparisons. */
function nearby(v: string): string {
  const i = Math.floor(rand() * (v.length + 1));
  switch (Math.floor(rand() * 9)) {
    case 0:
      return `${v}~${pick(['', 'rc1', 'beta', '1'])}`;
    case 1:
      return `${v}${pick(['.0', '0', '+b1', 'a', '.1'])}`;
    case 2:
      return v.slice(0, i) + pick(['0', '~', '.', 'a', '+']) + v.slice(i);
    case 3:
      return v.slice(0, i) + v.slice(i + 1);
    case 4:
      return v.replace(/\d+/, (d) => `0${d}`);
    case 5:
      return v.includes(':') ? v.slice(v.indexOf(':') + 1) : `0:${v}`;
    case 6:
      return v.includes('-') ? v.slice(0, v.lastIndexOf('-')) : `${v}-0`;
    case 7:
      return v.replace(/[a-z]/, (c) => c.toUpperCase());
    default:
      return v;
  }
}

/** Real versions: installed packages and every version apt knows. */
function realVersions(): string[] {
  const out = new Set<string>();
  const q = spawnSync('dpkg-query', ['-W', '-f=${Version}\n'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  for (const l of q.stdout.split('\n')) if (l) out.add(l);
  const a = spawnSync('apt-cache', ['dumpavail'], { encoding: 'utf8', maxBuffer: 512 << 20 });
  for (const m of a.stdout.matchAll(/^Version: (.+)$/gm)) out.add(m[1]!);
  return [...out];
}

/**
 * Runs `dpkg --compare-versions A OP B` for every triple, in `jobs` shell
 * loops side by side; returns per triple dpkg's exit status and what it
 * wrote to stderr (warnings, errors).
 */
async function dpkgBatch(triples: [string, string, string][], jobs = 2): Promise<{ rc: number; err: string }[]> {
  for (const t of triples) for (const s of t) if (/[\n\0]/.test(s)) throw new Error(`cannot pass ${JSON.stringify(s)} through the loop`);
  const script = 'while IFS= read -r a && IFS= read -r op && IFS= read -r b; do dpkg --compare-versions "$a" "$op" "$b" 2>&1; echo "@rc=$?"; done';
  const size = Math.ceil(triples.length / jobs);
  const chunks = Array.from({ length: jobs }, (_, k) => triples.slice(k * size, (k + 1) * size));
  const loop = (chunk: [string, string, string][]) =>
    new Promise<{ rc: number; err: string }[]>((resolve, reject) => {
      const child = spawn('sh', ['-c', script], { env: { ...process.env, LC_ALL: 'C' }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code !== 0) return reject(new Error(`the dpkg loop failed (exit ${code}): ${stderr}`));
        const out: { rc: number; err: string }[] = [];
        let err = '';
        for (const line of stdout.split('\n')) {
          const m = /^@rc=(\d+)$/.exec(line);
          if (m) {
            out.push({ rc: Number(m[1]), err });
            err = '';
          } else if (line !== '') err += `${line}\n`;
        }
        if (out.length !== chunk.length) return reject(new Error(`dpkg answered ${out.length} of ${chunk.length} questions`));
        resolve(out);
      });
      child.stdin.end(chunk.map((t) => `${t.join('\n')}\n`).join(''));
    });
  // Side by side: each loop is its own process.
  return (await Promise.all(chunks.map(loop))).flat();
}

const opOf = (c: number) => (c < 0 ? 'lt' : c === 0 ? 'eq' : 'gt');

/**
 * Asks dpkg, for every pair, whether our verdict holds (`lt`, `eq` or `gt`,
 * which between them pin the order). Returns the disagreements, and counts.
 */
async function checkPairs(pairs: [string, string][]): Promise<{ disagree: string[]; compared: number; refused: number }> {
  const ours = pairs.map(([a, b]) => compareVersions(a, b));
  const res = await dpkgBatch(pairs.map(([a, b], i) => [a, opOf(ours[i]!), b]));
  const disagree: string[] = [];
  let compared = 0;
  let refused = 0;
  for (const [i, [a, b]] of pairs.entries()) {
    const { rc, err } = res[i]!;
    if (rc === 2) {
      // dpkg refuses a version outright (a syntax error, not a warning): so must versionProblem.
      refused++;
      if (versionProblem(a) === null && versionProblem(b) === null) disagree.push(`dpkg refuses ${JSON.stringify(a)} vs ${JSON.stringify(b)}: ${err.trim()}`);
      continue;
    }
    compared++;
    if (rc !== 0) disagree.push(`compareVersions(${JSON.stringify(a)}, ${JSON.stringify(b)}) = ${ours[i]}, but dpkg says not ${opOf(ours[i]!)}`);
  }
  return { disagree, compared, refused };
}

describe('Debian version comparison against dpkg --compare-versions', () => {
  console.log(`version property test: seed 0x${SEED.toString(16)}`);

  it('agrees with dpkg on thousands of generated pairs (epochs, ~, letters, digits, leading zeros, revisions)', async () => {
    const pairs: [string, string][] = [];
    for (let i = 0; i < 1200; i++) pairs.push([version(), version()]);
    for (let i = 0; i < 1800; i++) {
      const a = version();
      pairs.push(chance(0.5) ? [a, nearby(a)] : [nearby(a), a]);
    }
    const r = await checkPairs(pairs);
    console.log(`generated pairs: ${r.compared} compared, ${r.refused} refused by dpkg, ${r.disagree.length} disagreements`);
    expect(r.disagree).toEqual([]);
    // The generator must mostly make versions dpkg compares, or the test proves little.
    expect(r.compared).toBeGreaterThan(2500);
    // And the verdicts must be spread over all three answers.
    const verdicts = new Set(pairs.map(([a, b]) => opOf(compareVersions(a, b))));
    expect([...verdicts].sort()).toEqual(['eq', 'gt', 'lt']);
  });

  it('agrees with dpkg on real versions (installed packages and the apt lists)', async () => {
    const real = realVersions();
    expect(real.length).toBeGreaterThan(500);
    const pairs: [string, string][] = [];
    for (let i = 0; i < 800; i++) pairs.push([pick(real), pick(real)]);
    // Neighbours in dpkg order are the hard cases: sort by our order, compare adjacent ones.
    const sorted = [...real].sort(compareVersions);
    for (let i = 0; i < 700; i++) {
      const k = Math.floor(rand() * (sorted.length - 1));
      pairs.push(chance(0.5) ? [sorted[k]!, sorted[k + 1]!] : [sorted[k + 1]!, sorted[k]!]);
    }
    const r = await checkPairs(pairs);
    console.log(`real pairs from ${real.length} versions: ${r.compared} compared, ${r.disagree.length} disagreements`);
    expect(r.disagree).toEqual([]);
    expect(r.refused).toBe(0);
  });

  it('versionProblem finds exactly the versions dpkg warns about or refuses', async () => {
    const fixed = [
      '1.0', '1:1.0-1', '0:0', ' 1.0 ', '\t2.0', '1.0 1', '1.0-', ':1.0', '1:', 'a1.0', '1.0_1', '1.0-1_1', '1:2:3-4',
      '-1:1.0', '+1:1.0', '01:1.0', '2147483647:1', '2147483648:1', '1.0-1-2', '1:-1', 'x:1.0', '1.0~rc1+dfsg-2~bpo12+1',
      '1.é', '1-é', '1.0-a b',
    ];
    const versions = [...fixed];
    for (let i = 0; i < 500; i++) versions.push(version());
    const res = await dpkgBatch(versions.map((v) => [v, 'eq', v]));
    const disagree: string[] = [];
    for (const [i, v] of versions.entries()) {
      const dpkgAccepts = res[i]!.rc === 0 && res[i]!.err === '';
      const problem = versionProblem(v);
      if (dpkgAccepts !== (problem === null)) {
        disagree.push(`${JSON.stringify(v)}: versionProblem says ${JSON.stringify(problem)}, dpkg says ${JSON.stringify(res[i]!.err.trim() || `exit ${res[i]!.rc}`)}`);
      }
    }
    expect(disagree).toEqual([]);
    // The sample holds both kinds.
    expect(versions.filter((v) => versionProblem(v) === null).length).toBeGreaterThan(100);
    expect(versions.filter((v) => versionProblem(v) !== null).length).toBeGreaterThan(20);
    // dpkg --compare-versions reads an empty argument as "no version"; as a version it is refused.
    expect(versionProblem('')).not.toBeNull();
    expect(versionProblem('  ')).not.toBeNull();
  });
});
