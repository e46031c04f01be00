// Local users: a directory another user can write, committed or checked out
// into by root. The race tests run an attacker (as `nobody`) that swaps
// files, directories and symlinks in a tight loop for a few seconds while
// trove works, then look for the one thing that must never happen.
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeCommit, encodeTree } from '../src/format/codec.js';
import { Repo } from '../src/repo/repo.js';
import type { ObjectId } from '../src/util/hash.js';
import { MAX_TREE_DEPTH } from '../src/util/limits.js';
import { trove, troveOk } from './helpers/cli.js';
import { buildAttacker, runAttacker } from './helpers/race.js';
import { tmpdir } from './helpers/tmp.js';

const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;
const RACE_SECONDS = 4;

/** Every object file's bytes in the repository. */
function objectBytes(repo: string): Buffer[] {
  const out: Buffer[] = [];
  for (const shard of readdirSync(join(repo, 'objects'))) {
    if (!/^[0-9a-f]{2}$/.test(shard)) continue;
    for (const n of readdirSync(join(repo, 'objects', shard))) if (/^[0-9a-f]{62}$/.test(n)) out.push(readFileSync(join(repo, 'objects', shard, n)));
  }
  return out;
}

/** A root-only directory with a root-only secret file in it; returns the secret. */
function privateDir(dir: string): string {
  const secret = `SECRET-${randomBytes(12).toString('hex')}`;
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(join(dir, 'secret'), secret, { mode: 0o600 });
  return secret;
}

/** What "left as it was" means for a directory: its mode, owner and entries with their content. */
function state(dir: string): string {
  const st = lstatSync(dir);
  const entries = readdirSync(dir)
    .sort()
    .map((n) => `${n}:${lstatSync(join(dir, n)).mode.toString(8)}:${readFileSync(join(dir, n), 'utf8')}`);
  return `${st.mode.toString(8)} ${st.uid}:${st.gid} ${entries.join(',')}`;
}

