// Delta packs carry patches in the Fossil delta format, written with fossil-delta and applied by
// trove's own applier (src/remote/patch.ts). Its oracle is fossil-delta's applier.
import { applyDelta, createDelta } from 'fossil-delta';
import { describe, expect, it } from 'vitest';
import { applyPatch } from '../src/remote/patch.js';
import { prng } from './helpers/prng.js';

function edits(rnd: () => number) {
  const int = (n: number) => Math.floor(rnd() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => (int(4) === 0 ? int(256) : 97 + int(6))));
  const source = bytes(int(4) === 0 ? int(40) : 200 + int(20_000));
  let target = Buffer.from(source);
  for (let k = int(6); k > 0; k--) {
    const at = int(target.length + 1);
    switch (int(4)) {
      case 0: // insert
        target = Buffer.concat([target.subarray(0, at), bytes(1 + int(300)), target.subarray(at)]);
        break;
      case 1: // delete
        target = Buffer.concat([target.subarray(0, at), target.subarray(at + 1 + int(300))]);
        break;
      case 2: // move a slice to the end
        target = Buffer.concat([target.subarray(0, at), target.subarray(at + 500), target.subarray(at, at + 500)]);
        break;
      default: // rewrite whole
        if (int(5) === 0) target = bytes(int(5000));
    }
  }
  return { source, target };
}

describe('applyPatch against fossil-delta', () => {
  it('rebuilds the target of every generated patch, as fossil-delta does', () => {
    const rnd = prng(17);
    for (let i = 0; i < 1_500; i++) {
      const { source, target } = edits(rnd);
      const delta = Buffer.from(createDelta(source, target));
      const mine = applyPatch(source, delta, target.length);
      expect(mine.equals(target), `case ${i}`).toBe(true);
      expect(Buffer.from(applyDelta(source, delta)).equals(mine)).toBe(true);
    }
  });

  it('gives what fossil-delta gives, or an E_CORRUPT error, for damaged patches', () => {
    const rnd = prng(29);
    let refused = 0;
    let same = 0;
    for (let i = 0; i < 2_000; i++) {
      const { source, target } = edits(rnd);
      const delta = Buffer.from(createDelta(source, target));
      const at = Math.floor(rnd() * delta.length);
      const damaged = Buffer.from(delta);
      if (rnd() < 0.5) damaged[at] = Math.floor(rnd() * 128);
      else damaged[at] = '0123456789@,:;\n'.charCodeAt(Math.floor(rnd() * 15));
      let mine: Buffer | undefined;
      try {
        mine = applyPatch(source, damaged, 1 << 20);
      } catch (err) {
        expect((err as { code?: string }).code).toBe('E_CORRUPT');
        refused++;
        continue;
      }
      // What it accepts, fossil-delta (without its checksum) reads the same way.
      expect(Buffer.from(applyDelta(source, damaged, { verifyChecksum: false })).equals(mine), `case ${i}`).toBe(true);
      same++;
    }
    expect(refused).toBeGreaterThan(400);
    expect(same).toBeGreaterThan(40);
  });

  it('refuses a patch that announces more than the limit before making anything that size', () => {
    const source = Buffer.from('x'.repeat(100));
    const delta = Buffer.from(createDelta(source, Buffer.from('y'.repeat(5000))));
    expect(() => applyPatch(source, delta, 4999)).toThrow(/more than the 4999 allowed/);
    expect(() => applyPatch(source, Buffer.from('~~~~~~~~~~\n0;'), 1 << 30)).toThrow(expect.objectContaining({ code: 'E_CORRUPT' }) as unknown as Error);
  });
});
