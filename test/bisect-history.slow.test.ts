// A long loop, in the `slow` project (npm run test:fast leaves it out): a 1,000-commit history, bisected by trove and by git.
import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { activate } from '../src/system/activation/activate.js';
import { bisectReset, bisectStart } from '../src/system/bisect/bisect.js';
import { bisectRun } from '../src/system/bisect/run.js';
import { readBisectState } from '../src/system/bisect/state.js';
import { readCommit } from '../src/repo/objects.js';
import { Repo } from '../src/repo/repo.js';
import { history } from './helpers/fixtures.js';
import { sh, tmpdir } from './helpers/tmp.js';

/** The same history as a git repository, written with one `git fast-import`. */
function gitHistory(dir: string, n: number, fault: number): void {
  sh('git', ['init', '-q', '-b', 'main', dir]);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const msg = `commit ${i}`;
    lines.push('commit refs/heads/main', `committer T <t@example.com> ${1_700_000_000 + i} +0000`, `data ${msg.length}`, msg);
    const value = `${i}\n`;
    lines.push('M 644 inline value', `data ${value.length}`, value.slice(0, -1));
    if (i === fault) lines.push('M 644 inline broken', 'data 7', 'broken');
    lines.push('');
  }
  const r = spawnSync('git', ['fast-import', '--quiet'], { cwd: dir, input: `${lines.join('\n')}\n`, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git fast-import failed: ${r.stderr}`);
  sh('git', ['reset', '-q', '--hard', 'main'], { cwd: dir });
}

describe('bisect', () => {
  it('finds the faulty commit of a 1,000-commit history in at most 11 steps, as git bisect run does', async () => {
    const dir = tmpdir();
    const repo = await Repo.init(join(dir, 'repo'));
    const fault = 737;
    const ids = await history(repo, 1000, fault, 'os/main');
    const link = join(dir, 'ro');
    await activate(repo, ids[0]!, { link });
    const before = readlinkSync(link);

    const start = await bisectStart(repo, { ref: 'os/main', good: ids[0]!, link });
    expect(start.remaining).toBe(998);
    const tested: string[] = [];
    const result = await bisectRun(repo, ['sh', '-c', `test ! -e "$TROVE_BISECT_LINK/broken"`], {
      stdio: 'ignore',
      onStep: (s) => tested.push(s.state.log.at(-1)!.commit),
    });
    expect(result.firstBad).toBe(ids[fault]);
    expect(result.steps).toBeLessThanOrEqual(11);
    expect(result.steps).toBe(tested.length);
    expect(result.diff!.files.map((c) => `${c.kind} ${c.path}`)).toEqual(['added broken', 'modified value']);
    // Every step really activated its candidate: the link shows the first bad commit now.
    expect(readlinkSync(link)).toBe(join(repo.path, 'checkouts', ids[fault]!));
    const subject = (await readCommit(repo.store, result.firstBad!)).subject;

    await bisectReset(repo);
    expect(readlinkSync(link)).toBe(before);
    expect(await readBisectState(repo)).toBeUndefined();
    await repo.close();

    const git = join(dir, 'git');
    gitHistory(git, 1000, fault);
    const root = sh('git', ['rev-list', '--max-parents=0', 'main'], { cwd: git }).trim();
    sh('git', ['bisect', 'start', 'main', root], { cwd: git });
    const out = sh('git', ['bisect', 'run', 'sh', '-c', 'test ! -e broken'], { cwd: git });
    const firstBad = /([0-9a-f]{40}) is the first bad commit/.exec(out)![1]!;
    expect(sh('git', ['log', '-1', '--format=%s', firstBad], { cwd: git }).trim()).toBe(subject);
  });
});
