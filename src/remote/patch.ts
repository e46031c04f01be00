import { corrupt } from '../util/errors.js';

/*
 * The reading side of the Fossil delta format that delta packs carry
 * patches in (docs/remote.md, "Deltas"; written with the fossil-delta
 * package): a target size, then copy (`N@OFFSET,`) and insert (`N:bytes`)
 * instructions, then `CHECKSUM;`. Numbers are base 64 in the digits below.
 * fossil-delta's own applier builds its output one byte at a time in a
 * JavaScript array (150 ms and some 60 MB for a 6 MB update); this one
 * copies into a buffer of the size the header gives, which is checked
 * against the caller's limit before anything is allocated. The checksum is
 * not checked: the caller checks the result against its SHA-256 id.
 * test/patch.test.ts holds it to fossil-delta's applier.
 */

const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~';
const VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < DIGITS.length; i++) VALUE[DIGITS.charCodeAt(i)] = i;

function bad(detail: string): Error {
  return corrupt(`patch does not apply: ${detail}`);
}

/**
 * `delta` applied to `source`; E_CORRUPT when it is malformed, copies from
 * past the end of the source, or gives anything but exactly the size its
 * header announces, which must be at most `limit`.
 */
export function applyPatch(source: Uint8Array, delta: Uint8Array, limit: number): Buffer {
  let pos = 0;
  const int = (): number => {
    let v = 0;
    const start = pos;
    while (pos < delta.length && VALUE[delta[pos]!]! >= 0) {
      v = v * 64 + VALUE[delta[pos++]!]!;
      if (v > Number.MAX_SAFE_INTEGER / 64) throw bad('a number is too large');
    }
    if (pos === start) throw bad(`a number expected at byte ${start}`);
    return v;
  };
  const expect = (c: string): void => {
    if (delta[pos] !== c.charCodeAt(0)) throw bad(`'${c}' expected at byte ${pos}`);
    pos++;
  };
  const size = int();
  expect('\n');
  if (size > limit) throw bad(`it gives ${size} bytes, more than the ${limit} allowed`);
  const out = Buffer.allocUnsafe(size);
  let total = 0;
  while (pos < delta.length) {
    const count = int();
    const op = delta[pos++];
    if (op === 0x40 /* @ */) {
      const offset = int();
      expect(',');
      if (count > size - total) throw bad('a copy runs past the announced size');
      if (offset + count > source.length) throw bad('a copy runs past the end of the source');
      out.set(source.subarray(offset, offset + count), total);
      total += count;
    } else if (op === 0x3a /* : */) {
      if (count > size - total) throw bad('an insert runs past the announced size');
      if (count > delta.length - pos) throw bad('an insert runs past the end of the patch');
      out.set(delta.subarray(pos, pos + count), total);
      pos += count;
      total += count;
    } else if (op === 0x3b /* ; */) {
      if (total !== size) throw bad(`it gives ${total} bytes, not the ${size} announced`);
      if (pos !== delta.length) throw bad('bytes after its end');
      return out;
    } else throw bad(`unknown instruction at byte ${pos - 1}`);
  }
  throw bad('it ends without its checksum');
}
