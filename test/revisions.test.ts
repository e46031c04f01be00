import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCommit, writeCommit } from '../src/repo/objects.js';
import { Repo } from '../src/repo/repo.js';
import { addGeneration, writeActive } from '../src/system/profiles.js';
import { trove } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';

/**
 * Every revision spelling, as a table: each resolves (through `trove show
 * --json`, so the CLI's wiring is what is tested) to an expected commit, or
 * fails with an exact exit status and message, hint included.
 */

let root: string;
let repoDir: string;
const ids: Record<string, string> = {};

async function commitDir(ref: string, content: string, subject: string): Promise<string> {
  const src = join(root, `src-${subject}`);
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'file'), content);
  const r = await trove(['commit', src, '-r', ref, '-m', subject, '--json', '--repo', repoDir]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { commit: string }).commit;
}

beforeAll(async () => {
  root = tmpdir('trove-revisions');
  repoDir = join(root, 'repo');
  expect((await trove(['init', '--repo', repoDir])).code).toBe(0);
  ids.c1 = await commitDir('main', 'one\n', 'c1');
  ids.c2 = await commitDir('main', 'two\n', 'c2');
  ids.c3 = await commitDir('main', 'three\n', 'c3');
  ids.o1 = await commitDir('os/main', 'os one\n', 'o1');
  ids.o2 = await commitDir('os/main', 'os two\n', 'o2');
  const repo = await Repo.open(repoDir);
  try {
    // A remote-tracking ref, as a pull from `origin` leaves it.
    await repo.refs.write('origin/os/main', ids.o1!, 'remotes');
    // A merge: first parent c3, second o2.
    const c3 = await readCommit(repo.store, ids.c3!);
    ids.merge = await writeCommit(repo.store, { ...c3, parents: [ids.c3!, ids.o2!], subject: 'merge' });
    await repo.refs.write('merge', ids.merge);
    // A ref named like a number that is no generation.
    await repo.refs.write('12', ids.c2!);
    ids.tree = c3.tree;
    await addGeneration(repo, 'system', ids.c1!);
    await addGeneration(repo, 'system', ids.o2!);
  } finally {
    await repo.close();
  }
});

type Expect = string | { code: number; error: (i: Record<string, string>) => string };

const s = (id: string) => id.slice(0, 12);

const TABLE: [string | ((i: Record<string, string>) => string), Expect][] = [
  ['main', 'c3'],
  ['refs/heads/main', 'c3'],
  ['main~0', 'c3'],
  ['main~', 'c2'],
  ['main~1', 'c2'],
  ['main~2', 'c1'],
  ['main^', 'c2'],
  ['main^^', 'c1'],
  ['main^0', 'c3'],
  ['main~1^', 'c1'],
  ['refs/heads/main~2', 'c1'],
  ['os/main', 'o2'],
  ['os/main^', 'o1'],
  ['origin/os/main', 'o1'],
  ['origin:os/main', 'o1'],
  ['remotes/origin/os/main', 'o1'],
  ['refs/remotes/origin/os/main', 'o1'],
  ['merge^', 'c3'],
  ['merge^1', 'c3'],
  ['merge^2', 'o2'],
  ['merge^2^', 'o1'],
  ['merge~3', 'c1'],
  ['1', 'c1'],
  ['2', 'o2'],
  ['2^', 'o1'],
  ['12', 'c2'],
  ['refs/heads/12', 'c2'],
  [(i) => i.c2!, 'c2'],
  [(i) => i.c2!.slice(0, 10), 'c2'],
  ['main~3', { code: 3, error: (i) => `unknown revision main~3: main~2 (${s(i.c1!)}) has no parent, so the furthest back is main~2` }],
  ['main~1~5', { code: 3, error: (i) => `unknown revision main~1~5: main~1~1 (${s(i.c1!)}) has no parent, so the furthest back is main~1~1` }],
  ['main^2', { code: 3, error: (i) => `unknown revision main^2: main (${s(i.c3!)}) has 1 parent: main^` }],
  ['merge^3', { code: 3, error: (i) => `unknown revision merge^3: merge (${s(i.merge!)}) has 2 parents: merge^1 to merge^2` }],
  ['origin/os/main^', { code: 3, error: (i) => `unknown revision origin/os/main^: origin/os/main (${s(i.o1!)}) has no parent (a root commit)` }],
  ['os/mian', { code: 3, error: () => 'unknown revision: os/mian (not a ref, commit id or unique commit id prefix; did you mean os/main?)' }],
  ['origin/os/mian', { code: 3, error: () => 'unknown revision: origin/os/mian (not a ref, commit id or unique commit id prefix; did you mean origin/os/main?)' }],
  ['origin:os/mian', { code: 3, error: () => 'unknown revision: origin:os/mian (not a ref, commit id or unique commit id prefix; did you mean origin/os/main?)' }],
  ['upstream/os/main', { code: 3, error: () => 'unknown revision: upstream/os/main (not a ref, commit id or unique commit id prefix; did you mean os/main?)' }],
  ['refs/heads/nosuch', { code: 3, error: () => 'unknown revision: refs/heads/nosuch (not a ref, commit id or unique commit id prefix; refs: 12, main, merge, os/main, origin/os/main)' }],
  ['7', { code: 3, error: () => 'profile system has no generation 7 (it has 1, 2)' }],
  ['main@{1}', { code: 2, error: () => "main@{1}: trove keeps no reflog, so @{1} has nothing to read; a ref's earlier commits are its first parents: main~N (trove log main lists them)" }],
  [(i) => i.tree!, { code: 2, error: (i) => `${i.tree} is a tree, not a commit` }],
  [(i) => i.tree!.slice(0, 10), { code: 2, error: (i) => `${i.tree!.slice(0, 10)} (${i.tree}) is a tree, not a commit` }],
  ['0'.repeat(64), { code: 3, error: () => `unknown revision: ${'0'.repeat(64)} (no object has this id in the repository; a commit of a remote arrives with trove pull)` }],
  ['', { code: 2, error: () => 'empty revision in ""' }],
  ['~1', { code: 2, error: () => 'empty revision in "~1"' }],
];

