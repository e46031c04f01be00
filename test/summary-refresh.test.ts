import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSummary } from '../src/remote/summary.js';
import { hashBytes } from '../src/util/hash.js';
import { type Nginx, startNginx } from './helpers/nginx.js';
import { trove, troveOk } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';

function summaryOf(repo: string): ReturnType<typeof parseSummary> {
  return parseSummary(readFileSync(join(repo, 'summary')));
}

function head(repo: string, name: string): string {
  return readFileSync(join(repo, 'refs/heads', name), 'utf8').trim();
}

/** The inode of a file: a rewrite by temp file and rename changes it. */
function inode(path: string): number {
  return statSync(path).ino;
}

describe('commit, pkg add, gen build, install, remove, gen prune and delta keep an existing summary current', () => {
  const base = tmpdir('trove-summary-refresh');
  const src = join(base, 'src');
  const repo = join(base, 'repo');
  const key = join(base, 'key');

  beforeAll(async () => {
    mkdirSync(src);
    writeFileSync(join(src, 'a'), 'one\n');
    await troveOk(repo, 'init');
  });

  it('a repository without a summary gets none', async () => {
    await troveOk(repo, 'commit', src, '-r', 'main');
    expect(() => statSync(join(repo, 'summary'))).toThrow(/ENOENT/);
  });

  it('commit rewrites the summary with the new tip; --no-update-summary leaves it', async () => {
    await troveOk(repo, 'summary');
    writeFileSync(join(src, 'a'), 'two\n');
    await troveOk(repo, 'commit', src, '-r', 'main');
    expect(summaryOf(repo).refs.main).toBe(head(repo, 'main'));
    const before = readFileSync(join(repo, 'summary'));
    writeFileSync(join(src, 'a'), 'three\n');
    await troveOk(repo, 'commit', src, '-r', 'main', '--no-update-summary');
    expect(readFileSync(join(repo, 'summary'))).toEqual(before);
    expect(summaryOf(repo).refs.main).not.toBe(head(repo, 'main'));
  });

  it('pkg add lists the package ref, delta lists the new pack, gen build rewrites it', async () => {
    // main moved without a rewrite (above): the summary still lists its earlier tip.
    const previous = summaryOf(repo).refs.main;
    expect(previous).not.toBe(head(repo, 'main'));
    await troveOk(repo, 'pkg', 'add', src, '--name', 'tool', '--arch', 'amd64', '--version', '1');
    const s = summaryOf(repo);
    expect(s.refs['pkg/tool/amd64']).toBe(head(repo, 'pkg/tool/amd64'));
    expect(s.refs.main).toBe(head(repo, 'main'));
    // The rewrite wrote packs to main's new tip from that earlier tip and from the one before it, whose
    // pack to it the rewrite after the first commit wrote (remote.md, "Deltas written by default").
    const [first] = (await troveOk(repo, 'log', 'main', '--format', '%H')).trim().split('\n').slice(2);
    expect(s.deltas.map((d) => [d.from, d.to])).toEqual([first, previous].sort().map((f) => [f, head(repo, 'main')]));
    const r = JSON.parse(await troveOk(repo, 'delta', '--from-empty', 'main', '--json'));
    const packFile = readFileSync(join(repo, r.path));
    expect(summaryOf(repo).deltas).toEqual([
      { from: null, to: head(repo, 'main'), size: statSync(join(repo, r.path)).size, sha256: hashBytes(packFile) },
      ...s.deltas,
    ]);
    const ino = inode(join(repo, 'summary'));
    await troveOk(repo, 'gen', 'build', 'tool');
    expect(inode(join(repo, 'summary'))).not.toBe(ino);
    const ino2 = inode(join(repo, 'summary'));
    await troveOk(repo, 'gen', 'build', 'tool', '--no-update-summary');
    expect(inode(join(repo, 'summary'))).toBe(ino2);
  });

  it('install, remove and gen prune of a published profile rewrite the generations the summary lists', async () => {
    const pub = join(base, 'published');
    const two = join(base, 'src-two');
    mkdirSync(two);
    writeFileSync(join(two, 'b'), 'two\n');
    await troveOk(pub, 'init');
    await troveOk(pub, 'pkg', 'add', src, '--name', 'one', '--arch', 'all', '--version', '1');
    await troveOk(pub, 'pkg', 'add', two, '--name', 'two', '--arch', 'all', '--version', '1');
    await troveOk(pub, 'gen', 'build', 'one');
    await troveOk(pub, 'summary');
    await troveOk(pub, 'gen', 'publish');
    const listed = () => (summaryOf(pub).generations?.system ?? []).map((g) => [g.number, g.packages]);
    expect(listed()).toEqual([[1, ['one-all-1-1']]]);
    await troveOk(pub, 'install', 'two', '--no-switch');
    expect(listed()).toEqual([[1, ['one-all-1-1']], [2, ['one-all-1-1', 'two-all-1-1']]]);
    await troveOk(pub, 'remove', 'one', '--no-switch');
    expect(listed()).toEqual([[1, ['one-all-1-1']], [2, ['one-all-1-1', 'two-all-1-1']], [3, ['two-all-1-1']]]);
    await troveOk(pub, 'gen', 'prune', '--keep', '1');
    expect(listed().map(([n]) => n)).toEqual([3]);
    // --no-update-summary leaves it as it was.
    const before = readFileSync(join(pub, 'summary'));
    await troveOk(pub, 'install', 'one', '--no-switch', '--no-update-summary');
    expect(readFileSync(join(pub, 'summary'))).toEqual(before);
  });

  it('a signed summary is re-signed only with a key; without one it stays as it was, with a one-line warning', async () => {
    await troveOk(repo, 'keygen', '--out', key);
    await troveOk(repo, 'summary', '--key', key);
    const summary = readFileSync(join(repo, 'summary'));
    const sig = readFileSync(join(repo, 'summary.sig'));
    writeFileSync(join(src, 'a'), 'four\n');
    const r = await trove(['--repo', repo, 'commit', src, '-r', 'main']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^trove: warning: \S+\/summary is signed and no key was given, so it was left as it was and is now stale; run trove summary --key FILE \(or pass --summary-key FILE\)\n$/);
    expect(readFileSync(join(repo, 'summary'))).toEqual(summary);
    expect(readFileSync(join(repo, 'summary.sig'))).toEqual(sig);

    writeFileSync(join(src, 'a'), 'five\n');
    const signed = await trove(['--repo', repo, 'commit', src, '-r', 'main', '--summary-key', key]);
    expect(signed.stderr).toBe('');
    expect(summaryOf(repo).refs.main).toBe(head(repo, 'main'));
    expect(readFileSync(join(repo, 'summary.sig'))).not.toEqual(sig);

    writeFileSync(join(src, 'a'), 'six\n');
    const byEnv = await trove(['--repo', repo, 'commit', src, '-r', 'main'], { env: { TROVE_SUMMARY_KEY: key } });
    expect(byEnv.stderr).toBe('');
    expect(summaryOf(repo).refs.main).toBe(head(repo, 'main'));
  });

  it('a summary that cannot be rewritten is a warning: the commit itself succeeded', async () => {
    const other = join(base, 'other');
    await troveOk(other, 'init');
    mkdirSync(join(other, 'summary')); // not a file: the rename over it fails
    const r = await trove(['--repo', other, 'commit', src, '-r', 'main']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^trove: warning: ${other}/summary was not updated \\(EISDIR: [^\n]*\\); it is now stale: run trove summary\n$`));
    expect(head(other, 'main')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a missing summary key fails before anything is committed (exit 3)', async () => {
    const tip = head(repo, 'main');
    writeFileSync(join(src, 'a'), 'seven\n');
    const r = await trove(['--repo', repo, 'commit', src, '-r', 'main', '--summary-key', join(base, 'nokey')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`trove: summary key ${join(base, 'nokey')} does not exist\n`);
    expect(head(repo, 'main')).toBe(tip);
  });
});

/** The stale-summary checks, against a remote given by `url` (a path or an nginx URL). */
function staleSummarySuite(kind: string, serve: (server: string) => Promise<{ url: string; stop?: () => Promise<void> }>): void {
  describe(`a stale summary, ${kind}`, () => {
    const base = tmpdir('trove-summary-stale');
    const src = join(base, 'src');
    const server = join(base, 'server');
    const client = join(base, 'client');
    let stop: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      mkdirSync(src);
      writeFileSync(join(src, 'a'), 'one\n');
      await troveOk(server, 'init');
      await troveOk(server, 'commit', src, '-r', 'os/main');
      await troveOk(server, 'summary');
      const s = await serve(server);
      stop = s.stop;
      await troveOk(client, 'init');
      await troveOk(client, 'remote', 'add', 'origin', s.url);
      await troveOk(client, 'pull', 'origin');
    });
    afterAll(async () => stop?.());

    it('pull --check says current (exit 0) while the summary matches the refs', async () => {
      const r = await trove(['--repo', client, 'pull', 'origin', '--check']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^current: summary of remote origin written \S+Z\n$/);
      const j = await trove(['--repo', client, 'pull', 'origin', 'os/main', '--check', '--json']);
      expect(j.code).toBe(0);
      expect(JSON.parse(j.stdout)).toMatchObject({ state: 'current', refs: [{ ref: 'os/main', summary: head(server, 'os/main'), server: head(server, 'os/main'), stale: false }] });
    });

    it('a ref moved behind the summary: --check says stale (exit 3), for the named ref and for all', async () => {
      const old = head(server, 'os/main');
      writeFileSync(join(src, 'a'), 'two\n');
      await troveOk(server, 'commit', src, '-r', 'os/main', '--no-update-summary');
      const now = head(server, 'os/main');
      for (const refs of [['os/main'], []]) {
        const r = await trove(['--repo', client, 'pull', 'origin', ...refs, '--check', '--json']);
        expect(r.code).toBe(3);
        expect((JSON.parse(r.stderr) as { error: { code: string; message: string } }).error).toMatchObject({
          code: 'E_NOT_FOUND',
          message: 'summary of remote origin is stale: 1 ref(s) differ (run trove summary on the server)',
        });
        expect(JSON.parse(r.stdout)).toMatchObject({ state: 'stale', refs: [{ ref: 'os/main', summary: old, server: now, stale: true }] });
      }
      const text = await trove(['--repo', client, 'pull', 'origin', 'os/main', '--check']);
      expect(text.code).toBe(3);
      expect(text.stdout).toBe(`stale: summary of remote origin written ${new Date(summaryOf(server).timestamp * 1000).toISOString()}\n  os/main: summary ${old.slice(0, 12)}, server ${now.slice(0, 12)}\n`);
    });

    it('a named ref the summary does not list is not found (exit 3), not "up to date"', async () => {
      await troveOk(server, 'commit', src, '-r', 'os/next', '--no-update-summary');
      const r = await trove(['--repo', client, 'pull', 'origin', 'os/next']);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/^trove: remote origin has no ref os\/next: its summary \(written \S+Z\) does not list it; if the server has the ref, its summary is stale \(trove pull --check origin os\/next tells; run trove summary there\)\n$/);
      expect(r.stdout).toBe('');
      const check = JSON.parse((await trove(['--repo', client, 'pull', 'origin', 'os/next', '--check', '--json'])).stdout);
      expect(check).toMatchObject({ state: 'stale', refs: [{ ref: 'os/next', summary: null, server: head(server, 'os/next'), stale: true }] });
    });

    it('after the server rewrites its summary, --check says current and pull brings the moved ref', async () => {
      writeFileSync(join(src, 'a'), 'three\n');
      await troveOk(server, 'commit', src, '-r', 'os/main'); // rewrites the summary
      expect((await trove(['--repo', client, 'pull', 'origin', '--check'])).code).toBe(0);
      const r = JSON.parse(await troveOk(client, 'pull', 'origin', 'os/main', 'os/next', '--json'));
      expect(r.refs.map((x: { commit: string }) => x.commit)).toEqual([head(server, 'os/main'), head(server, 'os/next')]);
    });

    it('a remote without a summary has nothing to check (exit 3)', async () => {
      const bare = join(base, 'bare');
      await troveOk(bare, 'init');
      const s = await serve(bare);
      try {
        await troveOk(client, 'remote', 'add', 'bare', s.url);
        const r = await trove(['--repo', client, 'pull', 'bare', '--check']);
        expect(r.code).toBe(3);
        expect(r.stderr).toMatch(/^trove: remote bare \(\S+\) has no summary to check\n$/);
      } finally {
        await s.stop?.();
      }
    });
  });
}

staleSummarySuite('local-directory remote', async (server) => ({ url: server }));
staleSummarySuite('served by nginx', async (server) => {
  const n: Nginx = await startNginx(server);
  return { url: n.url, stop: () => n.stop() };
});
