/**
 * One random change to `bytes`: a byte changed (at random, to one of
 * `special`, or by a flipped bit), inserted or removed, a cut, or a slice
 * moved. `special` holds the bytes that matter to the format under test
 * (its field tags, varint continuation bits, UTF-8 lead bytes).
 */
export function damage(bytes: Uint8Array, rnd: () => number, special: readonly number[]): Uint8Array {
  const int = (n: number) => Math.floor(rnd() * n);
  const b = [...bytes];
  const at = int(b.length + 1);
  switch (int(6)) {
    case 0:
      if (b.length) b[Math.min(at, b.length - 1)] = int(2) ? int(256) : special[int(special.length)]!;
      break;
    case 1:
      b.splice(at, 0, int(2) ? int(256) : special[int(special.length)]!);
      break;
    case 2:
      b.splice(at, 1 + int(3));
      break;
    case 3:
      b.length = at;
      break;
    case 4:
      if (b.length) b[Math.min(at, b.length - 1)]! ^= 1 << int(8);
      break;
    default: {
      const moved = b.splice(at, 1 + int(8));
      b.splice(int(b.length + 1), 0, ...moved);
    }
  }
  return new Uint8Array(b);
}
