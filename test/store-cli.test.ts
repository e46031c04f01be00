import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { snapshot } from './helpers/fstree.js';
import { trove, troveAll } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';

/** The repository's files and their contents, minus the derived index and scratch space. */
const repoState = (repo: string) => snapshot(repo, (rel) => rel === 'index' || rel === 'tmp' || rel === 'locks');

/** A repository with one commit of a small tree on `main`; returns its path and ids. */
async function repoWithMain(): Promise<{ root: string; repo: string; src: string; commit: string; tree: string; blob: string }> {
  const root = tmpdir('trove-store-cli');
  const repo = join(root, 'repo');
  expect((await trove(['init', '--repo', repo])).code).toBe(0);
  const src = join(root, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'file'), 'content\n');
  writeFileSync(join(src, 'sub', 'deeper'), 'deeper\n');
  const c = await trove(['commit', src, '-r', 'main', '-m', 'first', '--repo', repo]);
  expect(c.code).toBe(0);
  const show = JSON.parse((await trove(['show', '--json', 'main', '--repo', repo])).stdout) as { commit: string; tree: string };
  const ls = JSON.parse((await trove(['ls', '--json', 'main:file', '--repo', repo])).stdout) as { id: string }[];
  return { root, repo, src, commit: show.commit, tree: show.tree, blob: ls[0]!.id };
}

describe('concurrent commits on one ref', () => {
  it('chain: every commit is in the history, each the parent of the next', async () => {
    const root = tmpdir('trove-concurrent');
    const repo = join(root, 'repo');
    expect((await trove(['init', '--repo', repo])).code).toBe(0);
    const N = 6;
    const sources = Array.from({ length: N }, (_, i) => {
      const src = join(root, `src${i}`);
      mkdirSync(src);
      // Enough files that the imports overlap: without the ref lock they all read the same tip.
      for (let f = 0; f < 300; f++) writeFileSync(join(src, `f${f}`), `source ${i} file ${f}\n`);
      return src;
    });
    // Real processes (troveAll): the commits contend for the ref lock as separate processes do.
    const results = await troveAll(sources.map((src, i) => ['commit', src, '-r', 'main', '-m', `c${i}`, '--repo', repo]));
    for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });

    const log = JSON.parse((await trove(['log', '--json', 'main', '--repo', repo])).stdout) as { commit: string; parents: string[]; subject: string }[];
    expect(log.map((c) => c.subject).sort()).toEqual(Array.from({ length: N }, (_, i) => `c${i}`));
    for (let i = 0; i < log.length - 1; i++) expect(log[i]!.parents).toEqual([log[i + 1]!.commit]);
    expect(log[log.length - 1]!.parents).toEqual([]);
    // Each commit printed the parent it got, and no two got the same one.
    const parents = results.map((r) => /parent ([0-9a-f]{12})/.exec(r.stdout)?.[1] ?? null);
    expect(new Set(parents).size).toBe(N);
    expect((await trove(['fsck', '--repo', repo])).code).toBe(0);
  });
});

describe('refs and revisions must name commits', () => {
  it('fsck reports a ref that points at a tree already checked as a tree', async () => {
    const { repo, tree } = await repoWithMain();
    // "tree" sorts after "main": main's walk meets the tree first.
    writeFileSync(join(repo, 'refs', 'heads', 'tree'), `${tree}\n`);
    const before = repoState(repo);
    const f = await trove(['fsck', '--json', '--repo', repo]);
    expect(f.code).toBe(5);
    const report = JSON.parse(f.stdout) as { ok: boolean; problems: unknown[] };
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ id: tree, kind: 'commit', where: 'refs/heads/tree', problem: 'invalid' })]);
    const text = await trove(['fsck', '--repo', repo]);
    expect(text.code).toBe(5);
    expect(text.stdout).toContain(`invalid: commit ${tree} at refs/heads/tree: does not decode as a commit`);
    expect(repoState(repo)).toEqual(before);

    const show = await trove(['show', 'tree', '--repo', repo]);
    expect(show.code).toBe(5);
    expect(show.stderr).toBe(`trove: ref tree points at ${tree}, which is a tree, not a commit; run trove fsck\n`);
  });

  it('refs set, show, log and diff refuse a tree or blob id with a clear error', async () => {
    const { repo, tree, blob } = await repoWithMain();
    const before = repoState(repo);
    for (const [id, kind] of [
      [tree, 'a tree'],
      [blob, 'a blob or a damaged commit'],
    ] as const) {
      const set = await trove(['refs', 'set', 'x', id, '--repo', repo]);
      expect({ code: set.code, stderr: set.stderr, stdout: set.stdout }).toEqual({ code: 2, stderr: `trove: ${id} is ${kind}, not a commit\n`, stdout: '' });
      for (const args of [['show', id], ['log', id], ['diff', 'main', id], ['show', `${id}~1`]]) {
        const r = await trove([...args, '--repo', repo]);
        expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 2, stdout: '' });
        expect(r.stderr).toMatch(/not a commit/);
        expect(r.stderr).not.toMatch(/32 bytes/);
      }
    }
    expect(existsSync(join(repo, 'refs', 'heads', 'x'))).toBe(false);
    expect(repoState(repo)).toEqual(before);
  });
});

