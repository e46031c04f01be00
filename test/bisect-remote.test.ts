import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGeneration } from '../src/system/generations/build.js';
import { addPackage } from '../src/system/packages/add.js';
import { Repo } from '../src/repo/repo.js';
import { type Nginx, startNginx } from './helpers/nginx.js';
import { trove, troveOk } from './helpers/cli.js';
import { objectIds } from './helpers/objects.js';
import { tmpdir } from './helpers/tmp.js';

const N = 8;
const BROKEN = 6;

/** Generations 1..N of profile `system`: generation i adds data/d<i> (its own 8 KiB), and from BROKEN on bin/tool crashes. */
async function serverWithGenerations(path: string, src: string): Promise<string[]> {
  const repo = await Repo.init(path);
  const commits: string[] = [];
  try {
    mkdirSync(join(src, 'bin'), { recursive: true });
    mkdirSync(join(src, 'data'), { recursive: true });
    for (let i = 1; i <= N; i++) {
      writeFileSync(join(src, 'bin/tool'), i >= BROKEN ? 'crash\n' : `fine ${i}\n`);
      writeFileSync(join(src, 'data', `d${i}`), `generation ${i} `.repeat(600));
      await addPackage(repo, src, { name: 'tool', arch: 'amd64', version: `1.${i}` });
      commits.push((await buildGeneration(repo, { specs: [{ name: 'tool', priority: 0 }] })).commit);
    }
  } finally {
    await repo.close();
  }
  return commits;
}

function objectBytes(repo: string, ids: Iterable<string>): number {
  let n = 0;
  for (const id of ids) n += statSync(join(repo, 'objects', id.slice(0, 2), id.slice(2))).size;
  return n;
}

