// xz decompression: the xz program in a child process, lzma-native without it (TROVE_XZ=lzma-native);
// both give the same bytes, and neither ends a damaged stream as if it were whole.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { decompressor } from '../src/util/compression.js';

/** `data` compressed by the xz program (-6, one block, as trove delta writes it). */
const xz = (data: Buffer) => execFileSync('xz', ['-6', '--stdout'], { input: data, maxBuffer: 1 << 30 });

/** All `input` decompresses to, or the error the decompressor fails with. */
async function decompress(input: Buffer): Promise<Buffer | Error> {
  const d = decompressor('xz')!;
  d.end(input);
  const out: Buffer[] = [];
  try {
    for await (const c of d) out.push(c as Buffer);
    return Buffer.concat(out);
  } catch (err) {
    return err as Error;
  }
}

// Text-like data (compressible) with random parts, large enough for many output chunks.
const data = Buffer.concat(Array.from({ length: 400 }, (_, i) => Buffer.concat([Buffer.from(`line ${i} `.repeat(200)), randomBytes(2000)])));
const packed = xz(data);

describe.each([
  ['the xz program', undefined],
  ['lzma-native', 'lzma-native'],
])('xz decompression through %s', (_name, env) => {
  const saved = process.env.TROVE_XZ;
  afterEach(() => {
    if (saved === undefined) delete process.env.TROVE_XZ;
    else process.env.TROVE_XZ = saved;
  });
  const use = () => {
    if (env === undefined) delete process.env.TROVE_XZ;
    else process.env.TROVE_XZ = env;
  };

  it('gives back the bytes xz compressed', async () => {
    use();
    const out = await decompress(packed);
    expect(out).toBeInstanceOf(Buffer);
    expect((out as Buffer).equals(data)).toBe(true);
  });

  it('fails on a truncated stream instead of ending early', async () => {
    use();
    const out = await decompress(packed.subarray(0, Math.floor(packed.length / 2)));
    expect(out).toBeInstanceOf(Error);
  });

  it('refuses a stream that needs more memory than the limit (256 MiB)', async () => {
    use();
    // A dictionary of 512 MiB makes the decoder ask for more than 256 MiB.
    const big = execFileSync('xz', ['--lzma2=preset=6,dict=512MiB', '--stdout'], { input: Buffer.from('small'), maxBuffer: 1 << 20 });
    const out = await decompress(big);
    expect(out).toBeInstanceOf(Error);
    expect((out as Error).message).toMatch(/[Mm]emory/);
  });

  it('fails on damaged bytes inside the stream and on bytes that are not xz', async () => {
    use();
    const damaged = Buffer.from(packed);
    for (let i = 40; i < damaged.length - 20; i += 50) damaged[i]! ^= 0xff;
    expect(await decompress(damaged)).toBeInstanceOf(Error);
    expect(await decompress(Buffer.from('not xz at all, just text'))).toBeInstanceOf(Error);
  });
});

describe('the xz program', () => {
  it('says what xz said, without its program path', async () => {
    delete process.env.TROVE_XZ;
    const out = await decompress(Buffer.from('not xz at all, just text'));
    expect(out).toBeInstanceOf(Error);
    expect((out as Error).message).toBe('xz: File format not recognized');
  });

  it('refuses a stream that needs more memory than its limit', async () => {
    delete process.env.TROVE_XZ;
    // A dictionary of 512 MiB makes the decoder ask for more than 256 MiB.
    const big = execFileSync('xz', ['--lzma2=preset=6,dict=512MiB', '--stdout'], { input: Buffer.from('small'), maxBuffer: 1 << 20 });
    const out = await decompress(big);
    expect(out).toBeInstanceOf(Error);
    expect((out as Error).message).toMatch(/^xz: .*[Mm]emory/);
  });
});

