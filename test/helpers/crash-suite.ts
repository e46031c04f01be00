// Crash consistency: every state-changing command is run as a real process (bin/trove.js, which runs
// dist/) and killed with SIGKILL at every named crash point (src/util/crash-point.ts, through
// TROVE_CRASH_AT) and at random moments. After each kill the repository must pass fsck, hold every
// object reachable from its refs and profiles, have every ref at its old or its new value and every
// profile link valid; the next ordinary commands must succeed and leave no temp file behind.
// Each kill starts from a fresh copy of a prepared repository. TROVE_CRASH_LONG=1 tries many more
// random moments (docs/reliability.md has the table).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it as vitestIt } from 'vitest';
import { decodeCommit, decodeTree } from '../../src/format/codec.js';
import { CRASH_POINTS, type CrashOp } from '../../src/util/crash-point.js';
import { trove, troveOk, TROVE_BIN } from './cli.js';
import { type Nginx, startNginx } from './nginx.js';
import { removeTree, sh, tmpdir } from './tmp.js';

const LONG = process.env.TROVE_CRASH_LONG === '1';
/** Kills per operation, named points included. */
const PER_OP = LONG ? 150 : 25;
/** Kills run side by side, each in its own copy (a prepared work directory per slot). */
const SLOTS = 3;

