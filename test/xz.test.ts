// xz decompression: the xz program in a child process, lzma-native without it (TROVE_XZ=lzma-native);
// both give the same bytes, and neither ends a damaged stream as if it were whole.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { decompressor, XZ_CHILD_MIN } from '../src/util/compression.js';

/** `data` compressed by the xz program (-6, one block, as trove delta writes it). */
const xz = (data: Buffer) => execFileSync('xz', ['-6', '--stdout'], { input: data, maxBuffer: 1 << 30 });

/** All `input` decompresses to, or the error the decompressor fails with; `size`: the compressed size the caller gives. */
async function decompressWith(input: Buffer, size?: number): Promise<Buffer | Error> {
  const d = decompressor('xz', size)!;
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
  ['the xz program', undefined, false],
  ['lzma-native', 'lzma-native', false],
  ['lzma-native, for a stream whose known size is below XZ_CHILD_MIN', undefined, true],
])('xz decompression through %s', (_name, env, sized) => {
  const decompress = (input: Buffer) => decompressWith(input, sized ? input.length : undefined);
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
  const decompress = (input: Buffer) => decompressWith(input);

  it('says what xz said, without its program path', async () => {
    delete process.env.TROVE_XZ;
    const out = await decompress(Buffer.from('not xz at all, just text'));
    expect(out).toBeInstanceOf(Error);
    expect((out as Error).message).toBe('xz: File format not recognized');
  });

  it('takes a stream whose known size is XZ_CHILD_MIN or more; a smaller one is decompressed in this process', async () => {
    delete process.env.TROVE_XZ;
    const junk = Buffer.from('not xz at all, just text');
    expect(((await decompressWith(junk, XZ_CHILD_MIN)) as Error).message).toBe('xz: File format not recognized');
    const inProcess = await decompressWith(junk, XZ_CHILD_MIN - 1);
    expect(inProcess).toBeInstanceOf(Error);
    expect((inProcess as Error).message).not.toMatch(/^xz: /);
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

