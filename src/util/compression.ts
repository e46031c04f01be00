import { open } from 'node:fs/promises';
import { Transform } from 'node:stream';
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

function zstdStream(): Transform {
  let push: ((chunk: Uint8Array) => void) | undefined;
  const dec = new ZstdDecompress((chunk) => push?.(Buffer.from(chunk)));
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      push = (c) => this.push(c);
      try {
        dec.push(chunk);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb) {
      push = (c) => this.push(c);
      try {
        dec.push(new Uint8Array(0), true);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
}

/** A decompressing stream for `c`, or undefined for uncompressed data. */
export function decompressor(c: Compression): Transform | undefined {
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
