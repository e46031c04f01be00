// Reading ahead the object files of a directory whose files are being read (src/fuse/warm.ts): the
// policy, with the view and the pool call replaced by recorders. test/stat-at.test.ts checks the
// native call itself, test/fuse.test.ts a daemon that reads ahead.
import { describe, expect, it } from 'vitest';
import { SiblingWarmer, type WarmerInit } from '../src/fuse/warm.js';

const id = (n: number) => n.toString(16).padStart(64, '0');

/** A view of three directories: /c/big (40 files, blobs 1-40, two copies of blob 1, one empty file), /c/small (blobs 100, 101), /c/more (blobs 200-219). */
function fixture(warm: WarmerInit['warm']) {
  const trees: Record<string, { blob: string; size: number }[]> = {
    [id(0xb16)]: [
      ...Array.from({ length: 40 }, (_, i) => ({ blob: id(i + 1), size: 10 })),
      { blob: id(1), size: 10 },
      { blob: id(999), size: 0 },
    ],
    [id(0x5a11)]: [
      { blob: id(100), size: 3 },
      { blob: id(101), size: 3 },
    ],
    [id(0x3013)]: Array.from({ length: 20 }, (_, i) => ({ blob: id(i + 200), size: 1 })),
    // 100 files of 3 MiB, of which 1 MiB each counts against the directory's 32 MiB.
    [id(0x1a26e)]: Array.from({ length: 100 }, (_, i) => ({ blob: id(i + 300), size: 3 << 20 })),
  };
  const dirs: Record<string, string> = { '/c/big': id(0xb16), '/c/small': id(0x5a11), '/c/more': id(0x3013), '/c/large': id(0x1a26e) };
  return new SiblingWarmer({
    treeAbove: (path) => dirs[path.slice(0, path.lastIndexOf('/'))],
    filesOf: (tree) => trees[tree],
    pathOf: (blob) => `/objects/${blob}`,
    warm,
  });
}

/** The fixture's warmer with its calls recorded, each left in flight until its `pending` function is called. */
function recorded() {
  const calls: string[][] = [];
  const pending: (() => void)[] = [];
  const w = fixture((paths) => {
    calls.push(paths);
    return new Promise<number>((res) => pending.push(() => res(paths.length)));
  });
  return { w, calls, pending };
}

describe('SiblingWarmer', () => {
  it('reads a directory ahead at its second file, each blob once, in batches of 16, four at a time, and never again', async () => {
    const { w, calls, pending } = recorded();
    w.opened('/c/big/f1');
    expect(calls).toEqual([]);
    w.opened('/c/big/f2');
    // 40 distinct blobs of non-empty files: batches of 16, 16 and 8, all three in flight at once.
    expect(calls.map((c) => c.length)).toEqual([16, 16, 8]);
    expect(new Set(calls.flat())).toEqual(new Set(Array.from({ length: 40 }, (_, i) => `/objects/${id(i + 1)}`)));
    expect(w.warmed).toBe(40);
    for (const done of pending.splice(0)) done();
    await new Promise((r) => setImmediate(r));
    w.opened('/c/big/f3');
    w.opened('/c/big/f4');
    expect(calls).toHaveLength(3);
  });

  it('keeps at most four calls in flight and starts the next as one ends', async () => {
    const { w, calls, pending } = recorded();
    w.opened('/c/big/a');
    w.opened('/c/big/b');
    w.opened('/c/small/a');
    w.opened('/c/small/b');
    w.opened('/c/more/a');
    w.opened('/c/more/b');
    // Three batches of big/ and the one of small/ in flight; more/'s two wait.
    expect(calls).toHaveLength(4);
    expect(calls[3]).toEqual([`/objects/${id(100)}`, `/objects/${id(101)}`]);
    pending.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(5);
    expect(calls[4]).toHaveLength(16);
    for (const done of pending.splice(0)) done();
    await new Promise((r) => setImmediate(r));
    expect(calls.map((c) => c.length)).toEqual([16, 16, 8, 2, 16, 4]);
    expect(w.warmed).toBe(62);
  });

  it('reads the first MiB of each file ahead, 32 MiB of a directory at most', () => {
    const calls: { paths: string[]; maxBytes: number }[] = [];
    const w = fixture((paths, maxBytes) => {
      calls.push({ paths, maxBytes });
      return new Promise<number>(() => {});
    });
    w.opened('/c/large/a');
    w.opened('/c/large/b');
    expect(new Set(calls.map((c) => c.maxBytes))).toEqual(new Set([1 << 20]));
    // Four calls in flight (64 files) would be past the budget: 32 files in all, in two calls.
    expect(calls.map((c) => c.paths.length)).toEqual([16, 16]);
    expect(w.warmed).toBe(32);
  });

  it('does nothing for a file whose directory is not cached, and goes without when the addon is missing', () => {
    const calls: string[][] = [];
    const w = fixture((paths) => {
      calls.push(paths);
      return undefined;
    });
    w.opened('/elsewhere/a');
    w.opened('/elsewhere/b');
    expect(calls).toEqual([]);
    w.opened('/c/small/a');
    w.opened('/c/small/b');
    expect(calls).toHaveLength(1);
    expect(w.warmed).toBe(0);
  });
});
