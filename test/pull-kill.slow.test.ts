// A stress test, in the `slow` project (npm run test:fast leaves it out): pulls killed again and again.
// The pulls that are killed are real processes (bin/trove.js): only a process can be ended by SIGKILL
// at an arbitrary point; the pull that resumes, and the other commands, run in this process.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCommit, decodeTree } from '../src/format/codec.js';
import { type Nginx, startNginx } from './helpers/nginx.js';
import { trove, troveOk, TROVE_BIN } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';
import { objectIds } from './helpers/objects.js';


const read = (repo: string, id: string) => readFileSync(join(repo, 'objects', id.slice(0, 2), id.slice(2)));

/** Kinds and references of every object under a commit of a (complete) repository. */
function graph(repo: string, commit: string): Map<string, string[]> {
  const refs = new Map<string, string[]>();
  const c = decodeCommit(read(repo, commit));
  refs.set(commit, [c.tree]);
  const trees = [c.tree];
  while (trees.length) {
    const id = trees.pop()!;
    if (refs.has(id)) continue;
    const kids = decodeTree(read(repo, id)).entries.filter((e) => e.id).map((e) => e.id!);
    refs.set(id, kids);
    for (const e of decodeTree(read(repo, id)).entries) if (e.kind === 'dir') trees.push(e.id!);
  }
  return refs;
}

/** The store's invariant on an interrupted client: whatever it has, it has everything under. */
function expectClosed(client: string, g: Map<string, string[]>): void {
  const have = objectIds(client);
  const below = (id: string): string[] => (g.get(id) ?? []).flatMap((k) => [k, ...below(k)]);
  for (const id of have) if (g.has(id)) for (const k of below(id)) expect(have.has(k), `${id} is stored but not ${k} under it`).toBe(true);
}

/**
 * Starts a pull and SIGKILLs it at a random moment once it has stored
 * something new, or (`whenPack`) once a delta pack's download has begun
 * (up to `spreadMs` later); resolves how it ended.
 */
function pullKilled(client: string, spreadMs: number, extra: string[], whenPack = false): Promise<{ signal: NodeJS.Signals | null; code: number | null }> {
  const before = objectIds(client).size;
  const packing = (): boolean => readdirSync(join(client, 'tmp')).some((n) => n.startsWith('delta-') && (statSync(join(client, 'tmp', n), { throwIfNoEntry: false })?.size ?? 0) > 0);
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [TROVE_BIN, '--repo', client, 'pull', 'origin', 'main', '--json', ...extra], { stdio: 'ignore' });
    let timer: NodeJS.Timeout | undefined;
    const poll = setInterval(() => {
      if (timer || (whenPack ? !packing() : objectIds(client).size <= before)) return;
      timer = setTimeout(() => p.kill('SIGKILL'), Math.floor(Math.random() * spreadMs));
    }, 25);
    p.on('exit', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

function makeCorpus(dir: string, dirs: number, perDir: number, size: number): void {
  for (let d = 0; d < dirs; d++) {
    const sub = join(dir, `d${d % 10}`, `e${d}`);
    mkdirSync(sub, { recursive: true });
    for (let f = 0; f < perDir; f++) writeFileSync(join(sub, `f${f}`), randomBytes(size));
  }
  writeFileSync(join(dir, 'large'), randomBytes(3 << 20));
}

describe('a pull killed with SIGKILL and started again', () => {
  const base = tmpdir('trove-kill');
  const server = join(base, 'server');
  let nginx: Nginx;
  let commit: string;
  let g: Map<string, string[]>;

  beforeAll(async () => {
    const src = join(base, 'src');
    makeCorpus(src, 60, 40, 600);
    await troveOk(server, 'init');
    await troveOk(server, 'commit', src, '-r', 'main', '--no-xattrs');
    await troveOk(server, 'delta', '--from-empty', 'main', '--level', '1');
    await troveOk(server, 'summary');
    commit = readFileSync(join(server, 'refs/heads/main'), 'utf8').trim();
    g = graph(server, commit);
    // Slow only the delta pack down, so that it can be interrupted half-way.
    nginx = await startNginx(server, { deltaRate: '400k' });
  });
  afterAll(async () => nginx?.stop());

  async function interruptAndResume(extra: string[], kills: number, spreadMs: number, whenPack = false) {
    const client = join(tmpdir('trove-kill-client'), 'repo');
    await troveOk(client, 'init');
    await troveOk(client, 'remote', 'add', 'origin', nginx.url);
    const counts: number[] = [];
    for (let i = 0; i < kills; i++) {
      const r = await pullKilled(client, spreadMs, extra, whenPack);
      if (r.signal !== 'SIGKILL') break; // finished before the kill: nothing left to interrupt
      expect(readdirSync(join(client, 'refs'))).not.toContain('remotes');
      expectClosed(client, g);
      counts.push(objectIds(client).size);
    }
    const stored = objectIds(client);
    nginx.clearLog();
    const r = await trove(['--repo', client, 'pull', 'origin', 'main', '--json', ...extra]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.fetched.objects).toBe(g.size + countBlobsOnly(g) - stored.size);
    const refetched = nginx
      .accessLog()
      .filter((l) => l.path.startsWith('/objects/'))
      .map((l) => l.path.slice(9).replace('/', ''))
      .filter((id) => stored.has(id));
    expect(refetched).toEqual([]);
    expect(readFileSync(join(client, 'refs/remotes/origin/main'), 'utf8').trim()).toBe(commit);
    expect((await trove(['--repo', client, 'fsck'])).code).toBe(0);
    // A finished pull leaves no resume mark of a delta pack behind.
    expect(existsSync(join(client, 'resume')) ? readdirSync(join(client, 'resume')) : []).toEqual([]);
    return { counts, stored: stored.size, log: nginx.accessLog() };
  }

  /** Blobs are leaves: in the graph only as children. */
  function countBlobsOnly(graph: Map<string, string[]>): number {
    const leaves = new Set<string>();
    for (const kids of graph.values()) for (const k of kids) if (!graph.has(k)) leaves.add(k);
    return leaves.size;
  }

  it('object by object: resumes without fetching again what it stored, and the store stays closed', async () => {
    const { counts, stored } = await interruptAndResume(['--no-deltas', '--jobs', '2'], 3, 300);
    expect(counts.length).toBeGreaterThan(0); // at least one pull really was killed
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(g.size + countBlobsOnly(g));
  });

  it('through a delta pack: a kill during its download stores nothing from it; the restart finishes object by object, without the pack again', async () => {
    const { counts, log } = await interruptAndResume([], 1, 1500, true);
    expect(counts).toHaveLength(1);
    // The pack (about 4.5 MB at 400 KB/s) was still downloading: it is verified whole before anything in it is stored.
    expect(counts[0]).toBe(0);
    expect(log.some((l) => l.path.startsWith('/deltas/'))).toBe(false);
  });
});