describe.skipIf(!asRoot)('root commits a directory another user can write', () => {
  const base = tmpdir('trove-sec-import');
  const repo = join(base, 'repo');
  const src = join(base, 'src');
  let secret = '';
  let attacker: string[] = [];

  beforeAll(async () => {
    chmodSync(base, 0o755);
    secret = privateDir(join(base, 'private'));
    mkdirSync(src);
    writeFileSync(join(src, 'f'), 'public file\n');
    symlinkSync(join(base, 'private', 'secret'), join(src, 'l'));
    mkdirSync(join(src, 'd'));
    writeFileSync(join(src, 'd', 'secret'), 'a public file named secret\n');
    symlinkSync(join(base, 'private'), join(src, 'ld'));
    for (const p of ['', 'f', 'd', 'd/secret', 'l', 'ld']) lchownSync(join(src, p), NOBODY, NOBODY);
    attacker = buildAttacker(base);
    await troveOk(repo, 'init');
  });

  it('never stores what a swapped-in symlink points at, for files and directories (race)', async () => {
    const run = runAttacker(attacker, RACE_SECONDS, [
      [join(src, 'f'), join(src, 'l')],
      [join(src, 'd'), join(src, 'ld')],
    ]);
    let finished = false;
    const done = run.done.finally(() => (finished = true));
    const codes = new Map<number, number>();
    const errors = new Set<string>();
    while (!finished) {
      const r = await trove(['--repo', repo, 'commit', src, '--ref', 'race', '--no-update-summary']);
      codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
      if (r.code !== 0) errors.add(r.stderr);
    }
    const swaps = await done;
    expect(swaps).toBeGreaterThan(1000);
    // Every run committed a tree or said, in one line, what changed under it (exit 1): nothing else.
    // (How many runs win the race depends on the machine's load: none may.)
    expect([...codes.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(10);
    expect([...codes.keys()].filter((c) => c !== 0 && c !== 1), `exit codes ${JSON.stringify([...codes])}: ${[...errors].join(' | ')}`).toEqual([]);
    for (const e of errors) expect(e.trimEnd().split('\n'), e).toHaveLength(1);
    expect(objectBytes(repo).filter((b) => b.includes(Buffer.from(secret)))).toHaveLength(0);
    // Once the attacker stops, the directory commits: two of f, l, d, ld are symlinks, whatever order the swaps left.
    await troveOk(repo, 'commit', src, '--ref', 'race', '--no-update-summary');
    expect(objectBytes(repo).filter((b) => b.includes(Buffer.from(secret)))).toHaveLength(0);
    const ls = JSON.parse(await troveOk(repo, 'ls', 'race', '--json')) as { name: string; kind: string }[];
    expect(ls.filter((e) => e.kind === 'symlink')).toHaveLength(2);
    expect(ls.filter((e) => e.kind === 'dir')).toHaveLength(1);
  }, 60_000);

  it('without a race too, symlinks to a file and to a directory are stored as symlinks, their targets never read', async () => {
    await troveOk(repo, 'commit', src, '--ref', 'still', '--no-update-summary');
    const ls = JSON.parse(await troveOk(repo, 'ls', 'still', '--json')) as { name: string; kind: string; target?: string }[];
    expect(ls.filter((e) => e.kind === 'symlink').map((e) => e.target).sort()).toEqual([join(base, 'private'), join(base, 'private', 'secret')]);
    expect(objectBytes(repo).filter((b) => b.includes(Buffer.from(secret)))).toHaveLength(0);
  });
});

describe.skipIf(!asRoot)('root checks out near another user', () => {
  const base = tmpdir('trove-sec-checkout');
  const repo = join(base, 'repo');
  const target = join(base, 'target');
  let attacker: string[] = [];

  beforeAll(async () => {
    chmodSync(base, 0o755);
    const tree = join(base, 'tree');
    mkdirSync(tree);
    writeFileSync(join(tree, 'payload'), 'planted\n', { mode: 0o777 });
    chmodSync(join(tree, 'payload'), 0o4777);
    chmodSync(tree, 0o777);
    mkdirSync(target, { mode: 0o700 });
    writeFileSync(join(target, 'keep'), 'root data\n', { mode: 0o600 });
    attacker = buildAttacker(base);
    await troveOk(repo, 'init');
    await troveOk(repo, 'commit', tree, '--ref', 'main', '--no-update-summary');
  });

  it('an existing empty destination owned by another user is refused and left alone', async () => {
    const dest = join(base, 'theirs');
    mkdirSync(dest, { mode: 0o755 });
    chownSync(dest, NOBODY, NOBODY);
    const r = await trove(['--repo', repo, 'checkout', 'main', dest]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^trove: checkout destination .* is owned by uid 65534, neither you \(uid 0\) nor root\n$/);
    expect(readdirSync(dest)).toEqual([]);
    expect(lstatSync(dest).mode & 0o7777).toBe(0o755);
  });

  it('a destination to be made in a directory owned by another user is refused, and nothing is made', async () => {
    const parent = join(base, 'their-dir');
    mkdirSync(parent, { mode: 0o755 });
    chownSync(parent, NOBODY, NOBODY);
    for (const dest of [join(parent, 'dest'), join(parent, 'a', 'b', 'dest')]) {
      const r = await trove(['--repo', repo, 'checkout', 'main', dest]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/is owned by uid 65534/);
    }
    expect(readdirSync(parent)).toEqual([]);
  });

  it('a destination that is a symlink, even to an empty directory of root, is refused', async () => {
    const empty = join(base, 'empty-root');
    mkdirSync(empty, { mode: 0o700 });
    const link = join(base, 'link-dest');
    symlinkSync(empty, link);
    const r = await trove(['--repo', repo, 'checkout', 'main', link]);
    expect(r.code).toBe(4);
    expect(readdirSync(empty)).toEqual([]);
    expect(lstatSync(empty).mode & 0o7777).toBe(0o700);
  });

  it('never fills or chmods what a symlink swapped in for the destination points at (race)', async () => {
    // A root-owned directory anyone can write, without the sticky bit: the attacker can rename what trove makes there.
    const shared = join(base, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const trash = join(base, 'trash');
    mkdirSync(trash, { mode: 0o700 });
    const dest = join(shared, 'dest');
    const link = join(shared, 'link');
    const plantLink = () => {
      if (!existsSync(link) && !isLink(dest) && !isLink(link)) {
        try {
          symlinkSync(target, link);
          lchownSync(link, NOBODY, NOBODY);
        } catch {
          // the attacker moved something there meanwhile
        }
      }
    };
    plantLink();
    const before = state(target);
    const run = runAttacker(attacker, RACE_SECONDS, [[dest, link]]);
    let finished = false;
    const done = run.done.finally(() => (finished = true));
    const codes = new Map<number, number>();
    const errors = new Set<string>();
    let n = 0;
    while (!finished) {
      const r = await trove(['--repo', repo, 'checkout', 'main', dest]);
      codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
      if (r.code !== 0) errors.add(r.stderr);
      // Move away whatever directory trove left (a rename never follows a symlink), then put the attacker's link back.
      for (const p of [dest, link]) {
        try {
          if (lstatSync(p).isDirectory()) renameSync(p, join(trash, String(n++)));
        } catch {
          // gone or swapped meanwhile
        }
      }
      plantLink();
    }
    const swaps = await done;
    expect(swaps).toBeGreaterThan(100);
    expect(state(target)).toBe(before);
    // (How many runs win the race depends on the machine's load: none may.)
    expect([...codes.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(10);
    // The refusals a lost race may give, each documented: 1 (replaced right after it was made, or
    // EEXIST), 2 (swapped for a directory another user owns), 4 (swapped for a non-empty one).
    expect([...codes.keys()].filter((c) => c !== 0 && c !== 1 && c !== 2 && c !== 4), `exit codes ${JSON.stringify([...codes])}: ${[...errors].join(' | ')}`).toEqual([]);
    for (const e of errors) expect(e.trimEnd().split('\n'), e).toHaveLength(1);
    // What trove did check out went where it made it: every moved-away directory with a payload has it setuid as committed.
    for (const d of readdirSync(trash).filter((n) => existsSync(join(trash, n, 'payload')))) {
      expect(lstatSync(join(trash, d, 'payload')).mode & 0o7777).toBe(0o4777);
    }
    // Once the attacker stops, the same checkout works.
    rmSync(trash, { recursive: true, force: true });
    for (const p of [dest, link]) rmSync(p, { recursive: true, force: true });
    await troveOk(repo, 'checkout', 'main', dest);
    expect(lstatSync(join(dest, 'payload')).mode & 0o7777).toBe(0o4777);
    expect(lstatSync(dest).mode & 0o7777).toBe(0o777);
    expect(state(target)).toBe(before);
  }, 60_000);
});

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

describe('trees deeper than the limits', () => {
  const base = tmpdir('trove-sec-deep');
  const repo = join(base, 'repo');

  beforeAll(async () => {
    await troveOk(repo, 'init');
  });

  /** Plants a chain of `depth` directories `a/a/...` with a file at the bottom, committed on `ref`, bypassing import. */
  async function plantDeep(depth: number, ref: string): Promise<ObjectId> {
    const r = await Repo.open(repo);
    try {
      const blob = await r.store.put(Buffer.from('bottom\n'));
      let id = (await r.store.put(encodeTree({ entries: [{ name: 'f', kind: 'file', id: blob.id, mode: 0o644, uid: 0, gid: 0, size: 7, xattrs: [] }] }))).id;
      for (let i = 1; i < depth; i++) {
        id = (await r.store.put(encodeTree({ entries: [{ name: 'a', kind: 'dir', id, mode: 0o755, uid: 0, gid: 0, size: 0, xattrs: [] }] }))).id;
      }
      const commit = (await r.store.put(encodeCommit({ tree: id, root: { mode: 0o755, uid: 0, gid: 0, xattrs: [] }, parents: [], subject: 'deep', body: '', timestamp: 1, metadata: [] }))).id;
      await r.refs.write(ref, commit);
      return commit;
    } finally {
      await r.close();
    }
  }

  it('a stored tree deeper than the limit is refused by checkout, which leaves nothing behind', async () => {
    await plantDeep(MAX_TREE_DEPTH + 1, 'deep');
    for (const dest of [join(base, 'new-dest'), join(base, 'existing')]) {
      if (dest.endsWith('existing')) mkdirSync(dest, { mode: 0o751 });
      const r = await trove(['--repo', repo, 'checkout', 'deep', dest]);
      expect(r.code).toBe(7);
      expect(r.stderr).toMatch(/^trove: cannot check out .*: the tree is deeper than 256 levels\n$/);
      if (dest.endsWith('existing')) {
        expect(readdirSync(dest)).toEqual([]);
        expect(lstatSync(dest).mode & 0o7777).toBe(0o751);
      } else expect(existsSync(dest)).toBe(false);
    }
  });

  it('a tree at the limit checks out whole', async () => {
    await plantDeep(MAX_TREE_DEPTH, 'at-limit');
    const dest = join(base, 'at-limit');
    await troveOk(repo, 'checkout', 'at-limit', dest);
    expect(readFileSync(join(dest, ...Array<string>(MAX_TREE_DEPTH - 1).fill('a'), 'f'), 'utf8')).toBe('bottom\n');
  });

  it('a directory deeper than the limit is refused at commit (exit 6), however deep', async () => {
    for (const depth of [MAX_TREE_DEPTH + 1, 1000]) {
      const src = join(base, `src-${depth}`);
      mkdirSync(join(src, ...Array<string>(depth).fill('d')), { recursive: true });
      const r = await trove(['--repo', repo, 'commit', src, '--ref', `deep-${depth}`, '--no-update-summary']);
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/deeper than 256 levels/);
      expect((await trove(['--repo', repo, 'log', `deep-${depth}`])).code).toBe(3);
    }
  });
});
