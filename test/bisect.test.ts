import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verdictOf } from '../src/system/bisect/run.js';
import { readBisectState } from '../src/system/bisect/state.js';
import { buildGeneration } from '../src/system/generations/build.js';
import { readCommit, writeCommit } from '../src/repo/objects.js';
import { addPackage } from '../src/system/packages/add.js';
import { Repo } from '../src/repo/repo.js';
import { TROVE_BIN, trove, troveIn } from './helpers/cli.js';
import { history } from './helpers/fixtures.js';
import { tmpdir } from './helpers/tmp.js';

async function readBisectStateAt(repoPath: string) {
  const repo = await Repo.open(repoPath);
  try {
    return await readBisectState(repo);
  } finally {
    await repo.close();
  }
}

/** A repository whose profile `system` has generations 1..n; generation i holds revision i of `tool` (bin/tool). */
async function generations(dir: string, n: number, broken: number): Promise<string> {
  const repoPath = join(dir, 'repo');
  const repo = await Repo.init(repoPath);
  const src = join(dir, 'src');
  mkdirSync(join(src, 'bin'), { recursive: true });
  for (let i = 1; i <= n; i++) {
    writeFileSync(join(src, 'bin', 'tool'), i >= broken ? 'crash' : `fine ${i}`);
    await addPackage(repo, src, { name: 'tool', arch: 'amd64', version: `1.${i}` });
    await buildGeneration(repo, { specs: [{ name: 'tool', priority: 0 }] });
  }
  await repo.close();
  return repoPath;
}

/** A repository (repoPath) whose ref os/main has 64 commits, the 41st (ids[40]) and later broken; a link path beside it. */
async function brokenAt40(): Promise<{ repoPath: string; link: string; cli: ReturnType<typeof troveIn>; ids: string[] }> {
  const dir = tmpdir();
  const repoPath = join(dir, 'repo');
  const repo = await Repo.init(repoPath);
  const ids = await history(repo, 64, 40, 'os/main');
  await repo.close();
  return { repoPath, link: join(dir, 'ro'), cli: troveIn(repoPath), ids };
}

