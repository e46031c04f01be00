import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { troveIn, troveOk } from './helpers/cli.js';
import { tmpdir } from './helpers/tmp.js';
import type { FsckReport } from '../src/repo/fsck.js';

const objectFile = (repo: string, id: string) => join(repo, 'objects', id.slice(0, 2), id.slice(2));
/** Object files changed in the 2 s before a clean check began are checked again; let that pass. */
const settle = () => new Promise((r) => setTimeout(r, 2100));

async function idAt(repo: string, rev: string, dir: string, name: string): Promise<string> {
  const entries = JSON.parse(await troveOk(repo, 'ls', '--json', `${rev}:${dir}`)) as { name: string; id: string }[];
  return entries.find((e) => e.name === name)!.id;
}

describe('fsck --since: only what changed since the last clean fsck', () => {
  let dir: string;
  let repo: string;
  let src: string;
  let run: ReturnType<typeof troveIn>;
  const since = async () => {
    const r = await run('fsck', '--since', '--json');
    return { code: r.code, report: JSON.parse(r.stdout) as FsckReport, stderr: r.stderr };
  };
  const write = (rel: string, text: string) => {
    mkdirSync(join(src, rel, '..'), { recursive: true });
    writeFileSync(join(src, rel), text);
  };

  beforeAll(async () => {
    dir = tmpdir('trove-fsck-since');
    repo = join(dir, 'repo');
    src = join(dir, 'src');
    for (let i = 0; i < 20; i++) write(`usr/lib/a/f${i}`, `a ${i}\n`);
    for (let i = 0; i < 20; i++) write(`usr/share/b/g${i}`, `b ${i}\n`);
    run = troveIn(repo);
    await troveOk(repo, 'init');
    await troveOk(repo, 'commit', src, '-r', 'main', '-m', 'one');
  });

  it('checks everything, and says so, while no clean fsck is recorded', async () => {
    const r = await since();
    expect(r.code).toBe(0);
    expect(r.report.since).toBeNull();
    expect(r.report.unchangedSince).toBeNull();
    expect(r.report.objects).toBe(r.report.commits + r.report.trees + r.report.blobs);
    expect(existsSync(join(repo, 'fsck-clean.json'))).toBe(true);
    expect((await run('fsck', '--since')).stderr).not.toMatch(/no clean fsck/);
    rmSync(join(repo, 'fsck-clean.json'));
    expect((await run('fsck', '--since')).stderr).toMatch(/no clean fsck is recorded; checking everything/);
  });

  it('re-hashes nothing and walks no tree again when nothing changed', async () => {
    await settle();
    const full = JSON.parse(await troveOk(repo, 'fsck', '--json')) as FsckReport;
    expect(full.since).toBeNull();
    const r = await since();
    expect(r.code).toBe(0);
    expect(r.report.since).toBeGreaterThan(0);
    expect(r.report.objects).toBe(0);
    expect(r.report.unchangedSince).toEqual({ objects: full.objects, trees: 1 });
    expect(r.report.trees).toBe(0);
    expect(r.report.blobs).toBe(0);
  });

  it('checks the objects and trees a new commit added, and only those', async () => {
    await settle();
    await troveOk(repo, 'fsck');
    write('usr/lib/a/f0', 'a 0, changed\n');
    write('usr/lib/c/new', 'new\n');
    const before = JSON.parse(await troveOk(repo, 'fsck', '--json')) as FsckReport;
    await settle();
    await troveOk(repo, 'fsck');
    await troveOk(repo, 'commit', src, '-r', 'main', '-m', 'two');
    const r = await since();
    expect(r.code).toBe(0);
    // Re-hashed: the commit, the root, usr, usr/lib, usr/lib/a and usr/lib/c trees, and two blobs.
    expect(r.report.objects).toBe(8);
    // Walked: the five new trees, and every blob they name (checked there and of the right size).
    expect(r.report.trees).toBe(5);
    expect(r.report.blobs).toBe(21);
    // usr/share (and what is below it) was walked by the clean fsck: not again.
    expect(r.report.unchangedSince!.trees).toBe(2);
    expect(r.report.unchangedSince!.objects).toBe(before.objects);
  });

  it('finds an object changed in place, and drops the record so the next --since checks everything', async () => {
    await settle();
    await troveOk(repo, 'fsck');
    const id = await idAt(repo, 'main', 'usr/share/b', 'g3');
    writeFileSync(objectFile(repo, id), 'b 9\n');
    const r = await since();
    expect(r.code).toBe(5);
    expect(r.report.problems).toEqual([expect.objectContaining({ id, problem: 'corrupt' })]);
    expect(existsSync(join(repo, 'fsck-clean.json'))).toBe(false);
    const again = await since();
    expect(again.report.since).toBeNull();
    expect(again.code).toBe(5);
    writeFileSync(objectFile(repo, id), 'b 3\n');
  });

  it('trusts what lies below a tree the clean fsck walked, which a full fsck checks again', async () => {
    await settle();
    await troveOk(repo, 'fsck');
    const id = await idAt(repo, 'main', 'usr/share/b', 'g5');
    rmSync(objectFile(repo, id));
    expect((await since()).code).toBe(0);
    const full = await run('fsck', '--json');
    expect(full.code).toBe(5);
    expect((JSON.parse(full.stdout) as FsckReport).problems).toEqual([expect.objectContaining({ id, problem: 'missing' })]);
    writeFileSync(objectFile(repo, id), 'b 5\n');
    expect((await run('fsck')).code).toBe(0);
  });

  it('finds a root tree of the clean fsck that is gone, and a blob missing under a new tree', async () => {
    await settle();
    await troveOk(repo, 'fsck');
    const log = JSON.parse(await troveOk(repo, 'show', '--json', 'main')) as { tree: string };
    const root = readFileSync(objectFile(repo, log.tree));
    rmSync(objectFile(repo, log.tree));
    const r = await since();
    expect(r.code).toBe(5);
    expect(r.report.problems).toEqual([expect.objectContaining({ id: log.tree, kind: 'tree', problem: 'missing' })]);
    writeFileSync(objectFile(repo, log.tree), root);

    await settle();
    await troveOk(repo, 'fsck');
    write('opt/x/y', 'y\n');
    await troveOk(repo, 'commit', src, '-r', 'main', '-m', 'three');
    const blob = await idAt(repo, 'main', 'opt/x', 'y');
    rmSync(objectFile(repo, blob));
    const m = await since();
    expect(m.code).toBe(5);
    expect(m.report.problems).toEqual([expect.objectContaining({ id: blob, kind: 'blob', problem: 'missing' })]);
  });

  it('is refused with --repair', async () => {
    const r = await run('fsck', '--since', '--repair');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--since and --repair cannot be combined/);
  });
});