/** Writes `files` files of 200–2000 random bytes over 12 directories; `tag` varies the names. */
function makeTree(dir: string, files: number, tag: string): void {
  for (let i = 0; i < files; i++) {
    const sub = join(dir, `d${i % 12}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `${tag}${i}`), randomBytes(200 + ((i * 97) % 1800)));
  }
}

const objPath = (repo: string, id: string) => join(repo, 'objects', id.slice(0, 2), id.slice(2));
const hasObject = (repo: string, id: string) => existsSync(objPath(repo, id));
const readId = (path: string) => readFileSync(path, 'utf8').trim();

/** The commit a generation file or an active record names (the record is JSON; an older one was a bare id). */
function recordCommit(path: string): string {
  const text = readId(path);
  return text.startsWith('{') ? String((JSON.parse(text) as { commit?: unknown }).commit) : text;
}

/** Every ref file under refs/, by its path below refs/ (e.g. `heads/main`). */
function refMap(repo: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string, rel: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name), `${rel}${e.name}/`);
      else if (e.isFile()) out.set(`${rel}${e.name}`, readId(join(dir, e.name)));
    }
  };
  walk(join(repo, 'refs'), '');
  return out;
}

/** Profile generation files and active pointers: `profiles/<P>/<n|active>` → commit. */
function profileFiles(repo: string): Map<string, string> {
  const out = new Map<string, string>();
  const base = join(repo, 'profiles');
  if (!existsSync(base)) return out;
  for (const p of readdirSync(base)) {
    if (!statSync(join(base, p)).isDirectory()) continue;
    for (const n of readdirSync(join(base, p))) if (/^([0-9]+|active)$/.test(n)) out.set(`${p}/${n}`, recordCommit(join(base, p, n)));
  }
  return out;
}

/** The first missing object under `commit` (through parents, trees and package commits), or undefined. */
function firstMissing(repo: string, commit: string, seen: Set<string>): string | undefined {
  const todo = [commit];
  while (todo.length) {
    const id = todo.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    if (!hasObject(repo, id)) return id;
    const c = decodeCommit(readFileSync(objPath(repo, id)));
    todo.push(...c.parents, ...(c.generation?.packages.map((p) => p.commit) ?? []));
    const trees = [c.tree];
    while (trees.length) {
      const t = trees.pop()!;
      if (seen.has(t)) continue;
      seen.add(t);
      if (!hasObject(repo, t)) return t;
      for (const e of decodeTree(readFileSync(objPath(repo, t))).entries) {
        if (e.kind === 'dir') trees.push(e.id!);
        else if (e.kind === 'file' && !seen.has(e.id!)) {
          seen.add(e.id!);
          if (!hasObject(repo, e.id!)) return e.id!;
        }
      }
    }
  }
  return undefined;
}

/** Paths under `dir` whose names look like leftover temp files (`*.tmp`, `.…trove-…`). */
function tempLeftovers(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.name.endsWith('.tmp') || /^\..*\.trove-/.test(e.name)) out.push(p);
      if (e.isDirectory() && !e.isSymbolicLink()) walk(p);
    }
  };
  walk(dir);
  return out;
}

interface Ran {
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
  ms: number;
}

/** Runs `trove ARGS` as a process; SIGKILLs it after `killAfterMs` when given. */
function runProcess(args: string[], env: NodeJS.ProcessEnv, killAfterMs?: number): Promise<Ran> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [TROVE_BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TROVE_REPO: undefined, ...env } });
    let stderr = '';
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => p.kill('SIGKILL'), killAfterMs);
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, ms: Date.now() - started });
    });
  });
}

/** What one operation's kills start from and may end at. */
interface Scenario {
  op: CrashOp;
  /** Work directories, one per slot (repository at `<work>/repo`, link at `<work>/ro`), each restored from `<work>.tpl` before a kill. */
  works: string[];
  args: string[];
  /** The values every ref and profile file may hold after a kill, beyond its template value: a predicate on the new one. */
  isNew: (key: string, id: string, repo: string, tpl: string) => boolean;
  /** Commits the link and the active pointer may show after a kill (switch: old and new; others: the template's), given the template repository. */
  linkCommits: (tpl: string) => string[];
  /**
   * The next ordinary commands, which must succeed: status after every kill, then the operation
   * again after every named point (and every random kill with TROVE_CRASH_LONG; a repeat costs as much as the kill).
   */
  next: string[][];
  /** Named points to kill at (with `#k` for repeated ones), and how many random moments to add. */
  named: string[];
}

/** Per-operation results, for the table in docs/reliability.md. */
const table: { op: string; named: number; random: number; killed: number; finished: number; failures: string[]; seconds: number }[] = [];

function restore(work: string): void {
  removeTree(work);
  sh('cp', ['-a', `${work}.tpl`, work]);
}

/** Checks the state a kill left, then runs the next commands and checks that nothing temporary is left. */
async function check(s: Scenario, work: string, label: string, repeat: boolean): Promise<string[]> {
  const repo = join(work, 'repo');
  const tpl = `${work}.tpl/repo`;
  const template = { refs: refMap(tpl), profiles: profileFiles(tpl) };
  const linkCommits = s.linkCommits(tpl);
  const problems: string[] = [];
  const fsck = await trove(['--repo', repo, 'fsck']);
  if (fsck.code !== 0) problems.push(`${label}: fsck exit ${fsck.code}: ${fsck.stdout}${fsck.stderr}`);
  const seen = new Set<string>();
  const refs = refMap(repo);
  for (const [name, id] of refs) {
    const old = template.refs.get(name);
    if (id !== old && !s.isNew(`refs/${name}`, id, repo, tpl)) problems.push(`${label}: ref ${name} is ${id}, neither its old value ${old} nor a new one`);
    const missing = firstMissing(repo, id, seen);
    if (missing) problems.push(`${label}: object ${missing} under ref ${name} is missing`);
  }
  for (const name of template.refs.keys()) if (!refs.has(name)) problems.push(`${label}: ref ${name} disappeared`);
  const profiles = profileFiles(repo);
  for (const [name, id] of profiles) {
    const old = template.profiles.get(name);
    if (id !== old && !s.isNew(`profiles/${name}`, id, repo, tpl)) problems.push(`${label}: profiles/${name} is ${id}, neither ${old} nor a new value`);
    const missing = firstMissing(repo, id, seen);
    if (missing) problems.push(`${label}: object ${missing} under profiles/${name} is missing`);
  }
  for (const name of template.profiles.keys()) {
    // gc and the other commands never remove a generation or the active pointer.
    if (!profiles.has(name)) problems.push(`${label}: profiles/${name} disappeared`);
  }
  const link = join(work, 'ro');
  if (lstatExists(link)) {
    const target = readlinkSync(link);
    const shown = basename(target);
    if (!linkCommits.includes(shown)) problems.push(`${label}: link points at ${target}, not a checkout of ${linkCommits.join(' or ')}`);
    if (!existsSync(join(link, '.'))) problems.push(`${label}: link ${link} does not resolve`);
    else if (readdirSync(link).length === 0) problems.push(`${label}: link ${link} shows an empty directory`);
    const active = profiles.get('system/active');
    if (active === undefined || !linkCommits.includes(active)) problems.push(`${label}: active record ${active} is not one of ${linkCommits.join(', ')}`);
  }
  for (const args of repeat ? s.next : s.next.slice(0, 1)) {
    const r = await trove(['--repo', repo, ...args]);
    if (r.code !== 0) problems.push(`${label}: next command trove ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  }
  const tmp = join(repo, 'tmp');
  const left = existsSync(tmp) ? readdirSync(tmp) : [];
  if (left.length) problems.push(`${label}: tmp/ holds ${left.join(', ')} after the next commands`);
  const stray = tempLeftovers(work);
  if (stray.length) problems.push(`${label}: temp files left: ${stray.join(', ')}`);
  return problems;
}

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Kills the operation at every named point and at random moments; returns the problems found. */
async function crashAll(s: Scenario, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const started = Date.now();
  const problems: string[] = [];
  // One run without a kill: it must succeed, and its duration spreads the random kills.
  const first = s.works[0]!;
  restore(first);
  const full = await runProcess(['--repo', join(first, 'repo'), ...s.args], env);
  expect(full.code, full.stderr).toBe(0);
  problems.push(...(await check(s, first, 'uninterrupted', true)));
  const row = { op: s.op, named: s.named.length, random: 0, killed: 0, finished: 0, failures: problems, seconds: 0 };
  table.push(row);
  const cases: ({ point: string } | { delay: number; repeat: boolean })[] = s.named.map((point) => ({ point }));
  for (let i = s.named.length; i < PER_OP; i++) cases.push({ delay: Math.floor(full.ms * (0.15 + Math.random() * 0.8)), repeat: LONG });
  const unreached: string[] = [];
  const worker = async (work: string) => {
    const repo = join(work, 'repo');
    for (let c = cases.shift(); c; c = cases.shift()) {
      restore(work);
      const args = ['--repo', repo, ...s.args];
      if ('point' in c) {
        const r = await runProcess(args, { ...env, TROVE_CRASH_AT: c.point });
        // A named point that is never reached would make its case test nothing.
        if (r.signal !== 'SIGKILL') unreached.push(`${c.point} (exit ${r.code}: ${r.stderr})`);
        else row.killed++;
        problems.push(...(await check(s, work, `${s.op} killed at ${c.point}`, true)));
      } else {
        const r = await runProcess(args, env, c.delay);
        row.random++;
        if (r.signal === 'SIGKILL') row.killed++;
        else {
          row.finished++;
          if (r.code !== 0) problems.push(`${s.op}: run to be killed after ${c.delay} ms exited ${r.code}: ${r.stderr}`);
        }
        problems.push(...(await check(s, work, `${s.op} killed after ${c.delay} ms`, c.repeat)));
      }
    }
  };
  await Promise.all(s.works.map(worker));
  row.seconds = (Date.now() - started) / 1000;
  expect(unreached, `${s.op} never reached these crash points`).toEqual([]);
  return problems;
}

/** Named points of `op`, a repeated one at the first, middle and last of `count` times. */
function namedPoints(op: CrashOp, counts: Record<string, number>): string[] {
  const out: string[] = [];
  for (const p of CRASH_POINTS) {
    if (!p.ops.includes(op)) continue;
    if (!p.repeated) {
      if (counts[p.name] !== 0) out.push(p.name);
      continue;
    }
    const n = counts[p.name] ?? 1;
    for (const k of new Set([1, Math.ceil(n / 2), n])) if (k >= 1) out.push(`${p.name}#${k}`);
  }
  return out;
}

/** The commit a ref file holds, in a repository. */
const refOf = (repo: string, ref: string) => readId(join(repo, 'refs', ref));
const commitOf = (repo: string, id: string) => decodeCommit(readFileSync(objPath(repo, id)));

// 25 kills and their checks take about a minute per command on an idle 2-core machine, several under load.
/** The commands the crash test kills, by the name of their test. */
export type CrashTest = 'commit' | 'pkg add' | 'gen build' | 'switch' | 'gc' | 'pull';

/**
 * The crash-consistency tests of the commands in `only`. Two test files share
 * them (test/crash-*.slow.test.ts), so that the suite's two workers run them
 * side by side.
 */
export function crashSuite(only: CrashTest[]): void {
describe(`crash consistency: ${only.join(', ')} killed with SIGKILL at every crash point and at random moments`, { timeout: LONG ? 3_600_000 : 600_000 }, () => {
  const it = (name: CrashTest, fn: () => Promise<void>) => {
    if (only.includes(name)) vitestIt(name, fn);
  };
  const base = tmpdir('trove-crash');
  const treeA = join(base, 'A');
  const treeB = join(base, 'B');
  const treeC = join(base, 'C');
  let nginx: Nginx | undefined;

  beforeAll(() => {
    makeTree(treeA, 300, 'a');
    // B: the same directories, a third of A's files changed and 150 new ones.
    sh('cp', ['-a', treeA, treeB]);
    for (let i = 0; i < 300; i += 3) writeFileSync(join(treeB, `d${i % 12}`, `a${i}`), randomBytes(300));
    makeTree(treeB, 150, 'b');
    makeTree(treeC, 200, 'c');
  });

  afterAll(async () => {
    await nginx?.stop();
    // The figures, for docs/reliability.md.
    console.log(table.map((r) => `${r.op}: ${r.named} named, ${r.random} random (${r.killed} killed, ${r.finished} finished first), ${r.failures.length} failures, ${r.seconds} s`).join('\n'));
  });

  /** Work directories, one per slot, each with a repository prepared by `fn` and saved as its template. */
  async function prepare(tag: string, fn: (repo: string, work: string) => Promise<void>): Promise<string[]> {
    const works: string[] = [];
    for (let slot = 0; slot < SLOTS; slot++) {
      const work = join(base, `${tag}-${slot}`);
      const repo = join(work, 'repo');
      await troveOk(repo, 'init');
      await fn(repo, work);
      sh('cp', ['-a', work, `${work}.tpl`]);
      works.push(work);
    }
    return works;
  }

  /** A new commit on a ref: one whose parent is the old tip and whose tree is `tree`. */
  const isChild = (old: string, tree: string, id: string, repo: string) => {
    if (!hasObject(repo, id)) return false;
    const c = commitOf(repo, id);
    return c.tree === tree && c.parents.length === 1 && c.parents[0] === old;
  };

  it('commit', async () => {
    const works = await prepare('commit', async (repo) => {
      await troveOk(repo, 'commit', treeA, '-r', 'main', '--no-xattrs');
    });
    const probe = join(base, 'commit-probe');
    sh('cp', ['-a', `${works[0]}.tpl/repo`, probe]);
    const out = JSON.parse(await troveOk(probe, 'commit', treeB, '-r', 'main', '--no-xattrs', '--json')) as { tree: string; written: { objects: number } };
    const problems = await crashAll({
      op: 'commit',
      works,
      args: ['commit', treeB, '-r', 'main', '--no-xattrs'],
      isNew: (key, id, repo, tpl) => key === 'refs/heads/main' && isChild(refOf(tpl, 'heads/main'), out.tree, id, repo),
      linkCommits: () => [],
      next: [['status'], ['commit', treeB, '-r', 'main', '--no-xattrs']],
      named: namedPoints('commit', { 'txn:install': out.written.objects, 'refs:write': 1 }),
    });
    expect(problems).toEqual([]);
  });

  it('pkg add', async () => {
    const add = (src: string, version: string) => ['pkg', 'add', src, '--name', 'p', '--arch', 'all', '--version', version];
    const works = await prepare('pkg', async (repo) => {
      await troveOk(repo, ...add(treeA, '1'));
    });
    const probe = join(base, 'pkg-probe');
    sh('cp', ['-a', `${works[0]}.tpl/repo`, probe]);
    const out = JSON.parse(await troveOk(probe, ...add(treeB, '2'), '--json')) as { tree: string; written: { objects: number } };
    const problems = await crashAll({
      op: 'pkg-add',
      works,
      args: add(treeB, '2'),
      isNew: (key, id, repo, tpl) => key === 'refs/heads/pkg/p/all' && isChild(refOf(tpl, 'heads/pkg/p/all'), out.tree, id, repo),
      linkCommits: () => [],
      next: [['status'], add(treeB, '2')],
      named: namedPoints('pkg-add', { 'txn:install': out.written.objects, 'refs:write': 1 }),
    });
    expect(problems).toEqual([]);
  });

  it('gen build', async () => {
    const works = await prepare('gen', async (repo) => {
      await troveOk(repo, 'pkg', 'add', treeA, '--name', 'p1', '--arch', 'all', '--version', '1');
      await troveOk(repo, 'pkg', 'add', treeC, '--name', 'p2', '--arch', 'all', '--version', '1');
      await troveOk(repo, 'gen', 'build', 'p1');
    });
    const probe = join(base, 'gen-probe');
    sh('cp', ['-a', `${works[0]}.tpl/repo`, probe]);
    const out = JSON.parse(await troveOk(probe, 'gen', 'build', 'p1', 'p2', '--json')) as { tree: string; written: { objects: number } };
    const problems = await crashAll({
      op: 'gen-build',
      works,
      args: ['gen', 'build', 'p1', 'p2'],
      // Generation 2 may appear, holding a generation commit of the new tree.
      isNew: (key, id, repo) => key === 'profiles/system/2' && hasObject(repo, id) && commitOf(repo, id).tree === out.tree,
      linkCommits: () => [],
      next: [['status'], ['gen', 'build', 'p1', 'p2']],
      named: namedPoints('gen-build', { 'txn:install': out.written.objects }),
    });
    expect(problems).toEqual([]);
  });

  /** Two packages, generation 1 (p1) active at <work>/ro, generation 2 (p1 p2) built. */
  async function twoGenerations(repo: string, work: string): Promise<void> {
    await troveOk(repo, 'pkg', 'add', treeA, '--name', 'p1', '--arch', 'all', '--version', '1');
    await troveOk(repo, 'pkg', 'add', treeC, '--name', 'p2', '--arch', 'all', '--version', '1');
    await troveOk(repo, 'gen', 'build', 'p1');
    await troveOk(repo, 'gen', 'build', 'p1', 'p2');
    await troveOk(repo, 'switch', '1', '--link', join(work, 'ro'));
  }

  it('switch', async () => {
    const works = await prepare('switch', twoGenerations);
    const gen = (tpl: string, n: number) => readId(join(tpl, 'profiles/system', String(n)));
    const problems = await crashAll({
      op: 'switch',
      works,
      args: ['switch', '2'],
      isNew: (key, id, _repo, tpl) => key === 'profiles/system/active' && id === gen(tpl, 2),
      linkCommits: (tpl) => [gen(tpl, 1), gen(tpl, 2)],
      next: [['status'], ['switch', '2']],
      // Two atomic replacements: the active record, then the link (its temp symlink beside the link).
      named: namedPoints('switch', { 'atomic:filled': 2 }),
    });
    expect(problems).toEqual([]);
  });

  it('gc', async () => {
    const works = await prepare('gc', async (repo, w) => {
      await twoGenerations(repo, w);
      await troveOk(repo, 'switch', '2', '--link', join(w, 'ro'));
      await troveOk(repo, 'gen', 'prune', '--keep', '1');
      await troveOk(repo, 'commit', treeB, '-r', 'junk', '--no-xattrs');
      await troveOk(repo, 'commit', treeC, '-r', 'junk', '--no-xattrs');
      await troveOk(repo, 'refs', 'delete', 'junk');
    });
    const probe = join(base, 'gc-probe');
    sh('cp', ['-a', `${works[0]}.tpl/repo`, probe]);
    const out = JSON.parse(await troveOk(probe, 'gc', '--json')) as { deleted: { objects: number }; checkouts: string[] };
    expect(out.checkouts.length).toBeGreaterThan(0);
    expect(out.deleted.objects).toBeGreaterThan(100);
    const problems = await crashAll({
      op: 'gc',
      works,
      args: ['gc'],
      isNew: () => false,
      linkCommits: (tpl) => [readId(join(tpl, 'profiles/system/2'))],
      next: [['status'], ['gc']],
      named: namedPoints('gc', { 'gc:delete': out.deleted.objects, 'gc:checkout-moved': out.checkouts.length, 'gc:checkout-removed': out.checkouts.length, 'gc:wave': 2, 'atomic:filled': 1 }),
    });
    expect(problems).toEqual([]);
  });

  it('pull', async () => {
    const server = join(base, 'server');
    await troveOk(server, 'init');
    await troveOk(server, 'commit', treeA, '-r', 'main', '--no-xattrs');
    await troveOk(server, 'commit', treeC, '-r', 'other', '--no-xattrs');
    await troveOk(server, 'summary');
    nginx = await startNginx(server);
    const works = await prepare('pull', async (repo) => {
      await troveOk(repo, 'remote', 'add', 'origin', nginx!.url);
      await troveOk(repo, 'pull', 'origin');
    });
    const old = { main: refOf(server, 'heads/main'), other: refOf(server, 'heads/other') };
    // One ref by a pack, the other object by object: no packs of the summary's own (--no-deltas).
    await troveOk(server, 'commit', treeB, '-r', 'main', '--no-xattrs', '--no-update-summary');
    await troveOk(server, 'commit', treeA, '-r', 'other', '--no-xattrs', '--no-update-summary');
    await troveOk(server, 'delta', 'main~1', 'main', '--level', '1', '--no-update-summary');
    await troveOk(server, 'summary', '--no-deltas');
    const fresh = { main: refOf(server, 'heads/main'), other: refOf(server, 'heads/other') };
    expect(refOf(`${works[0]}.tpl/repo`, 'remotes/origin/main')).toBe(old.main);
    const probe = join(base, 'pull-probe');
    sh('cp', ['-a', `${works[0]}.tpl/repo`, probe]);
    const out = JSON.parse(await troveOk(probe, 'pull', 'origin', '--json')) as { fetched: { objects: number }; deltas: { used: string[] } };
    expect(out.deltas.used).toHaveLength(1);
    const problems = await crashAll({
      op: 'pull',
      works,
      args: ['pull', 'origin'],
      isNew: (key, id) => (key === 'refs/remotes/origin/main' && id === fresh.main) || (key === 'refs/remotes/origin/other' && id === fresh.other),
      linkCommits: () => [],
      next: [['status'], ['pull', 'origin']],
      named: namedPoints('pull', { 'pull:install': out.fetched.objects, 'refs:write': 2 }),
    });
    expect(problems).toEqual([]);
  });
});
}