describe('a ref file that holds no id', () => {
  it('fsck reports it and checks everything else; refs warns and lists the rest', async () => {
    const { repo, commit } = await repoWithMain();
    writeFileSync(join(repo, 'refs', 'heads', 'garbage'), 'not an id\n');
    mkdirSync(join(repo, 'refs', 'remotes', 'origin'), { recursive: true });
    writeFileSync(join(repo, 'refs', 'remotes', 'origin', 'main'), `${commit}\n`);
    writeFileSync(join(repo, 'refs', 'remotes', 'origin', 'junk'), '');
    const before = repoState(repo);

    const f = await trove(['fsck', '--json', '--repo', repo]);
    expect(f.code).toBe(5);
    const report = JSON.parse(f.stdout) as { ok: boolean; commits: number; trees: number; blobs: number; problems: unknown[] };
    expect(report).toMatchObject({ ok: false, commits: 1, trees: 2, blobs: 2 });
    expect(report.problems).toEqual([
      { where: 'refs/heads/garbage', problem: 'invalid-ref', detail: expect.stringMatching(/no valid id/) },
      { where: 'refs/remotes/origin/junk', problem: 'invalid-ref', detail: expect.stringMatching(/no valid id/) },
    ]);
    const text = await trove(['fsck', '--repo', repo]);
    expect(text.code).toBe(5);
    expect(text.stdout).toMatch(/^invalid-ref: refs\/heads\/garbage: /m);
    expect(text.stderr).toBe('trove: fsck found 2 problem(s)\n');

    const refs = await trove(['refs', '--repo', repo]);
    expect(refs.code).toBe(0);
    expect(refs.stdout).toBe(`${commit} main\n`);
    expect(refs.stderr).toMatch(/^trove: warning: skipping garbage: .*no valid id\n$/);
    const all = await trove(['refs', 'list', '--remotes', '--json', '--repo', repo]);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toEqual([
      { ref: 'main', commit },
      { ref: 'remotes/origin/main', commit },
    ]);
    expect(all.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^trove: warning: skipping garbage: /),
      expect.stringMatching(/^trove: warning: skipping remotes\/origin\/junk: /),
    ]);
    expect(repoState(repo)).toEqual(before);
  });
});

describe('ref names that clash with existing refs', () => {
  it('commit -r main/sub while main exists is refused before anything is imported', async () => {
    const { repo, root } = await repoWithMain();
    const other = join(root, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'new'), `new content ${Math.random()}\n`);
    const before = repoState(repo);
    const r = await trove(['commit', other, '-r', 'main/sub', '--repo', repo]);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 6, stdout: '', stderr: 'trove: cannot create ref main/sub: ref main exists\n' });
    const set = await trove(['refs', 'set', 'main/sub', 'main', '--repo', repo]);
    expect({ code: set.code, stderr: set.stderr }).toEqual({ code: 6, stderr: 'trove: cannot create ref main/sub: ref main exists\n' });
    expect(repoState(repo)).toEqual(before);

    // And the other way round: a ref where a directory of refs is.
    expect((await trove(['refs', 'set', 'rel/1.0', 'main', '--repo', repo])).code).toBe(0);
    const mid = repoState(repo);
    const c = await trove(['commit', other, '-r', 'rel', '--repo', repo]);
    expect({ code: c.code, stderr: c.stderr }).toEqual({ code: 6, stderr: 'trove: cannot create ref rel: rel/ is a directory of refs\n' });
    expect(repoState(repo)).toEqual(mid);
  });
});

describe('log -n', () => {
  it('takes a count of 0 or more; anything else is a usage error', async () => {
    const { repo, src } = await repoWithMain();
    expect((await trove(['commit', src, '-r', 'main', '-m', 'second', '--repo', repo])).code).toBe(0);
    const one = await trove(['log', '--json', '-n', '1', 'main', '--repo', repo]);
    expect(one.code).toBe(0);
    expect((JSON.parse(one.stdout) as { subject: string }[]).map((c) => c.subject)).toEqual(['second']);
    expect(JSON.parse((await trove(['log', '--json', '-n', '0', 'main', '--repo', repo])).stdout)).toEqual([]);
    for (const n of ['abc', '-1', '1.5', '', '2x']) {
      const r = await trove(['log', '-n', n, 'main', '--repo', repo]);
      expect({ n, code: r.code, stdout: r.stdout }).toEqual({ n, code: 2, stdout: '' });
      expect(r.stderr).toMatch(/max-count/);
    }
  });
});