describe('revision spellings', () => {
  for (const [spec, want] of TABLE) {
    const name = typeof spec === 'string' ? spec || '(empty)' : `${spec({ c2: 'C2', tree: 'TREE' })}`;
    it(`${name} -> ${typeof want === 'string' ? want : `exit ${want.code}`}`, async () => {
      const text = typeof spec === 'string' ? spec : spec(ids);
      const r = await trove(['show', '--json', text, '--repo', repoDir]);
      if (typeof want === 'string') {
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
        expect((JSON.parse(r.stdout) as { commit: string }).commit).toBe(ids[want]);
      } else {
        // Under --json an error is one JSON object on one line of stderr (docs/cli.md).
        expect({ code: r.code, lines: r.stderr.split('\n').length, stdout: r.stdout }).toEqual({ code: want.code, lines: 2, stdout: '' });
        expect((JSON.parse(r.stderr) as { error: { message: string } }).error.message).toBe(want.error(ids));
        const text2 = await trove(['show', text, '--repo', repoDir]);
        expect({ code: text2.code, stderr: text2.stderr }).toEqual({ code: want.code, stderr: `trove: ${want.error(ids)}\n` });
      }
    });
  }

  it('a 5-digit prefix names the 6-digit minimum and the commit it would be', async () => {
    // The first commit whose 5-digit prefix has a letter (an all-digit one is a generation number).
    const id = [ids.c1!, ids.c2!, ids.c3!, ids.o1!, ids.o2!].find((x) => /[a-f]/.test(x.slice(0, 5)))!;
    const r = await trove(['show', id.slice(0, 5), '--repo', repoDir]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 3,
      stderr: `trove: unknown revision: ${id.slice(0, 5)} (a commit id prefix needs at least 6 hex digits: did you mean ${id.slice(0, 6)}?)\n`,
    });
    const none = await trove(['show', 'fffff', '--repo', repoDir]);
    const fffff = Object.values(ids).some((x) => x.startsWith('fffff'));
    if (!fffff) expect(none.stderr).toBe('trove: unknown revision: fffff (a commit id prefix needs at least 6 hex digits, and no commit starts with fffff)\n');
  });

  it('a prefix of a tree gives the same exit status as its full id (2)', async () => {
    const full = await trove(['log', ids.tree!, '--repo', repoDir]);
    const prefix = await trove(['log', ids.tree!.slice(0, 8), '--repo', repoDir]);
    expect([full.code, prefix.code]).toEqual([2, 2]);
  });

  it('HEAD is the default revision: the active commit, else the only ref; else an error naming the refs', async () => {
    const r = await trove(['show', 'HEAD', '--repo', repoDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('trove: no revision given, and there is no default: profile system has nothing active and there are 4 refs (12, main, merge, os/main); name one\n');
    const other = await trove(['log', '--oneline', '--repo', repoDir]);
    expect(other.stderr).toBe(r.stderr);
    const repo = await Repo.open(repoDir);
    try {
      await writeActive(repo, { profile: 'system', commit: ids.o2!, generation: 2, link: join(root, 'ro'), target: join(root, 'target'), time: 0 });
    } finally {
      await repo.close();
    }
    for (const spec of [['HEAD'], ['@'], []]) {
      const h = await trove(['show', '--json', ...spec, '--repo', repoDir]);
      expect({ spec, code: h.code, stderr: h.stderr }).toEqual({ spec, code: 0, stderr: '' });
      expect((JSON.parse(h.stdout) as { commit: string }).commit).toBe(ids.o2);
    }
    expect((JSON.parse((await trove(['show', '--json', 'HEAD^', '--repo', repoDir])).stdout) as { commit: string }).commit).toBe(ids.o1);
  });

  it('REMOTE:REF with a path: origin:os/main:file, and origin:os/main alone is the ref', async () => {
    expect((await trove(['cat', 'origin:os/main:file', '--repo', repoDir])).stdout).toBe('os one\n');
    expect((await trove(['cat', 'main:file', '--repo', repoDir])).stdout).toBe('three\n');
    expect((await trove(['cat', '1:file', '--repo', repoDir])).stdout).toBe('one\n');
    const ls = await trove(['ls', 'origin:os/main', '--repo', repoDir]);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/ file\n$/);
    const ls2 = await trove(['ls', '--json', '2:file', '--repo', repoDir]);
    expect((JSON.parse(ls2.stdout) as { path: string; size: number }[]).map((e) => [e.path, e.size])).toEqual([['file', 7]]);
  });
});