describe('bisect a remote’s published generations', () => {
  const base = tmpdir('trove-bisect-remote');
  const server = join(base, 'server');
  const client = join(base, 'client');
  const link = join(base, 'ro');
  let commits: string[];
  let nginx: Nginx;

  beforeAll(async () => {
    commits = await serverWithGenerations(server, join(base, 'src'));
    await troveOk(server, 'gen', 'publish');
    nginx = await startNginx(server);
    await troveOk(client, 'init');
    await troveOk(client, 'remote', 'add', 'origin', nginx.url);
  });
  afterAll(async () => nginx?.stop());

  it('pulls only the candidates it tests, says what each step fetched, and names the first bad generation', async () => {
    const start = JSON.parse(await troveOk(client, 'bisect', 'start', '--remote', 'origin', '--good', '1', '--bad', String(N), '--link', link, '--json'));
    // Candidates 2..7; the first is the middle one.
    expect(start.remote).toBe('origin');
    expect(start.generation).toBe(4);
    expect(start.current).toBe(commits[3]);
    expect(readFileSync(join(link, 'bin/tool'), 'utf8')).toBe('fine 4\n');
    // Only generation 4 is here: neither good nor bad nor the other candidates were pulled.
    const afterStart = objectIds(client);
    expect(start.fetched.objects).toBe(afterStart.size);
    expect(start.fetched.bytes).toBe(objectBytes(client, afterStart));
    for (const [i, c] of commits.entries()) expect(afterStart.has(c)).toBe(i === 3);

    const script = join(base, 'test.sh');
    writeFileSync(script, `#!/bin/sh\n! grep -q crash "$TROVE_BISECT_LINK/bin/tool"\n`);
    chmodSync(script, 0o755);
    const text = await troveOk(client, 'bisect', 'run', script);
    const tested = [...text.matchAll(/^testing remote origin generation (\d+) \(([0-9a-f]{64})\) at .*; fetched (\d+) objects \(([^)]+)\)\)$/gm)];
    expect(tested.length).toBeGreaterThan(0);
    for (const t of tested) expect(t[2]).toBe(commits[Number(t[1]) - 1]);
    expect(text).toContain(`first bad generation: remote origin generation ${BROKEN} (${commits[BROKEN - 1]})`);
    expect(text).toContain('M bin/tool');
    expect(text).toContain(`A data/d${BROKEN}`);

    // Every candidate tested is here, and nothing else but the one before the first bad one (the diff needs it).
    const s = JSON.parse(readFileSync(join(client, 'bisect.json'), 'utf8'));
    const testedCommits = new Set<string>(s.log.map((l: { commit: string }) => l.commit));
    const here = objectIds(client);
    for (const [i, c] of commits.entries()) {
      const needed = testedCommits.has(c) || i === BROKEN - 2 || i === BROKEN - 1;
      expect(here.has(c), `generation ${i + 1}`).toBe(needed);
    }
    expect(here.has(commits[0]!)).toBe(false);
    expect(here.has(commits[N - 1]!)).toBe(false);
    // What the steps fetched adds up to everything the client holds (it had nothing), each pull only what it lacked.
    const fetched = Object.values(s.fetched as Record<string, { objects: number; bytes: number }>);
    expect(fetched.reduce((a, f) => a + f.objects, 0)).toBe(here.size);
    expect(fetched.reduce((a, f) => a + f.bytes, 0)).toBe(objectBytes(client, here));
    const requested = nginx.accessLog().filter((l) => l.path.startsWith('/objects/')).map((l) => l.path.slice(9).replace('/', ''));
    expect(requested.sort()).toEqual([...here].sort());

    // gc and fsck see the session's roots that are here; the untested ones are not missing objects.
    await troveOk(client, 'fsck');
    await troveOk(client, 'bisect', 'reset');
    expect(existsSync(link)).toBe(false);
    expect(existsSync(join(client, 'bisect.json'))).toBe(false);
  });

  it('refuses generation numbers the remote does not publish, and --ref with --remote', async () => {
    const r = await trove(['--repo', client, 'bisect', 'start', '--remote', 'origin', '--good', '1', '--bad', '99', '--link', link]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`remote origin publishes no generation 99 of profile system (it publishes 1 to ${N})`);
    const ref = await trove(['--repo', client, 'bisect', 'start', '--remote', 'origin', '--good', '1', '--ref', 'x', '--link', link]);
    expect(ref.code).toBe(2);
    expect(existsSync(join(client, 'bisect.json'))).toBe(false);
  });

  it('bisect good and bad by hand, with remote generation numbers; only what is not here is fetched', async () => {
    // Candidates 4..7 and bad 8: 5 is tested first, and it is here from the bisect before.
    const first = JSON.parse(await troveOk(client, 'bisect', 'start', '--remote', 'origin', '--good', '3', '--link', link, '--json'));
    expect(first).toMatchObject({ generation: 5, fetched: { objects: 0, bytes: 0 } });
    // Marking 6 good by its remote number (as if it were): 7 is left, never pulled so far.
    expect(objectIds(client).has(commits[6]!)).toBe(false);
    const before = objectIds(client);
    await troveOk(client, 'bisect', 'good');
    const seventh = JSON.parse(await troveOk(client, 'bisect', 'good', '6', '--json'));
    expect(seventh.generation).toBe(7);
    const added = [...objectIds(client)].filter((id) => !before.has(id));
    expect(seventh.fetched).toEqual({ objects: added.length, bytes: objectBytes(client, added) });
    // Only generation 7's own file, its new trees and commit: data/d7 is the one file content it adds.
    expect(added).toContain(commits[6]);
    expect(readFileSync(join(link, 'data/d7'), 'utf8')).toBe('generation 7 '.repeat(600));
    const end = await troveOk(client, 'bisect', 'bad');
    expect(end).toContain(`first bad generation: remote origin generation 7 (${commits[6]}); fetched 0 objects (0 B)`);
    expect(end).toContain('A data/d7');
    await troveOk(client, 'bisect', 'reset');
  });
});
