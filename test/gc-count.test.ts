// gc skips listing the store when the store's object count (the last full gc's count plus the
// writers' notes in objects-added) equals what it marks reachable. A wrong count may only make gc
// list the store, or keep garbage until a gc that lists it; never delete a reachable object.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Repo } from '../src/repo/repo.js';
import { hashBytes } from '../src/util/hash.js';
import { troveIn, troveOk } from './helpers/cli.js';
import { removeTree, tmpdir } from './helpers/tmp.js';

interface GcJson {
  listed: boolean;
  kept: number;
  deleted: { objects: number; commits: number; trees: number; blobs: number };
}

describe('gc and the store count', () => {
  let dir: string;
  let repo: string;
  let cli: ReturnType<typeof troveIn>;
  const gc = async (...args: string[]): Promise<GcJson> => JSON.parse(await troveOk(repo, 'gc', '--json', ...args)) as GcJson;
  /** Commits a small tree with `text` in it under `ref`; returns the commit id. */
  const commit = async (ref: string, text: string): Promise<string> => {
    const src = join(dir, `src-${ref}`);
    mkdirSync(join(src, 'etc'), { recursive: true });
    writeFileSync(join(src, 'etc', 'id'), text);
    writeFileSync(join(src, 'same'), 'shared by every commit\n');
    return JSON.parse(await troveOk(repo, 'commit', src, '-r', ref, '--json')).commit as string;
  };
  const objectPath = (id: string) => join(repo, 'objects', id.slice(0, 2), id.slice(2));

  beforeEach(async () => {
    dir = tmpdir();
    repo = join(dir, 'repo');
    cli = troveIn(repo);
    await troveOk(repo, 'init');
    await commit('main', 'one\n');
  });
  afterEach(() => removeTree(dir));

  it('lists the store until a full gc has counted it, then only when the count and the mark differ', async () => {
    const first = await gc();
    expect(first).toMatchObject({ listed: true, kept: 5, deleted: { objects: 0 } });
    expect(JSON.parse(readFileSync(join(repo, 'gc-count'), 'utf8'))).toEqual({ objects: 5, logBytes: 0 });
    expect(readFileSync(join(repo, 'objects-added'), 'utf8')).toBe('');
    expect(await gc()).toMatchObject({ listed: false, kept: 5, deleted: { objects: 0 } });

    // Reachable additions keep count and mark equal: still not listed.
    await commit('second', 'two\n');
    expect(readFileSync(join(repo, 'objects-added'), 'utf8')).not.toBe('');
    expect(await gc()).toMatchObject({ listed: false, kept: 9 });
    // The count takes in the log, which is emptied: it does not grow from one gc to the next.
    expect(JSON.parse(readFileSync(join(repo, 'gc-count'), 'utf8'))).toEqual({ objects: 9, logBytes: 0 });
    expect(readFileSync(join(repo, 'objects-added'), 'utf8')).toBe('');

    // Garbage makes the count exceed the mark: listed, found, deleted, and counted afresh.
    expect((await cli('refs', 'delete', 'second')).code).toBe(0);
    const swept = await gc();
    expect(swept).toMatchObject({ listed: true, kept: 5, deleted: { objects: 4, commits: 1, trees: 2, blobs: 1 } });
    expect(await gc()).toMatchObject({ listed: false, kept: 5 });
    expect(JSON.parse(readFileSync(join(repo, 'gc-count'), 'utf8'))).toEqual({ objects: 5, logBytes: 0 });
  });

  it('an object added without a note is kept until a gc that lists the store (--full)', async () => {
    await gc();
    const bytes = Buffer.from('written behind the store’s back\n');
    const id = hashBytes(bytes);
    writeFileSync(objectPath(id), bytes);
    const skipped = await gc();
    expect(skipped).toMatchObject({ listed: false, deleted: { objects: 0 } });
    expect(existsSync(objectPath(id))).toBe(true);
    const full = await gc('--full');
    expect(full).toMatchObject({ listed: true, kept: 5, deleted: { objects: 1, blobs: 1 } });
    expect(existsSync(objectPath(id))).toBe(false);
    expect(await gc()).toMatchObject({ listed: false });
  });

  it('a note for an object that never came (a writer killed after noting) makes gc list the store, which deletes nothing reachable', async () => {
    await gc();
    appendFileSync(join(repo, 'objects-added'), '3\n');
    expect(await gc()).toMatchObject({ listed: true, kept: 5, deleted: { objects: 0 } });
    expect(await gc()).toMatchObject({ listed: false, kept: 5 });
  });

  it('a count it cannot read, or a log shorter than the count says, makes gc list the store', async () => {
    await gc();
    writeFileSync(join(repo, 'gc-count'), 'not json');
    expect(await gc()).toMatchObject({ listed: true, kept: 5 });
    writeFileSync(join(repo, 'gc-count'), `${JSON.stringify({ objects: 5, logBytes: 100 })}\n`);
    expect(await gc()).toMatchObject({ listed: true, kept: 5 });
    appendFileSync(join(repo, 'objects-added'), 'x\n');
    expect(await gc()).toMatchObject({ listed: true, kept: 5 });
    expect(await gc()).toMatchObject({ listed: false, kept: 5 });
  });

  it('a store without an added log (objects written by another tool) is counted by its first gc, which leaves an empty log', async () => {
    rmSync(join(repo, 'objects-added'));
    expect(await gc()).toMatchObject({ listed: true, kept: 5 });
    expect(readFileSync(join(repo, 'objects-added'), 'utf8')).toBe('');
    expect(await gc()).toMatchObject({ listed: false, kept: 5 });
    // A log removed by hand once a count exists: no count, so the store is listed.
    rmSync(join(repo, 'objects-added'));
    expect(await gc()).toMatchObject({ listed: true, kept: 5 });
  });

  it('reachable objects missing from the store cancel out: garbage of as many objects is still found', async () => {
    await gc();
    // One reachable blob gone (a blob's id is the hash of its bytes): the mark still counts it,
    // and so does the count, which a full sweep takes from the mark.
    const blob = hashBytes(Buffer.from('shared by every commit\n'));
    expect(existsSync(objectPath(blob))).toBe(true);
    rmSync(objectPath(blob));
    expect(await gc()).toMatchObject({ listed: false, kept: 5, deleted: { objects: 0 } });
    // One noted garbage object: the count exceeds the mark by one, so gc lists and deletes it.
    const r = await Repo.open(repo);
    const garbage = (await r.store.put(Buffer.from('one garbage object\n'))).id;
    await r.close();
    expect(await gc()).toMatchObject({ listed: true, deleted: { objects: 1, blobs: 1 } });
    expect(existsSync(objectPath(garbage))).toBe(false);
    expect(await gc()).toMatchObject({ listed: false });
  });

  it('a dry run uses the count as gc does, and neither records one nor empties the log', async () => {
    const dry = await gc('--dry-run');
    expect(dry).toMatchObject({ listed: true, kept: 5 });
    expect(existsSync(join(repo, 'gc-count'))).toBe(false);
    expect(readFileSync(join(repo, 'objects-added'), 'utf8')).not.toBe('');
    await gc();
    const count = readFileSync(join(repo, 'gc-count'), 'utf8');
    expect(await gc('--dry-run')).toMatchObject({ listed: false, kept: 5 });
    await commit('second', 'two\n');
    expect((await cli('refs', 'delete', 'second')).code).toBe(0);
    const log = readFileSync(join(repo, 'objects-added'), 'utf8');
    expect(await gc('--dry-run')).toMatchObject({ listed: true, deleted: { objects: 4 } });
    expect(readFileSync(join(repo, 'gc-count'), 'utf8')).toBe(count);
    expect(readFileSync(join(repo, 'objects-added'), 'utf8')).toBe(log);
    // The text output says when the store was not listed.
    await gc();
    const text = await cli('gc');
    expect(text.stdout).toContain("kept 5 (by the store's count, not listed; --full lists it)");
  });
});