describe('bisect', () => {
  it('CLI: start, good, bad, skip and reset, on revisions, with a skip', async () => {
    const dir = tmpdir();
    const repoPath = join(dir, 'repo');
    const repo = await Repo.init(repoPath);
    const ids = await history(repo, 20, 13, 'os/main');
    // A branch off commit 5: not on the first-parent history of os/main.
    const side = await writeCommit(repo.store, { ...(await readCommit(repo.store, ids[6]!)), subject: 'side branch', parents: [ids[5]!] });
    await repo.refs.write('side', side);
    await repo.close();
    const link = join(dir, 'ro');
    const cli = troveIn(repoPath);
    expect((await cli('switch', 'os/main~19', '--link', link)).code).toBe(0);
    const before = readlinkSync(link);

    expect((await cli('bisect', 'good')).code).toBe(2);
    const offRef = await cli('bisect', 'start', '--ref', 'os/main', '--bad', 'side', '--good', 'os/main~19');
    expect(offRef.code).toBe(2);
    expect(offRef.stderr).toContain(`--bad side (${side.slice(0, 12)}) is not on the first-parent history of os/main`);
    expect(await readBisectStateAt(repoPath)).toBeUndefined();
    const start = await cli('bisect', 'start', '--ref', 'os/main', '--good', 'os/main~19', '--json');
    expect(start.code).toBe(0);
    expect((await cli('bisect', 'start', '--ref', 'os/main', '--good', 'os/main~19')).code).toBe(4);
    let current = (JSON.parse(start.stdout) as { current: string }).current;
    expect(readlinkSync(link)).toBe(join(repoPath, 'checkouts', current));
    expect((await cli('status')).stdout).toContain('bisecting');
    let steps = 0;
    let final: { firstBad: string | null; current: string | null } = { firstBad: null, current };
    while (final.current) {
      const i = ids.indexOf(final.current);
      // Skip one commit on the way: the answer must not change.
      const verdict = i === 10 ? 'skip' : i >= 13 ? 'bad' : 'good';
      const r = await cli('bisect', verdict, '--json');
      expect(r.code).toBe(0);
      final = JSON.parse(r.stdout) as typeof final;
      if (final.current) expect(readlinkSync(link)).toBe(join(repoPath, 'checkouts', final.current));
      current = final.current ?? current;
      steps++;
    }
    expect(final.firstBad).toBe(ids[13]);
    expect(steps).toBeLessThanOrEqual(6);
    const again = await cli('bisect', 'bad');
    expect(again.code).toBe(2);
    const reset = await cli('bisect', 'reset');
    expect(reset.code).toBe(0);
    expect(readlinkSync(link)).toBe(before);
  });

  it('bisect run: exit 128 or more aborts and keeps the session; the text output names the first bad commit', async () => {
    const { link, cli, ids } = await brokenAt40();
    expect((await cli('bisect', 'start', '--bad', ids[63]!, '--good', ids[0]!, '--link', link)).code).toBe(0);
    const aborted = await cli('bisect', 'run', '--', 'sh', '-c', 'exit 129');
    expect(aborted.code).not.toBe(0);
    expect(aborted.stderr).toContain('aborted');
    const run = await cli('bisect', 'run', '--', 'sh', '-c', `test ! -e ${link}/broken`);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`first bad commit: ${ids[40]}`);
    expect(run.stdout).toContain('A broken');
    const reset = await cli('bisect', 'reset', '--json');
    expect(reset.code).toBe(0);
    expect(JSON.parse(reset.stdout)).toEqual({ link, target: null });
    // There was no link before the session: reset removes it.
    expect(() => readlinkSync(link)).toThrow();
  });

  it("bisect run, trove run as a command: the user's command gets NODE_EXTRA_CA_CERTS as the user set it", async () => {
    const { repoPath, link, cli, ids } = await brokenAt40();
    expect((await cli('bisect', 'start', '--bad', ids[63]!, '--good', ids[0]!, '--link', link)).code).toBe(0);
    // The bin's first line moves the variable aside for trove's own start (src/util/extra-ca.ts); the
    // command aborts the run (exit 129) if it sees the variable otherwise than the user set it.
    const ca = join(repoPath, '..', 'extra-ca.pem');
    const script = `test "$NODE_EXTRA_CA_CERTS" = "${ca}" && test -z "\${TROVE_EXTRA_CA_CERTS+set}" || exit 129; test ! -e ${link}/broken`;
    const run = spawnSync(TROVE_BIN, ['--repo', repoPath, 'bisect', 'run', '--json', '--', 'sh', '-c', script], {
      encoding: 'utf8',
      env: { ...process.env, NODE_EXTRA_CA_CERTS: ca },
    });
    expect(run.status, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as { firstBad: string }).firstBad).toBe(ids[40]);
    expect((await cli('bisect', 'reset')).code).toBe(0);
  });

  it('bisects the numbered generations of a profile', async () => {
    const dir = tmpdir();
    const repoPath = join(dir, 'repo');
    const link = join(dir, 'ro');
    const repo = await Repo.init(repoPath);
    const src = join(dir, 'src');
    mkdirSync(join(src, 'bin'), { recursive: true });
    for (let i = 1; i <= 8; i++) {
      // Revision 5 of the tool ships a broken binary; generation i uses revision i.
      writeFileSync(join(src, 'bin', 'tool'), i >= 5 ? 'crash' : `fine ${i}`);
      await addPackage(repo, src, { name: 'tool', arch: 'amd64', version: `1.${i}` });
      await buildGeneration(repo, { specs: [{ name: 'tool', priority: 0 }] });
    }
    await repo.close();
    const cli = troveIn(repoPath);
    expect((await cli('bisect', 'start', '--good', '1', '--link', link)).code).toBe(0);
    const run = await cli('bisect', 'run', '--json', '--', 'sh', '-c', `grep -q fine ${link}/bin/tool`);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { firstBad: string; steps: number; diff: { packages: { changed: { from: string; to: string }[] } } };
    expect(result.firstBad).toBe(readFileSync(join(repoPath, 'profiles', 'system', '5'), 'utf8').trim());
    expect(result.diff.packages.changed).toEqual([{ from: 'tool-amd64-1.4-4', to: 'tool-amd64-1.5-5' }]);
    expect(result.steps).toBeLessThanOrEqual(3);
    expect((await cli('bisect', 'reset')).code).toBe(0);
  });

  it('bisect run: a command exiting 125 skips that candidate and the first bad commit is still found', async () => {
    const { repoPath, link, cli, ids } = await brokenAt40();
    const start = await cli('bisect', 'start', '--ref', 'os/main', '--good', ids[0]!, '--link', link, '--json');
    expect(start.code).toBe(0);
    const first = (JSON.parse(start.stdout) as { current: string }).current;
    const script = `if [ "$TROVE_BISECT_COMMIT" = ${first} ]; then exit 125; fi; test ! -e ${link}/broken`;
    const run = await cli('bisect', 'run', '--', 'sh', '-c', script);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${first.slice(0, 12)} is skip`);
    expect(run.stdout).toContain(`first bad commit: ${ids[40]}`);
    const state = (await readBisectStateAt(repoPath))!;
    expect(state.log.filter((l) => l.verdict === 'skip')).toEqual([{ commit: first, verdict: 'skip' }]);
    expect(state.marks[first]).toBe('skip');
    expect(state.log.length).toBeGreaterThan(1);
    expect(readlinkSync(link)).toBe(join(repoPath, 'checkouts', ids[40]!));
    expect((await cli('bisect', 'reset')).code).toBe(0);
  });

  it('start refuses generations the profile does not have, with a message that says so', async () => {
    const dir = tmpdir();
    const empty = join(dir, 'empty');
    expect((await trove(['--repo', empty, 'init'])).code).toBe(0);
    const none = await trove(['--repo', empty, 'bisect', 'start', '--good', '1']);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('profile system has no generations to bisect');

    const repoPath = await generations(dir, 4, 3);
    const cli = troveIn(repoPath);
    const good5 = await cli('bisect', 'start', '--good', '5', '--link', join(dir, 'ro'));
    expect(good5.code).toBe(3);
    expect(good5.stderr).toContain('profile system has no generation 5 (it has 1, 2, 3, 4)');
    expect(good5.stderr).not.toContain('must come after');
    const bad9 = await cli('bisect', 'start', '--good', '1', '--bad', '9', '--link', join(dir, 'ro'));
    expect(bad9.code).toBe(3);
    expect(bad9.stderr).toContain('profile system has no generation 9');
    const newest = await cli('bisect', 'start', '--good', '4', '--link', join(dir, 'ro'));
    expect(newest.code).toBe(2);
    expect(newest.stderr).toContain('generation 4 is the newest of profile system');
    const backwards = await cli('bisect', 'start', '--good', '3', '--bad', '2', '--link', join(dir, 'ro'));
    expect(backwards.code).toBe(2);
    expect(backwards.stderr).toContain('the bad generation (2) must come after the good one (3)');
    expect(await readBisectStateAt(repoPath)).toBeUndefined();
  });

  it('while a session uses a link, switch, rollback, install and remove refuse it; reset leaves link and active record agreeing', async () => {
    const dir = tmpdir();
    const link = join(dir, 'ro');
    const repoPath = await generations(dir, 4, 3);
    const cli = troveIn(repoPath);
    const extra = join(dir, 'extra');
    mkdirSync(join(extra, 'bin'), { recursive: true });
    writeFileSync(join(extra, 'bin', 'extra'), 'extra');
    expect((await cli('pkg', 'add', extra, '--name', 'extra', '--arch', 'amd64', '--version', '1')).code).toBe(0);
    expect((await cli('switch', '4', '--link', link)).code).toBe(0);
    const before = readlinkSync(link);
    const status = async () => JSON.parse((await cli('status', '--json')).stdout) as { active: { generation: number; link: string; target: string }; linkOk: boolean; generations: number };
    expect((await status()).active).toMatchObject({ generation: 4, link, target: before });

    expect((await cli('bisect', 'start', '--good', '1')).code).toBe(0);
    const candidate = readlinkSync(link);
    expect(candidate).not.toBe(before);
    for (const args of [['switch', '2'], ['switch', '1', '--link', link], ['rollback'], ['install', 'extra'], ['remove', 'tool']]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(8);
      expect(r.stderr).toContain(`a bisect session is using ${link}; end it first with: trove bisect reset`);
    }
    // Nothing was built, activated or recorded: the candidate is still at the link.
    expect(readlinkSync(link)).toBe(candidate);
    expect((await status()).generations).toBe(4);
    expect((await status()).active).toMatchObject({ generation: 4, link, target: before });
    // Building without activating touches no link, so it is allowed.
    expect((await cli('install', 'extra', '--no-switch')).code).toBe(0);
    expect((await status()).generations).toBe(5);

    const reset = await cli('bisect', 'reset', '--json');
    expect(reset.code).toBe(0);
    expect(JSON.parse(reset.stdout)).toEqual({ link, target: before });
    expect(readlinkSync(link)).toBe(before);
    expect((await status()).linkOk).toBe(true);
    expect((await cli('switch', '2')).code).toBe(0);
    expect((await status()).active.generation).toBe(2);
  });

  it('maps exit codes the way git does', () => {
    expect([0, 1, 124, 125, 126, 127, 128, 255, null].map(verdictOf)).toEqual(['good', 'bad', 'bad', 'skip', 'bad', 'bad', null, null, null]);
  });
});
