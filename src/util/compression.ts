import { open } from 'node:fs/promises';
import { Duplex, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import lzma from 'lzma-native';
import { unsupported } from './errors.js';

export type Compression = 'none' | 'gzip' | 'xz' | 'zstd' | 'bzip2';

/** Compression of a stream, from its first bytes (never from a file name). */
export function sniffCompression(head: Uint8Array): Compression {
  const b = Buffer.from(head);
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (b.length >= 3 && b.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  return 'none';
}

/** First `n` bytes of a file at `offset`. */
export async function readHead(path: string, n: number, offset = 0): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Input slice fed to the zstd decoder at a time. fzstd decodes every whole
 * block a push completes, and a 4-byte RLE block can stand for 128 KiB, so
 * the output of one push is bounded by the slice (256 bytes: 8 MiB at
 * worst) and the consumer's pace is awaited between slices.
 */
const ZSTD_SLICE = 256;

/**
 * A zstd decoder that honours backpressure: the whole output of an archive
 * never piles up in memory ahead of the reader, however well it compresses.
 */
function zstdStream(): Duplex {
  return Duplex.from(async function* (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    let out: Uint8Array[] = [];
    const dec = new ZstdDecompress((chunk) => {
      if (chunk.length > 0) out.push(chunk);
    });
    const drain = function* (): Generator<Buffer> {
      const got = out;
      out = [];
      for (const c of got) yield Buffer.from(c);
    };
    for await (const chunk of source) {
      for (let i = 0; i < chunk.length; i += ZSTD_SLICE) {
        dec.push(chunk.subarray(i, i + ZSTD_SLICE));
        yield* drain();
      }
    }
    dec.push(new Uint8Array(0), true);
    yield* drain();
  });
}

/** A decompressing stream for `c`, or undefined for uncompressed data. */
export function decompressor(c: Compression): Duplex | undefined {
  switch (c) {
    case 'none':
      return undefined;
    case 'gzip':
      return createGunzip();
    case 'xz':
      return lzma.createDecompressor();
    case 'zstd':
      return zstdStream();
    case 'bzip2':
      throw unsupported('bzip2-compressed archives are not supported; recompress with xz, gzip or zstd');
  }
}

/**
 * A pass-through stream that fails with `onOver()` once more than `max`
 * bytes went through it: the cap on what a decompressor may produce.
 */
export function byteCap(max: number, onOver: () => Error): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > max) cb(onOver());
      else cb(null, chunk);
    },
  });
}
