// The view's streamed downloads ask for a collection of the young generation as they go
// (src/fuse/lazy-fetch.ts, youngCollected), so that a large file's socket buffers are reused.
import { afterEach, describe, expect, it } from 'vitest';
import { youngCollected } from '../src/fuse/lazy-fetch.js';

const MiB = 1 << 20;

/** Chunks of `size` bytes, `count` of them, each filled with its index. */
async function* chunks(count: number, size: number): AsyncIterable<Buffer> {
  for (let i = 0; i < count; i++) yield Buffer.alloc(size, i);
}

const g = globalThis as { gc?: unknown };
const had = g.gc;
afterEach(() => {
  g.gc = had;
});

describe('youngCollected', () => {
  it('passes every chunk through unchanged and collects after each 4 MiB, young generation only', async () => {
    const calls: unknown[] = [];
    const seen: number[] = [];
    g.gc = (opts: unknown) => {
      calls.push(opts);
      seen.push(got.length);
    };
    const got: Buffer[] = [];
    // 40 chunks of 1 MiB: a collection once the 4th, 8th, ... 40th chunk has been taken.
    for await (const c of youngCollected(chunks(40, MiB))) got.push(c);
    expect(got.map((c) => [c.length, c[0]])).toEqual(Array.from({ length: 40 }, (_, i) => [MiB, i]));
    expect(calls).toEqual(Array.from({ length: 10 }, () => ({ type: 'minor' })));
    expect(seen).toEqual([4, 8, 12, 16, 20, 24, 28, 32, 36, 40]);
  });

  it('counts bytes, not chunks: small chunks collect as often as large ones', async () => {
    let calls = 0;
    g.gc = () => void calls++;
    let n = 0;
    for await (const c of youngCollected(chunks(1024, 64 << 10))) n += c.length;
    expect(n).toBe(64 * MiB);
    expect(calls).toBe(16);
  });

  it('without a gc to call (a process not started with --expose-gc) yields the same chunks', async () => {
    g.gc = undefined;
    const got: number[] = [];
    for await (const c of youngCollected(chunks(9, MiB))) got.push(c[0]!);
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
